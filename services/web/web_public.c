/*  web_public - the public pages of schalt-web: the catalogue of every
    upcoming offer (filtered by transition, provider and month), an event's
    page with its registration form (a Day of Education's as a grid of
    rooms and times), the page a registration ends on, and the privacy
    notice.

    A registration form is sent to the registry as it is: the registry
    decides, in one step, all or nothing (registration.create). The page
    checks what it can say better first (no session ticked, the privacy
    notice not accepted) and asks nothing then. A form the registry refused
    comes back filled in, with the reason in words and a new request id (the
    refused one would be answered with the same refusal); a form the
    registry did not answer comes back with the same id, so that sending it
    again books once.
*/
#include "web_internal.h"

#define SESSIONS_MAX 10 //  sessions one form may book (registration.create)

const char *web_topics[] = {"familie-kita", "kita-grundschule", "grundschule-sek1",
                            "schule-beruf", "aelter-werden",    NULL};

//  --------------------------------------------------------------------------
//  Helpers

static const char *
s_string (json_t *object, const char *name)
{
    return json_string_value (json_object_get (object, name));
}

//  A placeholder's query argument, or NULL.
static const char *
s_argument (web_request_t *request, const char *name)
{
    const char *value =
        MHD_lookup_connection_value (request->connection, MHD_GET_ARGUMENT_KIND, name);
    return value && *value ? value : NULL;
}

//  The labels of a session's topics, as a list of strings.
static json_t *
s_topic_labels (web_t *self, int language, json_t *topics)
{
    json_t *labels = json_array ();
    size_t index;
    json_t *topic;
    json_array_foreach (topics, index, topic)
    {
        char name[64];
        snprintf (name, sizeof (name), "topic_%s", json_string_value (topic));
        const char *label = web_text (self, language, name);
        json_array_append_new (labels, json_string (label ? label : json_string_value (topic)));
    }
    return labels;
}

//  A session as a row of the catalogue or an event's form: its times in the
//  installation's zone, topics and seats left (seats: session.seats's
//  reply, or NULL: then its capacity), and checked if ticked is in the
//  form.
static json_t *
s_session_row (web_t *self, int language, json_t *session, json_t *seats, web_form_t *ticked)
{
    char date[16], start[8], end_date[16], end[8];
    web_local (self, s_string (session, "start"), language, date, start);
    web_local (self, s_string (session, "end"), language, end_date, end);
    const char *id = s_string (session, "id");
    json_t *row = json_pack ("{s:s, s:O, s:O, s:s, s:s, s:s, s:O, s:o}", "id", id, "title",
                             json_object_get (session, "title"), "room",
                             json_object_get (session, "room"), "date", date, "start", start, "end",
                             end, "capacity", json_object_get (session, "capacity"), "topics",
                             s_topic_labels (self, language, json_object_get (session, "topics")));
    assert (row);
    bool known = false;
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (seats, "sessions"), index, entry)
    {
        const char *other = s_string (entry, "id");
        if (other && streq (id, other)) {
            json_int_t free = json_integer_value (json_object_get (entry, "free"));
            json_object_set_new (row, "free", json_integer (free));
            json_object_set_new (row, "has_free", json_boolean (free > 0));
            json_object_set_new (row, "full", json_boolean (free <= 0));
            known = true;
        }
    }
    if (!known)
        json_object_set_new (row, "unknown", json_true ());
    for (size_t nth = 0; ticked && web_form_value (ticked, "session", nth); nth++)
        if (streq (web_form_value (ticked, "session", nth), id))
            json_object_set_new (row, "checked", json_true ());
    return row;
}

//  --------------------------------------------------------------------------
//  The catalogue

bool
web_topic_known (const char *topic)
{
    for (int index = 0; web_topics[index]; index++)
        if (streq (topic, web_topics[index]))
            return true;
    return false;
}

