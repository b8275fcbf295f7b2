/*  web_office - the dashboard's forms: what schalt does for events, sessions
    and registrations, as pages.

    /verwaltung/veranstaltung/neu                a new event
    /verwaltung/veranstaltung/<evt>/bearbeiten   change an event
    /verwaltung/veranstaltung/<evt>/absagen      cancel it (and its sessions)
    /verwaltung/veranstaltung/<evt>/neu          a new session of the event
    /verwaltung/angebot/<ses>/bearbeiten         change a session
    /verwaltung/angebot/<ses>/absagen            cancel it
    /verwaltung/angebot/<ses>/anmelden           register a person (by phone, say)

    Each form is a table of fields (s_field_t) that one piece renders
    (dashboard-form.html), reads and checks: a field that is missing, too
    long, not a time, a number or one of its choices comes back with the
    form, filled in as sent, naming the field, and nothing is asked. Times
    are typed in the installation's zone (datetime-local, or 13.03.2027
    10:00) and sent in UTC. A change sends only the fields that differ from
    what the daemon holds. The daemon decides the rest; what it refuses comes
    back the same way, with its reason in words and the field it names. A
    form that succeeds redirects (303) to the page of what it made or
    changed; sent twice, it is one request (its request id) and changes
    nothing twice.
*/
#include "web_internal.h"

typedef enum {
    FIELD_TEXT,
    FIELD_AREA,
    FIELD_EMAIL,
    FIELD_TIME,
    FIELD_NUMBER,
    FIELD_CHOICE,
    FIELD_TOPICS
} s_kind_t;

typedef struct {
    const char *name; //  the form's and the request's field
    s_kind_t kind;
    bool required;
    long max; //  characters of a text, or the largest number
    const char *label;
    const char *const *choices; //  FIELD_CHOICE's values, NULL-terminated
    const char *choice_text;    //  their labels' texts: choice_text + value
} s_field_t;

static const char *const s_kinds[] = {"day-of-education", "meeting", "counselling", "other", NULL};
static const char *const s_languages[] = {"de", "en", NULL};

static const s_field_t s_event_fields[] = {
    {"kind", FIELD_CHOICE, true, 0, "field_kind", s_kinds, "kind_"},
    {"title", FIELD_TEXT, true, 200, "field_title", NULL, NULL},
    {"place", FIELD_TEXT, true, 200, "place", NULL, NULL},
    {"start", FIELD_TIME, true, 0, "field_start", NULL, NULL},
    {"end", FIELD_TIME, true, 0, "field_end", NULL, NULL},
    {"provider", FIELD_TEXT, false, 200, "provider", NULL, NULL},
    {"description", FIELD_AREA, false, 4000, "field_description", NULL, NULL},
    {"organiser_name", FIELD_TEXT, false, 200, "field_organiser_name", NULL, NULL},
    {"organiser_email", FIELD_EMAIL, false, 254, "field_organiser_email", NULL, NULL},
    {NULL, 0, false, 0, NULL, NULL, NULL}};

//  What an existing event's form may change (its kind stays)
static const s_field_t *const s_event_change_fields = s_event_fields + 1;

static const s_field_t s_session_fields[] = {
    {"title", FIELD_TEXT, true, 200, "field_title", NULL, NULL},
    {"room", FIELD_TEXT, true, 60, "room", NULL, NULL},
    {"start", FIELD_TIME, true, 0, "field_start", NULL, NULL},
    {"end", FIELD_TIME, true, 0, "field_end", NULL, NULL},
    {"capacity", FIELD_NUMBER, true, 100000, "field_capacity", NULL, NULL},
    {"topics", FIELD_TOPICS, false, 0, "field_topic", NULL, NULL},
    {NULL, 0, false, 0, NULL, NULL, NULL}};

static const s_field_t s_cancel_fields[] = {
    {"reason", FIELD_TEXT, false, 500, "field_reason", NULL, NULL},
    {NULL, 0, false, 0, NULL, NULL, NULL}};

