/*  schalt_envelope - the wire format of requests and replies, strictly decoded.

    A request is [ "SCHALT/1", command, id, json ] and its reply is
    [ "SCHALT/1", status, id, json ]: four frames, no more, no fewer. Only
    the web front adds a fifth frame to a request it makes on behalf of a
    logged-in person: "NAME ROLE", the person's login name (as a key's
    name, schalt_keys.h) and role (a person's: admin, organiser,
    group-lead, counsellor), one space between. The
    command is `noun.verb` in lowercase, the id is the client's (1 to 64 of
    A-Z a-z 0-9 . _ : -), the status three digits, the body a JSON object in
    valid UTF-8 without NUL characters or duplicate keys. Anything else is
    refused with an error that names the part that is wrong.
*/
#ifndef SCHALT_ENVELOPE_H_INCLUDED
#define SCHALT_ENVELOPE_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

#define SCHALT_PROTOCOL "SCHALT/1"
#define SCHALT_ID_MAX 64
#define SCHALT_COMMAND_MAX 64

//  An error as the wire carries it: {"error":{"code","message","field"}}
//  with an HTTP-like status.
typedef struct {
    int status;
    char code[48];
    char message[320];
    char field[256];
} schalt_error_t;

typedef struct _schalt_envelope_t schalt_envelope_t;

//  Decode a request (routing frames already removed); takes ownership of
//  the message. Returns NULL if it is not a valid request: then error says
//  why, and reply_id holds an id to answer with (the request's own id if it
//  was readable, else "-").
schalt_envelope_t *schalt_envelope_decode_request (zmsg_t **msg_p, schalt_error_t *error,
                                                   char reply_id[SCHALT_ID_MAX + 1]);

//  Decode a reply; takes ownership of the message. Returns NULL if it is
//  not a valid reply (error says why).
schalt_envelope_t *schalt_envelope_decode_reply (zmsg_t **msg_p, schalt_error_t *error);

//  Destroy; safe to call twice, clears the caller's pointer.
void schalt_envelope_destroy (schalt_envelope_t **self_p);

//  The command of a request (empty for a reply), borrowed.
const char *schalt_envelope_command (schalt_envelope_t *self);

//  The request id, borrowed.
const char *schalt_envelope_id (schalt_envelope_t *self);

//  The status of a reply (0 for a request).
int schalt_envelope_status (schalt_envelope_t *self);

//  The person a request is made for (its fifth frame): name and role, or
//  NULL for a request without one. Borrowed.
const char *schalt_envelope_user (schalt_envelope_t *self);
const char *schalt_envelope_user_role (schalt_envelope_t *self);

//  The parsed body, borrowed (a JSON object).
json_t *schalt_envelope_body (schalt_envelope_t *self);

//  The body exactly as it came over the wire, borrowed, NUL-terminated.
const char *schalt_envelope_text (schalt_envelope_t *self);

//  Build a request message. Returns NULL if command or id are not valid.
zmsg_t *schalt_envelope_request (const char *command, const char *id, const char *json);

//  The same with a body of size octets (json need not end there).
zmsg_t *schalt_envelope_request_sized (const char *command, const char *id, const char *json,
                                       size_t size);

//  Build a request on behalf of a person (the web front's). Returns NULL if
//  command, id, user or role are not valid.
zmsg_t *schalt_envelope_request_for (const char *command, const char *id, const char *json,
                                     const char *user, const char *role);

//  Build a reply message.
zmsg_t *schalt_envelope_reply (int status, const char *id, const char *json);

//  True if the text is a valid request id.
bool schalt_envelope_valid_id (const char *id);

//  Fill an error. The message is printf-formatted; field may be NULL.
void schalt_error_set (schalt_error_t *error, int status, const char *code, const char *field,
                       const char *format, ...) __attribute__ ((format (printf, 5, 6)));

//  The error as the JSON body of a reply; the caller frees it.
char *schalt_error_json (const schalt_error_t *error);

//  Self test.
void schalt_envelope_test (bool verbose);

#endif