json_t *
web_upcoming (web_t *self)
{
    char now[32];
    schalt_time_format_instant (schalt_clock_now (), now);
    json_t *query = json_pack ("{s:s}", "from", now);
    web_answer_t listed = web_ask (self, self->scheduler, "event.list", NULL, query);
    json_decref (query);
    if (listed.status != 200) {
        json_decref (listed.body);
        return NULL;
    }
    json_t *upcoming = json_array ();
    size_t index;
    json_t *event;
    json_array_foreach (json_object_get (listed.body, "events"), index, event)
    {
        json_t *ask = json_pack ("{s:O}", "event", json_object_get (event, "id"));
        web_answer_t sessions = web_ask (self, self->scheduler, "session.list", NULL, ask);
        json_decref (ask);
        if (sessions.status != 200) {
            json_decref (sessions.body);
            json_decref (upcoming);
            json_decref (listed.body);
            return NULL;
        }
        json_array_append_new (upcoming, json_pack ("{s:O, s:O}", "event", event, "sessions",
                                                    json_object_get (sessions.body, "sessions")));
        json_decref (sessions.body);
    }
    json_decref (listed.body);
    return upcoming;
}

//  "2027-03" of an instant in the installation's zone.
static void
s_month_of (web_t *self, const char *instant, char month[8])
{
    char date[16], clock[8];
    web_local (self, instant, 1, date, clock);
    snprintf (month, 8, "%.7s", date);
}

//  "März 2027" of "2027-03".
static json_t *
s_month_label (web_t *self, int language, const char *month)
{
    char name[16], label[64];
    snprintf (name, sizeof (name), "month_%d", atoi (month + 5));
    const char *word = web_text (self, language, name);
    snprintf (label, sizeof (label), "%s %.4s", word ? word : month + 5, month);
    return json_string (label);
}

//  Adds value to the list of options (each {value, label, selected}) unless
//  it is there; options stay in the order first seen.
static void
s_option (json_t *options, const char *value, json_t *label, const char *selected)
{
    size_t index;
    json_t *option;
    json_array_foreach (options, index, option) if (streq (s_string (option, "value"), value))
    {
        json_decref (label);
        return;
    }
    json_array_append_new (options, json_pack ("{s:s, s:o, s:b}", "value", value, "label", label,
                                               "selected", selected && streq (selected, value)));
}

enum MHD_Result
web_catalogue (web_t *self, web_request_t *request)
{
    int language = request->language;
    //  The filters: a transition, a provider, a month
    const char *topic = s_argument (request, "topic");
    const char *provider = s_argument (request, "provider");
    const char *month = s_argument (request, "month");
    if (topic && !web_topic_known (topic))
        return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_filter", "topic");
    if (provider && (!web_form_line_valid (provider) || strlen (provider) > 800))
        return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_filter", "provider");
    if (month && !(strlen (month) == 7 && isdigit ((unsigned char)month[0]) &&
                   isdigit ((unsigned char)month[1]) && isdigit ((unsigned char)month[2]) &&
                   isdigit ((unsigned char)month[3]) && month[4] == '-' && atoi (month + 5) >= 1 &&
                   atoi (month + 5) <= 12 && isdigit ((unsigned char)month[5]) &&
                   isdigit ((unsigned char)month[6])))
        return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_filter", "month");

    json_t *upcoming = web_upcoming (self);
    if (!upcoming)
        return web_unavailable (self, request);
    json_t *events = json_array ();
    json_t *topics = json_array (), *providers = json_array (), *months = json_array ();
    for (int index = 0; web_topics[index]; index++) {
        char name[64];
        snprintf (name, sizeof (name), "topic_%s", web_topics[index]);
        s_option (topics, web_topics[index], json_string (web_text (self, language, name)), topic);
    }
    size_t index;
    json_t *item;
    bool registry_down = false;
    json_array_foreach (upcoming, index, item)
    {
        json_t *event = json_object_get (item, "event");
        const char *id = s_string (event, "id");
        const char *offered_by = s_string (event, "provider");
        char event_month[8];
        s_month_of (self, s_string (event, "start"), event_month);
        if (offered_by)
            s_option (providers, offered_by, json_string (offered_by), provider);
        s_option (months, event_month, s_month_label (self, language, event_month), month);
        if ((provider && (!offered_by || !streq (provider, offered_by))) ||
            (month && !streq (month, event_month)))
            continue;
        //  Seats left, from the registry (the catalogue shows capacities without it)
        web_answer_t seats = web_seats (self, id, NULL, &registry_down);
        char date[16], clock[8];
        web_local (self, s_string (event, "start"), language, date, clock);
        json_t *rows = json_array ();
        size_t at;
        json_t *session;
        json_array_foreach (json_object_get (item, "sessions"), at, session)
        {
            bool about = !topic;
            size_t which;
            json_t *its;
            json_array_foreach (json_object_get (session, "topics"), which, its)
            {
                about = about || streq (json_string_value (its), topic);
            }
            if (about)
                json_array_append_new (rows, s_session_row (self, language, session,
                                                            seats.status == 200 ? seats.body : NULL,
                                                            NULL));
        }
        json_decref (seats.body);
        if (topic && json_array_size (rows) == 0) {
            json_decref (rows);
            continue;
        }
        json_t *shown =
            json_pack ("{s:s, s:O, s:O, s:s, s:o, s:b}", "id", id, "title",
                       json_object_get (event, "title"), "place", json_object_get (event, "place"),
                       "date", date, "sessions", rows, "has_sessions", json_array_size (rows) > 0);
        if (offered_by)
            json_object_set_new (shown, "provider", json_string (offered_by));
        json_array_append_new (events, shown);
    }
    json_decref (upcoming);
    json_t *context =
        json_pack ("{s:o, s:o, s:o, s:o, s:b}", "events", events, "topics", topics, "providers",
                   providers, "months", months, "filtered", topic || provider || month);
    enum MHD_Result rc = web_page (self, request, MHD_HTTP_OK, WEB_PAGE_CATALOGUE, context);
    json_decref (context);
    return rc;
}