static const s_field_t s_register_fields[] = {
    {"name", FIELD_TEXT, true, 200, "field_name", NULL, NULL},
    {"email", FIELD_EMAIL, true, 254, "field_email", NULL, NULL},
    {"institution", FIELD_TEXT, false, 200, "field_institution", NULL, NULL},
    {"language", FIELD_CHOICE, true, 0, "field_language", s_languages, "language_"},
    {NULL, 0, false, 0, NULL, NULL, NULL}};

//  One form: its fields, what it sends to which daemon, and its words.
typedef struct {
    const s_field_t *fields;
    const char *command; //  "event.create"
    bool registry;       //  else the scheduler
    const char *heading; //  a text's name
    const char *button;
    const char *warning; //  a text's name, or NULL
    bool change;         //  sends only the fields that differ from the object's
} s_form_t;

static const s_form_t s_event_create = {s_event_fields,  "event.create", false, "office_event_new",
                                        "office_create", NULL,           false};
static const s_form_t s_event_update = {
    s_event_change_fields, "event.update", false, "office_event_change", "office_save", NULL, true};
static const s_form_t s_event_cancel = {s_cancel_fields,
                                        "event.cancel",
                                        false,
                                        "office_event_cancel",
                                        "office_cancel",
                                        "office_event_cancel_warning",
                                        false};
static const s_form_t s_session_create = {
    s_session_fields, "session.create", false, "office_session_new", "office_create", NULL, false};
static const s_form_t s_session_update = {
    s_session_fields, "session.update", false, "office_session_change", "office_save", NULL, true};
static const s_form_t s_session_cancel = {s_cancel_fields,
                                          "session.cancel",
                                          false,
                                          "office_session_cancel",
                                          "office_cancel",
                                          "office_session_cancel_warning",
                                          false};
static const s_form_t s_register = {
    s_register_fields,        "registration.create",  true, "office_register",
    "office_register_button", "office_register_note", false};

static const char *
s_string (json_t *object, const char *name)
{
    return json_string_value (json_object_get (object, name));
}

//  --------------------------------------------------------------------------
//  Between the form's text and the daemon's JSON

//  An instant as the form shows it: "2027-03-13T10:00" in the zone.
static void
s_local_input (web_t *self, const char *instant, char text[32])
{
    time_t utc;
    char local[32];
    text[0] = 0;
    if (instant && schalt_time_parse_instant (instant, &utc) == 0 &&
        schalt_time_format_local (utc, self->zone, local))
        snprintf (text, 32, "%.10sT%.5s", local, local + 11);
}

//  What the daemon holds (an event or a session) as the form's values.
static json_t *
s_values_of (web_t *self, const s_field_t *fields, json_t *object)
{
    json_t *values = json_object ();
    for (const s_field_t *field = fields; field->name; field++) {
        json_t *value = json_object_get (object, field->name);
        if (field->kind == FIELD_TIME) {
            char text[32];
            s_local_input (self, json_string_value (value), text);
            json_object_set_new (values, field->name, json_string (text));
        } else if (field->kind == FIELD_NUMBER && json_is_integer (value)) {
            char text[24];
            snprintf (text, sizeof (text), "%lld", (long long)json_integer_value (value));
            json_object_set_new (values, field->name, json_string (text));
        } else if (field->kind == FIELD_TOPICS && json_is_array (value))
            json_object_set (values, field->name, value);
        else if (json_is_string (value))
            json_object_set (values, field->name, value);
    }
    return values;
}

//  A typed time ("2027-03-13T10:00", "2027-03-13 10:00" or "13.03.2027
//  10:00") in the zone, as an RFC 3339 instant; false if it is none.
static bool
s_parse_time (web_t *self, const char *text, char instant[32])
{
    char iso[32];
    int day, month, year, hour, minute;
    char end;
    if (sscanf (text, "%2d.%2d.%4d %2d:%2d%c", &day, &month, &year, &hour, &minute, &end) == 5)
        snprintf (iso, sizeof (iso), "%04d-%02d-%02dT%02d:%02d", year, month, day, hour, minute);
    else if (strlen (text) == 16 && (text[10] == 'T' || text[10] == ' '))
        snprintf (iso, sizeof (iso), "%s", text);
    else
        return false;
    time_t utc;
    if (schalt_time_parse_local (iso, self->zone, &utc) != 0)
        return false;
    schalt_time_format_instant (utc, instant);
    return true;
}

