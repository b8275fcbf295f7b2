/*  web - schalt-web, the web front: the public pages, served with GNU
    libmicrohttpd, from the other daemons' answers over ZeroMQ.

    It is a client of the daemons with a key of its own (role web) and the
    same envelope and request ids as schalt (schalt_client.h). This first
    step serves the catalogue at / (every upcoming event with its
    sessions and their seats left, from the scheduler and the registry), in
    German or English (?lang=en, remembered in a cookie),
    its style sheet, and a 404 page for everything else. Every response
    carries a Content-Security-Policy without inline script or style,
    Referrer-Policy no-referrer (the links in e-mails carry tokens) and
    X-Content-Type-Options. Pages come from templates an office can edit
    (web_html.h), parsed at start: a broken template stops the start,
    naming the file and line.

    One thread of libmicrohttpd answers every connection in turn and asks
    the daemons synchronously; connections are limited (web/connections)
    and closed when idle (web/timeout), so a client that sends a byte a
    second holds one slot for at most that long.
*/
#include "web.h"
#include "web_html.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>

#define PAGES_MAX 16
#define STATIC_MAX (256 * 1024) //  octets of one static file
#define REPLY_MAX (16 * 1024 * 1024)

static const char *s_page_names[] = {"catalogue", "not-found", "unavailable", NULL};
//  Each page's title: a text of de.json and en.json
static const char *s_page_titles[] = {"catalogue_title", "not_found_title", "unavailable_title"};
static const char *s_languages[] = {"de", "en", NULL};

struct _web_t {
    schalt_config_t *config;
    schalt_curve_t *curve;
    schalt_client_t *scheduler;
    schalt_client_t *registry;
    struct MHD_Daemon *httpd;
    const char *folder;
    const char *zone;
    web_html_t *pages[PAGES_MAX];
    json_t *texts[2]; //  de.json, en.json
    uint64_t served, failed;
};

//  --------------------------------------------------------------------------
//  Templates