//  --------------------------------------------------------------------------
//  An event's page and its form

//  What the form of an event's page needs beside its sessions: the fields
//  as sent (form, or NULL for an empty one), its hidden fields (request:
//  the id to keep, or NULL for a new one) and what is wrong (error, or
//  NULL), each a member of context.
static void
s_form_context (web_t *self, web_request_t *request, json_t *context, const char *keep,
                json_t *error)
{
    web_form_t *form = request->form;
    const char *names[] = {"name", "email", "institution", NULL};
    json_t *values = json_object ();
    for (const char **name = names; *name; name++) {
        const char *value = form ? web_form_value (form, *name, 0) : NULL;
        json_object_set_new (values, *name, json_string (value ? value : ""));
    }
    const char *language = form ? web_form_value (form, "language", 0) : NULL;
    bool english = language ? streq (language, "en") : request->language == 1;
    json_object_set_new (values, "language_de", json_boolean (!english));
    json_object_set_new (values, "language_en", json_boolean (english));
    json_object_set_new (context, "form", values);
    json_object_set_new (context, "privacy_version", json_string (self->privacy_version));
    web_form_fields (self, context, keep);
    if (error)
        json_object_set_new (context, "error", error);
}

static int
s_compare_strings (const void *one, const void *other)
{
    return strcmp (json_string_value (*(json_t *const *)one),
                   json_string_value (*(json_t *const *)other));
}

//  Sorts a list of strings in place (by their octets).
static void
s_sort_strings (json_t *list)
{
    size_t size = json_array_size (list);
    json_t **items = (json_t **)calloc (size ? size : 1, sizeof (json_t *));
    assert (items);
    for (size_t index = 0; index < size; index++)
        items[index] = json_incref (json_array_get (list, index));
    qsort (items, size, sizeof (json_t *), s_compare_strings);
    json_array_clear (list);
    for (size_t index = 0; index < size; index++)
        json_array_append_new (list, items[index]);
    free (items);
}

