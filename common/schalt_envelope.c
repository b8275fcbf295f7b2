/*  schalt_envelope - the wire format of requests and replies, strictly decoded.
    See schalt_envelope.h for the rules; every frame is checked here, once.
*/
#include "schalt_envelope.h"
#include "schalt_keys.h"
#include "schalt_text.h"

#include <stdarg.h>

struct _schalt_envelope_t {
    char command[SCHALT_COMMAND_MAX + 1];
    char id[SCHALT_ID_MAX + 1];
    int status;
    char *text;                         //  body as received, NUL-terminated
    json_t *body;                       //  parsed body, an object
    char user[SCHALT_KEY_NAME_MAX + 1]; //  the fifth frame's person, or ""
    char user_role[SCHALT_ROLE_MAX + 1];
};

//  --------------------------------------------------------------------------
//  Frame checks

//  True if the frame holds exactly the text expected.
static bool
s_frame_is (zframe_t *frame, const char *expected)
{
    size_t length = strlen (expected);
    return zframe_size (frame) == length && memcmp (zframe_data (frame), expected, length) == 0;
}

//  True if c may appear in a request id.
static bool
s_id_char (unsigned char c)
{
    return isalnum (c) || c == '.' || c == '_' || c == ':' || c == '-';
}

bool
schalt_envelope_valid_id (const char *id)
{
    size_t length = id ? strlen (id) : 0;
    if (length == 0 || length > SCHALT_ID_MAX)
        return false;
    for (size_t index = 0; index < length; index++)
        if (!s_id_char ((unsigned char)id[index]))
            return false;
    return true;
}

//  Copies a frame that must be a valid id into id. Returns 0 or -1.
static int
s_copy_id (zframe_t *frame, char id[SCHALT_ID_MAX + 1])
{
    size_t size = zframe_size (frame);
    if (size == 0 || size > SCHALT_ID_MAX)
        return -1;
    const byte *data = zframe_data (frame);
    for (size_t index = 0; index < size; index++)
        if (!s_id_char (data[index]))
            return -1;
    memcpy (id, data, size);
    id[size] = 0;
    return 0;
}