//  Reads the form's fields into values (as typed) and body (for the
//  daemon). Returns NULL, or the first field at fault with the text that
//  says why in *why.
static const s_field_t *
s_read_fields (web_t *self, web_request_t *request, const s_field_t *fields, json_t *values,
               json_t *body, const char **why)
{
    const s_field_t *fault = NULL;
    for (const s_field_t *field = fields; field->name; field++) {
        const char *problem = NULL;
        if (field->kind == FIELD_TOPICS) {
            json_t *topics = json_array ();
            for (size_t nth = 0; nth < web_form_count (request->form, field->name); nth++) {
                const char *topic = web_form_value (request->form, field->name, nth);
                if (!web_topic_known (topic))
                    problem = "form_choice";
                else
                    json_array_append_new (topics, json_string (topic));
            }
            json_object_set (values, field->name, topics);
            json_object_set_new (body, field->name, topics);
        } else {
            const char *text = web_form_value (request->form, field->name, 0);
            text = text ? text : "";
            json_object_set_new (values, field->name, json_string (text));
            bool blank = strspn (text, " ") == strlen (text);
            char instant[32];
            long long number = 0;
            char *end = NULL;
            if (blank)
                problem = field->required ? "form_required" : NULL;
            else if ((field->kind == FIELD_TEXT || field->kind == FIELD_AREA ||
                      field->kind == FIELD_EMAIL) &&
                     web_form_characters (text) > (size_t)field->max)
                problem = "form_too_long";
            else if (field->kind == FIELD_EMAIL &&
                     (!strchr (text, '@') || strchr (text, ' ') || text[0] == '@'))
                problem = "form_email";
            else if (field->kind == FIELD_TIME && !s_parse_time (self, text, instant))
                problem = "form_time";
            else if (field->kind == FIELD_NUMBER &&
                     ((number = strtoll (text, &end, 10)) < 1 || number > field->max || *end ||
                      !isdigit ((unsigned char)text[0])))
                problem = "form_number";
            else if (field->kind == FIELD_CHOICE) {
                problem = "form_choice";
                for (const char *const *choice = field->choices; *choice; choice++)
                    if (streq (*choice, text))
                        problem = NULL;
            }
            if (!problem && !blank) {
                if (field->kind == FIELD_TIME)
                    json_object_set_new (body, field->name, json_string (instant));
                else if (field->kind == FIELD_NUMBER)
                    json_object_set_new (body, field->name, json_integer (number));
                else
                    json_object_set_new (body, field->name, json_string (text));
            }
        }
        if (problem && !fault) {
            fault = field;
            *why = problem;
        }
    }
    return fault;
}

//  --------------------------------------------------------------------------
//  The page