//  The page of an event: its sessions as a list, a Day of Education's as a
//  grid of rooms (columns) and times (rows), each with a box to tick.
static json_t *
s_event_context (web_t *self, web_request_t *request, json_t *event, json_t *sessions,
                 json_t *seats)
{
    int language = request->language;
    char date[16], clock[8], end_date[16], end_clock[8];
    web_local (self, s_string (event, "start"), language, date, clock);
    web_local (self, s_string (event, "end"), language, end_date, end_clock);
    json_t *shown = json_pack (
        "{s:O, s:O, s:O, s:s, s:s, s:s, s:s}", "id", json_object_get (event, "id"), "title",
        json_object_get (event, "title"), "place", json_object_get (event, "place"), "date", date,
        "start", clock, "end_date", end_date, "end", end_clock);
    assert (shown);
    const char *names[] = {"description", "provider", NULL};
    for (const char **name = names; *name; name++)
        if (s_string (event, *name) && *s_string (event, *name))
            json_object_set (shown, *name, json_object_get (event, *name));
    json_t *rows = json_array ();
    size_t index;
    json_t *session;
    json_array_foreach (json_object_get (sessions, "sessions"), index, session)
    {
        json_array_append_new (rows, s_session_row (self, language, session, seats, request->form));
    }
    json_t *context = json_pack ("{s:o, s:O, s:o, s:b}", "event", shown, "title",
                                 json_object_get (event, "title"), "sessions", rows, "has_sessions",
                                 json_array_size (rows) > 0);
    //  A Day of Education: rooms × times
    const char *kind = s_string (event, "kind");
    if (kind && streq (kind, "day-of-education") && json_array_size (rows) > 0) {
        json_t *rooms = json_array (), *slots = json_array ();
        json_array_foreach (rows, index, session)
        {
            bool seen = false;
            size_t at;
            json_t *room;
            json_array_foreach (rooms, at, room) seen =
                seen || json_equal (room, json_object_get (session, "room"));
            if (!seen)
                json_array_append (rooms, json_object_get (session, "room"));
            char slot[64];
            snprintf (slot, sizeof (slot), "%s, %s–%s", s_string (session, "date"),
                      s_string (session, "start"), s_string (session, "end"));
            seen = false;
            json_t *known;
            json_array_foreach (slots, at, known) seen =
                seen || streq (s_string (known, "time"), slot);
            if (!seen)
                json_array_append_new (slots, json_pack ("{s:s, s:[]}", "time", slot, "cells"));
        }
        //  Rooms in the order of their names (sessions at the same time come
        //  in no fixed order); slots in start order, as the sessions come
        s_sort_strings (rooms);
        json_t *slot;
        json_array_foreach (slots, index, slot)
        {
            size_t at;
            json_t *room;
            json_array_foreach (rooms, at, room)
            {
                json_t *found = NULL;
                size_t which;
                json_array_foreach (rows, which, session)
                {
                    char time[64];
                    snprintf (time, sizeof (time), "%s, %s–%s", s_string (session, "date"),
                              s_string (session, "start"), s_string (session, "end"));
                    if (!found && streq (time, s_string (slot, "time")) &&
                        json_equal (room, json_object_get (session, "room")))
                        found = session;
                }
                json_array_append_new (json_object_get (slot, "cells"),
                                       found ? json_pack ("{s:O}", "session", found)
                                             : json_pack ("{s:b}", "empty", 1));
            }
        }
        json_object_set_new (context, "grid",
                             json_pack ("{s:o, s:o}", "rooms", rooms, "slots", slots));
    }
    return context;
}

//  The session of id among the event's, as its row in context, or NULL.
static json_t *
s_row_of (json_t *context, const char *id)
{
    size_t index;
    json_t *row;
    json_array_foreach (json_object_get (context, "sessions"), index,
                        row) if (id && streq (s_string (row, "id"), id)) return row;
    return NULL;
}

//  What is wrong with a form, for its page: {text, [field]} with text the
//  words of the text named text, and field the label of the form's field.
static json_t *
s_error (web_t *self, int language, const char *text, const char *field)
{
    const char *words = web_text (self, language, text);
    json_t *error = json_pack ("{s:s}", "text", words ? words : text);
    if (field) {
        char name[64];
        snprintf (name, sizeof (name), "field_%s", field);
        const char *label = web_text (self, language, name);
        if (label)
            json_object_set_new (error, "field", json_string (label));
    }
    return error;
}

