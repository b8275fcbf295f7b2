/*  schalt_token - signed tokens for the links in e-mails.

    A link in an e-mail ("cancel my registration", "take the offered seat")
    carries a token that names what it may do (an action, such as "cancel")
    to what (a subject, such as a registration id) until when. The token is
    signed with a secret key, so it is checked without reading anything from
    Redis and cannot be made or changed by anyone who does not hold the key.
    Whether the action is still allowed (the registration has not ended, the
    offer is still open) is for the command's script to decide.

    Keys come from a file (made by deploy/up, readable by its owner only):
    one key a line, `<id> <64 hex digits>`, id 1 to 255; `#` starts a
    comment. The first key signs; every key in the file is accepted, so a key
    is rotated by putting a new one first, and retired by removing it once
    the links it signed have expired.

    A token is base64url (RFC 4648, no padding) of: version 1, the key id,
    the expiry (UTC seconds, 8 octets, big-endian), the action and the
    subject (each one octet of length, then the text), and a 16-octet keyed
    BLAKE2b MAC (libsodium's crypto_generichash) over all of that. About 75
    characters for a registration.
*/
#ifndef SCHALT_TOKEN_H_INCLUDED
#define SCHALT_TOKEN_H_INCLUDED

#include "schalt_config.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SCHALT_TOKEN_ACTION_MAX 16  //  characters of an action: a-z and '-'
#define SCHALT_TOKEN_SUBJECT_MAX 64 //  of a subject: A-Z a-z 0-9 . _ : -
#define SCHALT_TOKEN_TEXT_MAX 160   //  characters of a token; a longer text is malformed

typedef struct _schalt_token_keys_t schalt_token_keys_t;

//  What checking a token found.
typedef enum {
    SCHALT_TOKEN_VALID,
    SCHALT_TOKEN_MALFORMED, //  not a token at all (not base64url, wrong layout)
    SCHALT_TOKEN_FORGED,    //  not signed by a key in the file (changed, or a retired key)
    SCHALT_TOKEN_EXPIRED    //  signed, but its time has passed
} schalt_token_result_t;

//  Loads the keys from the file at path. Returns NULL with a message naming
//  the file (and the line) in error if it cannot be read, is readable by
//  others than its owner, holds no key, or has a bad line.
schalt_token_keys_t *schalt_token_keys_load (const char *path, char *error, size_t size);

//  Loads the file that the setting schaltstelle/token_keys names; NULL
//  after logging why, naming the setting.
schalt_token_keys_t *schalt_token_keys_configured (schalt_config_t *config);

//  The same from text (for tests); name is what messages call it.
schalt_token_keys_t *schalt_token_keys_parse (const char *text, const char *name, char *error,
                                              size_t size);

//  Destroy; safe to call twice.
void schalt_token_keys_destroy (schalt_token_keys_t **self_p);

//  Makes a token for action on subject until expires, signed with the first
//  key. Returns the token (the caller frees it), or NULL if action or subject
//  are empty, too long or hold other characters than allowed.
char *schalt_token_make (schalt_token_keys_t *self, const char *action, const char *subject,
                         time_t expires);

//  Checks token at time now. If it is valid, or expired, its action and
//  subject are copied out (action of SCHALT_TOKEN_ACTION_MAX + 1 octets,
//  subject of SCHALT_TOKEN_SUBJECT_MAX + 1); otherwise they are "".
schalt_token_result_t schalt_token_check (schalt_token_keys_t *self, const char *token, time_t now,
                                          char *action, char *subject);

//  A word for a result, for error codes: "valid", "malformed", "forged", "expired".
const char *schalt_token_result_name (schalt_token_result_t result);

//  Self test.
void schalt_token_test (bool verbose);

#endif
