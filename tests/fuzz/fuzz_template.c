/*  fuzz_template - libFuzzer target: the template renderer (notifier_template).

    The input is cut at every 0xFF byte: the template text, the recipient's
    name, the office's contact line, then variables as "name=value" (the
    part before the first '='; a name or value that is not UTF-8 is left
    out, as jansson would refuse it). The text is written to a temporary
    templates folder as de/fuzz.txt and en/fuzz.txt and rendered in both
    languages, in Europe/Berlin.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    the renderer agrees with a reference renderer written here from the
    rules in notifier_template.h (conditional lines, the old_ and offer_
    times included): it renders exactly when the reference does,
    with the same subject and body, and a refusal always has a reason. The
    reference computes {{date}}, {{start_time}} and {{end_time}} from
    schalt_time's wall-clock formatter and the civil calendar, not from the
    renderer's libical calls.
*/
#include "fuzz_util.h"
#include "notifier_template.h"
#include "schalt.h"

#define FIELDS_MAX 24
#define ZONE "Europe/Berlin"

static char *s_folder; //  the temporary templates folder

//  Removes the temporary folder at exit.
static void
s_cleanup (void)
{
    schalt_test_rmtree (s_folder);
    free (s_folder);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_folder = schalt_test_tempdir ("fuzz-template");
    assert (s_folder);
    atexit (s_cleanup);
    return 0;
}

//  Writes the template text as LANGUAGE/fuzz.txt.
static void
s_write (const char *language, const fuzz_field_t *text)
{
    char *path = zsys_sprintf ("%s/%s/fuzz.txt", s_folder, language);
    char *folder = zsys_sprintf ("%s/%s", s_folder, language);
    mkdir (folder, 0700);
    FILE *file = fopen (path, "wb");
    assert (file);
    assert (fwrite (text->data, 1, text->size, file) == text->size);
    fclose (file);
    free (path);
    free (folder);
}

//  --------------------------------------------------------------------------
//  The reference renderer

typedef struct {
    const notifier_template_request_t *request;
    const char *office_contact;
    char value[128];
} reference_t;

//  Writes the local date and time of a variable's instant; returns false if
//  the variable is missing or no instant.
static bool
s_wall (reference_t *self, const char *variable, int *year, int *month, int *day, int *hour,
        int *minute)
{
    const char *text = json_string_value (json_object_get (self->request->variables, variable));
    time_t utc;
    char buffer[32];
    if (!text || schalt_time_parse_instant (text, &utc) != 0 ||
        !schalt_time_format_local (utc, ZONE, buffer))
        return false;
    return sscanf (buffer, "%d-%d-%d %d:%d", year, month, day, hour, minute) == 5;
}

