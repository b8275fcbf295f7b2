/*  notifier_mail - a notice as a complete e-mail message. See notifier_mail.h.

    A header field is written as its name and a list of tokens, each put
    after one space; when a token would carry the line past 78 octets the
    space becomes CRLF SP (folding), which unfolding turns back into the same
    space. Tokens are words of a subject, atoms or one quoted-string of a
    display name, encoded-words, an address and a Message-ID; none is longer
    than 75 octets but the last two (at most 256 and 450), so no line can
    reach 998, and only a line holding one of those two can pass 78.
*/
#include "notifier_mail.h"
#include "schalt.h"

#include <libical/ical.h>

#define LINE_IDEAL 78  //  RFC 5322 2.1.1: a line SHOULD be at most 78 octets
#define LINE_LIMIT 998 //  ... and MUST be at most 998
#define WORD_MAX 75    //  RFC 2047 2: an encoded-word is at most 75 octets
#define WORD_FRAME 12  //  "=?UTF-8?B?" and "?="
#define QP_LINE 76     //  RFC 2045 6.7: encoded lines at most 76 octets
#define TOKEN_MAX 66   //  a plain token: fits after "Subject: " within 78

//  --------------------------------------------------------------------------
//  Checks of text

//  True if text holds a control character (C0, DEL) anywhere.
static bool
s_has_control (const char *text)
{
    for (const unsigned char *byte = (const unsigned char *)text; *byte; byte++)
        if (*byte < 0x20 || *byte == 0x7F)
            return true;
    return false;
}

//  True for atext (RFC 5322 3.2.3): what an atom may hold.
static bool
s_atext (unsigned char c)
{
    //  ASCII only, whatever the locale says about letters
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr ("!#$%&'*+-/=?^_`{|}~", c));
}

bool
notifier_mail_address_valid (const char *address)
{
    if (!address)
        return false;
    size_t size = strlen (address);
    const char *at = strrchr (address, '@');
    if (size > 254 || !at || at == address || (size_t)(at - address) > 64 || !at[1])
        return false;
    //  The local part: a dot-atom (atoms joined by single dots)
    for (const char *cursor = address; cursor < at; cursor++) {
        bool dot_ok = *cursor == '.' && cursor > address && cursor + 1 < at && cursor[1] != '.';
        if (!s_atext ((unsigned char)*cursor) && !dot_ok)
            return false;
    }
    //  The domain: letters, digits, hyphens in labels of 1..63, two or more labels
    size_t label = 0, labels = 0;
    for (const char *cursor = at + 1;; cursor++) {
        if (*cursor == '.' || *cursor == 0) {
            if (label == 0 || label > 63 || cursor[-1] == '-' || cursor[-(long)label] == '-')
                return false;
            labels++;
            label = 0;
            if (*cursor == 0)
                break;
        } else if ((*cursor >= 'a' && *cursor <= 'z') || (*cursor >= 'A' && *cursor <= 'Z') ||
                   (*cursor >= '0' && *cursor <= '9') || *cursor == '-')
            label++;
        else
            return false;
    }
    return labels >= 2;
}

//  --------------------------------------------------------------------------
//  The writer: the message grows in a chunk; column counts the octets of
//  the line being written, tokens the tokens on it.

typedef struct {
    zchunk_t *chunk;
    size_t column;
    size_t tokens;
} writer_t;

static void
s_put (writer_t *writer, const char *data, size_t size)
{
    zchunk_extend (writer->chunk, data, size);
    const char *newline = memrchr (data, '\n', size);
    writer->column = newline ? size - (size_t)(newline - data) - 1 : writer->column + size;
}

static void
s_puts (writer_t *writer, const char *text)
{
    s_put (writer, text, strlen (text));
}

//  Starts a header field "Name:".
static void
s_field (writer_t *writer, const char *name)
{
    s_puts (writer, name);
    s_puts (writer, ":");
    writer->tokens = 0;
}

//  Appends " token", folding before it when the line would pass 78 octets
//  and already holds a token (a token never moves off the field name's line
//  alone, so no field starts with an empty line).
static void
s_token (writer_t *writer, const char *token, size_t size)
{
    if (writer->tokens > 0 && writer->column + 1 + size > LINE_IDEAL) {
        s_puts (writer, "\r\n");
        writer->tokens = 0;
    }
    s_put (writer, " ", 1);
    s_put (writer, token, size);
    writer->tokens++;
}

