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

//  Ids of things that belong to an event carry the event's ten characters,
//  so that the event (and with it the hash tag of every key of theirs) is
//  known from the id alone: a session is ses-<event's ten>-<ten random>,
//  a registration reg-<event's ten>-<ten random>.
//  Write prefix + "-" + the event's ten + "-" + 10 random characters into
//  buffer (at least strlen (prefix) + 23 bytes); event is a valid evt- id.
//  Returns buffer.
char *schalt_id_make_in_event (const char *prefix, const char *event, char *buffer, size_t size);

//  Write the event id ("evt-" + ten) that such an id (any prefix of three
//  letters) carries into event (at least 15 bytes). Returns event, or NULL
//  if id is not of that form.
char *schalt_id_event_of (const char *id, char *event, size_t size);

//  Self test.
void schalt_id_test (bool verbose);

#endif
