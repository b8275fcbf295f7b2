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

char *
schalt_id_make_in_event (const char *prefix, const char *event, char *buffer, size_t size)
{
    assert (schalt_id_valid ("evt", event));
    assert (size >= strlen (prefix) + 2 * SCHALT_ID_RANDOM + 3);
    char random[SCHALT_ID_RANDOM + 4];
    schalt_id_make ("x", random, sizeof (random));
    snprintf (buffer, size, "%s-%s-%s", prefix, event + 4, random + 2);
    return buffer;
}

char *
schalt_id_event_of (const char *id, char *event, size_t size)
{
    assert (size >= 4 + SCHALT_ID_RANDOM + 1);
    //  xxx-<ten>-<ten>: the first ten, checked, are the event's
    if (!id || strlen (id) != 4 + 2 * SCHALT_ID_RANDOM + 1 || id[3] != '-' ||
        id[4 + SCHALT_ID_RANDOM] != '-')
        return NULL;
    for (int index = 0; index < 3; index++)
        if (id[index] < 'a' || id[index] > 'z')
            return NULL;
    snprintf (event, size, "evt-%.*s", SCHALT_ID_RANDOM, id + 4);
    char rest[SCHALT_ID_RANDOM + 8];
    snprintf (rest, sizeof (rest), "x-%s", id + 5 + SCHALT_ID_RANDOM);
    if (!schalt_id_valid ("evt", event) || !schalt_id_valid ("x", rest))
        return NULL;
    return event;
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

    char session[40], event[16];
    schalt_id_make_in_event ("ses", first, session, sizeof (session));
    assert (strlen (session) == 25);
    assert (strncmp (session, "ses-", 4) == 0 && strncmp (session + 4, first + 4, 10) == 0);
    assert (streq (schalt_id_event_of (session, event, sizeof (event)), first));
    assert (streq (schalt_id_event_of ("reg-0123456789-abcdefghjk", event, sizeof (event)),
                   "evt-0123456789"));
    assert (!schalt_id_event_of ("ses-0123456789", event, sizeof (event)));
    assert (!schalt_id_event_of ("ses-0123456789_abcdefghjk", event, sizeof (event)));
    assert (!schalt_id_event_of ("ses-0123456789-abcdefghji", event, sizeof (event)));
    assert (!schalt_id_event_of ("Ses-0123456789-abcdefghjk", event, sizeof (event)));
    assert (!schalt_id_event_of (NULL, event, sizeof (event)));
    printf ("OK\n");
}