//  Ends a header field.
static void
s_field_end (writer_t *writer)
{
    s_puts (writer, "\r\n");
}

//  Base64 of size bytes of data into out (at least 4 * ceil(size / 3) + 1).
static void
s_base64 (const unsigned char *data, size_t size, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t at = 0;
    for (size_t index = 0; index < size; index += 3) {
        unsigned long group = (unsigned long)data[index] << 16;
        if (index + 1 < size)
            group |= (unsigned long)data[index + 1] << 8;
        if (index + 2 < size)
            group |= data[index + 2];
        out[at++] = alphabet[(group >> 18) & 63];
        out[at++] = alphabet[(group >> 12) & 63];
        out[at++] = index + 1 < size ? alphabet[(group >> 6) & 63] : '=';
        out[at++] = index + 2 < size ? alphabet[group & 63] : '=';
    }
    out[at] = 0;
}

//  Writes text as encoded-words (=?UTF-8?B?...?=), each sized to fit the
//  line it lands on and never splitting a character between two words.
static void
s_encoded (writer_t *writer, const char *text, size_t size)
{
    size_t at = 0;
    while (at < size) {
        //  A word that cannot get 4 base64 characters here goes on a new line
        size_t column = writer->column;
        if (writer->tokens > 0 && column + 1 + WORD_FRAME + 4 > LINE_IDEAL)
            column = 0;
        size_t room = LINE_IDEAL - column - 1 - WORD_FRAME;
        if (room > WORD_MAX - WORD_FRAME)
            room = WORD_MAX - WORD_FRAME;
        size_t take = room / 4 * 3;
        if (take > size - at)
            take = size - at;
        //  Back off to the start of a character (continuation bytes are 10xxxxxx)
        while (at + take < size && take > 0 && ((unsigned char)text[at + take] & 0xC0) == 0x80)
            take--;
        char word[WORD_MAX + 1];
        memcpy (word, "=?UTF-8?B?", 10);
        s_base64 ((const unsigned char *)text + at, take, word + 10);
        strcat (word, "?=");
        s_token (writer, word, strlen (word));
        at += take;
    }
}

//  True if text is printable ASCII (space to tilde) only.
static bool
s_printable_ascii (const char *text)
{
    for (const unsigned char *byte = (const unsigned char *)text; *byte; byte++)
        if (*byte < 0x20 || *byte > 0x7E)
            return false;
    return true;
}

//  Writes a display name (RFC 5322 phrase): atoms as they are, else one
//  quoted-string with \ and " escaped, else (not ASCII, "=?" inside, too
//  long for a line) encoded-words.
static void
s_phrase (writer_t *writer, const char *name)
{
    size_t size = strlen (name);
    if (s_printable_ascii (name) && !strstr (name, "=?")) {
        //  Atoms: atext words separated by single spaces, none too long
        bool atoms = size > 0 && name[0] != ' ' && name[size - 1] != ' ' && !strstr (name, "  ");
        size_t word = 0;
        for (const char *cursor = name; atoms && *cursor; cursor++) {
            word = *cursor == ' ' ? 0 : word + 1;
            atoms = (*cursor == ' ' || s_atext ((unsigned char)*cursor)) && word <= TOKEN_MAX;
        }
        if (atoms) {
            for (const char *start = name; *start;) {
                const char *end = strchr (start, ' ');
                size_t length = end ? (size_t)(end - start) : strlen (start);
                s_token (writer, start, length);
                start += length + (end ? 1 : 0);
            }
            return;
        }
        //  One quoted-string, if it fits on a line with its quotes and escapes
        size_t escapes = 0;
        for (const char *cursor = name; *cursor; cursor++)
            escapes += *cursor == '"' || *cursor == '\\';
        if (size + escapes + 2 <= TOKEN_MAX) {
            char quoted[TOKEN_MAX + 1];
            size_t length = 0;
            quoted[length++] = '"';
            for (const char *cursor = name; *cursor; cursor++) {
                if (*cursor == '"' || *cursor == '\\')
                    quoted[length++] = '\\';
                quoted[length++] = *cursor;
            }
            quoted[length++] = '"';
            s_token (writer, quoted, length);
            return;
        }
    }
    s_encoded (writer, name, size);
}

