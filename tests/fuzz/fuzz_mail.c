/*  fuzz_mail - libFuzzer target: the mail renderer (notifier_mail), alone and
    behind the template renderer (notifier_template) with the shipped templates.

    The input is cut at every 0xFF byte into: 0 the recipient's name, 1 their
    address, 2 a subject, 3 a body, 4 the sender's name, 5 the sender's
    address, 6 the notice id (cut to 64 octets, as ids are), 7 the language,
    8 the time the message is made (up to 8 octets, little-endian, taken
    modulo the years 1970 to 2099: it is the clock's, and libical re-expands
    a zone's rules on every conversion after 2582, 8 ms each), then the template variables
   event_title, session_title, room, place, start, end and position. Each input makes three
   messages: the fields as they are; the same with "\r\nBcc: ..." planted in the recipient's name
   (which must be refused) and in the subject (which must render with the same header fields); and
   the variables rendered through templates/<language>/registration-confirmed.txt with "\r\nBcc:
   ..." planted in session_title, which goes into the template's subject.

    Asserts, on every message, what a mail client relies on:
    - CRLF line ends only: no bare CR or LF anywhere;
    - no line over 998 octets; body lines (quoted-printable) at most 76,
      none ending in a space or tab, none that is "." or starts "From ";
    - the header field names are exactly, in order, those of a message made
      from benign fields in the same language: nothing from a field becomes
      a header field;
    - unfolded and decoded (RFC 2047 encoded-words, quoted-strings), the
      Subject is the subject with each run of whitespace and controls made
      one space, and the display names are the names; every encoded-word is
      at most 75 octets and holds whole UTF-8 characters;
    - the To address is the recipient's, in <>; the Message-ID is
      <dot-atom@sender's domain> whose =XX escapes decode to the notice id;
    - the body decodes (quoted-printable) to the text with CRLF line ends;
    - a message is refused exactly when a field is unusable as
      notifier_mail.h says (a name with a control character or not UTF-8,
      a subject or body not UTF-8, an address notifier_mail_address_valid
      refuses, no id), and then with a reason.
*/
#include "fuzz_util.h"
#include "notifier_mail.h"
#include "notifier_template.h"
#include "schalt.h"

#define FIELDS_MAX 24
#define HEADERS_MAX 32
#define ZONE "Europe/Berlin"
#define PLANTED "\r\nBcc: victim@example.org"

//  What a message is rendered from, all NUL-terminated.
typedef struct {
    const char *to_name, *to_address, *subject, *body;
    const char *from_name, *from_address, *id, *language;
    time_t now;
} fields_t;

//  A message cut into its header fields (names and unfolded values) and body.
typedef struct {
    char *names[HEADERS_MAX];
    char *values[HEADERS_MAX];
    size_t count;
    char *body; //  the body as sent, CRLF line ends
} parsed_t;

//  --------------------------------------------------------------------------
//  Cutting a message up

//  Appends size octets to *text (growing it); for the unfolded values.
static void
s_append (char **text, const char *data, size_t size)
{
    size_t length = *text ? strlen (*text) : 0;
    *text = realloc (*text, length + size + 1);
    assert (*text);
    memcpy (*text + length, data, size);
    (*text)[length + size] = '\0';
}

