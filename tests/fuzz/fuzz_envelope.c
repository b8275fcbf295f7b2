/*  fuzz_envelope - libFuzzer target: the wire decoder (schalt_envelope) and
    the JSON Schema check the server runs behind it.

    The input is cut at every 0xFF byte into frames (fuzz_util.h), decoded as
    a request the way schalt_server does, and, when it is one, its body is
    validated against request/<command> from the source tree's schemas/
    (loaded once, in LLVMFuzzerInitialize). The same frames are then decoded
    as a reply.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - a request is accepted exactly when an independent check of the frames
      says so: 4 frames, "SCHALT/1", a noun.verb command (or "status") of at
      most 64 characters, an id of 1 to 64 of A-Z a-z 0-9 . _ : -, and a
      body that jansson (rejecting duplicate keys) reads as an object; or 5
      such frames, the fifth "NAME ROLE" (a key's name, a person's role),
      which the request then names;
    - a refusal has status 400, a code and a message, and its reply id is the
      third frame when that is a valid id, else "-";
    - an accepted request gives back its frames: the command, the id, the
      body text byte for byte, a body equal to that text parsed again; built
      again with schalt_envelope_request_sized it decodes to the same;
    - the schema check answers the same with and without an error record, and
      a failure names a JSON pointer ("" or "/...") and a message;
    - a reply is accepted only with a status of 100 to 599.
*/
#include "fuzz_util.h"
#include "schalt.h"

#define FRAMES_MAX 16

static schalt_schema_set_t *s_schemas;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_schemas = schalt_schema_set_new (SCHALT_SCHEMA_DIR);
    assert (s_schemas);
    return 0;
}

//  The frames as a message.
static zmsg_t *
s_message (const fuzz_field_t *frames, size_t count)
{
    zmsg_t *msg = zmsg_new ();
    assert (msg);
    for (size_t index = 0; index < count; index++)
        zmsg_addmem (msg, frames[index].data, frames[index].size);
    return msg;
}

//  True if the frame holds exactly text.
static bool
s_frame_is (const fuzz_field_t *frame, const char *text)
{
    return frame->size == strlen (text) && memcmp (frame->data, text, frame->size) == 0;
}