//  Writes a mailbox: display name and <address>.
static void
s_mailbox (writer_t *writer, const char *name, const char *address)
{
    s_phrase (writer, name);
    char *angle = zsys_sprintf ("<%s>", address);
    s_token (writer, angle, strlen (angle));
    zstr_free (&angle);
}

//  Writes the subject: words of ASCII text as they are, anything else
//  (non-ASCII, "=?", a word too long for a line) as encoded-words. text has
//  its whitespace normalised already.
static void
s_subject (writer_t *writer, const char *text)
{
    bool plain = s_printable_ascii (text) && !strstr (text, "=?");
    size_t word = 0;
    for (const char *cursor = text; plain && *cursor; cursor++) {
        word = *cursor == ' ' ? 0 : word + 1;
        plain = word <= TOKEN_MAX;
    }
    if (!plain) {
        s_encoded (writer, text, strlen (text));
        return;
    }
    for (const char *start = text; *start;) {
        const char *end = strchr (start, ' ');
        size_t length = end ? (size_t)(end - start) : strlen (start);
        s_token (writer, start, length);
        start += length + (end ? 1 : 0);
    }
}

//  A copy of a subject with every control character and run of whitespace
//  turned into one space, trimmed at both ends. The caller frees it.
static char *
s_subject_line (const char *text)
{
    char *line = (char *)zmalloc (strlen (text) + 1);
    assert (line);
    size_t length = 0;
    for (const unsigned char *byte = (const unsigned char *)text; *byte; byte++) {
        bool space = *byte <= 0x20 || *byte == 0x7F;
        if (!space)
            line[length++] = (char)*byte;
        else if (length > 0 && line[length - 1] != ' ')
            line[length++] = ' ';
    }
    while (length > 0 && line[length - 1] == ' ')
        length--;
    line[length] = 0;
    return line;
}

//  --------------------------------------------------------------------------
//  Message-ID and Date

char *
notifier_mail_message_id (const char *id, const char *from_address)
{
    const char *at = from_address ? strrchr (from_address, '@') : NULL;
    if (!id || !*id || !at || !at[1])
        return NULL;
    //  id-left is a dot-atom-text: keep atext, dots between atext
    size_t size = strlen (id);
    char *left = (char *)zmalloc (size * 3 + 1);
    assert (left);
    size_t length = 0;
    for (size_t index = 0; index < size; index++) {
        unsigned char c = (unsigned char)id[index];
        bool dot_ok = c == '.' && index > 0 && index + 1 < size && id[index + 1] != '.';
        if ((s_atext (c) && c != '=') || dot_ok)
            left[length++] = (char)c;
        else
            length += (size_t)sprintf (left + length, "=%02X", c);
    }
    left[length] = 0;
    char *message_id = zsys_sprintf ("<%s@%s>", left, at + 1);
    free (left);
    return message_id;
}

//  Writes now as an RFC 5322 date in zone ("Sat, 13 Mar 2027 10:00:00
//  +0100"); UTC if the zone is unknown. Names are English, as the RFC says.
static void
s_date (time_t now, const char *zone, char buffer[48])
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    icaltimezone *ical_zone = zone ? icaltimezone_get_builtin_timezone (zone) : NULL;
    if (!ical_zone)
        ical_zone = icaltimezone_get_utc_timezone ();
    struct icaltimetype wall = icaltime_from_timet_with_zone (now, 0, ical_zone);
    //  The offset is the wall time read as UTC, minus the instant
    struct tm fields = {.tm_year = wall.year - 1900,
                        .tm_mon = wall.month - 1,
                        .tm_mday = wall.day,
                        .tm_hour = wall.hour,
                        .tm_min = wall.minute,
                        .tm_sec = wall.second};
    long offset = (long)(timegm (&fields) - now) / 60;
    snprintf (buffer, 48, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
              days[icaltime_day_of_week (wall) - 1], wall.day, months[wall.month - 1], wall.year,
              wall.hour, wall.minute, wall.second, offset < 0 ? '-' : '+', labs (offset) / 60,
              labs (offset) % 60);
}

//  --------------------------------------------------------------------------
//  The body: quoted-printable (RFC 2045 6.7)