//  True if the command is noun.verb: lowercase words of a-z, 0-9 and '-',
//  joined by dots, at least two of them (or the single word "status").
static bool
s_valid_command (const byte *data, size_t size)
{
    if (size == 0 || size > SCHALT_COMMAND_MAX)
        return false;
    bool word_start = true;
    for (size_t index = 0; index < size; index++) {
        byte c = data[index];
        if (c == '.') {
            if (word_start)
                return false;
            word_start = true;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            word_start = false;
        else
            return false;
    }
    //  One word alone is only the built-in status command
    if (word_start)
        return false;
    return memchr (data, '.', size) != NULL || (size == 6 && memcmp (data, "status", 6) == 0);
}

//  Parses the body frame into self. Returns 0, or -1 with error filled.
static int
s_parse_body (schalt_envelope_t *self, zframe_t *frame, schalt_error_t *error)
{
    size_t size = zframe_size (frame);
    self->text = (char *)malloc (size + 1);
    assert (self->text);
    memcpy (self->text, zframe_data (frame), size);
    self->text[size] = 0;

    json_error_t parse_error;
    //  jansson refuses invalid UTF-8 and \u0000 unless asked not to.
    self->body = json_loadb (self->text, size, JSON_REJECT_DUPLICATES, &parse_error);
    if (!self->body) {
        schalt_error_set (error, 400, "invalid_json", "", "body is not valid JSON: %s (at %d)",
                          parse_error.text, parse_error.position);
        return -1;
    }
    if (!json_is_object (self->body)) {
        schalt_error_set (error, 400, "invalid_json", "", "body must be a JSON object");
        return -1;
    }
    return 0;
}

//  Reads the fifth frame, "NAME ROLE", into self. Returns 0 or -1.
static int
s_parse_user (schalt_envelope_t *self, zframe_t *frame)
{
    char text[SCHALT_KEY_NAME_MAX + SCHALT_ROLE_MAX + 2];
    size_t size = zframe_size (frame);
    if (size >= sizeof (text) || memchr (zframe_data (frame), 0, size))
        return -1;
    memcpy (text, zframe_data (frame), size);
    text[size] = 0;
    char *space = strchr (text, ' ');
    if (!space)
        return -1;
    *space = 0;
    if (!schalt_key_name_valid (text) || !schalt_role_is_person (space + 1))
        return -1;
    //  (both checked for their length above)
    memcpy (self->user, text, strlen (text) + 1);
    memcpy (self->user_role, space + 1, strlen (space + 1) + 1);
    return 0;
}

//  --------------------------------------------------------------------------
//  Decoding

//  The first four frames of msg, NULL for those it does not have (czmq's
//  zmsg_next starts again at the first frame once it has returned NULL, so
//  it is not called again after that).
static void
s_first_frames (zmsg_t *msg, zframe_t **first, zframe_t **second, zframe_t **third,
                zframe_t **fourth)
{
    zframe_t **frames[] = {first, second, third, fourth};
    zframe_t *frame = zmsg_first (msg);
    for (size_t index = 0; index < 4; index++) {
        *frames[index] = frame;
        if (frame)
            frame = zmsg_next (msg);
    }
}

schalt_envelope_t *
schalt_envelope_decode_request (zmsg_t **msg_p, schalt_error_t *error,
                                char reply_id[SCHALT_ID_MAX + 1])
{
    assert (msg_p && *msg_p && error && reply_id);
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    strcpy (reply_id, "-");

    schalt_envelope_t *self = (schalt_envelope_t *)zmalloc (sizeof (schalt_envelope_t));
    assert (self);
    size_t frames = zmsg_size (msg);
    zframe_t *protocol, *command, *id, *body;
    s_first_frames (msg, &protocol, &command, &id, &body);

    //  The id first, so that even a bad request gets an answer it can match
    bool has_id = id && s_copy_id (id, self->id) == 0;
    if (has_id)
        strcpy (reply_id, self->id);

    if (frames != 4 && frames != 5)
        schalt_error_set (error, 400, "bad_envelope", "envelope",
                          "a request has 4 frames [\"" SCHALT_PROTOCOL
                          "\", command, id, json] (the web front's a fifth, its user), not %zu",
                          frames);
    else if (!s_frame_is (protocol, SCHALT_PROTOCOL))
        schalt_error_set (error, 400, "bad_protocol", "envelope/protocol",
                          "the first frame must be \"" SCHALT_PROTOCOL "\"");
    else if (!s_valid_command (zframe_data (command), zframe_size (command)))
        schalt_error_set (error, 400, "bad_command", "envelope/command",
                          "the command must be noun.verb in lowercase, at most %d characters",
                          SCHALT_COMMAND_MAX);
    else if (!has_id)
        schalt_error_set (error, 400, "bad_id", "envelope/id",
                          "the request id must be 1 to %d characters of A-Z a-z 0-9 . _ : -",
                          SCHALT_ID_MAX);
    else if (frames == 5 && s_parse_user (self, zmsg_last (msg)) != 0)
        schalt_error_set (error, 400, "bad_user", "envelope/user",
                          "the fifth frame must be a person's login name and role, \"NAME "
                          "ROLE\", the role one of admin, organiser, group-lead, counsellor");
    else if (s_parse_body (self, body, error) == 0) {
        memcpy (self->command, zframe_data (command), zframe_size (command));
        self->command[zframe_size (command)] = 0;
        zmsg_destroy (&msg);
        return self;
    }
    zmsg_destroy (&msg);
    schalt_envelope_destroy (&self);
    return NULL;
}

schalt_envelope_t *
schalt_envelope_decode_reply (zmsg_t **msg_p, schalt_error_t *error)
{
    assert (msg_p && *msg_p && error);
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;

    schalt_envelope_t *self = (schalt_envelope_t *)zmalloc (sizeof (schalt_envelope_t));
    assert (self);
    zframe_t *protocol, *status, *id, *body;
    s_first_frames (msg, &protocol, &status, &id, &body);
    char digits[4] = {0};
    if (status && zframe_size (status) == 3)
        memcpy (digits, zframe_data (status), 3);

    if (zmsg_size (msg) != 4)
        schalt_error_set (error, 502, "bad_envelope", "envelope", "a reply has 4 frames, not %zu",
                          zmsg_size (msg));
    else if (!s_frame_is (protocol, SCHALT_PROTOCOL))
        schalt_error_set (error, 502, "bad_protocol", "envelope/protocol",
                          "the reply is not " SCHALT_PROTOCOL);
    else if (!isdigit ((byte)digits[0]) || !isdigit ((byte)digits[1]) ||
             !isdigit ((byte)digits[2]) || digits[0] < '1' || digits[0] > '5')
        schalt_error_set (error, 502, "bad_status", "envelope/status",
                          "the reply status is not three digits");
    else if (s_copy_id (id, self->id) != 0)
        schalt_error_set (error, 502, "bad_id", "envelope/id", "the reply id is not valid");
    else if (s_parse_body (self, body, error) == 0) {
        self->status = atoi (digits);
        zmsg_destroy (&msg);
        return self;
    }
    zmsg_destroy (&msg);
    schalt_envelope_destroy (&self);
    return NULL;
}

void
schalt_envelope_destroy (schalt_envelope_t **self_p)
{
    assert (self_p);
    schalt_envelope_t *self = *self_p;
    if (self) {
        json_decref (self->body);
        free (self->text);
        free (self);
        *self_p = NULL;
    }
}

const char *
schalt_envelope_command (schalt_envelope_t *self)
{
    return self->command;
}

const char *
schalt_envelope_id (schalt_envelope_t *self)
{
    return self->id;
}

int
schalt_envelope_status (schalt_envelope_t *self)
{
    return self->status;
}

const char *
schalt_envelope_user (schalt_envelope_t *self)
{
    return self->user[0] ? self->user : NULL;
}

const char *
schalt_envelope_user_role (schalt_envelope_t *self)
{
    return self->user[0] ? self->user_role : NULL;
}

json_t *
schalt_envelope_body (schalt_envelope_t *self)
{
    return self->body;
}

const char *
schalt_envelope_text (schalt_envelope_t *self)
{
    return self->text;
}

//  --------------------------------------------------------------------------
//  Encoding

zmsg_t *
schalt_envelope_request (const char *command, const char *id, const char *json)
{
    return schalt_envelope_request_sized (command, id, json, strlen (json));
}

zmsg_t *
schalt_envelope_request_sized (const char *command, const char *id, const char *json, size_t size)
{
    if (!s_valid_command ((const byte *)command, strlen (command)) ||
        !schalt_envelope_valid_id (id))
        return NULL;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, SCHALT_PROTOCOL);
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, id);
    zmsg_addmem (msg, json, size);
    return msg;
}