//  The value of a placeholder, or NULL if the renderer must refuse.
static const char *
s_reference_value (reference_t *self, const char *name)
{
    static const char *days_de[] = {"Donnerstag", "Freitag",  "Samstag", "Sonntag",
                                    "Montag",     "Dienstag", "Mittwoch"};
    static const char *days_en[] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                    "Monday",   "Tuesday", "Wednesday"};
    static const char *months_de[] = {"Januar",    "Februar", "März",     "April",
                                      "Mai",       "Juni",    "Juli",     "August",
                                      "September", "Oktober", "November", "Dezember"};
    static const char *months_en[] = {"January",   "February", "March",    "April",
                                      "May",       "June",     "July",     "August",
                                      "September", "October",  "November", "December"};
    int year, month, day, hour, minute;
    if (streq (name, "recipient_name"))
        return self->request->recipient_name;
    if (streq (name, "office_contact"))
        return self->office_contact;
    //  {{session_list}} needs a list of sessions; the variables here are text
    if (streq (name, "session_list"))
        return NULL;
    //  The times before a move (old_...) and an offer's end (offer_...)
    const char *base = strncmp (name, "old_", 4) == 0 ? name + 4 : name;
    const char *start_variable = base == name ? "start" : "old_start";
    const char *end_variable = base == name ? "end" : "old_end";
    if (streq (name, "offer_date") || streq (name, "offer_time")) {
        base = streq (name, "offer_date") ? "date" : "start_time";
        start_variable = "offer_until";
    }
    if (streq (base, "date")) {
        if (!s_wall (self, start_variable, &year, &month, &day, &hour, &minute))
            return NULL;
        //  1970-01-01 was a Thursday
        int64_t days = fuzz_days_from_civil (year, month, day);
        int weekday = (int)(((days % 7) + 7) % 7);
        bool english = streq (self->request->language, "en");
        snprintf (self->value, sizeof self->value, english ? "%s, %d %s %d" : "%s, %d. %s %d",
                  english ? days_en[weekday] : days_de[weekday], day,
                  english ? months_en[month - 1] : months_de[month - 1], year);
        return self->value;
    }
    if (streq (base, "start_time") || streq (base, "end_time")) {
        const char *variable = streq (base, "start_time") ? start_variable : end_variable;
        if (!s_wall (self, variable, &year, &month, &day, &hour, &minute))
            return NULL;
        snprintf (self->value, sizeof self->value, "%02d:%02d", hour, minute);
        //  In the hour that occurs twice (Berlin, end of summer time), the
        //  zone's name: summer time is more than an hour ahead of UTC
        time_t utc;
        schalt_time_parse_instant (
            json_string_value (json_object_get (self->request->variables, variable)), &utc);
        char here[32], before[32], after[32];
        schalt_time_format_local (utc, ZONE, here);
        schalt_time_format_local (utc - 3600, ZONE, before);
        schalt_time_format_local (utc + 3600, ZONE, after);
        if (streq (here, before) || streq (here, after)) {
            struct tm fields = {.tm_year = year - 1900,
                                .tm_mon = month - 1,
                                .tm_mday = day,
                                .tm_hour = hour,
                                .tm_min = minute};
            bool summer = timegm (&fields) - (utc - ((utc % 60) + 60) % 60) > 3600;
            bool english = streq (self->request->language, "en");
            snprintf (self->value, sizeof self->value, "%02d:%02d %s", hour, minute,
                      summer ? (english ? "CEST" : "MESZ") : (english ? "CET" : "MEZ"));
        }
        return self->value;
    }
    return json_string_value (json_object_get (self->request->variables, name));
}

//  Expands the placeholders of text; returns a new string, or NULL.
static char *
s_reference_expand (reference_t *self, const char *text)
{
    char *out = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&out, &size);
    assert (stream);
    bool ok = true;
    for (const char *cursor = text; ok && *cursor;) {
        if (cursor[0] != '{' || cursor[1] != '{') {
            fputc (*cursor++, stream);
            continue;
        }
        const char *close = strstr (cursor + 2, "}}");
        const char *start = cursor + 2, *end = close;
        ok = close != NULL;
        while (ok && start < end && *start == ' ')
            start++;
        while (ok && end > start && end[-1] == ' ')
            end--;
        ok = ok && end > start && end - start <= 64;
        for (const char *at = start; ok && at < end; at++)
            ok = (*at >= 'a' && *at <= 'z') || (*at >= '0' && *at <= '9') || *at == '_';
        char name[65] = "";
        if (ok)
            memcpy (name, start, (size_t)(end - start));
        const char *value = ok ? s_reference_value (self, name) : NULL;
        ok = value != NULL;
        if (ok) {
            fputs (value, stream);
            cursor = close + 2;
        }
    }
    fclose (stream);
    if (!ok)
        zstr_free (&out);
    return out;
}

//  Conditional lines of the body, as the rules say: a line that starts with
//  {{?name}} (name: 1 to 64 of a-z, 0-9, _, closed on that line) is kept
//  without the marker if the variable name is text that is not empty, else
//  dropped with its line break. Returns a new string, or NULL if a marker is
//  malformed.
static char *
s_reference_conditions (reference_t *self, const char *text)
{
    char *out = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&out, &size);
    assert (stream);
    bool ok = true;
    for (const char *line = text; ok && *line;) {
        const char *end = strchr (line, '\n');
        size_t length = end ? (size_t)(end - line) + 1 : strlen (line);
        if (strncmp (line, "{{?", 3) != 0) {
            fwrite (line, 1, length, stream);
            line += length;
            continue;
        }
        const char *name = line + 3, *close = name;
        while ((*close >= 'a' && *close <= 'z') || (*close >= '0' && *close <= '9') ||
               *close == '_')
            close++;
        ok = close > name && close - name <= 64 && close[0] == '}' && close[1] == '}';
        if (ok) {
            char variable[65];
            memcpy (variable, name, (size_t)(close - name));
            variable[close - name] = 0;
            const char *value =
                json_string_value (json_object_get (self->request->variables, variable));
            if (value && *value)
                fwrite (close + 2, 1, length - (size_t)(close + 2 - line), stream);
        }
        line += length;
    }
    fclose (stream);
    if (!ok)
        zstr_free (&out);
    return out;
}