//  The registry's refusal in words: the overlap names both sessions;
//  anything else says what is wrong with which field.
static json_t *
s_refusal (web_t *self, int language, json_t *context, json_t *reply, json_t *asked)
{
    json_t *error = json_object_get (reply, "error");
    const char *code = s_string (error, "code");
    const char *field = s_string (error, "field");
    //  /session or /sessions/N: the session asked as N-th
    const char *session = NULL;
    if (field && streq (field, "/session"))
        session = json_string_value (json_array_get (asked, 0));
    else if (field && strncmp (field, "/sessions/", 10) == 0)
        session = json_string_value (json_array_get (asked, (size_t)atoi (field + 10)));
    if (code && streq (code, "sessions_overlap")) {
        json_t *first = s_row_of (context, session);
        const char *conflict = s_string (error, "conflict");
        json_t *second = s_row_of (context, conflict);
        bool held = true;
        for (size_t index = 0; index < json_array_size (asked); index++)
            held = held && !(conflict &&
                             streq (conflict, json_string_value (json_array_get (asked, index))));
        json_t *shown =
            s_error (self, language, held ? "error_overlap_held" : "error_overlap", NULL);
        if (first && second) {
            json_object_set_new (
                shown, "overlap",
                json_pack ("{s:O, s:O, s:b}", "first", first, "second", second, "held", held));
        }
        return shown;
    }
    char text[64];
    snprintf (text, sizeof (text), "error_%s", code ? code : "");
    json_t *shown = s_error (self, language, web_text (self, language, text) ? text : "error_other",
                             field && field[0] == '/' && !session ? field + 1 : NULL);
    json_t *row = s_row_of (context, session);
    if (row)
        json_object_set (shown, "session", row);
    return shown;
}

//  Checks the form's fields before anything is asked; NULL if they are
//  fine, else what is wrong (s_error).
static json_t *
s_check_form (web_t *self, web_request_t *request, json_t *context, json_t *asked)
{
    web_form_t *form = request->form;
    int language = request->language;
    size_t ticked = web_form_count (form, "session");
    if (ticked == 0)
        return s_error (self, language, "error_no_session", NULL);
    if (ticked > SESSIONS_MAX)
        return s_error (self, language, "error_too_many", NULL);
    for (size_t nth = 0; nth < ticked; nth++) {
        const char *id = web_form_value (form, "session", nth);
        if (!s_row_of (context, id))
            return s_error (self, language, "error_not_found", NULL);
        for (size_t other = 0; other < nth; other++)
            if (streq (id, web_form_value (form, "session", other)))
                return s_error (self, language, "error_twice", NULL);
        json_array_append_new (asked, json_string (id));
    }
    const char *name = web_form_value (form, "name", 0);
    if (!name || !*name || web_form_characters (name) > 200)
        return s_error (self, language, "error_name", "name");
    const char *email = web_form_value (form, "email", 0);
    if (!email || !*email || strlen (email) > 254 || !strchr (email, '@'))
        return s_error (self, language, "error_email", "email");
    const char *institution = web_form_value (form, "institution", 0);
    if (institution && web_form_characters (institution) > 200)
        return s_error (self, language, "error_institution", "institution");
    const char *wanted = web_form_value (form, "language", 0);
    if (wanted && !streq (wanted, "de") && !streq (wanted, "en"))
        return s_error (self, language, "error_language", "language");
    const char *privacy = web_form_value (form, "privacy", 0);
    if (!privacy || !streq (privacy, self->privacy_version))
        return s_error (self, language, "error_privacy", "privacy");
    return NULL;
}

//  The page after a registration: each session asked, confirmed (with its
//  check-in code) or waitlisted (with its place).
static enum MHD_Result
s_registered (web_t *self, web_request_t *request, json_t *context, web_answer_t *answer)
{
    json_t *made = json_object_get (answer->body, "registrations");
    json_t *one = json_object_get (answer->body, "registration");
    json_t *list = made ? json_incref (made) : json_pack ("[O]", one);
    json_t *rows = json_array ();
    size_t index;
    json_t *registration;
    json_array_foreach (list, index, registration)
    {
        json_t *row = s_row_of (context, s_string (registration, "session"));
        const char *status = s_string (registration, "status");
        json_t *shown = json_pack ("{s:O, s:b, s:b}", "session", row ? row : json_null (),
                                   "confirmed", status && streq (status, "confirmed"), "waitlisted",
                                   status && streq (status, "waitlisted"));
        const char *names[] = {"position", "code", NULL};
        for (const char **name = names; *name; name++)
            if (json_object_get (registration, *name))
                json_object_set (shown, *name, json_object_get (registration, *name));
        json_array_append_new (rows, shown);
    }
    json_decref (list);
    json_t *page = json_pack (
        "{s:O, s:o, s:s, s:b}", "event", json_object_get (context, "event"), "registrations", rows,
        "email", web_form_value (request->form, "email", 0), "again", answer->status == 200);
    enum MHD_Result rc = web_page (self, request, MHD_HTTP_OK, WEB_PAGE_REGISTERED, page);
    json_decref (page);
    return rc;
}