static char *
s_read (const char *path, size_t max, size_t *length, char *error, size_t size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (error, size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = (char *)zmalloc (max + 2);
    size_t got = fread (text, 1, max + 1, file);
    fclose (file);
    if (got > max) {
        snprintf (error, size, "%s: larger than %zu octets", path, max);
        free (text);
        return NULL;
    }
    text[got] = 0;
    if (length)
        *length = got;
    return text;
}

//  {{>name}}: name.html in the templates folder.
static char *
s_load_partial (void *arg, const char *name, char *error, size_t size)
{
    web_t *self = (web_t *)arg;
    char path[4096];
    snprintf (path, sizeof (path), "%s/%s.html", self->folder, name);
    return s_read (path, WEB_HTML_TEMPLATE_MAX, NULL, error, size);
}

static int
s_load_templates (web_t *self, char *error, size_t size)
{
    for (int index = 0; s_page_names[index]; index++) {
        char *text = s_load_partial (self, s_page_names[index], error, size);
        if (!text)
            return -1;
        char name[96];
        snprintf (name, sizeof (name), "%s.html", s_page_names[index]);
        self->pages[index] = web_html_parse (text, name, s_load_partial, self, error, size);
        free (text);
        if (!self->pages[index])
            return -1;
    }
    for (int index = 0; s_languages[index]; index++) {
        char path[4096];
        snprintf (path, sizeof (path), "%s/%s.json", self->folder, s_languages[index]);
        json_error_t parse;
        self->texts[index] = json_load_file (path, JSON_REJECT_DUPLICATES, &parse);
        if (!json_is_object (self->texts[index])) {
            snprintf (error, size, "%.300s:%d: %s", path, parse.line,
                      self->texts[index] ? "must be a JSON object of texts" : parse.text);
            return -1;
        }
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Asking the daemons

//  Asks a daemon; returns the reply's body (the caller decrefs it) if it
//  answered 200, else NULL.
static json_t *
s_ask (web_t *self, schalt_client_t *daemon, const char *command, json_t *body)
{
    (void)self;
    char id[32];
    schalt_id_make ("web", id, sizeof (id));
    char *json = json_dumps (body, JSON_COMPACT);
    schalt_client_outcome_t outcome;
    schalt_envelope_t *reply = schalt_client_request (daemon, command, id, json, NULL, NULL, 2000,
                                                      2, NULL, NULL, &outcome);
    free (json);
    json_t *answer = NULL;
    if (reply && schalt_envelope_status (reply) == 200)
        answer = json_incref (schalt_envelope_body (reply));
    else
        schalt_log_warning ("web: no answer command=%s status=%d outcome=%d", command,
                            reply ? schalt_envelope_status (reply) : 0, (int)outcome);
    schalt_envelope_destroy (&reply);
    return answer;
}

//  "13.03.2027" or "2027-03-13", and "10:00", of an RFC 3339 instant.
static void
s_local (web_t *self, const char *instant, int language, char *date, char *clock)
{
    time_t utc;
    char local[32] = "";
    date[0] = clock[0] = 0;
    if (!instant || schalt_time_parse_instant (instant, &utc) != 0 ||
        !schalt_time_format_local (utc, self->zone, local))
        return;
    //  local is "YYYY-MM-DD HH:MM"
    if (language == 0)
        snprintf (date, 16, "%.2s.%.2s.%.4s", local + 8, local + 5, local);
    else
        snprintf (date, 16, "%.10s", local);
    snprintf (clock, 8, "%.5s", local + 11);
}

//  Adds what the registry says of a session's seats to its row: free (and
//  has_free), or full (the waitlist), or unknown (no answer: the capacity).
static void
s_seats (json_t *row, json_t *seats)
{
    const char *id = json_string_value (json_object_get (row, "id"));
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (seats, "sessions"), index, entry)
    {
        const char *other = json_string_value (json_object_get (entry, "id"));
        if (id && other && streq (id, other)) {
            json_int_t free = json_integer_value (json_object_get (entry, "free"));
            json_object_set_new (row, "free", json_integer (free));
            json_object_set_new (row, "has_free", json_boolean (free > 0));
            json_object_set_new (row, "full", json_boolean (free <= 0));
            return;
        }
    }
    json_object_set_new (row, "unknown", json_true ());
}

//  The catalogue's context: every upcoming event and its sessions, with
//  their times in the installation's zone. NULL if the scheduler did not
//  answer.
static json_t *
s_catalogue (web_t *self, int language)
{
    char now[32];
    schalt_time_format_instant (schalt_clock_now (), now);
    json_t *query = json_pack ("{s:s}", "from", now);
    json_t *listed = s_ask (self, self->scheduler, "event.list", query);
    json_decref (query);
    if (!listed)
        return NULL;
    json_t *events = json_array ();
    size_t index;
    json_t *event;
    json_array_foreach (json_object_get (listed, "events"), index, event)
    {
        json_t *ask = json_pack ("{s:O}", "event", json_object_get (event, "id"));
        json_t *sessions = s_ask (self, self->scheduler, "session.list", ask);
        //  Seats left, from the registry (the catalogue shows capacities without it)
        json_t *seats = s_ask (self, self->registry, "session.seats", ask);
        json_decref (ask);
        char date[16], clock[8];
        s_local (self, json_string_value (json_object_get (event, "start")), language, date, clock);
        json_t *shown =
            json_pack ("{s:O, s:O, s:O, s:s, s:[]}", "id", json_object_get (event, "id"), "title",
                       json_object_get (event, "title"), "place", json_object_get (event, "place"),
                       "date", date, "sessions");
        size_t at;
        json_t *session;
        json_array_foreach (json_object_get (sessions, "sessions"), at, session)
        {
            char start_date[16], start[8], end_date[16], end[8];
            s_local (self, json_string_value (json_object_get (session, "start")), language,
                     start_date, start);
            s_local (self, json_string_value (json_object_get (session, "end")), language, end_date,
                     end);
            json_t *row = json_pack (
                "{s:O, s:O, s:O, s:s, s:s, s:s, s:O}", "id", json_object_get (session, "id"),
                "title", json_object_get (session, "title"), "room",
                json_object_get (session, "room"), "date", start_date, "start", start, "end", end,
                "capacity", json_object_get (session, "capacity"));
            s_seats (row, seats);
            json_array_append_new (json_object_get (shown, "sessions"), row);
        }
        json_decref (sessions);
        json_decref (seats);
        json_object_set_new (shown, "has_sessions",
                             json_boolean (json_array_size (json_object_get (shown, "sessions"))));
        json_array_append_new (events, shown);
    }
    json_decref (listed);
    return json_pack ("{s:o}", "events", events);
}

//  --------------------------------------------------------------------------
//  Answering

//  The headers every response carries.
static void
s_headers (struct MHD_Response *response, const char *type, const char *language)
{
    MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'none'; style-src 'self'; img-src 'self'; "
                             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    if (language)
        MHD_add_response_header (response, "Content-Language", language);
}

static enum MHD_Result
s_send (struct MHD_Connection *connection, unsigned int status, char *body, size_t length,
        const char *type, const char *language, const char *cookie)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (length, body, MHD_RESPMEM_MUST_FREE);
    s_headers (response, type, language);
    if (cookie)
        MHD_add_response_header (response, "Set-Cookie", cookie);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  Renders page (an index of s_page_names) with context and the texts of
//  the language, and sends it.
static enum MHD_Result
s_page (web_t *self, struct MHD_Connection *connection, unsigned int status, int page,
        json_t *context, int language, const char *cookie)
{
    json_object_set (context, "t", self->texts[language]);
    json_object_set (context, "title",
                     json_object_get (self->texts[language], s_page_titles[page]));
    json_object_set_new (context, "lang", json_string (s_languages[language]));
    json_object_set_new (context, "other_lang", json_string (s_languages[1 - language]));
    char error[512] = "";
    char *html = web_html_render (self->pages[page], context, error, sizeof (error));
    if (!html) {
        schalt_log_error ("web: page not rendered: %s", error);
        self->failed++;
        html = strdup ("<!DOCTYPE html><title>Error</title><p>The page could not be made.</p>");
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return s_send (connection, status, html, strlen (html), "text/html; charset=utf-8",
                   s_languages[language], cookie);
}

//  The language: ?lang= if given (then remembered in a cookie), else the
//  cookie's, else German.
static int
s_language (struct MHD_Connection *connection, const char **cookie)
{
    *cookie = NULL;
    const char *asked = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "lang");
    if (asked && (streq (asked, "de") || streq (asked, "en"))) {
        *cookie = streq (asked, "en") ? "lang=en; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly"
                                      : "lang=de; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly";
        return streq (asked, "en") ? 1 : 0;
    }
    const char *kept = MHD_lookup_connection_value (connection, MHD_COOKIE_KIND, "lang");
    return kept && streq (kept, "en") ? 1 : 0;
}

//  /static/NAME.css: a style sheet of the templates folder.
static enum MHD_Result
s_static (web_t *self, struct MHD_Connection *connection, const char *url, int language)
{
    const char *name = url + strlen ("/static/");
    size_t length = strlen (name);
    bool valid = length > 4 && length < 64 && streq (name + length - 4, ".css");
    for (size_t index = 0; valid && index < length - 4; index++)
        valid = (name[index] >= 'a' && name[index] <= 'z') || name[index] == '-';
    char path[4096], error[512];
    size_t size = 0;
    char *text = NULL;
    if (valid) {
        snprintf (path, sizeof (path), "%s/static/%s", self->folder, name);
        text = s_read (path, STATIC_MAX, &size, error, sizeof (error));
    }
    if (!text) {
        json_t *context = json_object ();
        enum MHD_Result rc =
            s_page (self, connection, MHD_HTTP_NOT_FOUND, 1, context, language, NULL);
        json_decref (context);
        return rc;
    }
    return s_send (connection, MHD_HTTP_OK, text, size, "text/css; charset=utf-8", NULL, NULL);
}

static enum MHD_Result
s_answer (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    web_t *self = (web_t *)arg;
    //  The first call is for the headers alone
    if (!*state) {
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0; //  (no page takes a body yet; it is read and dropped)
        return MHD_YES;
    }
    self->served++;
    const char *cookie;
    int language = s_language (connection, &cookie);
    if (!streq (method, "GET") && !streq (method, "HEAD")) {
        json_t *context = json_object ();
        enum MHD_Result rc =
            s_page (self, connection, MHD_HTTP_METHOD_NOT_ALLOWED, 1, context, language, NULL);
        json_decref (context);
        return rc;
    }
    if (strncmp (url, "/static/", 8) == 0)
        return s_static (self, connection, url, language);
    json_t *context = NULL;
    int page = 1;
    unsigned int status = MHD_HTTP_NOT_FOUND;
    if (streq (url, "/")) {
        context = s_catalogue (self, language);
        page = context ? 0 : 2;
        status = context ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    if (!context)
        context = json_object ();
    enum MHD_Result rc = s_page (self, connection, status, page, context, language, cookie);
    json_decref (context);
    return rc;
}

//  libmicrohttpd's unescaping of the path, except that a path with an escaped
//  NUL (%00) stays as it came, so that it matches no page (and is never cut
//  short at the NUL into one that does).
static size_t
s_unescape (void *arg, struct MHD_Connection *connection, char *text)
{
    (void)arg;
    (void)connection;
    if (strstr (text, "%00"))
        return strlen (text);
    return MHD_http_unescape (text);
}

//  --------------------------------------------------------------------------
//  Start and stop

web_t *
web_new (schalt_config_t *config)
{
    web_t *self = (web_t *)zmalloc (sizeof (web_t));
    assert (self);
    self->config = config;
    self->folder = schalt_config_string (config, "web/templates");
    self->zone = schalt_config_string (config, "schaltstelle/timezone");
    char error[512] = "";
    bool curve = streq (schalt_config_string (config, "schaltstelle/curve"), "on");
    self->curve = schalt_curve_new (schalt_config_string (config, "schaltstelle/keys"),
                                    schalt_config_string (config, "web/certificate"), curve, error,
                                    sizeof (error));
    if (!self->curve || (curve && !streq (schalt_curve_role (self->curve), "web"))) {
        schalt_log_error ("web: cannot start: %s", self->curve ? "web/certificate is not a key of "
                                                                 "role web"
                                                               : error);
        web_destroy (&self);
        return NULL;
    }
    self->scheduler = schalt_client_new (self->curve, "scheduler",
                                         schalt_config_string (config, "scheduler/endpoint"),
                                         REPLY_MAX, error, sizeof (error));
    if (self->scheduler)
        self->registry = schalt_client_new (self->curve, "registry",
                                            schalt_config_string (config, "registry/endpoint"),
                                            REPLY_MAX, error, sizeof (error));
    if (!self->registry || s_load_templates (self, error, sizeof (error)) != 0) {
        schalt_log_error ("web: cannot start: %s", error);
        web_destroy (&self);
        return NULL;
    }
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t)schalt_config_integer (config, "web/port"));
    if (inet_pton (AF_INET, schalt_config_string (config, "web/address"), &address.sin_addr) != 1) {
        schalt_log_error ("web: cannot start: web/address '%s' is not an IPv4 address",
                          schalt_config_string (config, "web/address"));
        web_destroy (&self);
        return NULL;
    }
    self->httpd = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, s_answer, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)schalt_config_integer (config, "web/connections"),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)schalt_config_integer (config, "web/timeout"),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_UNESCAPE_CALLBACK,
        s_unescape, NULL, MHD_OPTION_END);
    if (!self->httpd) {
        schalt_log_error ("web: cannot listen on %s:%ld: %s",
                          schalt_config_string (config, "web/address"),
                          schalt_config_integer (config, "web/port"), strerror (errno));
        web_destroy (&self);
        return NULL;
    }
    schalt_log_info ("web: started address=%s port=%ld templates=%s",
                     schalt_config_string (config, "web/address"),
                     schalt_config_integer (config, "web/port"), self->folder);
    return self;
}

void
web_destroy (web_t **self_p)
{
    web_t *self = *self_p;
    if (!self)
        return;
    if (self->httpd)
        MHD_stop_daemon (self->httpd);
    for (int index = 0; index < PAGES_MAX; index++)
        web_html_destroy (&self->pages[index]);
    for (int index = 0; index < 2; index++)
        json_decref (self->texts[index]);
    schalt_client_destroy (&self->scheduler);
    schalt_client_destroy (&self->registry);
    schalt_curve_destroy (&self->curve);
    free (self);
    *self_p = NULL;
}