//  Renders the form with values; fault names the field at fault (or NULL)
//  and fault_words says why beside it; problem is the sentence above the
//  form (or NULL). request_id: the form's (NULL: a new one).
static enum MHD_Result
s_form_page (web_t *self, web_request_t *request, const web_login_t *login, unsigned int status,
             const s_form_t *form, const char *action, const char *about, json_t *values,
             const char *fault, const char *fault_words, const char *problem,
             const char *request_id)
{
    int language = request->language;
    json_t *fields = json_array ();
    for (const s_field_t *field = form->fields; field->name; field++) {
        json_t *value = json_object_get (values, field->name);
        json_t *shown = json_pack (
            "{s:s, s:s, s:b, s:b, s:s}", "name", field->name, "label",
            web_text (self, language, field->label) ? web_text (self, language, field->label)
                                                    : field->name,
            "required", field->required, "optional", !field->required, "value",
            json_is_string (value) ? json_string_value (value) : "");
        const char *type = field->kind == FIELD_EMAIL    ? "email"
                           : field->kind == FIELD_TIME   ? "datetime-local"
                           : field->kind == FIELD_NUMBER ? "number"
                                                         : "text";
        json_object_set_new (shown, "type", json_string (type));
        const char *flag = field->kind == FIELD_AREA     ? "area"
                           : field->kind == FIELD_CHOICE ? "choice"
                           : field->kind == FIELD_TOPICS ? "topics"
                                                         : "line";
        json_object_set_new (shown, flag, json_true ());
        if (field->kind == FIELD_CHOICE || field->kind == FIELD_TOPICS) {
            json_t *options = json_array ();
            const char *const *choices = field->kind == FIELD_TOPICS ? web_topics : field->choices;
            for (const char *const *choice = choices; *choice; choice++) {
                char name[64];
                snprintf (name, sizeof (name), "%s%s",
                          field->kind == FIELD_TOPICS ? "topic_" : field->choice_text, *choice);
                bool selected =
                    json_is_string (value) && streq (json_string_value (value), *choice);
                size_t index;
                json_t *item;
                json_array_foreach (value, index, item)
                {
                    selected = selected || streq (json_string_value (item), *choice);
                }
                json_array_append_new (options,
                                       json_pack ("{s:s, s:s, s:b}", "value", *choice, "label",
                                                  web_text (self, language, name)
                                                      ? web_text (self, language, name)
                                                      : *choice,
                                                  "selected", selected));
            }
            json_object_set_new (shown, "options", options);
        }
        if (fault && streq (fault, field->name))
            json_object_set_new (shown, "invalid", json_string (fault_words ? fault_words : ""));
        json_array_append_new (fields, shown);
    }
    json_t *context = json_pack ("{s:o, s:s, s:s, s:s}", "fields", fields, "action", action,
                                 "heading", web_text (self, language, form->heading), "button",
                                 web_text (self, language, form->button));
    json_object_set (context, "title", json_object_get (context, "heading"));
    if (about)
        json_object_set_new (context, "about", json_string (about));
    if (form->warning)
        json_object_set_new (context, "warning",
                             json_string (web_text (self, language, form->warning)));
    if (problem)
        json_object_set_new (context, "problem", json_pack ("{s:s}", "text", problem));
    web_form_fields (self, context, request_id);
    json_t *shown = json_object ();
    web_form_fields (self, shown, NULL);
    json_object_set_new (shown, "name", json_string (login->name));
    json_object_set_new (shown, "admin", json_boolean (streq (login->role, "admin")));
    json_object_set_new (context, "login", shown);
    enum MHD_Result rc = web_page (self, request, status, WEB_PAGE_OFFICE_FORM, context);
    json_decref (context);
    return rc;
}

//  What a form is for: the object it changes (NULL for a new one, then
//  parent is the event a session is made in), and where success leads.
typedef struct {
    const s_form_t *form;
    const char *action; //  the form's path
    const char *about;  //  a line that says what it is about, or NULL
    json_t *current;    //  the object as the daemon holds it (borrowed), or NULL
    const char *id;     //  its id (update, cancel), or NULL
    const char *parent; //  the field and id a new object belongs to, or NULL
    const char *parent_field;
    const char *next; //  where success leads; NULL: the new object's page
    json_t *event;    //  the event a new session is made in (borrowed), or NULL
} s_use_t;

//  The page a new or changed object is shown on.
static void
s_page_of (json_t *reply, char *location, size_t size)
{
    json_t *session = json_object_get (reply, "session");
    json_t *registration = json_object_get (reply, "registration");
    json_t *event = json_object_get (reply, "event");
    if (session)
        snprintf (location, size, "/verwaltung/angebot/%s", s_string (session, "id"));
    else if (registration)
        snprintf (location, size, "/verwaltung/angebot/%s", s_string (registration, "session"));
    else if (event)
        snprintf (location, size, "/verwaltung/veranstaltung/%s/neu", s_string (event, "id"));
    else
        snprintf (location, size, "/verwaltung");
}

