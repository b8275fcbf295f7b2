/*  notifier_template - the text of a notice from a template file.
    See notifier_template.h. Files are read on every use, so an office's
    edit takes effect with the next notice, without a restart.
*/
#include "notifier_template.h"
#include "notifier_mail.h"
#include "schalt.h"

#include <libical/ical.h>

#define TEMPLATE_MAX 65536 //  octets: a letter, not a book
#define NAME_MAX_LENGTH 64 //  of a template or placeholder name

//  What a placeholder can be filled from, for one notice.
typedef struct {
    const notifier_template_config_t *config;
    const notifier_template_request_t *request;
    const char *file; //  "de/registration-confirmed.txt", for reasons
    char value[128];  //  a derived value (date, time) while it is copied
    char *reason;
    size_t size;
    char *list; //  {{session_list}} once made (freed with the context)
} context_t;

#define SESSION_LIST_MAX 200 //  sessions one notice may list

//  --------------------------------------------------------------------------
//  Reading the file

//  True if text is 1..max characters of a-z, 0-9 and the extra characters.
static bool
s_name_valid (const char *text, size_t max, const char *extra)
{
    size_t length = strlen (text);
    if (length == 0 || length > max)
        return false;
    for (const char *cursor = text; *cursor; cursor++)
        if (!(*cursor >= 'a' && *cursor <= 'z') && !(*cursor >= '0' && *cursor <= '9') &&
            !strchr (extra, *cursor))
            return false;
    return true;
}

//  Reads the template file into a string without CR (the caller frees it).
//  Returns NULL with a reason if it is missing, too big, not UTF-8, or
//  holds control characters other than line breaks and tabs.
static char *
s_read (const char *path, context_t *context)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (context->reason, context->size, "there is no template %s (%s)", context->file,
                  strerror (errno));
        return NULL;
    }
    char *text = (char *)zmalloc (TEMPLATE_MAX + 2);
    assert (text);
    size_t size = fread (text, 1, TEMPLATE_MAX + 1, file);
    bool failed = ferror (file);
    fclose (file);
    if (failed || size > TEMPLATE_MAX) {
        snprintf (context->reason, context->size, "the template %s is %s", context->file,
                  failed ? "unreadable" : "larger than 64 KiB");
        free (text);
        return NULL;
    }
    text[size] = 0;
    //  Lines may end in CRLF (an editor on Windows); anything else is refused
    size_t length = 0;
    bool clean = schalt_text_utf8_valid (text, size);
    for (size_t index = 0; clean && index < size; index++) {
        unsigned char c = (unsigned char)text[index];
        if (c == '\r' && text[index + 1] == '\n')
            continue;
        clean = c >= 0x20 ? c != 0x7F : c == '\n' || c == '\t';
        text[length++] = (char)c;
    }
    text[length] = 0;
    if (!clean) {
        snprintf (context->reason, context->size,
                  "the template %s is not UTF-8 text (or holds control characters)", context->file);
        free (text);
        return NULL;
    }
    return text;
}

//  --------------------------------------------------------------------------
//  Dates and times in the installation's zone

//  Reads the member variable of object (an RFC 3339 instant) as a wall time
//  in the zone, and the instant as UTC seconds. Returns 0, or -1 with a reason.
static int
s_instant_wall (context_t *context, json_t *object, const char *variable, const char *placeholder,
                struct icaltimetype *wall, time_t *instant)
{
    json_t *value = json_object_get (object, variable);
    time_t utc;
    if (!json_is_string (value)) {
        snprintf (context->reason, context->size,
                  "the template %s uses {{%s}}, but the notice has no variable %s", context->file,
                  placeholder, variable);
        return -1;
    }
    if (schalt_time_parse_instant (json_string_value (value), &utc) != 0) {
        snprintf (context->reason, context->size,
                  "the variable %s is not an RFC 3339 date-time (needed for {{%s}})", variable,
                  placeholder);
        return -1;
    }
    icaltimezone *zone = icaltimezone_get_builtin_timezone (context->config->timezone);
    if (!zone) {
        snprintf (context->reason, context->size, "the time zone %s is unknown",
                  context->config->timezone);
        return -1;
    }
    *wall = icaltime_from_timet_with_zone (utc, 0, zone);
    *instant = utc;
    return 0;
}