//  Checks the lines of a message and cuts it into header fields and body.
static void
s_parse (const char *message, parsed_t *parsed)
{
    memset (parsed, 0, sizeof *parsed);
    bool header = true;
    const char *line = message;
    while (*line) {
        const char *end = strstr (line, "\r\n");
        assert (end); //  every line ends in CRLF, the last one too
        size_t size = (size_t)(end - line);
        assert (!memchr (line, '\r', size) && !memchr (line, '\n', size));
        assert (size <= 998);
        if (header && size == 0) {
            header = false;
            parsed->body = strdup (end + 2);
            assert (parsed->body);
            break;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            //  A folded line continues the field before it
            assert (parsed->count > 0);
            s_append (&parsed->values[parsed->count - 1], line, size);
        } else {
            const char *colon = memchr (line, ':', size);
            assert (colon && colon > line);
            for (const char *at = line; at < colon; at++)
                assert (*at > 32 && *at < 127);
            assert (parsed->count < HEADERS_MAX);
            parsed->names[parsed->count] = strndup (line, (size_t)(colon - line));
            parsed->values[parsed->count] = strndup (colon + 1, size - (size_t)(colon + 1 - line));
            parsed->count++;
        }
        line = end + 2;
    }
    assert (!header); //  a header, a blank line, a body
    //  The body: quoted-printable lines
    for (line = parsed->body; *line;) {
        const char *end = strstr (line, "\r\n");
        assert (end);
        size_t size = (size_t)(end - line);
        assert (!memchr (line, '\r', size) && !memchr (line, '\n', size));
        assert (size <= 76);
        assert (size == 0 || (line[size - 1] != ' ' && line[size - 1] != '\t'));
        assert (!(size == 1 && line[0] == '.') && strncmp (line, "From ", 5) != 0);
        line = end + 2;
    }
}

static void
s_parsed_free (parsed_t *parsed)
{
    for (size_t index = 0; index < parsed->count; index++) {
        free (parsed->names[index]);
        free (parsed->values[index]);
    }
    free (parsed->body);
}

//  The unfolded value of the named field (borrowed); asserts there is one.
static const char *
s_value (const parsed_t *parsed, const char *name)
{
    for (size_t index = 0; index < parsed->count; index++)
        if (streq (parsed->names[index], name))
            return parsed->values[index];
    assert (!"field missing");
    return NULL;
}

//  --------------------------------------------------------------------------
//  Decoding

//  Appends the octets of one encoded-word =?UTF-8?B?...?= to *out; asserts
//  it is well formed, at most 75 octets, and whole UTF-8 characters.
static void
s_decode_word (const char *word, size_t size, char **out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert (size <= 75 && size >= 12);
    assert (memcmp (word, "=?UTF-8?B?", 10) == 0 && memcmp (word + size - 2, "?=", 2) == 0);
    const char *text = word + 10;
    size_t length = size - 12;
    assert (length % 4 == 0);
    char decoded[64];
    size_t count = 0;
    for (size_t at = 0; at < length; at += 4) {
        unsigned long group = 0;
        int pads = 0;
        for (int index = 0; index < 4; index++) {
            const char *found =
                text[at + index] == '=' ? NULL : strchr (alphabet, text[at + index]);
            assert (found || (text[at + index] == '=' && at + 4 == length && index >= 2));
            pads += !found;
            group = group << 6 | (found ? (unsigned long)(found - alphabet) : 0);
        }
        decoded[count++] = (char)(group >> 16);
        if (pads < 2)
            decoded[count++] = (char)(group >> 8 & 0xFF);
        if (pads < 1)
            decoded[count++] = (char)(group & 0xFF);
    }
    assert (count > 0 && fuzz_utf8_valid (decoded, count));
    s_append (out, decoded, count);
}

//  Cuts an unfolded value into tokens at single spaces (quoted-strings
//  whole when quotes is true). Returns the count.
static size_t
s_tokens (const char *value, bool quotes, const char **starts, size_t *sizes, size_t max)
{
    size_t count = 0;
    const char *at = value;
    while (*at) {
        assert (*at == ' '); //  every token comes after one space
        at++;
        const char *start = at;
        if (quotes && *at == '"') {
            for (at++; *at && *at != '"'; at++)
                if (*at == '\\' && at[1])
                    at++;
            assert (*at == '"');
            at++;
        } else
            while (*at && *at != ' ')
                at++;
        assert (at > start && count < max);
        starts[count] = start;
        sizes[count++] = (size_t)(at - start);
    }
    return count;
}

//  True if the token is an encoded-word.
static bool
s_encoded (const char *token, size_t size)
{
    return size >= 10 && memcmp (token, "=?UTF-8?B?", 10) == 0;
}