//  True if the octet must be written as =XX at this place: anything but
//  printable ASCII other than '=', a space or tab ending a line, and a '.'
//  or the F of "From " opening a line (so no relay dot-stuffs or mangles it).
static bool
s_qp_escape (const char *line, size_t index, size_t size, size_t column)
{
    unsigned char c = (unsigned char)line[index];
    if (c == ' ' || c == '\t')
        return index + 1 == size;
    if (column == 0 &&
        (c == '.' || (c == 'F' && size - index >= 5 && !memcmp (line + index, "From ", 5))))
        return true;
    return c < 33 || c > 126 || c == '=';
}

//  Writes one line (without its line end) in quoted-printable.
static void
s_qp_line (writer_t *writer, const char *line, size_t size)
{
    writer->column = 0;
    for (size_t index = 0; index < size; index++) {
        size_t piece = s_qp_escape (line, index, size, writer->column) ? 3 : 1;
        //  Room for a soft line break "=" unless this is the line's last octet
        size_t limit = index + 1 == size ? QP_LINE : QP_LINE - 1;
        if (writer->column + piece > limit) {
            s_puts (writer, "=\r\n");
            piece = s_qp_escape (line, index, size, 0) ? 3 : 1;
        }
        if (piece == 3) {
            char escaped[4];
            snprintf (escaped, sizeof (escaped), "=%02X", (unsigned char)line[index]);
            s_put (writer, escaped, 3);
        } else
            s_put (writer, line + index, 1);
    }
    s_puts (writer, "\r\n");
}

//  Writes the body: every line (\n, \r\n or \r ends one) in quoted-printable.
static void
s_body (writer_t *writer, const char *text)
{
    const char *start = text;
    while (*start) {
        size_t size = strcspn (start, "\r\n");
        s_qp_line (writer, start, size);
        start += size;
        if (start[0] == '\r' && start[1] == '\n')
            start += 2;
        else if (*start)
            start++;
    }
}

//  Writes text in base64, 76 characters a line (RFC 2045).
static void
s_base64_lines (writer_t *writer, const char *text)
{
    size_t size = strlen (text);
    for (size_t offset = 0; offset < size; offset += 57) {
        size_t piece = size - offset < 57 ? size - offset : 57;
        char line[80];
        s_base64 ((const unsigned char *)text + offset, piece, line);
        s_puts (writer, line);
        s_puts (writer, "\r\n");
    }
}

//  --------------------------------------------------------------------------
//  The message

//  Checks a field for the header; fills reason and returns -1 if unusable.
static int
s_check_text (const char *what, const char *text, char *reason, size_t size)
{
    if (!text || !schalt_text_utf8_valid (text, strlen (text))) {
        snprintf (reason, size, "the %s is not UTF-8 text", what);
        return -1;
    }
    if (s_has_control (text)) {
        snprintf (reason, size, "the %s holds a control character (a line break, say)", what);
        return -1;
    }
    return 0;
}