zmsg_t *
schalt_envelope_request_for (const char *command, const char *id, const char *json,
                             const char *user, const char *role)
{
    if (!schalt_key_name_valid (user) || !schalt_role_is_person (role))
        return NULL;
    zmsg_t *msg = schalt_envelope_request (command, id, json);
    if (msg)
        zmsg_addstrf (msg, "%s %s", user, role);
    return msg;
}

zmsg_t *
schalt_envelope_reply (int status, const char *id, const char *json)
{
    assert (status >= 100 && status <= 599);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, SCHALT_PROTOCOL);
    zmsg_addstrf (msg, "%03d", status);
    zmsg_addstr (msg, id);
    zmsg_addstr (msg, json);
    return msg;
}

void
schalt_error_set (schalt_error_t *error, int status, const char *code, const char *field,
                  const char *format, ...)
{
    error->status = status;
    snprintf (error->code, sizeof (error->code), "%s", code);
    snprintf (error->field, sizeof (error->field), "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (error->message, sizeof (error->message), format, args);
    va_end (args);
}

char *
schalt_error_json (const schalt_error_t *error)
{
    //  A message or field may quote a request and may have been cut inside a
    //  character by its buffer: made valid UTF-8 here, so the pack cannot fail
    schalt_error_t clean = *error;
    schalt_text_utf8_repair (clean.code);
    schalt_text_utf8_repair (clean.message);
    schalt_text_utf8_repair (clean.field);
    json_t *body = json_pack ("{s:{s:s, s:s, s:s}}", "error", "code", clean.code, "message",
                              clean.message, "field", clean.field);
    assert (body);
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test

//  Builds a message from frames given as text; length -1 means strlen.
static zmsg_t *
s_frames (int count, const char **frames, const int *lengths)
{
    zmsg_t *msg = zmsg_new ();
    for (int index = 0; index < count; index++)
        zmsg_addmem (msg, frames[index],
                     lengths && lengths[index] >= 0 ? (size_t)lengths[index]
                                                    : strlen (frames[index]));
    return msg;
}

//  Decodes a request built from frames and returns the error code ("" if valid).
static const char *
s_request_code (int count, const char **frames, const int *lengths, char *reply_id)
{
    static schalt_error_t error;
    memset (&error, 0, sizeof (error));
    zmsg_t *msg = s_frames (count, frames, lengths);
    schalt_envelope_t *envelope = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (msg == NULL);
    if (envelope) {
        schalt_envelope_destroy (&envelope);
        return "";
    }
    return error.code;
}

void
schalt_envelope_test (bool verbose)
{
    printf (" * schalt_envelope: ");
    if (verbose)
        printf ("\n");
    char reply_id[SCHALT_ID_MAX + 1];
    schalt_error_t error;

    //  A good request round-trips
    zmsg_t *msg = schalt_envelope_request ("event.create", "req-1", "{\"title\":\"Tag\"}");
    assert (msg);
    schalt_envelope_t *request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (request && !msg);
    assert (streq (schalt_envelope_command (request), "event.create"));
    assert (streq (schalt_envelope_id (request), "req-1"));
    assert (streq (reply_id, "req-1"));
    assert (streq (json_string_value (json_object_get (schalt_envelope_body (request), "title")),
                   "Tag"));
    assert (streq (schalt_envelope_text (request), "{\"title\":\"Tag\"}"));
    schalt_envelope_destroy (&request);
    schalt_envelope_destroy (&request);

    //  A body given by size: only those octets go
    msg = schalt_envelope_request_sized ("event.create", "req-2", "{\"title\":\"Tag\"}}", 15);
    assert (msg);
    request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (request && streq (schalt_envelope_text (request), "{\"title\":\"Tag\"}"));
    schalt_envelope_destroy (&request);

    //  Bad requests, each refused with its own code
    const char *extra[] = {"SCHALT/1", "event.get", "r1", "{}", "more", "frames"};
    assert (streq (s_request_code (6, extra, NULL, reply_id), "bad_envelope"));
    assert (streq (reply_id, "r1"));
    assert (streq (s_request_code (3, extra, NULL, reply_id), "bad_envelope"));
    //  A fifth frame is a person's name and role, nothing else
    assert (streq (s_request_code (5, extra, NULL, reply_id), "bad_user"));
    const char *users[] = {"erika web",        "erika",     "Erika organiser", "erika organiser ",
                           "erika  organiser", " organiser"};
    for (size_t index = 0; index < sizeof (users) / sizeof (users[0]); index++) {
        const char *frames[] = {"SCHALT/1", "event.get", "r1", "{}", users[index]};
        assert (streq (s_request_code (5, frames, NULL, reply_id), "bad_user"));
    }
    msg = schalt_envelope_request_for ("event.create", "req-3", "{}", "erika", "organiser");
    request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (request && streq (schalt_envelope_user (request), "erika"));
    assert (streq (schalt_envelope_user_role (request), "organiser"));
    schalt_envelope_destroy (&request);
    assert (!schalt_envelope_request_for ("event.create", "req-3", "{}", "erika", "web"));
    msg = schalt_envelope_request ("event.create", "req-4", "{}");
    request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (request && !schalt_envelope_user (request) && !schalt_envelope_user_role (request));
    schalt_envelope_destroy (&request);
    //  One frame: no id to answer with (czmq's zmsg_next would wrap to the first frame)
    const char *alone[] = {"SCSCHALT"};
    assert (streq (s_request_code (1, alone, NULL, reply_id), "bad_envelope"));
    assert (streq (reply_id, "-"));
    //  "-" is a valid request id like any other (found by tests/fuzz)
    const char *dash[] = {"SCHALT/1", "status", "-", "{}"};
    assert (streq (s_request_code (4, dash, NULL, reply_id), ""));
    const char *protocol[] = {"SCHALT/2", "event.get", "r1", "{}"};
    assert (streq (s_request_code (4, protocol, NULL, reply_id), "bad_protocol"));
    const char *command[] = {"SCHALT/1", "Event.Get", "r1", "{}"};
    assert (streq (s_request_code (4, command, NULL, reply_id), "bad_command"));
    const char *word[] = {"SCHALT/1", "event", "r1", "{}"};
    assert (streq (s_request_code (4, word, NULL, reply_id), "bad_command"));
    const char *dotted[] = {"SCHALT/1", "event..get", "r1", "{}"};
    assert (streq (s_request_code (4, dotted, NULL, reply_id), "bad_command"));
    const char *status[] = {"SCHALT/1", "status", "r1", "{}"};
    assert (streq (s_request_code (4, status, NULL, reply_id), ""));
    const char *id[] = {"SCHALT/1", "event.get", "r 1", "{}"};
    assert (streq (s_request_code (4, id, NULL, reply_id), "bad_id"));
    assert (streq (reply_id, "-"));
    const char *json[] = {"SCHALT/1", "event.get", "r1", "{\"a\":"};
    assert (streq (s_request_code (4, json, NULL, reply_id), "invalid_json"));
    const char *array[] = {"SCHALT/1", "event.get", "r1", "[1]"};
    assert (streq (s_request_code (4, array, NULL, reply_id), "invalid_json"));
    const char *utf8[] = {"SCHALT/1", "event.get", "r1", "{\"t\":\"\xc3\x28\"}"};
    assert (streq (s_request_code (4, utf8, NULL, reply_id), "invalid_json"));
    const char *nul[] = {"SCHALT/1", "event.get", "r1", "{\"t\":\"a\\u0000b\"}"};
    assert (streq (s_request_code (4, nul, NULL, reply_id), "invalid_json"));
    const char *raw_nul[] = {"SCHALT/1", "event.get", "r1", "{\"t\":1}\0"};
    const int raw_lengths[] = {-1, -1, -1, 8};
    assert (streq (s_request_code (4, raw_nul, raw_lengths, reply_id), "invalid_json"));
    const char *twice[] = {"SCHALT/1", "event.get", "r1", "{\"a\":1,\"a\":2}"};
    assert (streq (s_request_code (4, twice, NULL, reply_id), "invalid_json"));
    assert (schalt_envelope_request ("Bad", "r1", "{}") == NULL);
    assert (schalt_envelope_request ("event.get", "", "{}") == NULL);

    //  Replies
    msg = schalt_envelope_reply (201, "req-1", "{\"id\":\"evt-1\"}");
    schalt_envelope_t *reply = schalt_envelope_decode_reply (&msg, &error);
    assert (reply);
    assert (schalt_envelope_status (reply) == 201);
    assert (streq (schalt_envelope_id (reply), "req-1"));
    schalt_envelope_destroy (&reply);
    const char *bad_status[] = {"SCHALT/1", "2x1", "r1", "{}"};
    msg = s_frames (4, bad_status, NULL);
    assert (schalt_envelope_decode_reply (&msg, &error) == NULL);
    assert (streq (error.code, "bad_status"));

    //  Errors as JSON
    schalt_error_set (&error, 422, "invalid", "/title", "must be at most %d characters", 200);
    char *text = schalt_error_json (&error);
    assert (streq (text, "{\"error\":{\"code\":\"invalid\",\"message\":\"must be at most 200 "
                         "characters\",\"field\":\"/title\"}}"));
    free (text);
    printf ("OK\n");
}
