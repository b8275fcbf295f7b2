/*  web_dashboard - the organisers' dashboard, every page under /verwaltung.

    /verwaltung/anmelden       the login (an account of schalt user add); a
                               password is checked here against its Argon2id
                               hash (user.credentials), and the outcome goes to
                               login.open, which counts failures and locks a
                               name after ten within 15 minutes
    /verwaltung/abmelden       logging out (POST)
    /verwaltung                every upcoming event with each session's fill
                               level: seats taken of its capacity, and its
                               waitlist
    /verwaltung/angebot/<ses>  a session's registrations and waitlist, each
                               with a cancel button; .csv the same as a
                               spreadsheet
    /verwaltung/einlass/<ses>  the check-in page for the door: search by name
                               or check-in code, one button marks present
    /verwaltung/live           the fill levels as they change (web_live.c)
    /verwaltung/mitteilungen   the e-mails and how their delivery went,
                               failed and deferred ones first
    /verwaltung/veranstaltung/..., /verwaltung/angebot/<ses>/...
                               the forms for events, sessions and
                               registrations (web_office.c)

    A login is a cookie of 32 random octets (HttpOnly, SameSite=Strict, Path
    /verwaltung, Secure when web/base_url is https://); the web front's own
    service keeps only its SHA-256. Every request to the daemons goes on
    behalf of the logged-in organiser (the fifth frame), so the daemons
    check that person's role and write their name into the audit log. Every
    form carries its request id and signature (web_form_fields), so a form
    sent twice changes nothing twice.
*/
#include "web_internal.h"

#define LOGIN_COOKIE "schalt_login"
#define TOKEN_OCTETS 32

//  --------------------------------------------------------------------------
//  Logins

static const char *
s_string (json_t *object, const char *name)
{
    return json_string_value (json_object_get (object, name));
}

bool
web_event_id_valid (const char *kind, const char *id)
{
    char event[16];
    return id && strncmp (id, kind, 3) == 0 && schalt_id_event_of (id, event, sizeof (event));
}

//  The SHA-256 of a cookie's value, in hex.
static void
s_digest (const char *token, char digest[65])
{
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const uint8_t *)token, strlen (token));
    sodium_bin2hex (digest, 65, hash, sizeof (hash));
}