//  Decodes tokens as a subject or phrase: all encoded-words, concatenated;
//  one quoted-string (in a phrase), unescaped; or words joined by single spaces.
static char *
s_decode_tokens (const char **starts, const size_t *sizes, size_t count, bool phrase)
{
    char *out = strdup ("");
    assert (out);
    if (count > 0 && s_encoded (starts[0], sizes[0])) {
        for (size_t index = 0; index < count; index++) {
            assert (s_encoded (starts[index], sizes[index]));
            s_decode_word (starts[index], sizes[index], &out);
        }
    } else if (phrase && count == 1 && starts[0][0] == '"') {
        for (size_t at = 1; at + 1 < sizes[0]; at++) {
            if (starts[0][at] == '\\')
                at++;
            s_append (&out, starts[0] + at, 1);
        }
    } else
        for (size_t index = 0; index < count; index++) {
            assert (!s_encoded (starts[index], sizes[index]));
            if (index > 0)
                s_append (&out, " ", 1);
            s_append (&out, starts[index], sizes[index]);
        }
    return out;
}

//  Checks a From or To field: the decoded display name and the <address>.
static void
s_check_mailbox (const char *value, const char *name, const char *address)
{
    const char *starts[512];
    size_t sizes[512];
    size_t count = s_tokens (value, true, starts, sizes, 512);
    assert (count >= 1);
    size_t last = count - 1;
    assert (sizes[last] == strlen (address) + 2 && starts[last][0] == '<' &&
            memcmp (starts[last] + 1, address, strlen (address)) == 0 &&
            starts[last][sizes[last] - 1] == '>');
    char *decoded = s_decode_tokens (starts, sizes, last, true);
    if (!streq (decoded, name)) {
        fprintf (stderr, "fuzz_mail: the name \"%s\" reads as \"%s\" in \"%s\"\n", name, decoded,
                 value);
        abort ();
    }
    free (decoded);
}

//  The subject as a mail client shows it: controls and whitespace runs
//  made one space, trimmed.
static char *
s_subject_shown (const char *subject)
{
    char *out = zmalloc (strlen (subject) + 1);
    size_t length = 0;
    for (const unsigned char *at = (const unsigned char *)subject; *at; at++) {
        if (*at > 0x20 && *at != 0x7F)
            out[length++] = (char)*at;
        else if (length > 0 && out[length - 1] != ' ')
            out[length++] = ' ';
    }
    while (length > 0 && out[length - 1] == ' ')
        length--;
    out[length] = '\0';
    return out;
}

//  Checks the Subject field against the subject.
static void
s_check_subject (const char *value, const char *subject)
{
    size_t max = strlen (value) + 1;
    const char **starts = malloc (max * sizeof *starts);
    size_t *sizes = malloc (max * sizeof *sizes);
    size_t count = s_tokens (value, false, starts, sizes, max);
    char *decoded = s_decode_tokens (starts, sizes, count, false);
    char *shown = s_subject_shown (subject);
    if (!streq (decoded, shown)) {
        fprintf (stderr, "fuzz_mail: the subject \"%s\" reads as \"%s\"\n", shown, decoded);
        abort ();
    }
    free (shown);
    free (decoded);
    free (starts);
    free (sizes);
}

//  True for atext (RFC 5322 3.2.3).
static bool
s_atext (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr ("!#$%&'*+-/=?^_`{|}~", c));
}

//  Checks the Message-ID: <dot-atom@domain>, decoding to the id.
static void
s_check_message_id (const char *value, const char *id, const char *from_address)
{
    const char *domain = strrchr (from_address, '@') + 1;
    size_t size = strlen (value), domain_size = strlen (domain);
    assert (size > domain_size + 4 && value[0] == ' ' && value[1] == '<');
    assert (value[size - 1] == '>' && value[size - domain_size - 2] == '@');
    assert (memcmp (value + size - domain_size - 1, domain, domain_size) == 0);
    const char *left = value + 2;
    size_t left_size = size - domain_size - 4;
    char *decoded = zmalloc (left_size + 1);
    size_t length = 0;
    for (size_t at = 0; at < left_size; at++) {
        char c = left[at];
        assert (s_atext (c) || (c == '.' && at > 0 && at + 1 < left_size && left[at + 1] != '.'));
        if (c == '=') {
            assert (at + 2 < left_size && isxdigit ((unsigned char)left[at + 1]) &&
                    isxdigit ((unsigned char)left[at + 2]));
            char hex[3] = {left[at + 1], left[at + 2], 0};
            decoded[length++] = (char)strtol (hex, NULL, 16);
            at += 2;
        } else
            decoded[length++] = c;
    }
    assert (length == strlen (id) && memcmp (decoded, id, length) == 0);
    free (decoded);
}

