/*  fuzz_keys - libFuzzer target: the certificate reader of the keys
    directory and of a program's own key (schalt_keys_parse).

    The input is one certificate's text, read as a public certificate of the
    file "fuzz.cert" (its name must be "fuzz") and as a secret one.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - a certificate read has a valid name (the file's, for a public one), a
      known role and a public key of 40 Z85 characters that decodes to 32
      octets; read as secret it has a secret key too, and the public key is
      the one that belongs to that secret key (as libsodium computes it);
    - a refusal names the file and says what is wrong;
    - one text is never both a public and a secret certificate.
*/
#include "fuzz_util.h"
#include "schalt.h"

#include <sodium.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t field = {data, size};
    char *text = fuzz_string (&field, 1, 0);
    char error[512];
    schalt_key_t key;
    byte secret[32], public_key[32];

    int as_public =
        schalt_keys_parse (text, "fuzz.cert", "fuzz", false, &key, NULL, error, sizeof error);
    if (as_public == 0) {
        assert (streq (key.name, "fuzz") && schalt_role_valid (key.role));
        assert (strlen (key.public_txt) == SCHALT_KEY_TEXT);
        assert (zmq_z85_decode (public_key, key.public_txt));
    } else
        assert (strstr (error, "fuzz.cert: ") == error && strlen (error) > 11);

    int as_secret =
        schalt_keys_parse (text, "fuzz.key", NULL, true, &key, secret, error, sizeof error);
    if (as_secret == 0) {
        assert (schalt_key_name_valid (key.name) && schalt_role_valid (key.role));
        assert (zmq_z85_decode (public_key, key.public_txt));
        byte computed[32];
        assert (crypto_scalarmult_base (computed, secret) == 0);
        assert (memcmp (computed, public_key, 32) == 0);
    } else
        assert (strstr (error, "fuzz.key: ") == error);
    assert (!(as_public == 0 && as_secret == 0));
    free (text);
    return 0;
}