//  The same, without the instant.
static int
s_wall_time (context_t *context, json_t *object, const char *variable, const char *placeholder,
             struct icaltimetype *wall)
{
    time_t ignored;
    return s_instant_wall (context, object, variable, placeholder, wall, &ignored);
}

//  The wall-clock time of instant as people read it ("10:00"; in the hour
//  that occurs twice, "02:30 MESZ"), into value (32 octets at least).
static void
s_clock (context_t *context, time_t instant, char *value)
{
    if (!schalt_time_format_clock (instant, context->config->timezone, context->request->language,
                                   value))
        snprintf (value, 32, "--:--"); //  not reached: the zone was found just before
}

//  The same for one of the notice's variables.
static int
s_local_time (context_t *context, const char *variable, const char *placeholder,
              struct icaltimetype *wall)
{
    return s_wall_time (context, context->request->variables, variable, placeholder, wall);
}

//  Writes the long local date of wall in the language into buffer.
static void
s_long_date (struct icaltimetype wall, const char *language, char *buffer, size_t size)
{
    static const char *days_de[] = {"Sonntag",    "Montag",  "Dienstag", "Mittwoch",
                                    "Donnerstag", "Freitag", "Samstag"};
    static const char *months_de[] = {"Januar",    "Februar", "März",     "April",
                                      "Mai",       "Juni",    "Juli",     "August",
                                      "September", "Oktober", "November", "Dezember"};
    static const char *days_en[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                    "Thursday", "Friday", "Saturday"};
    static const char *months_en[] = {"January",   "February", "March",    "April",
                                      "May",       "June",     "July",     "August",
                                      "September", "October",  "November", "December"};
    //  The weekday from timegm (0 is Sunday): the date is Gregorian, and
    //  icaltime_day_of_week counts in the Julian calendar before 1582
    struct tm fields = {.tm_year = wall.year - 1900, .tm_mon = wall.month - 1, .tm_mday = wall.day};
    timegm (&fields);
    int day = fields.tm_wday;
    if (streq (language, "en"))
        snprintf (buffer, size, "%s, %d %s %d", days_en[day], wall.day, months_en[wall.month - 1],
                  wall.year);
    else
        snprintf (buffer, size, "%s, %d. %s %d", days_de[day], wall.day, months_de[wall.month - 1],
                  wall.year);
}

//  --------------------------------------------------------------------------
//  Placeholders