//  A registration form sent: checked, then asked of the registry.
static enum MHD_Result
s_register (web_t *self, web_request_t *request, json_t *context)
{
    web_form_t *form = request->form;
    int checked = web_form_check (self, request);
    if (checked < 0)
        return MHD_YES;
    const char *request_id = web_form_value (form, "request", 0);
    json_t *asked = json_array ();
    json_t *error = checked == 1 ? s_error (self, request->language, "error_form_expired", NULL)
                                 : s_check_form (self, request, context, asked);
    unsigned int status = MHD_HTTP_BAD_REQUEST;
    //  (a form out of time gets new hidden fields; one not yet sent keeps them)
    const char *keep = checked == 1 ? NULL : request_id;
    if (!error) {
        json_t *body =
            json_pack ("{s:s, s:s, s:s, s:s}", "name", web_form_value (form, "name", 0), "email",
                       web_form_value (form, "email", 0), "language",
                       web_form_value (form, "language", 0) ? web_form_value (form, "language", 0)
                                                            : (request->language ? "en" : "de"),
                       "privacy", self->privacy_version);
        const char *institution = web_form_value (form, "institution", 0);
        if (institution && *institution)
            json_object_set_new (body, "institution", json_string (institution));
        if (json_array_size (asked) == 1)
            json_object_set (body, "session", json_array_get (asked, 0));
        else
            json_object_set (body, "sessions", asked);
        web_answer_t answer =
            web_ask (self, self->registry, "registration.create", request_id, body);
        json_decref (body);
        if (answer.status == 200 || answer.status == 201) {
            enum MHD_Result rc = s_registered (self, request, context, &answer);
            json_decref (answer.body);
            json_decref (asked);
            return rc;
        }
        if (answer.status == 0) {
            //  Not answered: the same request again when the visitor sends it again
            error = s_error (self, request->language, "error_unavailable", NULL);
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
        } else {
            error = s_refusal (self, request->language, context, answer.body, asked);
            status = (unsigned int)answer.status;
            keep = NULL;
            schalt_log_info ("web: registration refused request=%s status=%d code=%s", request_id,
                             answer.status,
                             s_string (json_object_get (answer.body, "error"), "code"));
        }
        json_decref (answer.body);
    }
    json_decref (asked);
    s_form_context (self, request, context, keep, error);
    return web_page (self, request, status, WEB_PAGE_EVENT, context);
}

enum MHD_Result
web_event (web_t *self, web_request_t *request, const char *id)
{
    web_answer_t event, sessions;
    web_event_facts (self, id, &event, &sessions);
    json_t *found = json_object_get (event.body, "event");
    const char *status = s_string (found, "status");
    if (event.status == 404 || (event.status == 200 && (!status || !streq (status, "scheduled")))) {
        json_decref (event.body);
        json_decref (sessions.body);
        return web_not_found (self, request);
    }
    if (event.status != 200) {
        json_decref (event.body);
        json_decref (sessions.body);
        return web_unavailable (self, request);
    }
    //  A form sent goes to the registry, which decides; the seats left are for
    //  the page a visitor chooses on (a refused form shows the capacities)
    bool registry_down = request->post;
    web_answer_t seats = web_seats (self, id, NULL, &registry_down);
    enum MHD_Result rc;
    if (sessions.status != 200)
        rc = web_unavailable (self, request);
    else {
        json_t *context = s_event_context (self, request, found, sessions.body,
                                           seats.status == 200 ? seats.body : NULL);
        if (request->post)
            rc = s_register (self, request, context);
        else {
            s_form_context (self, request, context, NULL, NULL);
            rc = web_page (self, request, MHD_HTTP_OK, WEB_PAGE_EVENT, context);
        }
        json_decref (context);
    }
    json_decref (event.body);
    json_decref (sessions.body);
    json_decref (seats.body);
    return rc;
}

enum MHD_Result
web_privacy (web_t *self, web_request_t *request)
{
    json_t *context = json_pack ("{s:s}", "privacy_version", self->privacy_version);
    enum MHD_Result rc = web_page (self, request, MHD_HTTP_OK, WEB_PAGE_PRIVACY, context);
    json_decref (context);
    return rc;
}
