/*  schalt_token - signed tokens for the links in e-mails. See schalt_token.h
    for the format and the keys file.
*/
#include "schalt_token.h"
#include "schalt_log.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>

#define VERSION 1
#define KEY_SIZE 32   //  octets of a key (crypto_generichash_KEYBYTES)
#define MAC_SIZE 16   //  octets of a token's MAC: 128 bits
#define KEYS_MAX 8    //  keys in one file
#define FILE_MAX 4096 //  octets of a keys file
//  The most octets a token holds: version, key, expiry, two lengths, texts, MAC
#define BINARY_MAX                                                                                 \
    (1 + 1 + 8 + 1 + SCHALT_TOKEN_ACTION_MAX + 1 + SCHALT_TOKEN_SUBJECT_MAX + MAC_SIZE)

typedef struct {
    unsigned char id;
    unsigned char secret[KEY_SIZE];
} token_key_t;

struct _schalt_token_keys_t {
    token_key_t keys[KEYS_MAX];
    size_t count;
};

//  --------------------------------------------------------------------------
//  Keys

//  Reads two hex digits; returns the octet, or -1.
static int
s_hex_octet (const char *text)
{
    int value = 0;
    for (int index = 0; index < 2; index++) {
        char c = text[index];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

//  Parses one line "<id> <64 hex digits>" (spaces around allowed) into key.
//  Returns NULL, or what is wrong with it.
static const char *
s_parse_key (const char *line, size_t length, token_key_t *key)
{
    size_t at = 0;
    while (at < length && (line[at] == ' ' || line[at] == '\t'))
        at++;
    long id = 0;
    size_t digits = 0;
    while (at < length && line[at] >= '0' && line[at] <= '9' && digits < 4) {
        id = id * 10 + (line[at++] - '0');
        digits++;
    }
    if (digits == 0 || id < 1 || id > 255)
        return "a key line is '<id> <64 hex digits>', id 1 to 255";
    if (at >= length || (line[at] != ' ' && line[at] != '\t'))
        return "the id and the key are separated by a space";
    while (at < length && (line[at] == ' ' || line[at] == '\t'))
        at++;
    if (length - at < 2 * KEY_SIZE)
        return "a key is 64 hex digits (32 octets)";
    for (size_t index = 0; index < KEY_SIZE; index++) {
        int octet = s_hex_octet (line + at + 2 * index);
        if (octet < 0)
            return "a key is 64 hex digits (32 octets)";
        key->secret[index] = (unsigned char)octet;
    }
    at += 2 * KEY_SIZE;
    while (at < length && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r'))
        at++;
    if (at < length)
        return "nothing may follow the key on its line";
    key->id = (unsigned char)id;
    return NULL;
}

schalt_token_keys_t *
schalt_token_keys_parse (const char *text, const char *name, char *error, size_t size)
{
    assert (text && name && error);
    if (sodium_init () < 0) {
        snprintf (error, size, "%s: libsodium cannot start", name);
        return NULL;
    }
    schalt_token_keys_t *self = (schalt_token_keys_t *)zmalloc (sizeof (schalt_token_keys_t));
    assert (self);
    int line_number = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr (line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen (line);
        line_number++;
        //  A comment or an empty line
        size_t first = strspn (line, " \t\r");
        bool blank = first >= length || line[first] == '#';
        if (!blank) {
            if (self->count == KEYS_MAX) {
                snprintf (error, size, "%s:%d: at most %d keys", name, line_number, KEYS_MAX);
                schalt_token_keys_destroy (&self);
                return NULL;
            }
            token_key_t *key = &self->keys[self->count];
            const char *wrong = s_parse_key (line, length, key);
            for (size_t other = 0; !wrong && other < self->count; other++)
                if (self->keys[other].id == key->id)
                    wrong = "the same key id twice";
            if (wrong) {
                snprintf (error, size, "%s:%d: %s", name, line_number, wrong);
                schalt_token_keys_destroy (&self);
                return NULL;
            }
            self->count++;
        }
        line = end ? end + 1 : line + length;
    }
    if (self->count == 0) {
        snprintf (error, size, "%s: holds no key (one line '<id> <64 hex digits>')", name);
        schalt_token_keys_destroy (&self);
    }
    return self;
}

schalt_token_keys_t *
schalt_token_keys_configured (schalt_config_t *config)
{
    char error[512];
    const char *path = schalt_config_string (config, "schaltstelle/token_keys");
    schalt_token_keys_t *keys = schalt_token_keys_load (path, error, sizeof (error));
    if (!keys)
        schalt_log_error ("schaltstelle/token_keys: %s (deploy/up makes var/token.keys; a file "
                          "is one key a line, '<id 1-255> <64 hex digits>', mode 600)",
                          error);
    return keys;
}

schalt_token_keys_t *
schalt_token_keys_load (const char *path, char *error, size_t size)
{
    assert (path && error);
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, size, "%s: cannot be read (%s)", path, strerror (errno));
        return NULL;
    }
    struct stat info;
    if (fstat (fileno (file), &info) != 0 || !S_ISREG (info.st_mode) ||
        (info.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf (error, size,
                  "%s: must be a file only its owner may read or write (chmod 600), as it "
                  "holds the secret that signs every link",
                  path);
        fclose (file);
        return NULL;
    }
    char text[FILE_MAX + 1];
    size_t length = fread (text, 1, FILE_MAX + 1, file);
    fclose (file);
    if (length > FILE_MAX || memchr (text, 0, length)) {
        snprintf (error, size, "%s: is not a keys file (too large, or not text)", path);
        sodium_memzero (text, sizeof (text));
        return NULL;
    }
    text[length] = 0;
    schalt_token_keys_t *self = schalt_token_keys_parse (text, path, error, size);
    sodium_memzero (text, sizeof (text));
    return self;
}

void
schalt_token_keys_destroy (schalt_token_keys_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        sodium_memzero (*self_p, sizeof (schalt_token_keys_t));
        free (*self_p);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Tokens

//  True if text is 1 to max characters, each of allowed (or a-z if NULL).
static bool
s_word (const char *text, size_t max, const char *allowed)
{
    size_t length = text ? strlen (text) : 0;
    if (length == 0 || length > max)
        return false;
    for (const char *cursor = text; *cursor; cursor++) {
        char c = *cursor;
        bool ok =
            (c >= 'a' && c <= 'z') ||
            (allowed && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr (allowed, c)));
        if (!ok && !(c == '-' && !allowed))
            return false;
    }
    return true;
}

//  The MAC of message under key, into mac.
static void
s_mac (const token_key_t *key, const unsigned char *message, size_t length, unsigned char *mac)
{
    int rc = crypto_generichash (mac, MAC_SIZE, message, length, key->secret, KEY_SIZE);
    assert (rc == 0);
}

char *
schalt_token_make (schalt_token_keys_t *self, const char *action, const char *subject,
                   time_t expires)
{
    assert (self && self->count > 0);
    if (!s_word (action, SCHALT_TOKEN_ACTION_MAX, NULL) ||
        !s_word (subject, SCHALT_TOKEN_SUBJECT_MAX, "._:-"))
        return NULL;
    unsigned char binary[BINARY_MAX];
    size_t length = 0;
    binary[length++] = VERSION;
    binary[length++] = self->keys[0].id;
    uint64_t seconds = expires < 0 ? 0 : (uint64_t)expires;
    for (int shift = 56; shift >= 0; shift -= 8)
        binary[length++] = (unsigned char)(seconds >> shift);
    const char *texts[] = {action, subject};
    for (int index = 0; index < 2; index++) {
        size_t text_length = strlen (texts[index]);
        binary[length++] = (unsigned char)text_length;
        memcpy (binary + length, texts[index], text_length);
        length += text_length;
    }
    s_mac (&self->keys[0], binary, length, binary + length);
    length += MAC_SIZE;
    size_t size = sodium_base64_ENCODED_LEN (length, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *token = (char *)malloc (size);
    assert (token);
    sodium_bin2base64 (token, size, binary, length, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return token;
}

schalt_token_result_t
schalt_token_check (schalt_token_keys_t *self, const char *token, time_t now, char *action,
                    char *subject)
{
    assert (self && action && subject);
    action[0] = subject[0] = 0;
    size_t text_length = token ? strlen (token) : 0;
    if (text_length == 0 || text_length > SCHALT_TOKEN_TEXT_MAX)
        return SCHALT_TOKEN_MALFORMED;
    unsigned char binary[BINARY_MAX];
    size_t length = 0;
    const char *end = NULL;
    if (sodium_base642bin (binary, sizeof (binary), token, text_length, NULL, &length, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != token + text_length)
        return SCHALT_TOKEN_MALFORMED;
    //  The layout, read field by field; nothing may be left over
    size_t at = 0;
    if (length < 1 + 1 + 8 + 1 || binary[at++] != VERSION)
        return SCHALT_TOKEN_MALFORMED;
    unsigned char key_id = binary[at++];
    uint64_t seconds = 0;
    for (int index = 0; index < 8; index++)
        seconds = (seconds << 8) | binary[at++];
    char *texts[] = {action, subject};
    const size_t maxima[] = {SCHALT_TOKEN_ACTION_MAX, SCHALT_TOKEN_SUBJECT_MAX};
    size_t starts[2], lengths[2];
    for (int index = 0; index < 2; index++) {
        if (at >= length)
            return SCHALT_TOKEN_MALFORMED;
        lengths[index] = binary[at++];
        starts[index] = at;
        if (lengths[index] == 0 || lengths[index] > maxima[index] || at + lengths[index] > length)
            return SCHALT_TOKEN_MALFORMED;
        at += lengths[index];
    }
    if (length != at + MAC_SIZE)
        return SCHALT_TOKEN_MALFORMED;
    //  Signed by a key of the file? (compared in constant time)
    const token_key_t *key = NULL;
    for (size_t index = 0; index < self->count && !key; index++)
        if (self->keys[index].id == key_id)
            key = &self->keys[index];
    unsigned char mac[MAC_SIZE];
    if (!key)
        return SCHALT_TOKEN_FORGED;
    s_mac (key, binary, at, mac);
    if (sodium_memcmp (mac, binary + at, MAC_SIZE) != 0)
        return SCHALT_TOKEN_FORGED;
    //  Signed texts are ours, but are checked as any input is
    for (int index = 0; index < 2; index++) {
        memcpy (texts[index], binary + starts[index], lengths[index]);
        texts[index][lengths[index]] = 0;
    }
    if (!s_word (action, SCHALT_TOKEN_ACTION_MAX, NULL) ||
        !s_word (subject, SCHALT_TOKEN_SUBJECT_MAX, "._:-")) {
        action[0] = subject[0] = 0;
        return SCHALT_TOKEN_MALFORMED;
    }
    return (uint64_t)(now < 0 ? 0 : now) >= seconds ? SCHALT_TOKEN_EXPIRED : SCHALT_TOKEN_VALID;
}

const char *
schalt_token_result_name (schalt_token_result_t result)
{
    switch (result) {
        case SCHALT_TOKEN_VALID:
            return "valid";
        case SCHALT_TOKEN_MALFORMED:
            return "malformed";
        case SCHALT_TOKEN_FORGED:
            return "forged";
        default:
            return "expired";
    }
}

//  --------------------------------------------------------------------------
//  Self test

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "F0E1D2C3B4A5968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF"
#define KEY_A "1 " HEX_A "\n"
#define KEY_B "2 " HEX_B "\n"

void
schalt_token_test (bool verbose)
{
    printf (" * schalt_token: ");
    if (verbose)
        printf ("\n");
    char error[256], action[SCHALT_TOKEN_ACTION_MAX + 1], subject[SCHALT_TOKEN_SUBJECT_MAX + 1];
    const char *registration = "reg-4k2m9x7q1c-8hz3w0v5ab";
    time_t now = 1800000000, later = now + 3600;

    //  Made and checked: valid until it expires, then expired
    schalt_token_keys_t *keys = schalt_token_keys_parse ("# links\n" KEY_A, "test", error, 256);
    assert (keys);
    char *token = schalt_token_make (keys, "cancel", registration, later);
    assert (token && strlen (token) <= SCHALT_TOKEN_TEXT_MAX);
    assert (strspn (token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
            strlen (token)); //  safe in a URL as it is
    assert (schalt_token_check (keys, token, now, action, subject) == SCHALT_TOKEN_VALID);
    assert (streq (action, "cancel") && streq (subject, registration));
    assert (schalt_token_check (keys, token, later, action, subject) == SCHALT_TOKEN_EXPIRED);
    assert (streq (action, "cancel")); //  what it was for, to say so

    //  The format is as the header says: a token made apart from this code
    //  (Python's hashlib.blake2b, keyed, 16 octets) is valid and reads the same
    const char *made_apart =
        "AQEAAAAAa0nSPAZjYW5jZWwZcmVnLTRrMm05eDdxMWMtOGh6M3cwdjVhYsLfs6qCHStRAIcVVfndvkM";
    assert (schalt_token_check (keys, made_apart, now, action, subject) == SCHALT_TOKEN_VALID);
    assert (streq (action, "cancel") && streq (subject, registration));

    //  Every character changed, one at a time: never valid
    size_t length = strlen (token);
    for (size_t at = 0; at < length; at++) {
        char *changed = strdup (token);
        changed[at] = changed[at] == 'A' ? 'B' : 'A';
        assert (schalt_token_check (keys, changed, now, action, subject) != SCHALT_TOKEN_VALID);
        free (changed);
    }
    //  Every bit of the signed octets flipped: forged or malformed, never valid
    unsigned char binary[BINARY_MAX];
    size_t size = 0;
    assert (sodium_base642bin (binary, sizeof (binary), token, length, NULL, &size, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
    for (size_t bit = 0; bit < size * 8; bit++) {
        binary[bit / 8] ^= (unsigned char)(1 << (bit % 8));
        char text[SCHALT_TOKEN_TEXT_MAX + 8];
        sodium_bin2base64 (text, sizeof (text), binary, size,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert (schalt_token_check (keys, text, now, action, subject) != SCHALT_TOKEN_VALID);
        binary[bit / 8] ^= (unsigned char)(1 << (bit % 8));
    }
    //  Not tokens at all
    const char *junk[] = {"", "!!!!", "AAAA", "a b", "AQ", "====", NULL};
    for (const char **text = junk; *text; text++)
        assert (schalt_token_check (keys, *text, now, action, subject) == SCHALT_TOKEN_MALFORMED);
    char long_text[SCHALT_TOKEN_TEXT_MAX + 2];
    memset (long_text, 'A', sizeof (long_text) - 1);
    long_text[sizeof (long_text) - 1] = 0;
    assert (schalt_token_check (keys, long_text, now, action, subject) == SCHALT_TOKEN_MALFORMED);
    assert (schalt_token_check (keys, NULL, now, action, subject) == SCHALT_TOKEN_MALFORMED);
    //  What may not be made
    assert (!schalt_token_make (keys, "", registration, later));
    assert (!schalt_token_make (keys, "Cancel", registration, later));
    assert (!schalt_token_make (keys, "cancel", "reg/1", later));
    assert (!schalt_token_make (keys, "cancel", "", later));
    assert (!schalt_token_make (keys, "a-very-long-action-word", registration, later));

    //  Rotation: B signs new tokens, A's still hold; once A is retired, forged
    schalt_token_keys_t *rotated = schalt_token_keys_parse (KEY_B KEY_A, "test", error, 256);
    assert (rotated);
    assert (schalt_token_check (rotated, token, now, action, subject) == SCHALT_TOKEN_VALID);
    char *newer = schalt_token_make (rotated, "accept", registration, later);
    assert (schalt_token_check (rotated, newer, now, action, subject) == SCHALT_TOKEN_VALID);
    assert (streq (action, "accept"));
    assert (schalt_token_check (keys, newer, now, action, subject) == SCHALT_TOKEN_FORGED);
    schalt_token_keys_t *retired = schalt_token_keys_parse (KEY_B, "test", error, 256);
    assert (schalt_token_check (retired, token, now, action, subject) == SCHALT_TOKEN_FORGED);
    assert (streq (action, "") && streq (subject, ""));
    //  The same id with another secret: forged
    schalt_token_keys_t *other = schalt_token_keys_parse (
        "1 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "test", error, 256);
    assert (schalt_token_check (other, token, now, action, subject) == SCHALT_TOKEN_FORGED);
    free (token);
    free (newer);
    schalt_token_keys_destroy (&rotated);
    schalt_token_keys_destroy (&retired);
    schalt_token_keys_destroy (&other);
    schalt_token_keys_destroy (&keys);
    schalt_token_keys_destroy (&keys);

    //  Bad keys files, each with its line
    const char *bad[][2] = {{"", "holds no key"},
                            {"# only a comment\n", "holds no key"},
                            {"0 " HEX_A, ":1: a key line is"},
                            {"256 00", ":1: a key line is"},
                            {"1 0011", ":1: a key is 64 hex digits"},
                            {"\n1 zz" HEX_A, ":2: a key is 64 hex digits"},
                            {KEY_A "1 " HEX_B, ":2: the same key id twice"},
                            {"1 " HEX_A " x", ":1: nothing may follow"},
                            {"1" HEX_A, ":1: a key line is"},
                            {"1:" HEX_A, ":1: the id and the key are separated"},
                            {NULL, NULL}};
    for (int index = 0; bad[index][0]; index++) {
        assert (!schalt_token_keys_parse (bad[index][0], "keys", error, sizeof (error)));
        if (!strstr (error, bad[index][1]))
            fprintf (stderr, "token test: '%s' gave '%s'\n", bad[index][0], error);
        assert (strstr (error, bad[index][1]));
    }

    //  A keys file others may read is refused, naming it; 0600 loads
    char *dir = zsys_sprintf ("/tmp/schalt-token-%d", (int)getpid ());
    zsys_dir_create ("%s", dir);
    char *path = zsys_sprintf ("%s/links.keys", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (KEY_A, file);
    fclose (file);
    chmod (path, 0644);
    assert (!schalt_token_keys_load (path, error, sizeof (error)));
    assert (strstr (error, path) && strstr (error, "chmod 600"));
    chmod (path, 0600);
    keys = schalt_token_keys_load (path, error, sizeof (error));
    assert (keys);
    schalt_token_keys_destroy (&keys);
    remove (path);
    assert (!schalt_token_keys_load (path, error, sizeof (error)));
    assert (strstr (error, "cannot be read"));
    zsys_dir_delete ("%s", dir);
    zstr_free (&path);
    zstr_free (&dir);
    printf ("OK\n");
}