//  True if the frame is a request id: 1 to 64 of A-Z a-z 0-9 . _ : -
static bool
s_id_ok (const fuzz_field_t *frame)
{
    if (frame->size == 0 || frame->size > SCHALT_ID_MAX)
        return false;
    for (size_t at = 0; at < frame->size; at++) {
        uint8_t c = frame->data[at];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

//  True if the frame is "status" or two or more non-empty words of a-z 0-9 -
//  joined by single dots, at most 64 characters in all.
static bool
s_command_ok (const fuzz_field_t *frame)
{
    if (frame->size == 0 || frame->size > SCHALT_COMMAND_MAX)
        return false;
    if (s_frame_is (frame, "status"))
        return true;
    size_t words = 0, word = 0;
    for (size_t at = 0; at <= frame->size; at++) {
        if (at == frame->size || frame->data[at] == '.') {
            if (word == 0)
                return false;
            words++;
            word = 0;
        } else {
            uint8_t c = frame->data[at];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return false;
            word++;
        }
    }
    return words >= 2;
}

//  True if the body frame is a JSON object to jansson (no duplicate keys).
static bool
s_body_ok (const fuzz_field_t *frame)
{
    json_t *body =
        json_loadb ((const char *)frame->data, frame->size, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object (body);
    json_decref (body);
    return ok;
}

//  True if the frame is "NAME ROLE": a key's name (1 to 64 of a-z 0-9 . _ -,
//  not starting with . or -) and a person's role, one space between.
static bool
s_user_ok (const fuzz_field_t *frame)
{
    const char *roles[] = {"admin", "organiser", "group-lead", "counsellor", NULL};
    size_t name = 0;
    while (name < frame->size && frame->data[name] != ' ')
        name++;
    if (name == 0 || name > SCHALT_KEY_NAME_MAX || name == frame->size || frame->data[0] == '.' ||
        frame->data[0] == '-')
        return false;
    for (size_t at = 0; at < name; at++) {
        uint8_t c = frame->data[at];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    size_t rest = frame->size - name - 1;
    for (const char **role = roles; *role; role++)
        if (rest == strlen (*role) && memcmp (frame->data + name + 1, *role, rest) == 0)
            return true;
    return false;
}

//  Validates an accepted request's body against its command's schema.
static void
s_check_schema (schalt_envelope_t *request)
{
    char name[SCHALT_COMMAND_MAX + 16];
    snprintf (name, sizeof name, "request/%s", schalt_envelope_command (request));
    schalt_schema_t *schema = schalt_schema_set_lookup (s_schemas, name);
    if (!schema)
        return; //  the server answers unknown_command
    schalt_schema_error_t error = {"unset", ""};
    bool valid = schalt_schema_validate (schema, schalt_envelope_body (request), &error);
    assert (valid == schalt_schema_validate (schema, schalt_envelope_body (request), NULL));
    if (!valid) {
        assert (error.field[0] == '\0' || error.field[0] == '/');
        assert (error.message[0] != '\0');
    }
}

//  Checks an accepted request against its frames, and that it encodes again.
static void
s_check_request (schalt_envelope_t *request, const fuzz_field_t *frames)
{
    const char *command = schalt_envelope_command (request);
    const char *id = schalt_envelope_id (request);
    assert (s_frame_is (&frames[1], command));
    assert (s_frame_is (&frames[2], id));
    assert (schalt_envelope_valid_id (id));
    assert (schalt_envelope_status (request) == 0);
    const char *text = schalt_envelope_text (request);
    assert (memcmp (text, frames[3].data, frames[3].size) == 0 && text[frames[3].size] == '\0');
    json_t *again = json_loadb (text, frames[3].size, JSON_REJECT_DUPLICATES, NULL);
    assert (json_is_object (schalt_envelope_body (request)));
    assert (again && json_equal (again, schalt_envelope_body (request)));
    json_decref (again);

    zmsg_t *msg = schalt_envelope_request_sized (command, id, text, frames[3].size);
    assert (msg);
    schalt_error_t error;
    char reply_id[SCHALT_ID_MAX + 1];
    schalt_envelope_t *copy = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (copy && !msg);
    assert (streq (schalt_envelope_command (copy), command));
    assert (streq (schalt_envelope_id (copy), id) && streq (reply_id, id));
    assert (json_equal (schalt_envelope_body (copy), schalt_envelope_body (request)));
    schalt_envelope_destroy (&copy);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t frames[FRAMES_MAX];
    size_t count = fuzz_split (data, size, frames, FRAMES_MAX);

    //  As a request
    bool expected = (count == 4 || (count == 5 && s_user_ok (&frames[4]))) &&
                    s_frame_is (&frames[0], SCHALT_PROTOCOL) && s_command_ok (&frames[1]) &&
                    s_id_ok (&frames[2]) && s_body_ok (&frames[3]);
    zmsg_t *msg = s_message (frames, count);
    schalt_error_t error;
    memset (&error, 0, sizeof error);
    char reply_id[SCHALT_ID_MAX + 1];
    schalt_envelope_t *request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (msg == NULL);
    assert ((request != NULL) == expected);
    if (request) {
        const char *user = schalt_envelope_user (request);
        assert ((user != NULL) == (count == 5));
        if (user) {
            char text[SCHALT_KEY_NAME_MAX + SCHALT_ROLE_MAX + 2];
            snprintf (text, sizeof text, "%s %s", user, schalt_envelope_user_role (request));
            assert (s_frame_is (&frames[4], text));
        }
        s_check_request (request, frames);
        s_check_schema (request);
        schalt_envelope_destroy (&request);
    } else {
        assert (error.status == 400 && error.code[0] && error.message[0]);
        if (count >= 3 && s_id_ok (&frames[2]))
            assert (s_frame_is (&frames[2], reply_id));
        else
            assert (streq (reply_id, "-"));
    }

    //  As a reply
    msg = s_message (frames, count);
    schalt_envelope_t *reply = schalt_envelope_decode_reply (&msg, &error);
    assert (msg == NULL);
    if (reply) {
        assert (count == 4 && s_id_ok (&frames[2]));
        int status = schalt_envelope_status (reply);
        assert (status >= 100 && status <= 599);
        char digits[4];
        snprintf (digits, sizeof digits, "%03d", status);
        assert (s_frame_is (&frames[1], digits));
        assert (json_is_object (schalt_envelope_body (reply)));
        schalt_envelope_destroy (&reply);
    } else //  502 for the envelope, 400 for a bad body (the request's check)
        assert ((error.status == 502 || error.status == 400) && error.code[0] && error.message[0]);
    return 0;
}