//  Renders as the rules say: returns 0 and sets subject and body, or -1.
static int
s_reference (reference_t *self, const fuzz_field_t *file, char **subject_p, char **body_p)
{
    *subject_p = *body_p = NULL;
    if (file->size > 65536 || !fuzz_utf8_valid ((const char *)file->data, file->size))
        return -1;
    //  CR only before LF is dropped; other controls but LF and tab refuse it
    char *text = zmalloc (file->size + 1);
    size_t length = 0;
    for (size_t at = 0; at < file->size; at++) {
        uint8_t c = file->data[at];
        if (c == '\r' && at + 1 < file->size && file->data[at + 1] == '\n')
            continue;
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            free (text);
            return -1;
        }
        text[length++] = (char)c;
    }
    char *newline = strchr (text, '\n');
    int rc = -1;
    if (strncmp (text, "Subject:", 8) == 0 && newline && newline[1] == '\n') {
        *newline = '\0';
        char *conditioned = s_reference_conditions (self, newline + 2);
        char *subject =
            conditioned ? s_reference_expand (self, text + 8 + strspn (text + 8, " \t")) : NULL;
        char *body = subject ? s_reference_expand (self, conditioned) : NULL;
        free (conditioned);
        if (body && strspn (subject, " \t\n") < strlen (subject)) {
            *subject_p = subject;
            *body_p = body;
            rc = 0;
        } else {
            free (subject);
            free (body);
        }
    }
    free (text);
    return rc;
}

//  --------------------------------------------------------------------------
//  The target

//  Renders in one language and compares with the reference.
static void
s_render (const char *language, const fuzz_field_t *file, const char *recipient,
          const char *contact, json_t *variables)
{
    notifier_template_config_t config = {s_folder, ZONE, contact};
    notifier_template_request_t request = {"fuzz", language, recipient, variables};
    char *subject, *body, reason[256] = "";
    int rc = notifier_template_render (&config, &request, &subject, &body, reason, sizeof reason);
    reference_t reference = {&request, contact, ""};
    char *expected_subject, *expected_body;
    int expected = s_reference (&reference, file, &expected_subject, &expected_body);
    if (rc != expected ||
        (rc == 0 && (!streq (subject, expected_subject) || !streq (body, expected_body)))) {
        fprintf (stderr, "fuzz_template: %s: rendered %d (%s), the reference %d\n", language, rc,
                 reason, expected);
        if (rc == 0 && expected == 0)
            fprintf (stderr, "subject: \"%s\"\nexpected: \"%s\"\nbody: \"%s\"\nexpected: \"%s\"\n",
                     subject, expected_subject, body, expected_body);
        abort ();
    }
    if (rc == 0) {
        free (subject);
        free (body);
        free (expected_subject);
        free (expected_body);
    } else
        assert (reason[0] && !subject && !body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t fields[FIELDS_MAX];
    size_t count = fuzz_split (data, size, fields, FIELDS_MAX);
    char *recipient = fuzz_string (fields, count, 1);
    char *contact = fuzz_string (fields, count, 2);
    json_t *variables = json_object ();
    for (size_t index = 3; index < count; index++) {
        const char *text = (const char *)fields[index].data;
        const char *equals = memchr (text, '=', fields[index].size);
        if (!equals)
            continue;
        char *name = strndup (text, (size_t)(equals - text));
        size_t rest = fields[index].size - (size_t)(equals - text) - 1;
        json_t *value = fuzz_utf8_valid (equals + 1, rest) && !memchr (equals + 1, 0, rest)
                            ? json_stringn (equals + 1, rest)
                            : NULL;
        if (value && fuzz_utf8_valid (name, strlen (name)))
            json_object_set_new (variables, name, value);
        else
            json_decref (value);
        free (name);
    }
    s_write ("de", &fields[0]);
    s_write ("en", &fields[0]);
    s_render ("de", &fields[0], recipient, contact, variables);
    s_render ("en", &fields[0], recipient, contact, variables);
    json_decref (variables);
    free (recipient);
    free (contact);
    return 0;
}
