/*  schalt_text - text from outside made safe to store, log and put into JSON.

    Text that comes from outside the daemon (a mail relay's reply, a Redis
    error, a message that quotes a request, a line cut short by a buffer) may
    hold bytes that are not UTF-8, control characters, or a character cut in
    half. jansson refuses such text, so every place that packs it into JSON
    passes it through here first: nothing that came from outside can make a
    json_pack fail, and so no assert depends on it.
*/
#ifndef SCHALT_TEXT_H_INCLUDED
#define SCHALT_TEXT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  The length (1 to 4) of the UTF-8 character at text, of at most length
//  octets: a shortest form, no surrogate, at most U+10FFFF. Returns 0 if the
//  octets there are not a whole valid character.
size_t schalt_text_utf8_char (const char *text, size_t length);

//  True if the length octets at text are valid UTF-8 (NUL included).
bool schalt_text_utf8_valid (const char *text, size_t length);

//  Makes the NUL-terminated text valid UTF-8 in place: a character cut short
//  at the end (as snprintf leaves it) is dropped, any other octet that does
//  not belong to a valid character becomes '?'. Returns text.
char *schalt_text_utf8_repair (char *text);

//  Copies length octets of text into target (size octets, NUL included,
//  size >= 1) as one line of valid UTF-8: an octet that is not part of a
//  valid character becomes the four characters \xNN (so an admin sees what
//  was sent), control characters (C0, DEL, C1) and white space become single
//  spaces, the ends are trimmed, and the text is cut on a character boundary
//  if it does not fit. A NUL ends the text. Returns target.
char *schalt_text_line (char *target, size_t size, const char *text, size_t length);

//  Self test.
void schalt_text_test (bool verbose);

#endif