//  {{session_list}}: a line for each of the notice's sessions (the variable
//  sessions, a list of {title, room, start, end, [status, position]}), in
//  the notice's language:
//    "  Samstag, 13. März 2027, 10:00–11:30 Uhr: Title, Raum A101"
//  and " (Warteliste, Platz 2)" for a waitlisted one. Returns the text, or
//  NULL with a reason.
static const char *
s_session_list (context_t *context)
{
    if (context->list)
        return context->list;
    json_t *sessions = json_object_get (context->request->variables, "sessions");
    if (!json_is_array (sessions) || json_array_size (sessions) == 0 ||
        json_array_size (sessions) > SESSION_LIST_MAX) {
        snprintf (context->reason, context->size,
                  "the template %s uses {{session_list}}, but the notice lists no sessions",
                  context->file);
        return NULL;
    }
    bool english = streq (context->request->language, "en");
    zchunk_t *out = zchunk_new (NULL, 256);
    size_t index;
    json_t *item;
    json_array_foreach (sessions, index, item)
    {
        struct icaltimetype start, end;
        time_t start_utc, end_utc;
        const char *title = json_string_value (json_object_get (item, "title"));
        const char *room = json_string_value (json_object_get (item, "room"));
        if (!title || !room ||
            s_instant_wall (context, item, "start", "session_list", &start, &start_utc) ||
            s_instant_wall (context, item, "end", "session_list", &end, &end_utc)) {
            if (title && room)
                break; //  the reason is written
            snprintf (context->reason, context->size,
                      "session %zu of the notice lacks its title or room", index + 1);
            break;
        }
        //  Each part appended as it is: a title may be 800 octets of UTF-8
        char date[64], times[96], status[96] = "";
        s_long_date (start, context->request->language, date, sizeof (date));
        const char *state = json_string_value (json_object_get (item, "status")) ?: "";
        if (streq (state, "confirmed"))
            snprintf (status, sizeof (status),
                      english ? " (place reserved)" : " (Platz reserviert)");
        if (streq (state, "waitlisted"))
            snprintf (status, sizeof (status),
                      english ? " (waiting list, number %.8s)" : " (Warteliste, Platz %.8s)",
                      json_string_value (json_object_get (item, "position")) ?: "?");
        char from[32], until[32];
        s_clock (context, start_utc, from);
        s_clock (context, end_utc, until);
        snprintf (times, sizeof (times), ", %s–%s%s: ", from, until, english ? "" : " Uhr");
        const char *parts[] = {index ? "\n  " : "  ",           date, times, title,
                               english ? ", room " : ", Raum ", room, status};
        for (size_t part = 0; part < sizeof (parts) / sizeof (parts[0]); part++)
            zchunk_extend (out, parts[part], strlen (parts[part]));
        //  Under it, its check-in code and its link (a variable: a signed URL)
        const char *code = json_string_value (json_object_get (item, "code"));
        if (code) {
            const char *label = english ? "\n    Check-in code: " : "\n    Code für den Einlass: ";
            zchunk_extend (out, label, strlen (label));
            zchunk_extend (out, code, strlen (code));
        }
        const char *link = json_string_value (json_object_get (item, "link"));
        if (link) {
            const char *url =
                json_string_value (json_object_get (context->request->variables, link));
            if (!url) {
                snprintf (context->reason, context->size,
                          "session %zu of the notice names the link %s, which the notice lacks",
                          index + 1, link);
                break;
            }
            bool leave = strstr (url, "/registration/decline?") != NULL;
            zchunk_extend (out, "\n    ", 5);
            const char *label =
                leave ? (english ? "Leave the waiting list: " : "Warteliste verlassen: ")
                      : (english ? "Cancel: " : "Absagen: ");
            zchunk_extend (out, label, strlen (label));
            zchunk_extend (out, url, strlen (url));
        }
    }
    if (index == json_array_size (sessions))
        context->list = strndup ((const char *)zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return context->list;
}

//  The value of a placeholder (borrowed), or NULL with a reason.
static const char *
s_value (context_t *context, const char *name)
{
    const notifier_template_request_t *request = context->request;
    struct icaltimetype wall;
    if (streq (name, "recipient_name"))
        return request->recipient_name;
    if (streq (name, "office_contact"))
        return context->config->office_contact;
    if (streq (name, "session_list"))
        return s_session_list (context);
    //  offer_date and offer_time: until when an offered seat is held
    if (streq (name, "offer_date") || streq (name, "offer_time")) {
        time_t instant;
        if (s_instant_wall (context, request->variables, "offer_until", name, &wall, &instant))
            return NULL;
        if (streq (name, "offer_date"))
            s_long_date (wall, request->language, context->value, sizeof (context->value));
        else
            s_clock (context, instant, context->value);
        return context->value;
    }
    //  date, start_time and end_time; old_date... for the times before a move
    const char *base = strncmp (name, "old_", 4) == 0 ? name + 4 : name;
    char variable[16];
    if (streq (base, "date")) {
        snprintf (variable, sizeof (variable), "%sstart", base == name ? "" : "old_");
        if (s_local_time (context, variable, name, &wall))
            return NULL;
        s_long_date (wall, request->language, context->value, sizeof (context->value));
        return context->value;
    }
    if (streq (base, "start_time") || streq (base, "end_time")) {
        snprintf (variable, sizeof (variable), "%s%s", base == name ? "" : "old_",
                  streq (base, "start_time") ? "start" : "end");
        time_t instant;
        if (s_instant_wall (context, request->variables, variable, name, &wall, &instant))
            return NULL;
        s_clock (context, instant, context->value);
        return context->value;
    }
    json_t *value = json_object_get (request->variables, name);
    if (!json_is_string (value)) {
        snprintf (context->reason, context->size,
                  "the template %s uses {{%s}}, but the notice has no variable %s", context->file,
                  name, name);
        return NULL;
    }
    return json_string_value (value);
}

//  Copies text with every {{name}} replaced by its value. Returns the new
//  text (the caller frees it), or NULL with a reason.
static char *
s_expand (context_t *context, const char *text)
{
    zchunk_t *out = zchunk_new (NULL, strlen (text) + 256);
    const char *cursor = text;
    char *result = NULL;
    while (true) {
        const char *open = strstr (cursor, "{{");
        if (!open) {
            zchunk_extend (out, cursor, strlen (cursor));
            break;
        }
        zchunk_extend (out, cursor, (size_t)(open - cursor));
        const char *close = strstr (open + 2, "}}");
        //  The name, without spaces around it: {{ room }} is {{room}}
        char name[NAME_MAX_LENGTH + 1] = "";
        if (close) {
            const char *start = open + 2, *end = close;
            while (start < end && *start == ' ')
                start++;
            while (end > start && end[-1] == ' ')
                end--;
            if ((size_t)(end - start) <= NAME_MAX_LENGTH) {
                memcpy (name, start, (size_t)(end - start));
                name[end - start] = 0;
            }
        }
        if (!s_name_valid (name, NAME_MAX_LENGTH, "_")) {
            snprintf (context->reason, context->size,
                      "the template %s has a malformed placeholder near \"%.20s\" (use {{name}} "
                      "with a-z, 0-9 and _)",
                      context->file, open);
            goto done;
        }
        const char *value = s_value (context, name);
        if (!value)
            goto done;
        zchunk_extend (out, value, strlen (value));
        cursor = close + 2;
    }
    result = strndup ((const char *)zchunk_data (out), zchunk_size (out));
    assert (result);
done:
    zchunk_destroy (&out);
    return result;
}

//  Drops, in place, every line that starts with {{?name}} when the notice's
//  variable name is absent or empty, and the marker from the lines it keeps.
//  Returns 0, or -1 with a reason if a marker is malformed.
static int
s_conditional_lines (context_t *context, char *text)
{
    char *out = text;
    for (char *line = text; *line;) {
        char *end = strchr (line, '\n');
        size_t length = end ? (size_t)(end - line) + 1 : strlen (line);
        if (strncmp (line, "{{?", 3) == 0) {
            char *close = strstr (line + 3, "}}");
            char name[NAME_MAX_LENGTH + 1] = "";
            if (close && (!end || close < end) && (size_t)(close - line - 3) <= NAME_MAX_LENGTH) {
                memcpy (name, line + 3, (size_t)(close - line - 3));
                name[close - line - 3] = 0;
            }
            if (!s_name_valid (name, NAME_MAX_LENGTH, "_")) {
                snprintf (context->reason, context->size,
                          "the template %s has a malformed condition near \"%.20s\" (a line "
                          "may start with {{?name}}, a-z, 0-9 and _)",
                          context->file, line);
                return -1;
            }
            json_t *value = json_object_get (context->request->variables, name);
            bool keep = json_is_string (value) && json_string_length (value) > 0;
            size_t marker = (size_t)(close + 2 - line);
            if (keep) {
                memmove (out, line + marker, length - marker);
                out += length - marker;
            }
        } else {
            memmove (out, line, length);
            out += length;
        }
        line += length;
    }
    *out = 0;
    return 0;
}

//  --------------------------------------------------------------------------
//  The template

static void
s_context_clean (context_t *context)
{
    free (context->list);
}

int
notifier_template_render (const notifier_template_config_t *config,
                          const notifier_template_request_t *request, char **subject_p,
                          char **body_p, char *reason, size_t size)
{
    assert (config && request && subject_p && body_p && reason);
    *subject_p = *body_p = NULL;
    char file[160];
    //  (the list, if one was made, is freed whichever way this returns)
    __attribute__ ((cleanup (s_context_clean)))
    context_t context = {config, request, file, "", reason, size, NULL};
    //  The names come checked by the schema; check again, they make a path
    if (!request->name || !s_name_valid (request->name, NAME_MAX_LENGTH, "-") ||
        !request->language || !s_name_valid (request->language, 8, "")) {
        snprintf (reason, size, "the template name or language is malformed");
        return -1;
    }
    snprintf (file, sizeof (file), "%s/%s.txt", request->language, request->name);
    char *path = zsys_sprintf ("%s/%s", config->folder, file);
    char *text = s_read (path, &context);
    zstr_free (&path);
    if (!text)
        return -1;

    //  "Subject: ...", a blank line, the body
    char *newline = strchr (text, '\n');
    if (strncmp (text, "Subject:", 8) != 0 || !newline || newline[1] != '\n') {
        snprintf (reason, size,
                  "the template %s is malformed: its first line must be \"Subject: ...\", "
                  "followed by a blank line and the text",
                  file);
        free (text);
        return -1;
    }
    *newline = 0;
    if (s_conditional_lines (&context, newline + 2) != 0) {
        free (text);
        return -1;
    }
    char *subject = s_expand (&context, text + 8 + strspn (text + 8, " \t"));
    char *body = subject ? s_expand (&context, newline + 2) : NULL;
    free (text);
    if (!body) {
        free (subject);
        return -1;
    }
    //  The subject must say something once its spaces are gone
    if (strspn (subject, " \t\n") == strlen (subject)) {
        snprintf (reason, size, "the template %s makes an empty subject", file);
        free (subject);
        free (body);
        return -1;
    }
    *subject_p = subject;
    *body_p = body;
    return 0;
}

//  --------------------------------------------------------------------------
//  What each notice carries, for the check at start

//  Every placeholder a notice of every kind can fill
static const char *s_common_placeholders[] = {
    "recipient_name", "office_contact", "event_title", "session_title", "room",
    "place",          "date",           "start_time",  "end_time",      NULL};

//  The placeholders each kind of notice adds, as the registry sends them
static const struct {
    const char *name;
    const char *placeholders[10];
} s_notices[] = {
    {"registration-confirmed", {"cancel_url", "code", NULL}},
    {"registration-waitlisted", {"leave_url", "position", NULL}},
    {"registration-promoted", {"cancel_url", "code", NULL}},
    {"registration-offered", {"accept_url", "decline_url", "offer_date", "offer_time", NULL}},
    {"offer-expired", {"offer_date", "offer_time", NULL}},
    {"capacity-alert",
     {"taken", "capacity", "waiting", "limit", "eighty", "full", "long_waitlist", NULL}},
    {"registration-cancelled", {"reason", NULL}},
    {"registration-cancelled-by-office", {"reason", NULL}},
    {"registration-left", {"reason", NULL}},
    {"registrations-made", {"session_list", "some_waitlisted", NULL}},
    {"session-moved",
     {"old_date", "old_start_time", "old_end_time", "old_room", "old_place", "position",
      "cancel_url", "leave_url", NULL}},
    {"session-cancelled", {"reason", NULL}},
    {"event-cancelled", {"session_list", "reason", NULL}},
    {"session-reminder", {"single", "several", "session_list", "code", "cancel_url", NULL}},
    {NULL, {NULL}}};

static bool
s_listed (const char *const *names, const char *name)
{
    for (; *names; names++)
        if (streq (*names, name))
            return true;
    return false;
}

int
notifier_template_check (const notifier_template_config_t *config)
{
    int problems = 0;
    const char *languages[] = {"de", "en"};
    for (int language = 0; language < 2; language++)
        for (int kind = 0; s_notices[kind].name; kind++) {
            char file[160], reason[512];
            snprintf (file, sizeof (file), "%s/%s.txt", languages[language], s_notices[kind].name);
            context_t context = {config, NULL, file, "", reason, sizeof (reason), NULL};
            char *path = zsys_sprintf ("%s/%s", config->folder, file);
            char *text = s_read (path, &context);
            zstr_free (&path);
            if (!text) {
                schalt_log_error ("notifier: %s", reason);
                problems++;
                continue;
            }
            //  Every {{name}} and {{?name}} must be one its notices carry
            for (const char *open = strstr (text, "{{"); open; open = strstr (open + 2, "{{")) {
                const char *start = open + 2 + (open[2] == '?');
                const char *close = strstr (start, "}}");
                char name[NAME_MAX_LENGTH + 1] = "";
                if (close && (size_t)(close - start) <= NAME_MAX_LENGTH) {
                    memcpy (name, start, (size_t)(close - start));
                    name[close - start] = 0;
                }
                //  (spaces around a name are allowed, as in rendering)
                char *trimmed = name + strspn (name, " ");
                for (char *end = trimmed + strlen (trimmed); end > trimmed && end[-1] == ' ';)
                    *--end = 0;
                if (!s_listed (s_common_placeholders, trimmed) &&
                    !s_listed (s_notices[kind].placeholders, trimmed)) {
                    schalt_log_error ("notifier: the template %s/%s uses {{%.64s}}, which its "
                                      "notices never carry (see templates/README.md)",
                                      config->folder, file, trimmed);
                    problems++;
                }
            }
            free (text);
        }
    return problems;
}

//  --------------------------------------------------------------------------
//  Self test

#ifndef SCHALT_TEMPLATE_DIR
#define SCHALT_TEMPLATE_DIR "templates"
#endif

//  Renders name/language with the variables (JSON); returns 0 or -1.
static int
s_test_render (const notifier_template_config_t *config, const char *name, const char *language,
               const char *variables, char **subject, char **body, char *reason)
{
    json_t *object = json_loads (variables, 0, NULL);
    assert (object);
    notifier_template_request_t request = {name, language, "Anna Muster", object};
    int rc = notifier_template_render (config, &request, subject, body, reason, 256);
    json_decref (object);
    return rc;
}

void
notifier_template_test (bool verbose)
{
    printf (" * notifier_template: ");
    if (verbose)
        printf ("\n");
    const char *facts =
        "{\"event_title\":\"Tag der Bildung 2027\",\"session_title\":\"Übergang Kita – "
        "Grundschule\",\"room\":\"A101\",\"place\":\"Gymnasium Pulheim, Hauptstraße 1\","
        "\"start\":\"2027-03-13T09:00:00Z\",\"end\":\"2027-03-13T10:30:00Z\",\"position\":\"3\","
        "\"cancel_url\":\"http://127.0.0.1:8080/registration/cancel?token=t\","
        "\"leave_url\":\"http://127.0.0.1:8080/registration/decline?token=t\","
        "\"reason\":\"\"}";
    notifier_template_config_t config = {SCHALT_TEMPLATE_DIR, "Europe/Berlin",
                                         "Bildungsbüro, Tel. 02238 808-0"};
    char *subject, *body, reason[256];

    //  The shipped templates, in both languages: local date and times
    assert (s_test_render (&config, "registration-confirmed", "de", facts, &subject, &body,
                           reason) == 0);
    if (verbose)
        printf ("%s\n%s\n", subject, body);
    assert (strstr (subject, "Samstag, 13. März 2027"));
    assert (strstr (body, "Anna Muster"));
    assert (strstr (body, "Übergang Kita – Grundschule"));
    assert (strstr (body, "Tag der Bildung 2027"));
    assert (strstr (body, "A101"));
    assert (strstr (body, "Gymnasium Pulheim, Hauptstraße 1"));
    assert (strstr (body, "10:00") && strstr (body, "11:30"));
    assert (strstr (body, "Bildungsbüro, Tel. 02238 808-0"));
    assert (!strstr (body, "{{") && !strstr (subject, "{{"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "registration-waitlisted", "de", facts, &subject, &body,
                           reason) == 0);
    assert (strstr (body, "3") && strstr (body, "Warteliste"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "registration-confirmed", "en", facts, &subject, &body,
                           reason) == 0);
    assert (strstr (subject, "Saturday, 13 March 2027"));
    assert (strstr (body, "10:00"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "registration-waitlisted", "en", facts, &subject, &body,
                           reason) == 0);
    free (subject);
    free (body);
    //  Summer time: 16:00Z is 18:00 in Berlin in July
    assert (s_test_render (&config, "registration-confirmed", "de",
                           "{\"event_title\":\"e\",\"session_title\":\"s\",\"room\":\"r\","
                           "\"place\":\"p\",\"start\":\"2027-07-06T16:00:00Z\","
                           "\"end\":\"2027-07-06T17:00:00+00:00\",\"cancel_url\":\"u\"}",
                           &subject, &body, reason) == 0);
    assert (strstr (subject, "Dienstag, 6. Juli 2027"));
    assert (strstr (body, "18:00") && strstr (body, "19:00"));
    free (subject);
    free (body);

    //  Failures, each with a reason naming what to fix
    assert (s_test_render (&config, "registration-confirmed", "de", "{\"start\":\"x\"}", &subject,
                           &body, reason) == -1);
    assert (subject == NULL && body == NULL);
    assert (strstr (reason, "no variable"));
    assert (s_test_render (&config, "no-such-template", "de", facts, &subject, &body, reason) ==
            -1);
    assert (strstr (reason, "there is no template de/no-such-template.txt"));
    assert (s_test_render (&config, "registration-confirmed", "fr", facts, &subject, &body,
                           reason) == -1);
    assert (s_test_render (&config, "../etc/passwd", "de", facts, &subject, &body, reason) == -1);
    assert (strstr (reason, "malformed"));

    //  Templates of our own: placeholders with spaces, bad files
    char *dir = schalt_test_tempdir ("notifier-template");
    config.folder = dir;
    schalt_test_write (dir, "de/t.txt",
                       "Subject: Hallo {{ recipient_name }}\r\n\r\nText {{room}}\r\n");
    assert (s_test_render (&config, "t", "de", "{\"room\":\"B2\"}", &subject, &body, reason) == 0);
    assert (streq (subject, "Hallo Anna Muster"));
    assert (streq (body, "Text B2\n"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "t", "de", "{}", &subject, &body, reason) == -1);
    assert (strstr (reason, "uses {{room}}, but the notice has no variable room"));
    assert (s_test_render (&config, "t", "de", "{\"room\":3}", &subject, &body, reason) == -1);
    schalt_test_write (dir, "de/bad.txt", "Betreff: x\n\nText\n");
    assert (s_test_render (&config, "bad", "de", "{}", &subject, &body, reason) == -1);
    assert (strstr (reason, "first line must be"));
    schalt_test_write (dir, "de/bad.txt", "Subject: x {{Room}}\n\nText\n");
    assert (s_test_render (&config, "bad", "de", "{}", &subject, &body, reason) == -1);
    assert (strstr (reason, "malformed placeholder"));
    schalt_test_write (dir, "de/bad.txt", "Subject: x\n\nText \x01\n");
    assert (s_test_render (&config, "bad", "de", "{}", &subject, &body, reason) == -1);
    assert (strstr (reason, "not UTF-8"));
    schalt_test_write (dir, "de/bad.txt", "Subject: \xC3\n\nText\n");
    assert (s_test_render (&config, "bad", "de", "{}", &subject, &body, reason) == -1);
    schalt_test_write (dir, "de/bad.txt", "Subject: {{position}}\n\nText\n");
    assert (s_test_render (&config, "bad", "de", "{\"position\":\" \"}", &subject, &body, reason) ==
            -1);
    assert (strstr (reason, "empty subject"));
    //  An unclosed {{ is malformed, a lone } is text
    schalt_test_write (dir, "de/bad.txt", "Subject: x {{room\n\nText }\n");
    assert (s_test_render (&config, "bad", "de", "{}", &subject, &body, reason) == -1);

    //  The times before a move, and a list of sessions
    schalt_test_write (dir, "de/moved.txt",
                       "Subject: x\n\nAlt: {{old_date}} {{old_start_time}}-{{old_end_time}}\n"
                       "Neu: {{date}} {{start_time}}\n{{session_list}}\n");
    const char *moved =
        "{\"start\":\"2027-03-13T12:00:00Z\",\"end\":\"2027-03-13T13:00:00Z\","
        "\"old_start\":\"2027-03-13T09:00:00Z\",\"old_end\":\"2027-03-13T10:00:00Z\","
        "\"sessions\":[{\"title\":\"Eins\",\"room\":\"A1\",\"start\":\"2027-03-13T09:00:00Z\","
        "\"end\":\"2027-03-13T10:30:00Z\"},{\"title\":\"Zwei\",\"room\":\"B2\",\"start\":"
        "\"2027-07-06T16:00:00Z\",\"end\":\"2027-07-06T17:00:00Z\",\"status\":\"waitlisted\","
        "\"position\":\"4\"}]}";
    assert (s_test_render (&config, "moved", "de", moved, &subject, &body, reason) == 0);
    assert (streq (body, "Alt: Samstag, 13. März 2027 10:00-11:00\n"
                         "Neu: Samstag, 13. März 2027 13:00\n"
                         "  Samstag, 13. März 2027, 10:00–11:30 Uhr: Eins, Raum A1\n"
                         "  Dienstag, 6. Juli 2027, 18:00–19:00 Uhr: Zwei, Raum B2 "
                         "(Warteliste, Platz 4)\n"));
    free (subject);
    free (body);
    schalt_test_write (dir, "en/moved.txt", "Subject: x\n\n{{session_list}}");
    assert (s_test_render (&config, "moved", "en", moved, &subject, &body, reason) == 0);
    assert (strstr (body, "  Saturday, 13 March 2027, 10:00–11:30: Eins, room A1\n"));
    assert (strstr (body, "room B2 (waiting list, number 4)"));
    free (subject);
    free (body);
    //  With codes and links under the lines
    const char *linked =
        "{\"cancel_1\":\"http://x/registration/cancel?token=a\",\"leave_2\":"
        "\"http://x/registration/decline?token=b\",\"sessions\":[{\"title\":\"Eins\",\"room\":"
        "\"A1\",\"start\":\"2027-03-13T09:00:00Z\",\"end\":\"2027-03-13T10:30:00Z\",\"code\":"
        "\"ABC-DEF\",\"link\":\"cancel_1\"},{\"title\":\"Zwei\",\"room\":\"B2\",\"start\":"
        "\"2027-03-13T11:00:00Z\",\"end\":\"2027-03-13T12:00:00Z\",\"status\":\"waitlisted\","
        "\"position\":\"1\",\"link\":\"leave_2\"}]}";
    assert (s_test_render (&config, "moved", "en", linked, &subject, &body, reason) == 0);
    assert (streq (body, "  Saturday, 13 March 2027, 10:00–11:30: Eins, room A1\n"
                         "    Check-in code: ABC-DEF\n"
                         "    Cancel: http://x/registration/cancel?token=a\n"
                         "  Saturday, 13 March 2027, 12:00–13:00: Zwei, room B2 (waiting list, "
                         "number 1)\n"
                         "    Leave the waiting list: http://x/registration/decline?token=b"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "moved", "en",
                           "{\"sessions\":[{\"title\":\"t\",\"room\":\"r\",\"start\":"
                           "\"2027-03-13T11:00:00Z\",\"end\":\"2027-03-13T12:00:00Z\",\"link\":"
                           "\"nope\"}]}",
                           &subject, &body, reason) == -1);
    assert (strstr (reason, "names the link nope"));
    assert (s_test_render (&config, "moved", "en", moved, &subject, &body, reason) == 0);
    free (subject);
    free (body);
    assert (s_test_render (&config, "moved", "de", "{\"start\":\"2027-03-13T12:00:00Z\"}", &subject,
                           &body, reason) == -1);
    assert (strstr (reason, "no variable old_start"));
    assert (s_test_render (&config, "moved", "en", "{\"sessions\":[]}", &subject, &body, reason) ==
            -1);
    assert (strstr (reason, "lists no sessions"));
    assert (s_test_render (&config, "moved", "en",
                           "{\"sessions\":[{\"title\":\"t\",\"room\":\"r\",\"start\":\"x\"}]}",
                           &subject, &body, reason) == -1);
    assert (strstr (reason, "not an RFC 3339"));
    assert (s_test_render (&config, "moved", "en", "{\"sessions\":[{\"room\":\"r\"}]}", &subject,
                           &body, reason) == -1);
    assert (strstr (reason, "lacks its title"));

    //  Conditional lines: kept, without the marker, only if the variable is not empty
    schalt_test_write (dir, "de/if.txt",
                       "Subject: x\n\nA\n{{?reason}}Grund: {{reason}}\n{{?room}}Raum\nB");
    assert (s_test_render (&config, "if", "de", "{\"reason\":\"krank\"}", &subject, &body,
                           reason) == 0);
    assert (streq (body, "A\nGrund: krank\nB"));
    free (subject);
    free (body);
    assert (s_test_render (&config, "if", "de", "{\"reason\":\"\"}", &subject, &body, reason) == 0);
    assert (streq (body, "A\nB"));
    free (subject);
    free (body);
    schalt_test_write (dir, "de/if.txt", "Subject: x\n\n{{?Reason}}x\n");
    assert (s_test_render (&config, "if", "de", "{}", &subject, &body, reason) == -1);
    assert (strstr (reason, "malformed condition"));
    schalt_test_write (dir, "de/if.txt", "Subject: x\n\n{{?reason\n}}\n");
    assert (s_test_render (&config, "if", "de", "{}", &subject, &body, reason) == -1);
    //  The check at start: the shipped templates are whole; a typo is named
    config.folder = SCHALT_TEMPLATE_DIR;
    assert (notifier_template_check (&config) == 0);
    config.folder = dir;
    schalt_test_write (dir, "de/registration-confirmed.txt",
                       "Subject: x {{ room_nr }}\n\n{{?cod}}\n");
    assert (notifier_template_check (&config) >= 3); //  the typo, the condition, missing files
    schalt_test_rmtree (dir);
    zstr_free (&dir);
    printf ("OK\n");
}
