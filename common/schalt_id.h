/*  schalt_id - ids for the things people create: a prefix and ten random
    characters of Crockford's base32 in lowercase ("evt-7k3m9q2xbd"), 50
    bits from the kernel's random source: unguessable enough for an office,
    short enough to type.
*/
#ifndef SCHALT_ID_H_INCLUDED
#define SCHALT_ID_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define SCHALT_ID_RANDOM 10

//  Write prefix + "-" + 10 random characters into buffer (at least
//  strlen (prefix) + 12 bytes). Returns buffer.
char *schalt_id_make (const char *prefix, char *buffer, size_t size);

//  True if text is prefix + "-" + 10 characters of the alphabet.
bool schalt_id_valid (const char *prefix, const char *text);

//  Self test.
void schalt_id_test (bool verbose);

#endif
