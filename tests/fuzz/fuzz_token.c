/*  fuzz_token - libFuzzer target: the signed tokens of e-mail links
    (schalt_token_check, and the keys file reader schalt_token_keys_parse).

    The input is cut at 0xFF into: a token text, and a keys file text. The
    token is checked against two fixed keys, and the keys text is parsed as a
    keys file.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - a token that is not one the fixed keys made (and that no fuzzer can
      sign without them) is never valid or expired: what comes back for it is
      malformed or forged, with action and subject left empty;
    - a token made from the input's own words (when they are of the allowed
      form) is valid before its expiry, expired at it, names those words, and
      is forged under a keys file without its key;
    - a keys file is either read (and then signs a token that it checks as
      valid), or refused with a message naming the file and a line.
*/
#include "fuzz_util.h"
#include "schalt.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"

static schalt_token_keys_t *s_keys, *s_other;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char error[256];
    s_keys = schalt_token_keys_parse ("1 " HEX_A "\n2 " HEX_B "\n", "fixed", error, 256);
    s_other = schalt_token_keys_parse ("3 " HEX_B "\n", "other", error, 256);
    assert (s_keys && s_other);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t fields[3];
    size_t count = fuzz_split (data, size, fields, 3);
    char *token = fuzz_string (fields, count, 0);
    char *keys_text = fuzz_string (fields, count, 1);
    char *words = fuzz_string (fields, count, 2);
    char action[SCHALT_TOKEN_ACTION_MAX + 1], subject[SCHALT_TOKEN_SUBJECT_MAX + 1];
    time_t now = 1800000000;

    //  A fuzzed token is never accepted: only the key holder can sign
    schalt_token_result_t result = schalt_token_check (s_keys, token, now, action, subject);
    if (result == SCHALT_TOKEN_VALID || result == SCHALT_TOKEN_EXPIRED) {
        //  ... unless it is a token the fixed keys made (a seed of the corpus)
        char *again = schalt_token_make (s_keys, action, subject, now + 60);
        assert (again);
        free (again);
    } else
        assert (action[0] == 0 && subject[0] == 0);

    //  The input's words as action and subject: made, checked, expired, forged elsewhere
    char *space = strchr (words, ' ');
    if (space) {
        *space = 0;
        char *made = schalt_token_make (s_keys, words, space + 1, now + 60);
        if (made) {
            assert (strlen (made) <= SCHALT_TOKEN_TEXT_MAX);
            assert (schalt_token_check (s_keys, made, now, action, subject) == SCHALT_TOKEN_VALID);
            assert (streq (action, words) && streq (subject, space + 1));
            assert (schalt_token_check (s_keys, made, now + 60, action, subject) ==
                    SCHALT_TOKEN_EXPIRED);
            assert (schalt_token_check (s_other, made, now, action, subject) ==
                    SCHALT_TOKEN_FORGED);
            free (made);
        }
    }

    //  A keys file is read, or refused naming the file and a line
    char error[256] = "";
    schalt_token_keys_t *parsed = schalt_token_keys_parse (keys_text, "fuzzed", error, 256);
    if (parsed) {
        char *made = schalt_token_make (parsed, "cancel", "reg-a-b", now + 1);
        assert (made);
        assert (schalt_token_check (parsed, made, now, action, subject) == SCHALT_TOKEN_VALID);
        free (made);
        schalt_token_keys_destroy (&parsed);
    } else
        assert (strncmp (error, "fuzzed", 6) == 0 && strlen (error) > 8);

    free (token);
    free (keys_text);
    free (words);
    return 0;
}