static enum MHD_Result
s_use (web_t *self, web_request_t *request, const web_login_t *login, const s_use_t *use)
{
    const s_form_t *form = use->form;
    json_t *values = use->current ? s_values_of (self, form->fields, use->current) : json_object ();
    if (!use->current && form == &s_register)
        json_object_set_new (values, "language", json_string ("de"));
    if (!use->current && use->event) {
        //  A new session begins where its event does, until the organiser says otherwise
        char start[32], end[32];
        s_local_input (self, s_string (use->event, "start"), start);
        s_local_input (self, s_string (use->event, "end"), end);
        json_object_set_new (values, "start", json_string (start));
        json_object_set_new (values, "end", json_string (end));
    }
    if (!request->post) {
        enum MHD_Result rc = s_form_page (self, request, login, MHD_HTTP_OK, form, use->action,
                                          use->about, values, NULL, NULL, NULL, NULL);
        json_decref (values);
        return rc;
    }
    json_decref (values);
    int checked = web_form_check (self, request);
    if (checked < 0)
        return MHD_YES;
    values = json_object ();
    json_t *body = json_object ();
    const char *why = NULL;
    const s_field_t *fault = s_read_fields (self, request, form->fields, values, body, &why);
    const char *request_id = web_form_value (request->form, "request", 0);
    enum MHD_Result rc;
    if (fault || checked > 0) {
        rc = s_form_page (self, request, login, MHD_HTTP_BAD_REQUEST, form, use->action, use->about,
                          values, fault ? fault->name : NULL,
                          fault ? web_text (self, request->language, why) : NULL,
                          web_text (self, request->language,
                                    fault ? "office_form_problem" : "error_form_expired"),
                          checked > 0 ? NULL : request_id);
        json_decref (values);
        json_decref (body);
        return rc;
    }
    //  A change sends only what differs from what the daemon holds
    if (form->change) {
        for (const s_field_t *field = form->fields; field->name; field++) {
            json_t *sent = json_object_get (body, field->name);
            json_t *held = json_object_get (use->current, field->name);
            if (sent && held && json_equal (sent, held))
                json_object_del (body, field->name);
        }
    }
    if (use->id)
        json_object_set_new (body, "id", json_string (use->id));
    if (use->parent)
        json_object_set_new (body, use->parent_field, json_string (use->parent));
    char location[96];
    if (form->change && json_object_size (body) == 1) {
        //  Nothing changed: nothing to ask
        snprintf (location, sizeof (location), "%s", use->next ? use->next : "/verwaltung");
        json_decref (values);
        json_decref (body);
        return web_redirect (self, request, location);
    }
    web_answer_t answer = web_ask_for (self, form->registry ? self->registry : self->scheduler,
                                       form->command, request_id, body, login);
    json_decref (body);
    if (!answer.status) {
        json_decref (values);
        return web_unavailable (self, request);
    }
    if (answer.status >= 200 && answer.status < 300) {
        if (use->next)
            snprintf (location, sizeof (location), "%s", use->next);
        else
            s_page_of (answer.body, location, sizeof (location));
        schalt_log_info ("web: %s done by user=%s", form->command, login->name);
        json_decref (answer.body);
        json_decref (values);
        return web_redirect (self, request, location);
    }
    //  Refused: the reason in words, at the field it names; a new request id,
    //  since the refused one would be answered with the same refusal
    json_t *error = json_object_get (answer.body, "error");
    const char *field = s_string (error, "field");
    const char *named = NULL;
    for (const s_field_t *at = form->fields; field && at->name; at++)
        if (field[0] == '/' && strncmp (field + 1, at->name, strlen (at->name)) == 0)
            named = at->name;
    char name[64];
    snprintf (name, sizeof (name), "office_%s",
              s_string (error, "code") ? s_string (error, "code") : "other");
    const char *words = web_text (self, request->language, name);
    char *text = zsys_sprintf ("%s%s%s%s", words ? words : "", words ? " (" : "",
                               s_string (error, "message") ? s_string (error, "message") : "",
                               words ? ")" : "");
    rc = s_form_page (self, request, login, (unsigned int)answer.status, form, use->action,
                      use->about, values, named, words ? words : s_string (error, "message"), text,
                      NULL);
    zstr_free (&text);
    json_decref (values);
    json_decref (answer.body);
    return rc;
}