//  Who is logged in: 1 (login filled), 0 if no one, -1 if the web front's
//  own service did not answer.
static int
s_logged_in (web_t *self, web_request_t *request, web_login_t *login)
{
    const char *token =
        MHD_lookup_connection_value (request->connection, MHD_COOKIE_KIND, LOGIN_COOKIE);
    size_t length = token ? strlen (token) : 0;
    bool shaped =
        length ==
        sodium_base64_ENCODED_LEN (TOKEN_OCTETS, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
    for (size_t index = 0; shaped && index < length; index++)
        shaped =
            isalnum ((unsigned char)token[index]) || token[index] == '-' || token[index] == '_';
    if (!shaped)
        return 0;
    s_digest (token, login->digest);
    json_t *ask = json_pack ("{s:s}", "login", login->digest);
    web_answer_t answer = web_ask (self, self->own, "login.check", NULL, ask);
    json_decref (ask);
    int rc = answer.status == 200 ? 1 : answer.status ? 0 : -1;
    if (rc == 1) {
        snprintf (login->name, sizeof (login->name), "%s", s_string (answer.body, "name"));
        snprintf (login->role, sizeof (login->role), "%s", s_string (answer.body, "role"));
    }
    json_decref (answer.body);
    return rc;
}

//  The cookie that holds token (NULL: that clears it).
static char *
s_login_cookie (web_t *self, const char *token)
{
    return zsys_sprintf ("%s=%s; Path=/verwaltung; HttpOnly; SameSite=Strict%s%s", LOGIN_COOKIE,
                         token ? token : "", token ? "" : "; Max-Age=0",
                         self->secure ? "; Secure" : "");
}

//  A page of the dashboard: who is logged in, and the logout form's fields.
static enum MHD_Result
s_page (web_t *self, web_request_t *request, unsigned int status, web_page_t page, json_t *context,
        const web_login_t *login)
{
    json_t *logout = json_object ();
    web_form_fields (self, logout, NULL);
    json_object_set_new (logout, "name", json_string (login->name));
    json_object_set_new (logout, "admin", json_boolean (streq (login->role, "admin")));
    json_object_set_new (context, "login", logout);
    return web_page (self, request, status, page, context);
}

static enum MHD_Result
s_login_page (web_t *self, web_request_t *request, unsigned int status, const char *error,
              const char *name)
{
    json_t *context = json_object ();
    web_form_fields (self, context, NULL);
    if (error)
        json_object_set_new (
            context, "error",
            json_pack ("{s:s}", "text", web_text (self, request->language, error)));
    if (name)
        json_object_set_new (context, "name", json_string (name));
    enum MHD_Result rc = web_page (self, request, status, WEB_PAGE_LOGIN, context);
    json_decref (context);
    return rc;
}

//  An account's name as the accounts' schema has it.
static bool
s_name_valid (const char *name)
{
    size_t length = name ? strlen (name) : 0;
    bool valid = length >= 2 && length <= 32 && islower ((unsigned char)name[0]);
    for (size_t index = 0; valid && index < length; index++)
        valid = islower ((unsigned char)name[index]) || isdigit ((unsigned char)name[index]) ||
                strchr ("._-", name[index]);
    return valid;
}

//  POST /verwaltung/anmelden: name and password.
static enum MHD_Result
s_login (web_t *self, web_request_t *request)
{
    int checked = web_form_check (self, request);
    if (checked < 0)
        return MHD_YES;
    if (checked > 0)
        return s_login_page (self, request, MHD_HTTP_OK, "error_form_expired", NULL);
    const char *name = web_form_value (request->form, "name", 0);
    const char *password = web_form_value (request->form, "password", 0);
    if (!s_name_valid (name) || !password || !*password || strlen (password) > 1024)
        return s_login_page (self, request, MHD_HTTP_UNAUTHORIZED, "login_wrong",
                             s_name_valid (name) ? name : NULL);
    json_t *ask = json_pack ("{s:s}", "name", name);
    web_answer_t credentials = web_ask (self, self->own, "user.credentials", NULL, ask);
    json_decref (ask);
    if (credentials.status != 200 && credentials.status != 404) {
        json_decref (credentials.body);
        return web_unavailable (self, request);
    }
    if (json_is_true (json_object_get (credentials.body, "locked"))) {
        json_decref (credentials.body);
        return s_login_page (self, request, MHD_HTTP_FORBIDDEN, "login_locked", name);
    }
    //  An unknown name costs as much as a known one
    const char *hash = s_string (credentials.body, "hash");
    bool passed = crypto_pwhash_str_verify (hash ? hash : self->dummy_hash, password,
                                            strlen (password)) == 0 &&
                  hash;
    json_decref (credentials.body);
    uint8_t octets[TOKEN_OCTETS];
    randombytes_buf (octets, sizeof (octets));
    char token[sodium_base64_ENCODED_LEN (TOKEN_OCTETS, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64 (token, sizeof (token), octets, sizeof (octets),
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char digest[65];
    s_digest (token, digest);
    ask = json_pack ("{s:s, s:b, s:s}", "name", name, "passed", passed, "login", digest);
    web_answer_t opened = web_ask (self, self->own, "login.open", NULL, ask);
    json_decref (ask);
    int status = opened.status;
    json_decref (opened.body);
    if (status == 201) {
        schalt_log_info ("web: login user=%s", name);
        request->login_cookie = s_login_cookie (self, token);
        sodium_memzero (token, sizeof (token));
        return web_redirect (self, request, "/verwaltung");
    }
    sodium_memzero (token, sizeof (token));
    if (status == 423) {
        schalt_log_warning ("web: login locked user=%s", name);
        return s_login_page (self, request, MHD_HTTP_FORBIDDEN, "login_locked", name);
    }
    if (status == 401) {
        schalt_log_info ("web: login failed user=%s", name);
        return s_login_page (self, request, MHD_HTTP_UNAUTHORIZED, "login_wrong", name);
    }
    return web_unavailable (self, request);
}

//  POST /verwaltung/abmelden
static enum MHD_Result
s_logout (web_t *self, web_request_t *request, const web_login_t *login)
{
    if (web_form_check (self, request) < 0)
        return MHD_YES;
    json_t *ask = json_pack ("{s:s}", "login", login->digest);
    web_answer_t closed = web_ask (self, self->own, "login.close", NULL, ask);
    json_decref (ask);
    json_decref (closed.body);
    if (!closed.status)
        return web_unavailable (self, request);
    request->login_cookie = s_login_cookie (self, NULL);
    return web_redirect (self, request, "/verwaltung/anmelden");
}

//  --------------------------------------------------------------------------
//  The overview

//  A session's row: its times, and its fill level from seats (session.seats).
static json_t *
s_fill_row (web_t *self, int language, json_t *session, json_t *seats)
{
    char date[16], start[8], end_date[16], end[8];
    web_local (self, s_string (session, "start"), language, date, start);
    web_local (self, s_string (session, "end"), language, end_date, end);
    const char *id = s_string (session, "id");
    json_int_t capacity = json_integer_value (json_object_get (session, "capacity"));
    json_int_t taken = 0, waiting = 0;
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (seats, "sessions"), index, entry)
    {
        if (streq (s_string (entry, "id") ? s_string (entry, "id") : "", id)) {
            taken = json_integer_value (json_object_get (entry, "taken"));
            waiting = json_integer_value (json_object_get (entry, "waiting"));
        }
    }
    json_t *row = json_pack (
        "{s:s, s:O, s:O, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:b}", "id", id, "title",
        json_object_get (session, "title"), "room", json_object_get (session, "room"), "date", date,
        "start", start, "end", end, "capacity", capacity, "taken", taken, "waiting", waiting,
        "full", taken >= capacity, "cancelled", streq (s_string (session, "status"), "cancelled"));
    assert (row);
    return row;
}

static enum MHD_Result
s_overview (web_t *self, web_request_t *request, const web_login_t *login)
{
    json_t *upcoming = web_upcoming (self);
    if (!upcoming)
        return web_unavailable (self, request);
    json_t *events = json_array ();
    size_t index;
    json_t *item;
    bool registry_down = false;
    json_array_foreach (upcoming, index, item)
    {
        json_t *event = json_object_get (item, "event");
        web_answer_t seats = web_seats (self, s_string (event, "id"), login, &registry_down);
        json_t *rows = json_array ();
        size_t at;
        json_t *session;
        json_array_foreach (json_object_get (item, "sessions"), at, session)
        {
            json_array_append_new (rows, s_fill_row (self, request->language, session,
                                                     seats.status == 200 ? seats.body : NULL));
        }
        json_decref (seats.body);
        char date[16], clock[8];
        web_local (self, s_string (event, "start"), request->language, date, clock);
        json_array_append_new (events,
                               json_pack ("{s:O, s:O, s:s, s:O, s:o, s:b, s:b}", "id",
                                          json_object_get (event, "id"), "title",
                                          json_object_get (event, "title"), "date", date, "place",
                                          json_object_get (event, "place"), "sessions", rows,
                                          "has_sessions", json_array_size (rows) > 0, "cancelled",
                                          streq (s_string (event, "status"), "cancelled")));
    }
    json_decref (upcoming);
    json_t *context =
        json_pack ("{s:o, s:b}", "events", events, "no_events", json_array_size (events) == 0);
    enum MHD_Result rc = s_page (self, request, MHD_HTTP_OK, WEB_PAGE_DASHBOARD, context, login);
    json_decref (context);
    return rc;
}

//  --------------------------------------------------------------------------
//  A session's registrations

//  The session (scheduler's session.get) and its registrations (registry's
//  registration.list); both answered, or status says which did not (404: no
//  such session, 0: no answer).
typedef struct {
    int status;
    json_t *session;
    json_t *registrations;
} s_listing_t;

static s_listing_t
s_listing (web_t *self, const char *id, const web_login_t *login)
{
    s_listing_t listing = {0, NULL, NULL};
    json_t *ask = json_pack ("{s:s}", "id", id);
    web_answer_t session = web_ask_for (self, self->scheduler, "session.get", NULL, ask, login);
    json_decref (ask);
    if (session.status != 200) {
        listing.status = session.status;
        json_decref (session.body);
        return listing;
    }
    ask = json_pack ("{s:s}", "session", id);
    web_answer_t registrations =
        web_ask_for (self, self->registry, "registration.list", NULL, ask, login);
    json_decref (ask);
    listing.status = registrations.status;
    listing.session = json_incref (json_object_get (session.body, "session"));
    listing.registrations = registrations.body;
    json_decref (session.body);
    return listing;
}

static void
s_listing_free (s_listing_t *listing)
{
    json_decref (listing->session);
    json_decref (listing->registrations);
}

//  The lists of registration.list that hold a seat or a place, in order.
static const char *s_lists[3] = {"confirmed", "offered", "waitlist"};

//  One registration as a row: its state in words, its times in the zone.
static json_t *
s_person_row (web_t *self, int language, json_t *registration)
{
    json_t *row = json_deep_copy (registration);
    char date[16], clock[8], text[32];
    web_local (self, s_string (registration, "created"), language, date, clock);
    snprintf (text, sizeof (text), "%s %s", date, clock);
    json_object_set_new (row, "created_local", json_string (text));
    if (s_string (registration, "checked_in")) {
        web_local (self, s_string (registration, "checked_in"), language, date, clock);
        json_object_set_new (row, "checked_in_local", json_string (clock));
    }
    char name[40];
    snprintf (name, sizeof (name), "status_%s", s_string (registration, "status"));
    const char *words = web_text (self, language, name);
    json_object_set_new (row, "status_text",
                         json_string (words ? words : s_string (registration, "status")));
    return row;
}

//  What a session page shows: the session, its people, and a message.
static json_t *
s_session_context (web_t *self, web_request_t *request, s_listing_t *listing, const char *message,
                   bool problem)
{
    json_t *session = listing->session;
    char date[16], start[8], end_date[16], end[8];
    web_local (self, s_string (session, "start"), request->language, date, start);
    web_local (self, s_string (session, "end"), request->language, end_date, end);
    //  Those offered a seat hold it until they accept: listed before the waitlist
    json_t *people[2] = {json_array (), json_array ()};
    for (int which = 0; which < 3; which++) {
        size_t index;
        json_t *registration;
        json_array_foreach (json_object_get (listing->registrations, s_lists[which]), index,
                            registration)
        {
            json_t *row = s_person_row (self, request->language, registration);
            web_form_fields (self, row, NULL);
            json_array_append_new (people[which ? 1 : 0], row);
        }
    }
    size_t offered = json_array_size (json_object_get (listing->registrations, "offered"));
    json_t *context = json_pack (
        "{s:O, s:O, s:O, s:s, s:s, s:s, s:O, s:o, s:o, s:I, s:I}", "id",
        json_object_get (session, "id"), "title", json_object_get (session, "title"), "room",
        json_object_get (session, "room"), "date", date, "start", start, "end", end, "capacity",
        json_object_get (session, "capacity"), "confirmed", people[0], "waitlist", people[1],
        "taken", (json_int_t)(json_array_size (people[0]) + offered), "waiting",
        (json_int_t)(json_array_size (people[1]) - offered));
    assert (context);
    json_object_set_new (context, "title_page", json_copy (json_object_get (session, "title")));
    json_object_set (context, "title", json_object_get (session, "title"));
    if (message)
        json_object_set_new (context, problem ? "problem" : "notice",
                             json_pack ("{s:s}", "text", message));
    return context;
}

//  A daemon's refusal as a sentence of the page's language: the text for its
//  code if there is one (error_<code>), else the daemon's own message.
static const char *
s_refusal_text (web_t *self, int language, json_t *body)
{
    json_t *error = json_object_get (body, "error");
    char name[64];
    snprintf (name, sizeof (name), "office_%s",
              s_string (error, "code") ? s_string (error, "code") : "other");
    const char *words = web_text (self, language, name);
    if (words)
        return words;
    return s_string (error, "message") ? s_string (error, "message")
                                       : web_text (self, language, "office_other");
}

//  GET or POST /verwaltung/angebot/<ses>: POST cancels the registration the
//  form names.
static enum MHD_Result
s_session (web_t *self, web_request_t *request, const char *id, const web_login_t *login)
{
    const char *message = NULL;
    bool problem = false;
    if (request->post) {
        int checked = web_form_check (self, request);
        if (checked < 0)
            return MHD_YES;
        const char *registration = web_form_value (request->form, "registration", 0);
        if (checked > 0) {
            message = web_text (self, request->language, "error_form_expired");
            problem = true;
        } else if (!web_event_id_valid ("reg", registration))
            return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_field",
                               "registration");
        else {
            json_t *ask = json_pack ("{s:s, s:s}", "id", registration, "reason",
                                     web_text (self, request->language, "cancelled_by_office"));
            web_answer_t cancelled =
                web_ask_for (self, self->registry, "registration.cancel",
                             web_form_value (request->form, "request", 0), ask, login);
            json_decref (ask);
            if (!cancelled.status) {
                json_decref (cancelled.body);
                return web_unavailable (self, request);
            }
            if (cancelled.status == 200)
                message = web_text (self, request->language, "cancelled_done");
            else {
                message = s_refusal_text (self, request->language, cancelled.body);
                problem = true;
            }
            //  the text is the body's or the texts': keep the body until rendered
            s_listing_t listing = s_listing (self, id, login);
            enum MHD_Result rc;
            if (listing.status == 200) {
                json_t *context = s_session_context (self, request, &listing, message, problem);
                rc = s_page (self, request,
                             cancelled.status == 200 ? MHD_HTTP_OK : MHD_HTTP_CONFLICT,
                             WEB_PAGE_DASHBOARD_SESSION, context, login);
                json_decref (context);
            } else
                rc = listing.status == 404 ? web_not_found (self, request)
                                           : web_unavailable (self, request);
            s_listing_free (&listing);
            json_decref (cancelled.body);
            return rc;
        }
    }
    s_listing_t listing = s_listing (self, id, login);
    enum MHD_Result rc;
    if (listing.status == 200) {
        json_t *context = s_session_context (self, request, &listing, message, problem);
        rc = s_page (self, request, MHD_HTTP_OK, WEB_PAGE_DASHBOARD_SESSION, context, login);
        json_decref (context);
    } else
        rc =
            listing.status == 404 ? web_not_found (self, request) : web_unavailable (self, request);
    s_listing_free (&listing);
    return rc;
}

//  One CSV cell and its separator: quoted, a leading = + - @ (or a tab or
//  a carriage return) defused with ', so that a spreadsheet never runs it as
//  a formula.
static void
s_csv_cell (zchunk_t *csv, const char *text, bool last)
{
    text = text ? text : "";
    zchunk_extend (csv, "\"", 1);
    if (strchr ("=+-@\t\r", text[0]) && text[0])
        zchunk_extend (csv, "'", 1);
    for (const char *at = text; *at; at++) {
        if (*at == '"')
            zchunk_extend (csv, "\"", 1);
        zchunk_extend (csv, at, 1);
    }
    zchunk_extend (csv, last ? "\"\r\n" : "\";", last ? 3 : 2);
}

//  GET /verwaltung/angebot/<ses>.csv: the registrations for a spreadsheet
//  (UTF-8 with a byte order mark, ';' between cells, as German Excel reads).
static enum MHD_Result
s_csv (web_t *self, web_request_t *request, const char *id, const web_login_t *login)
{
    s_listing_t listing = s_listing (self, id, login);
    if (listing.status != 200) {
        s_listing_free (&listing);
        return listing.status == 404 ? web_not_found (self, request)
                                     : web_unavailable (self, request);
    }
    zchunk_t *csv = zchunk_new ("\xEF\xBB\xBF", 3);
    const char *columns[] = {"csv_status",   "position",          "field_name",
                             "field_email",  "field_institution", "field_language",
                             "checkin_code", "csv_checked_in",    "csv_created"};
    size_t count = sizeof (columns) / sizeof (columns[0]);
    for (size_t index = 0; index < count; index++)
        s_csv_cell (csv, web_text (self, request->language, columns[index]), index + 1 == count);
    for (int which = 0; which < 3; which++) {
        size_t index;
        json_t *registration;
        json_array_foreach (json_object_get (listing.registrations, s_lists[which]), index,
                            registration)
        {
            json_t *row = s_person_row (self, request->language, registration);
            char position[16] = "";
            if (json_is_integer (json_object_get (row, "position")))
                snprintf (position, sizeof (position), "%lld",
                          (long long)json_integer_value (json_object_get (row, "position")));
            const char *cells[] = {s_string (row, "status_text"), position,
                                   s_string (row, "name"),        s_string (row, "email"),
                                   s_string (row, "institution"), s_string (row, "language"),
                                   s_string (row, "code"),        s_string (row, "checked_in"),
                                   s_string (row, "created")};
            for (size_t cell = 0; cell < count; cell++)
                s_csv_cell (csv, cells[cell], cell + 1 == count);
            json_decref (row);
        }
    }
    s_listing_free (&listing);
    size_t size = zchunk_size (csv);
    char *body = (char *)malloc (size ? size : 1);
    assert (body);
    memcpy (body, zchunk_data (csv), size);
    zchunk_destroy (&csv);
    return web_send (self, request, MHD_HTTP_OK, body, size, "text/csv; charset=utf-8");
}

//  --------------------------------------------------------------------------
//  The check-in page

//  Whether a registration matches what was searched: its code (with or
//  without the dash) or a part of its name, ignoring ASCII case.
static bool
s_matches (json_t *registration, const char *query)
{
    if (!query || !*query)
        return true;
    const char *code = s_string (registration, "code");
    char bare[16] = "";
    for (const char *at = query; *at && strlen (bare) < sizeof (bare) - 1; at++)
        if (*at != '-')
            bare[strlen (bare)] = (char)toupper ((unsigned char)*at);
    if (code && strlen (code) == 7 && strlen (bare) == 6 && strncmp (code, bare, 3) == 0 &&
        strcmp (code + 4, bare + 3) == 0)
        return true;
    const char *name = s_string (registration, "name");
    return name && strcasestr (name, query) != NULL;
}

//  GET or POST /verwaltung/einlass/<ses>: ?q= searches; POST marks the
//  registration (or the check-in code) present.
static enum MHD_Result
s_checkin (web_t *self, web_request_t *request, const char *id, const web_login_t *login)
{
    const char *message = NULL;
    bool problem = false;
    web_answer_t done = {0, NULL};
    const char *query =
        MHD_lookup_connection_value (request->connection, MHD_GET_ARGUMENT_KIND, "q");
    if (query && (strlen (query) > 100 || !web_form_line_valid (query)))
        return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_field", "q");
    if (request->post) {
        int checked = web_form_check (self, request);
        if (checked < 0)
            return MHD_YES;
        const char *registration = web_form_value (request->form, "registration", 0);
        const char *code = web_form_value (request->form, "code", 0);
        json_t *ask = json_pack ("{s:s}", "session", id);
        if (web_event_id_valid ("reg", registration))
            json_object_set_new (ask, "id", json_string (registration));
        else if (code && *code && strlen (code) <= 16 && web_form_line_valid (code))
            json_object_set_new (ask, "code", json_string (code));
        else {
            json_decref (ask);
            return web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_field",
                               registration ? "registration" : "code");
        }
        if (checked > 0) {
            message = web_text (self, request->language, "error_form_expired");
            problem = true;
        } else {
            done = web_ask_for (self, self->registry, "registration.checkin",
                                web_form_value (request->form, "request", 0), ask, login);
            if (!done.status) {
                json_decref (ask);
                return web_unavailable (self, request);
            }
            if (done.status == 200) {
                json_t *person = json_object_get (done.body, "registration");
                bool again = json_is_true (json_object_get (done.body, "again"));
                char *text = zsys_sprintf (
                    "%s: %s", s_string (person, "name"),
                    web_text (self, request->language, again ? "checkin_again" : "checkin_done"));
                json_object_set_new (done.body, "text", json_string (text));
                zstr_free (&text);
                message = s_string (done.body, "text");
            } else if (done.status == 400) {
                message = web_text (self, request->language, "error_code");
                problem = true;
            } else {
                message = s_refusal_text (self, request->language, done.body);
                problem = true;
            }
        }
        json_decref (ask);
    }
    s_listing_t listing = s_listing (self, id, login);
    enum MHD_Result rc;
    if (listing.status == 200) {
        json_t *context = s_session_context (self, request, &listing, message, problem);
        //  Only the confirmed have a seat to take; those the search finds
        json_t *found = json_array ();
        size_t index;
        json_t *row;
        json_array_foreach (json_object_get (context, "confirmed"), index, row)
        {
            if (s_matches (row, query))
                json_array_append (found, row);
        }
        json_object_set_new (context, "found", found);
        json_object_set_new (context, "none_found", json_boolean (json_array_size (found) == 0));
        if (query)
            json_object_set_new (context, "query", json_string (query));
        web_form_fields (self, context, NULL);
        rc = s_page (self, request, problem ? MHD_HTTP_CONFLICT : MHD_HTTP_OK, WEB_PAGE_CHECKIN,
                     context, login);
        json_decref (context);
    } else
        rc =
            listing.status == 404 ? web_not_found (self, request) : web_unavailable (self, request);
    s_listing_free (&listing);
    json_decref (done.body);
    return rc;
}

//  --------------------------------------------------------------------------
//  The notices (the e-mails and how their delivery went)

//  The notices of state (NULL: the newest of every state) appended to shown
//  as rows, leaving out the states in skip.
static int
s_notices_of (web_t *self, web_request_t *request, const web_login_t *login, const char *state,
              json_t *shown)
{
    json_t *ask = json_pack ("{s:i}", "limit", 100);
    if (state)
        json_object_set_new (ask, "state", json_string (state));
    web_answer_t answer = web_ask_for (self, self->notifier, "notice.list", NULL, ask, login);
    json_decref (ask);
    size_t index;
    json_t *notice;
    json_array_foreach (json_object_get (answer.body, "notices"), index, notice)
    {
        const char *its = s_string (notice, "state");
        if (!state && (streq (its, "failed") || streq (its, "deferred")))
            continue; //  shown above already
        json_t *attempts = json_object_get (notice, "attempts");
        json_t *last = json_array_get (attempts, json_array_size (attempts) - 1);
        char name[64], date[16], clock[8], updated[32], reply[600] = "";
        snprintf (name, sizeof (name), "notice_%s", its);
        const char *state_text = web_text (self, request->language, name);
        snprintf (name, sizeof (name), "template_%s", s_string (notice, "template"));
        const char *template_text = web_text (self, request->language, name);
        web_local (self, s_string (notice, "updated"), request->language, date, clock);
        snprintf (updated, sizeof (updated), "%s %s", date, clock);
        if (last)
            snprintf (reply, sizeof (reply), "%lld %s",
                      (long long)json_integer_value (json_object_get (last, "smtp")),
                      s_string (last, "reply") ? s_string (last, "reply") : "");
        json_t *row =
            json_pack ("{s:O, s:s, s:s, s:s, s:O, s:O, s:I, s:s, s:s, s:b}", "id",
                       json_object_get (notice, "id"), "state", its, "state_text",
                       state_text ? state_text : its, "template",
                       template_text ? template_text : s_string (notice, "template"), "name",
                       json_object_get (json_object_get (notice, "recipient"), "name"), "email",
                       json_object_get (json_object_get (notice, "recipient"), "email"), "attempts",
                       (json_int_t)json_array_size (attempts), "updated", updated, "reply", reply,
                       "problem", streq (its, "failed") || streq (its, "deferred"));
        assert (row);
        if (s_string (notice, "reason"))
            json_object_set (row, "reason", json_object_get (notice, "reason"));
        json_array_append_new (shown, row);
    }
    int status = answer.status;
    json_decref (answer.body);
    return status;
}

//  GET /verwaltung/mitteilungen: the e-mails, failed and deferred first.
static enum MHD_Result
s_notices (web_t *self, web_request_t *request, const web_login_t *login)
{
    json_t *shown = json_array ();
    int status = s_notices_of (self, request, login, "failed", shown);
    if (status == 200)
        status = s_notices_of (self, request, login, "deferred", shown);
    if (status == 200)
        status = s_notices_of (self, request, login, NULL, shown);
    if (status != 200) {
        json_decref (shown);
        return status ? web_refuse (self, request, MHD_HTTP_FORBIDDEN, "refused_form", NULL)
                      : web_unavailable (self, request);
    }
    json_t *context =
        json_pack ("{s:o, s:b}", "notices", shown, "none", json_array_size (shown) == 0);
    enum MHD_Result rc = s_page (self, request, MHD_HTTP_OK, WEB_PAGE_NOTICES, context, login);
    json_decref (context);
    return rc;
}

//  --------------------------------------------------------------------------
//  Routes

//  The session id that path holds after prefix, with suffix after it
//  ("/angebot/", ".csv"), into id; false if it holds none.
static bool
s_id_after (const char *path, const char *prefix, const char *suffix, char id[40])
{
    size_t length = strlen (prefix);
    if (strncmp (path, prefix, length) != 0)
        return false;
    const char *rest = path + length;
    size_t size = strlen (rest), tail = strlen (suffix);
    if (size <= tail || size - tail >= 40 || !streq (rest + size - tail, suffix))
        return false;
    snprintf (id, 40, "%.*s", (int)(size - tail), rest);
    return web_event_id_valid ("ses", id);
}

enum MHD_Result
web_dashboard (web_t *self, web_request_t *request, const char *path)
{
    if (streq (path, "/anmelden"))
        return request->post ? s_login (self, request)
                             : s_login_page (self, request, MHD_HTTP_OK, NULL, NULL);
    web_login_t login = {{0}, {0}, {0}};
    int logged = s_logged_in (self, request, &login);
    if (logged < 0)
        return web_unavailable (self, request);
    if (logged == 0)
        return web_redirect (self, request, "/verwaltung/anmelden");
    char id[40];
    if (streq (path, "/abmelden") && request->post)
        return s_logout (self, request, &login);
    if ((streq (path, "") || streq (path, "/")) && !request->post)
        return s_overview (self, request, &login);
    if (streq (path, "/live") && !request->post)
        return web_live_stream (self, request);
    if (streq (path, "/mitteilungen") && !request->post)
        return s_notices (self, request, &login);
    if (s_id_after (path, "/angebot/", ".csv", id) && !request->post)
        return s_csv (self, request, id, &login);
    if (s_id_after (path, "/angebot/", "", id))
        return s_session (self, request, id, &login);
    if (s_id_after (path, "/einlass/", "", id))
        return s_checkin (self, request, id, &login);
    if (strncmp (path, "/veranstaltung/", 15) == 0 || strncmp (path, "/angebot/", 9) == 0)
        return web_office (self, request, &login, path);
    if (request->post)
        return web_refuse (self, request, MHD_HTTP_METHOD_NOT_ALLOWED, "refused_method", NULL);
    return web_not_found (self, request);
}
