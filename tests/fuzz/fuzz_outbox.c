/*  fuzz_outbox - libFuzzer target: the outbox relay's fast split of a stored
    entry (schalt_outbox_split_entry), which reads {"id":..,"command":..,
    "body":{..}} without parsing the body.

    The input is one entry as Redis returns it to the relay, cut at its first
    NUL (the relay reads it as a C string).

    Asserts, besides "no crash, no leak, no undefined behaviour": on every
    entry the fast split accepts, it agrees with jansson. If jansson reads
    the whole entry, it is an object of exactly the members id, command and
    body, with the id and command the split copied and a body equal to the
    split's body text parsed alone. If jansson refuses the entry, it refuses
    the split's body text alone too: what the split claims to have read
    (everything around the body) is never the part that is wrong, so the
    receiver, which parses the body, refuses such an entry as a bad body.
*/
#include "fuzz_util.h"
#include "schalt.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *raw = strndup ((const char *)data, size);
    assert (raw);
    char id[SCHALT_ID_MAX + 1], command[SCHALT_COMMAND_MAX + 1];
    const char *body;
    size_t body_size;
    if (!schalt_outbox_split_entry (raw, id, command, &body, &body_size)) {
        free (raw);
        return 0;
    }
    //  The body lies inside the entry, an object that ends just before its last '}'
    size_t length = strlen (raw);
    assert (body > raw && body + body_size == raw + length - 1);
    assert (body[0] == '{' && body[body_size - 1] == '}' && raw[length - 1] == '}');

    json_error_t error;
    json_t *whole = json_loads (raw, 0, &error);
    json_t *alone = json_loadb (body, body_size, 0, NULL);
    //  The entry is one level deeper than its body: jansson's depth limit
    //  may refuse it alone, which says nothing about the split
    if (!whole && alone && json_error_code (&error) == json_error_stack_overflow) {
        json_decref (alone);
        free (raw);
        return 0;
    }
    if (whole) {
        assert (json_is_object (whole) && json_object_size (whole) == 3);
        assert (streq (json_string_value (json_object_get (whole, "id")), id));
        assert (streq (json_string_value (json_object_get (whole, "command")), command));
        assert (alone && json_equal (json_object_get (whole, "body"), alone));
    } else if (alone) {
        fprintf (stderr,
                 "fuzz_outbox: the split read a body jansson reads, from an entry it "
                 "refuses: %s\n",
                 raw);
        abort ();
    }
    json_decref (whole);
    json_decref (alone);
    free (raw);
    return 0;
}