//  --------------------------------------------------------------------------
//  Routes

//  The object (event.get or session.get) of id: 200 with its body, else the
//  status (0: no answer).
static web_answer_t
s_held (web_t *self, const char *command, const char *id, const web_login_t *login)
{
    json_t *ask = json_pack ("{s:s}", "id", id);
    web_answer_t answer = web_ask_for (self, self->scheduler, command, NULL, ask, login);
    json_decref (ask);
    return answer;
}

enum MHD_Result
web_office (web_t *self, web_request_t *request, const web_login_t *login, const char *path)
{
    if (streq (path, "/veranstaltung/neu")) {
        s_use_t use = {&s_event_create,
                       "/verwaltung/veranstaltung/neu",
                       NULL,
                       NULL,
                       NULL,
                       NULL,
                       NULL,
                       NULL,
                       NULL};
        return s_use (self, request, login, &use);
    }
    //  /veranstaltung/<evt>/<what> and /angebot/<ses>/<what>
    bool event = strncmp (path, "/veranstaltung/", 15) == 0;
    bool session = strncmp (path, "/angebot/", 9) == 0;
    const char *rest = path + (event ? 15 : 9);
    const char *slash = strchr (rest, '/');
    char id[40];
    if (!(event || session) || !slash || slash - rest >= (long)sizeof (id))
        return web_not_found (self, request);
    snprintf (id, sizeof (id), "%.*s", (int)(slash - rest), rest);
    const char *what = slash + 1;
    if (event ? !schalt_id_valid ("evt", id) : !web_event_id_valid ("ses", id))
        return web_not_found (self, request);
    web_answer_t held = s_held (self, event ? "event.get" : "session.get", id, login);
    if (held.status != 200) {
        json_decref (held.body);
        return held.status == 404 ? web_not_found (self, request)
               : held.status ? web_refuse (self, request, MHD_HTTP_FORBIDDEN, "refused_form", NULL)
                             : web_unavailable (self, request);
    }
    json_t *object = json_object_get (held.body, event ? "event" : "session");
    char action[128], next[96], about[512];
    snprintf (action, sizeof (action), "/verwaltung%s", path);
    char date[16], start[8], end_date[16], end[8];
    web_local (self, s_string (object, "start"), request->language, date, start);
    web_local (self, s_string (object, "end"), request->language, end_date, end);
    snprintf (about, sizeof (about), "%s, %s, %s–%s", s_string (object, "title"), date, start, end);
    s_use_t use = {NULL, action, about, object, id, NULL, NULL, NULL, NULL};
    if (event && streq (what, "neu")) {
        use.form = &s_session_create;
        use.event = object;
        use.current = NULL;
        use.id = NULL;
        use.parent = id;
        use.parent_field = "event";
    } else if (event && streq (what, "bearbeiten"))
        use.form = &s_event_update;
    else if (event && streq (what, "absagen")) {
        use.form = &s_event_cancel;
        use.next = "/verwaltung";
    } else if (session && streq (what, "bearbeiten")) {
        use.form = &s_session_update;
        snprintf (next, sizeof (next), "/verwaltung/angebot/%s", id);
        use.next = next;
    } else if (session && streq (what, "absagen")) {
        use.form = &s_session_cancel;
        use.next = "/verwaltung";
    } else if (session && streq (what, "anmelden")) {
        use.form = &s_register;
        use.current = NULL;
        use.id = NULL;
        use.parent = id;
        use.parent_field = "session";
    }
    enum MHD_Result rc =
        use.form ? s_use (self, request, login, &use) : web_not_found (self, request);
    json_decref (held.body);
    return rc;
}