//  Checks that the quoted-printable body decodes to the text with CRLF.
static void
s_check_body (const char *sent, const char *text)
{
    char *decoded = zmalloc (strlen (sent) + 1);
    size_t length = 0;
    for (const char *at = sent; *at; at++) {
        if (at[0] == '=' && at[1] == '\r' && at[2] == '\n')
            at += 2; //  a soft line break
        else if (at[0] == '=') {
            assert (isxdigit ((unsigned char)at[1]) && isxdigit ((unsigned char)at[2]));
            char hex[3] = {at[1], at[2], 0};
            decoded[length++] = (char)strtol (hex, NULL, 16);
            at += 2;
        } else
            decoded[length++] = *at;
    }
    decoded[length] = '\0';
    //  The text with every line end (\r\n, \r or \n) as CRLF, the last too
    char *expected = zmalloc (2 * strlen (text) + 3);
    size_t size = 0;
    for (const char *at = text; *at; at++) {
        if (*at == '\r' || *at == '\n') {
            at += at[0] == '\r' && at[1] == '\n';
            memcpy (expected + size, "\r\n", 2);
            size += 2;
        } else
            expected[size++] = *at;
    }
    if (size > 0 && expected[size - 1] != '\n') {
        memcpy (expected + size, "\r\n", 2);
        size += 2;
    }
    expected[size] = '\0';
    if (!streq (decoded, expected)) {
        fprintf (stderr, "fuzz_mail: the body decodes to \"%s\", not \"%s\"\n", decoded, expected);
        abort ();
    }
    free (decoded);
    free (expected);
}

//  --------------------------------------------------------------------------
//  Rendering and checking

//  True if text is a usable one-line name: UTF-8 without control characters.
static bool
s_line_ok (const char *text)
{
    for (const unsigned char *at = (const unsigned char *)text; *at; at++)
        if (*at < 0x20 || *at == 0x7F)
            return false;
    return fuzz_utf8_valid (text, strlen (text));
}

//  Renders the fields; returns the message (the caller frees it) or NULL.
static char *
s_render (const fields_t *fields, char *reason, size_t size)
{
    notifier_mail_sender_t sender = {fields->from_address, fields->from_name, ZONE};
    notifier_mail_t mail = {fields->id,
                            fields->to_name,
                            fields->to_address,
                            fields->subject,
                            fields->body,
                            fields->language,
                            NULL,
                            NULL};
    reason[0] = '\0';
    return notifier_mail_render (&sender, &mail, fields->now, reason, size);
}

//  Renders the fields and checks the message; returns true if it rendered.
static bool
s_check (const fields_t *fields)
{
    char reason[256];
    char *message = s_render (fields, reason, sizeof reason);
    bool usable = notifier_mail_address_valid (fields->from_address) &&
                  notifier_mail_address_valid (fields->to_address) &&
                  s_line_ok (fields->from_name) && s_line_ok (fields->to_name) &&
                  fuzz_utf8_valid (fields->subject, strlen (fields->subject)) &&
                  fuzz_utf8_valid (fields->body, strlen (fields->body)) && fields->id[0];
    if ((message != NULL) != usable) {
        fprintf (stderr, "fuzz_mail: %s, but the fields are %s\n", message ? "rendered" : reason,
                 usable ? "usable" : "not usable");
        abort ();
    }
    if (!message) {
        assert (reason[0]);
        return false;
    }
    //  The header field names of a message made from benign fields
    fields_t benign = {"Anna Muster", "anna@example.org", "Hallo",
                       "Text\n",      "Bildungsbüro",     "bb@example.org",
                       "ntc-1",       fields->language,   fields->now};
    char *reference = s_render (&benign, reason, sizeof reason);
    assert (reference);
    parsed_t expected, parsed;
    s_parse (reference, &expected);
    s_parse (message, &parsed);
    bool same = parsed.count == expected.count;
    for (size_t index = 0; same && index < parsed.count; index++)
        same = streq (parsed.names[index], expected.names[index]);
    if (!same) {
        fprintf (stderr, "fuzz_mail: the header fields are not the renderer's own:\n%s\n", message);
        abort ();
    }
    //  What the reader sees is what was given
    for (const char *at = fields->to_address; *at; at++)
        assert (*at > ' ' && *at < 127 && *at != '<' && *at != '>');
    s_check_mailbox (s_value (&parsed, "From"), fields->from_name, fields->from_address);
    s_check_mailbox (s_value (&parsed, "To"), fields->to_name, fields->to_address);
    s_check_subject (s_value (&parsed, "Subject"), fields->subject);
    s_check_message_id (s_value (&parsed, "Message-ID"), fields->id, fields->from_address);
    s_check_body (parsed.body, fields->body);
    s_parsed_free (&expected);
    s_parsed_free (&parsed);
    free (reference);
    free (message);
    return true;
}