char *
notifier_mail_render (const notifier_mail_sender_t *sender, const notifier_mail_t *mail, time_t now,
                      char *reason, size_t size)
{
    assert (sender && mail && reason);
    if (!notifier_mail_address_valid (sender->address)) {
        snprintf (reason, size, "the sender address is not usable");
        return NULL;
    }
    if (!notifier_mail_address_valid (mail->to_address)) {
        snprintf (reason, size, "the recipient address is not usable");
        return NULL;
    }
    if (s_check_text ("sender name", sender->name, reason, size) ||
        s_check_text ("recipient name", mail->to_name, reason, size))
        return NULL;
    if (!mail->subject || !schalt_text_utf8_valid (mail->subject, strlen (mail->subject)) ||
        !mail->body || !schalt_text_utf8_valid (mail->body, strlen (mail->body))) {
        snprintf (reason, size, "the subject or the text is not UTF-8");
        return NULL;
    }
    char *message_id = notifier_mail_message_id (mail->id, sender->address);
    if (!message_id) {
        snprintf (reason, size, "the notice has no id");
        return NULL;
    }
    writer_t writer = {zchunk_new (NULL, 4096), 0, 0};
    char date[48];
    s_date (now, sender->timezone, date);
    s_field (&writer, "Date");
    s_token (&writer, date, strlen (date));
    s_field_end (&writer);
    s_field (&writer, "From");
    s_mailbox (&writer, sender->name, sender->address);
    s_field_end (&writer);
    s_field (&writer, "To");
    s_mailbox (&writer, mail->to_name, mail->to_address);
    s_field_end (&writer);
    char *subject = s_subject_line (mail->subject);
    s_field (&writer, "Subject");
    s_subject (&writer, subject);
    s_field_end (&writer);
    free (subject);
    s_field (&writer, "Message-ID");
    s_token (&writer, message_id, strlen (message_id));
    s_field_end (&writer);
    free (message_id);
    s_puts (&writer, "MIME-Version: 1.0\r\n");
    //  RFC 3834: an automatic message; no out-of-office replies, please
    s_puts (&writer, "Auto-Submitted: auto-generated\r\n");
    if (mail->calendar) {
        s_puts (&writer, "Content-Type: multipart/mixed; boundary=\"=_mixed\"\r\n\r\n"
                         "--=_mixed\r\n"
                         "Content-Type: multipart/alternative; boundary=\"=_alternative\"\r\n"
                         "\r\n--=_alternative\r\n");
    }
    s_puts (&writer, "Content-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n");
    if (mail->language && strlen (mail->language) == 2 &&
        strspn (mail->language, "abcdefghijklmnopqrstuvwxyz") == 2) {
        s_puts (&writer, "Content-Language: ");
        s_puts (&writer, mail->language);
        s_puts (&writer, "\r\n");
    }
    s_puts (&writer, "\r\n");
    s_body (&writer, mail->body);
    if (mail->calendar) {
        const char *method = mail->method && streq (mail->method, "CANCEL") ? "CANCEL" : "REQUEST";
        const char *file =
            mail->language && streq (mail->language, "en") ? "event.ics" : "termin.ics";
        char header[256];
        snprintf (header, sizeof (header),
                  "--=_alternative\r\n"
                  "Content-Type: text/calendar; charset=UTF-8; method=%s\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  method);
        s_puts (&writer, header);
        s_base64_lines (&writer, mail->calendar);
        snprintf (header, sizeof (header),
                  "--=_alternative--\r\n"
                  "--=_mixed\r\n"
                  "Content-Type: application/ics; name=\"%s\"\r\n"
                  "Content-Disposition: attachment; filename=\"%s\"\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  file, file);
        s_puts (&writer, header);
        s_base64_lines (&writer, mail->calendar);
        s_puts (&writer, "--=_mixed--\r\n");
    }
    char *text = strndup ((const char *)zchunk_data (writer.chunk), zchunk_size (writer.chunk));
    assert (text);
    zchunk_destroy (&writer.chunk);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test

//  Checks the invariants of a whole message: CRLF only, no line over 998,
//  header lines over 78 only when one token fills them, no bare CR or LF.
static void
s_test_lines (const char *message)
{
    bool in_header = true;
    for (const char *line = message; *line;) {
        const char *end = strstr (line, "\r\n");
        assert (end); //  every line ends in CRLF, including the last
        size_t size = (size_t)(end - line);
        assert (size <= LINE_LIMIT);
        assert (!memchr (line, '\n', size) && !memchr (line, '\r', size));
        if (in_header && size == 0)
            in_header = false;
        else if (in_header) { //  only a line of one address or id may be longer
            const char *space = memchr (line, ' ', size);
            assert (size <= LINE_IDEAL ||
                    (space && space[1] == '<' &&
                     !memchr (space + 1, ' ', size - (size_t)(space + 1 - line))));
        } else
            assert (size <= QP_LINE);
        line = end + 2;
    }
    assert (!in_header);
}

//  The unfolded value of header name in message (caller frees), or NULL.
static char *
s_test_header (const char *message, const char *name)
{
    size_t length = strlen (name);
    for (const char *line = message; *line && strncmp (line, "\r\n", 2);) {
        const char *end = strstr (line, "\r\n");
        if (!strncasecmp (line, name, length) && line[length] == ':') {
            zchunk_t *value = zchunk_new (NULL, 256);
            zchunk_extend (value, line + length + 1, (size_t)(end - line) - length - 1);
            while (end[2] == ' ' || end[2] == '\t') { //  unfold: drop the CRLF
                const char *next = strstr (end + 2, "\r\n");
                zchunk_extend (value, end + 2, (size_t)(next - end - 2));
                end = next;
            }
            char *text = strndup ((char *)zchunk_data (value), zchunk_size (value));
            zchunk_destroy (&value);
            return text;
        }
        line = end + 2;
    }
    return NULL;
}

//  Decodes the encoded-words of a header value (as a mail client would:
//  whitespace between two encoded-words is dropped). Caller frees.
static char *
s_test_decode (const char *value)
{
    zchunk_t *out = zchunk_new (NULL, 256);
    const char *cursor = value;
    bool after_word = false;
    while (*cursor) {
        const char *start = strstr (cursor, "=?UTF-8?B?");
        const char *gap_end = start ? start : strchr (cursor, 0);
        bool blank = strspn (cursor, " ") == (size_t)(gap_end - cursor);
        if (!(after_word && blank && start))
            zchunk_extend (out, cursor, (size_t)(gap_end - cursor));
        if (!start)
            break;
        const char *data = start + 10, *finish = strstr (data, "?=");
        assert (finish);
        char *b64 = strndup (data, (size_t)(finish - data));
        zarmour_t *armour = zarmour_new ();
        zarmour_set_mode (armour, ZARMOUR_MODE_BASE64_STD);
        zchunk_t *bytes = zarmour_decode (armour, b64);
        assert (bytes);
        //  zarmour adds a terminating NUL to what it decodes
        size_t size = zchunk_size (bytes);
        if (size > 0 && zchunk_data (bytes)[size - 1] == 0)
            size--;
        zchunk_extend (out, zchunk_data (bytes), size);
        zchunk_destroy (&bytes);
        zarmour_destroy (&armour);
        free (b64);
        cursor = finish + 2;
        after_word = true;
    }
    char *text = strndup ((char *)zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return text;
}

//  Renders mail with the test sender; asserts it renders.
static char *
s_test_render (const notifier_mail_t *mail)
{
    notifier_mail_sender_t sender = {"bildungsbuero@example.org", "Bildungsbüro", "Europe/Berlin"};
    char reason[256] = "";
    char *message = notifier_mail_render (&sender, mail, 1804485600, reason, sizeof (reason));
    assert (message);
    s_test_lines (message);
    return message;
}

//  Asserts that the To header of a message with this display name decodes
//  to the name and keeps the address intact.
static void
s_test_name (const char *name, const char *expect_form)
{
    notifier_mail_t mail = {"ntc-1", name, "anna@example.org", "Hallo", "Text\n", "de", NULL, NULL};
    char *message = s_test_render (&mail);
    char *to = s_test_header (message, "To");
    assert (to);
    if (expect_form)
        assert (strstr (to, expect_form));
    //  The address is the last token, outside any quoted or encoded text
    size_t length = strlen (to);
    assert (length > 19 && streq (to + length - 19, " <anna@example.org>"));
    to[length - 19] = 0;
    //  Decoded, the value is " " and the name, or " " and a quoted-string
    char *decoded = s_test_decode (to);
    assert (decoded[0] == ' ');
    memmove (decoded, decoded + 1, strlen (decoded));
    if (decoded[0] == '"') {
        char *out = decoded;
        for (const char *in = decoded + 1; *in && *in != '"'; in++) {
            if (*in == '\\')
                in++;
            *out++ = *in;
        }
        *out = 0;
    }
    assert (streq (decoded, name));
    free (decoded);
    free (to);
    free (message);
}

void
notifier_mail_test (bool verbose)
{
    printf (" * notifier_mail: ");
    if (verbose)
        printf ("\n");

    //  Addresses and UTF-8
    assert (notifier_mail_address_valid ("anna.muster@example.org"));
    assert (notifier_mail_address_valid ("a+b_c@sub.example-x.de"));
    assert (!notifier_mail_address_valid ("anna@localhost"));
    assert (!notifier_mail_address_valid ("anna@exa mple.org"));
    assert (!notifier_mail_address_valid ("an\"na@example.org"));
    assert (!notifier_mail_address_valid (".anna@example.org"));
    assert (!notifier_mail_address_valid ("an..na@example.org"));
    assert (!notifier_mail_address_valid ("anna@example.org\r\nBcc: x@y.org"));
    assert (!notifier_mail_address_valid ("anna@-example.org"));
    assert (!notifier_mail_address_valid ("ännä@example.org"));
    assert (schalt_text_utf8_valid ("Grüße €", strlen ("Grüße €")));
    assert (!schalt_text_utf8_valid ("\xC3", 1));
    assert (!schalt_text_utf8_valid ("\xC0\xAF", 2));
    assert (!schalt_text_utf8_valid ("\xED\xA0\x80", 3));

    //  Message-IDs: the same for every attempt, any request id made safe
    char *message_id = notifier_mail_message_id ("ntc-7k3m9q2xbd", "bildungsbuero@example.org");
    assert (streq (message_id, "<ntc-7k3m9q2xbd@example.org>"));
    free (message_id);
    message_id = notifier_mail_message_id ("a:b..c.", "x@example.org");
    assert (streq (message_id, "<a=3Ab=2E.c=2E@example.org>"));
    free (message_id);
    assert (notifier_mail_message_id ("x", "no-domain") == NULL);

    //  A whole message: German subject with umlauts, every header present
    notifier_mail_t mail = {
        "ntc-7k3m9q2xbd",
        "Anna Muster",
        "anna@example.org",
        "Anmeldebestätigung: Übergang Kita – Grundschule am Samstag, 13. März 2027",
        "Guten Tag,\n\nSie sind angemeldet für \"Übergang\".\n.\nFrom here\n"
        "trailing space \nx=y\n",
        "de",
        NULL,
        NULL};
    char *message = s_test_render (&mail);
    if (verbose)
        printf ("%s\n", message);
    char *date = s_test_header (message, "Date");
    //  1804485600 is 2027-03-08T06:00:00Z: 07:00 in Berlin (winter time)
    assert (streq (date, " Mon, 08 Mar 2027 07:00:00 +0100"));
    free (date);
    char *from = s_test_header (message, "From");
    char *decoded = s_test_decode (from);
    assert (streq (decoded, " Bildungsbüro <bildungsbuero@example.org>"));
    free (decoded);
    free (from);
    char *subject = s_test_header (message, "Subject");
    assert (strstr (subject, "=?UTF-8?B?"));
    decoded = s_test_decode (subject);
    assert (streq (decoded + 1, mail.subject));
    free (decoded);
    free (subject);
    char *id = s_test_header (message, "Message-ID");
    assert (streq (id, " <ntc-7k3m9q2xbd@example.org>"));
    free (id);
    assert (strstr (message, "\r\nMIME-Version: 1.0\r\n"));
    assert (strstr (message, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    assert (strstr (message, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
    assert (strstr (message, "\r\nAuto-Submitted: auto-generated\r\n"));
    //  The body: umlauts as =XX, '=' escaped, a leading '.' and "From " escaped,
    //  a trailing space kept visible
    const char *body = strstr (message, "\r\n\r\n") + 4;
    assert (strstr (body, "Sie sind angemeldet f=C3=BCr \"=C3=9Cbergang\".\r\n"));
    assert (strstr (body, "\r\n=2E\r\n=46rom here\r\ntrailing space=20\r\nx=3Dy\r\n"));
    free (message);

    //  With a calendar entry: mixed [alternative [text, calendar], attachment],
    //  the text first, the entry in base64 twice
    mail.calendar = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n";
    mail.method = "CANCEL";
    message = s_test_render (&mail);
    const char *mixed = strstr (message, "Content-Type: multipart/mixed; boundary=\"=_mixed\"\r\n");
    const char *text_part = strstr (message, "--=_alternative\r\nContent-Type: text/plain");
    const char *calendar_part = strstr (
        message, "--=_alternative\r\nContent-Type: text/calendar; charset=UTF-8; method=CANCEL");
    const char *attachment =
        strstr (message, "Content-Disposition: attachment; filename=\"termin.ics\"");
    assert (mixed && text_part && calendar_part && attachment);
    assert (mixed < text_part && text_part < calendar_part && calendar_part < attachment);
    assert (
        strstr (calendar_part, "QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6Q0FOQ0VMDQpFTkQ6VkNBTEVOREFSDQo="));
    assert (strstr (message, "\r\n--=_alternative--\r\n") &&
            strstr (message, "\r\n--=_mixed--\r\n"));
    assert (strstr (text_part, "quoted-printable\r\nContent-Language: de\r\n\r\nGuten Tag,"));
    free (message);
    mail.calendar = NULL;
    mail.method = NULL;

    //  Long lines in the body get soft breaks, and decode back
    char long_line[600] = "";
    for (int index = 0; index < 30; index++)
        strcat (long_line, "Schöne Grüße ");
    mail.body = long_line;
    mail.subject = "Short and plain";
    message = s_test_render (&mail);
    assert (strstr (message, "=\r\n"));
    subject = s_test_header (message, "Subject");
    assert (streq (subject, " Short and plain"));
    free (subject);
    free (message);

    //  A long ASCII subject folds at spaces; a subject with a line break or
    //  tab becomes one line
    mail.body = "x";
    mail.subject = "Registration confirmed: a very long session title that goes on and on "
                   "and on, well past the seventy-eight octets of one line";
    message = s_test_render (&mail);
    subject = s_test_header (message, "Subject");
    assert (streq (subject + 1, mail.subject));
    free (subject);
    free (message);
    mail.subject = "Zeile eins\r\nBcc: victim@example.org\tund zwei";
    message = s_test_render (&mail);
    assert (!strstr (message, "\r\nBcc:"));
    subject = s_test_header (message, "Subject");
    assert (streq (subject, " Zeile eins Bcc: victim@example.org und zwei"));
    free (subject);
    free (message);

    //  Display names: atoms, quoted-strings, encoded-words, all decode back
    s_test_name ("Anna Muster", " Anna Muster");
    s_test_name ("Muster, Anna", "\"Muster, Anna\"");
    s_test_name ("Anna \"Anni\" Muster", "\"Anna \\\"Anni\\\" Muster\"");
    s_test_name ("Evil <eve@evil.example>, bob@example.org", "\"Evil <eve@evil.example>,");
    s_test_name ("Back\\slash (Kita)", "\"Back\\\\slash (Kita)\"");
    s_test_name ("Jürgen Müller-Lüdenscheidt", "=?UTF-8?B?");
    s_test_name ("=?UTF-8?B?SGk=?=", "=?UTF-8?B?");
    s_test_name ("  spaced  out ", "\"  spaced  out \"");
    char long_name[600] = "";
    for (int index = 0; index < 20; index++)
        strcat (long_name, "Ä, <Ö> \"Ü\" ");
    s_test_name (long_name, "=?UTF-8?B?");
    char long_ascii[201] = "";
    memset (long_ascii, 'x', 200);
    s_test_name (long_ascii, "=?UTF-8?B?");
    s_test_name ("A Name With Words That Go On Until The Line Is Long Enough To Fold It Over",
                 "A Name");
    s_test_name ("Quoted, And Long Enough That Its Quoted-String Would Not Fit On One Line",
                 "=?UTF-8?B?");

    //  Refusals: control characters in names, bad addresses, bad UTF-8
    notifier_mail_sender_t sender = {"bildungsbuero@example.org", "Bildungsbüro", "Europe/Berlin"};
    char reason[256];
    notifier_mail_t bad = {
        "ntc-1", "Anna\r\nBcc: x@example.org", "anna@example.org", "s", "b", "de", NULL, NULL};
    assert (!notifier_mail_render (&sender, &bad, time (NULL), reason, sizeof (reason)));
    assert (strstr (reason, "recipient name"));
    bad.to_name = "Anna\nMuster";
    assert (!notifier_mail_render (&sender, &bad, time (NULL), reason, sizeof (reason)));
    bad.to_name = "Anna";
    bad.to_address = "anna@example.org>\r\nBcc: x@example.org";
    assert (!notifier_mail_render (&sender, &bad, time (NULL), reason, sizeof (reason)));
    assert (strstr (reason, "recipient address"));
    bad.to_address = "anna@example.org";
    bad.subject = "\xFF";
    assert (!notifier_mail_render (&sender, &bad, time (NULL), reason, sizeof (reason)));
    sender.name = "Office\r\nX-Evil: 1";
    bad.subject = "s";
    assert (!notifier_mail_render (&sender, &bad, time (NULL), reason, sizeof (reason)));
    assert (strstr (reason, "sender name"));
    printf ("OK\n");
}
