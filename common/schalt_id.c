/*  schalt_id - short random ids with a type prefix. See schalt_id.h. */
#include "schalt_id.h"

#include <czmq.h>
#include <sys/random.h>

static const char s_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

char *
schalt_id_make (const char *prefix, char *buffer, size_t size)
{
    assert (size >= strlen (prefix) + SCHALT_ID_RANDOM + 2);
    unsigned char random[SCHALT_ID_RANDOM];
    ssize_t got = getrandom (random, sizeof (random), 0);
    assert (got == (ssize_t)sizeof (random)); //  the kernel's pool never runs dry
    size_t length = (size_t)sprintf (buffer, "%s-", prefix);
    for (int index = 0; index < SCHALT_ID_RANDOM; index++)
        buffer[length++] = s_alphabet[random[index] & 31];
    buffer[length] = 0;
    return buffer;
}

bool
schalt_id_valid (const char *prefix, const char *text)
{
    size_t length = strlen (prefix);
    if (!text || strncmp (text, prefix, length) != 0 || text[length] != '-' ||
        strlen (text) != length + 1 + SCHALT_ID_RANDOM)
        return false;
    for (const char *cursor = text + length + 1; *cursor; cursor++)
        if (!strchr (s_alphabet, *cursor))
            return false;
    return true;
}

void
schalt_id_test (bool verbose)
{
    printf (" * schalt_id: ");
    if (verbose)
        printf ("\n");
    char first[32], second[32];
    schalt_id_make ("evt", first, sizeof (first));
    schalt_id_make ("evt", second, sizeof (second));
    assert (strlen (first) == 14);
    assert (schalt_id_valid ("evt", first));
    assert (!streq (first, second));
    assert (!schalt_id_valid ("ses", first));
    assert (!schalt_id_valid ("evt", "evt-0123456789a"));
    assert (!schalt_id_valid ("evt", "evt-012345678i"));
    printf ("OK\n");
}