//  Renders the variables through a shipped template, then as a message.
static void
s_check_template (const fields_t *fields, const char *name, json_t *variables)
{
    notifier_template_config_t config = {SCHALT_TEMPLATE_DIR, ZONE,
                                         "Bildungsbüro, Tel. 02238 808-0"};
    const char *language = streq (fields->language, "en") ? "en" : "de";
    notifier_template_request_t request = {name, language, fields->to_name, variables};
    char *subject, *body, reason[256];
    if (notifier_template_render (&config, &request, &subject, &body, reason, sizeof reason)) {
        assert (reason[0]);
        return;
    }
    fields_t mail = *fields;
    mail.subject = subject;
    mail.body = body;
    s_check (&mail);
    free (subject);
    free (body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *variables[] = {"event_title", "session_title", "room",    "place",
                                      "start",       "end",           "position"};
    fuzz_field_t cut[FIELDS_MAX];
    size_t count = fuzz_split (data, size, cut, FIELDS_MAX);
    char *strings[9];
    for (size_t index = 0; index < 9; index++)
        strings[index] = fuzz_string (cut, count, index);
    if (strlen (strings[6]) > SCHALT_ID_MAX)
        strings[6][SCHALT_ID_MAX] = '\0'; //  ids are at most 64 octets
    uint64_t seconds = 0;
    for (size_t at = 0; count > 8 && at < cut[8].size && at < 8; at++)
        seconds |= (uint64_t)cut[8].data[at] << (8 * at);
    fields_t fields = {strings[0], strings[1], strings[2],
                       strings[3], strings[4], strings[5],
                       strings[6], strings[7], (time_t)(seconds % 4102444800ULL)}; //  to 2099-12-31

    //  The fields as they are
    bool rendered = s_check (&fields);

    //  A header planted in the recipient's name is refused; in the subject
    //  it becomes words of the subject
    char *name = zsys_sprintf ("%s" PLANTED, fields.to_name);
    fields_t planted = fields;
    planted.to_name = name;
    char reason[256];
    assert (s_render (&planted, reason, sizeof reason) == NULL && reason[0]);
    char *subject = zsys_sprintf ("%s" PLANTED "\r\n\r\nInjected", fields.subject);
    planted = fields;
    planted.subject = subject;
    assert (s_check (&planted) == rendered);

    //  The variables through a shipped template, a header planted in one
    json_t *object = json_object ();
    for (size_t index = 0; index < sizeof variables / sizeof *variables; index++) {
        char *value = fuzz_string (cut, count, 9 + index);
        if (index == 1) {
            char *longer = zsys_sprintf ("%s" PLANTED, value);
            free (value);
            value = longer;
        }
        json_t *string = json_string (value);
        if (string)
            json_object_set_new (object, variables[index], string);
        free (value);
    }
    s_check_template (&fields, "registration-confirmed", object);
    json_decref (object);

    free (name);
    free (subject);
    for (size_t index = 0; index < 9; index++)
        free (strings[index]);
    return 0;
}
