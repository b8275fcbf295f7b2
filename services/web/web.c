/*  web - schalt-web, the web front: the public pages, served with GNU
    libmicrohttpd, from the other daemons' answers over ZeroMQ.

    It is a client of the daemons with a key of its own (role web) and the
    same envelope and request ids as schalt (schalt_client.h). This file is
    the server: it reads each request (a form's body up to WEB_BODY_MAX,
    checked by web_form), finds its page (web_public.c: the catalogue, an
    event's page and its registration form, the privacy notice;
    web_feed.c: the catalogue's iCalendar feeds; web_links.c: the pages
    behind the links in e-mails; web_dashboard.c: the organisers'
    dashboard under /verwaltung, with its forms in web_office.c and its
    live fill levels in web_live.c), and sends it with the headers every
    response carries: a Content-Security-Policy without inline script or
    style (scripts and connections only from here), Referrer-Policy
    no-referrer (the links in e-mails carry tokens), X-Content-Type-Options,
    X-Frame-Options, and HSTS when web/base_url is https://. Pages
    come from templates an office can edit (web_html.h), parsed at start:
    a broken template stops the start, naming the file and line. Pages are
    German unless asked in English (?lang=en, remembered in a cookie).

    Every form carries a request id and a signature of it (web_form_fields):
    a form sent twice, by a double click or a reload, is one request to the
    daemons, which answer its repeat with the first answer; a form that does
    not come from here is refused (CSRF).

    One thread of libmicrohttpd reads every connection; the pages that ask
    the daemons are made by workers while their connection is suspended.
    Connections are limited (web/connections, each with at most 64 KiB of
    memory) and closed when idle (web/timeout). A client that trickles a
    byte a second is not idle: it holds one of the connections until its
    request is whole or too large; in an installation nginx's
    client_header_timeout ends it (deploy/nginx).
*/
#include "web_internal.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <signal.h>
#include <sodium.h>

#define STATIC_MAX (256 * 1024) //  octets of one static file
#define REPLY_MAX (16 * 1024 * 1024)

//  Each page's template (name.html) and title (a text of de.json and en.json)
static const char *s_page_names[WEB_PAGES] = {
    "catalogue", "event",          "registered", "link",  "link-done", "privacy",
    "not-found", "unavailable",    "refused",    "login", "dashboard", "dashboard-session",
    "checkin",   "dashboard-form", "notices"};
static const char *s_page_titles[WEB_PAGES] = {
    "catalogue_title", "event_title",       "registered_title", "link_title",
    "link_done_title", "privacy_title",     "not_found_title",  "unavailable_title",
    "refused_title",   "login_title",       "dashboard_title",  "dashboard_session_title",
    "checkin_title",   "office_form_title", "notices_title"};
static const char *s_languages[] = {"de", "en", NULL};

//  What a request holds between libmicrohttpd's calls: its body so far,
//  and, once a worker has it, the job (done when its response waits).
typedef struct {
    char *body;
    size_t length;
    bool too_large;
    web_request_t *job;
    bool done;
} s_upload_t;

//  A worker's own clients of the daemons (a ZeroMQ socket belongs to one
//  thread); web_ask_for uses them in place of the web front's.
typedef struct {
    schalt_client_t *scheduler;
    schalt_client_t *registry;
    schalt_client_t *notifier;
    schalt_client_t *own;
} s_worker_t;

static __thread s_worker_t *s_worker; //  the worker this thread is, or NULL

#define JOBS_MAX 1024 //  requests waiting for a worker; more are answered 503

//  --------------------------------------------------------------------------
//  Pages kept for every visitor: the catalogue is the same for everyone who
//  asks with the same filters and language, so it is made once and served as
//  it is until the daemons publish a change (web_live.c counts them) or
//  CACHE_MS pass (a change whose event was lost, or the day moving on).

#define CACHE_SLOTS 32
#define CACHE_MS 10000
#define CACHE_KEY_MAX 512

struct _web_cached_t {
    char key[CACHE_KEY_MAX];
    char *html;
    size_t length;
    uint64_t changes; //  the count of changes it was made at
    int64_t made;     //  zclock_mono
    bool remaking;    //  a worker makes it anew (its old copy is served meanwhile)
};

//  The kept page of key: a copy (the caller frees it) if it is up to date,
//  or if it is out of date and a worker already makes it anew (so that a
//  change costs one making, not one per visitor who asks meanwhile); else
//  NULL: the caller makes it (and web_page keeps it).
static char *
s_cache_get (web_t *self, const char *key, size_t *length)
{
    uint64_t changes = __atomic_load_n (&self->changes, __ATOMIC_ACQUIRE);
    char *copy = NULL;
    pthread_mutex_lock (&self->cache_lock);
    for (int index = 0; index < CACHE_SLOTS; index++) {
        web_cached_t *slot = &self->cache[index];
        if (!slot->html || !streq (slot->key, key))
            continue;
        bool fresh = slot->changes == changes && zclock_mono () - slot->made < CACHE_MS;
        if (fresh || (slot->remaking && zclock_mono () - slot->made < CACHE_MS * 3)) {
            copy = (char *)malloc (slot->length + 1);
            assert (copy);
            memcpy (copy, slot->html, slot->length + 1);
            *length = slot->length;
        } else
            slot->remaking = true;
    }
    pthread_mutex_unlock (&self->cache_lock);
    return copy;
}

//  The making of key's page ended without keeping it (the daemons did not
//  answer, say): the next visitor tries.
static void
s_cache_release (web_t *self, const char *key)
{
    pthread_mutex_lock (&self->cache_lock);
    for (int index = 0; index < CACHE_SLOTS; index++)
        if (self->cache[index].html && streq (self->cache[index].key, key))
            self->cache[index].remaking = false;
    pthread_mutex_unlock (&self->cache_lock);
}

//  Keeps html under key, as of changes (counted before it was made, so that a
//  change while it was made leaves it out of date), in place of the oldest.
static void
s_cache_put (web_t *self, const char *key, const char *html, size_t length, uint64_t changes)
{
    pthread_mutex_lock (&self->cache_lock);
    web_cached_t *oldest = &self->cache[0];
    for (int index = 0; index < CACHE_SLOTS; index++) {
        web_cached_t *slot = &self->cache[index];
        if (!slot->html || streq (slot->key, key)) {
            oldest = slot;
            break;
        }
        if (slot->made < oldest->made)
            oldest = slot;
    }
    free (oldest->html);
    snprintf (oldest->key, sizeof (oldest->key), "%s", key);
    oldest->html = (char *)malloc (length + 1);
    assert (oldest->html);
    memcpy (oldest->html, html, length + 1);
    oldest->length = length;
    oldest->changes = changes;
    oldest->made = zclock_mono ();
    oldest->remaking = false;
    pthread_mutex_unlock (&self->cache_lock);
}

//  An event's facts as the scheduler answered them, as JSON text (each
//  worker parses its own copy).
#define FACTS_SLOTS 64

struct _web_facts_t {
    char id[24];
    char *event;
    char *sessions;
    uint64_t changes; //  the count of the scheduler's changes they were asked at
    int64_t made;
};

void
web_event_facts (web_t *self, const char *id, web_answer_t *event, web_answer_t *sessions)
{
    uint64_t changes = __atomic_load_n (&self->scheduler_changes, __ATOMIC_ACQUIRE);
    event->status = sessions->status = 0;
    event->body = sessions->body = NULL;
    pthread_mutex_lock (&self->cache_lock);
    for (int index = 0; index < FACTS_SLOTS; index++) {
        web_facts_t *slot = &self->facts[index];
        if (slot->event && streq (slot->id, id) && slot->changes == changes &&
            zclock_mono () - slot->made < CACHE_MS) {
            event->body = json_loads (slot->event, 0, NULL);
            sessions->body = json_loads (slot->sessions, 0, NULL);
            event->status = sessions->status = 200;
        }
    }
    pthread_mutex_unlock (&self->cache_lock);
    if (event->body && sessions->body)
        return;
    json_decref (event->body);
    json_decref (sessions->body);
    json_t *ask = json_pack ("{s:s}", "id", id);
    *event = web_ask (self, self->scheduler, "event.get", NULL, ask);
    json_decref (ask);
    if (event->status != 200) {
        sessions->status = 0;
        sessions->body = NULL;
        return;
    }
    ask = json_pack ("{s:s}", "event", id);
    *sessions = web_ask (self, self->scheduler, "session.list", NULL, ask);
    json_decref (ask);
    if (sessions->status != 200 || strlen (id) >= sizeof (self->facts[0].id))
        return;
    char *event_text = json_dumps (event->body, JSON_COMPACT);
    char *sessions_text = json_dumps (sessions->body, JSON_COMPACT);
    pthread_mutex_lock (&self->cache_lock);
    web_facts_t *oldest = &self->facts[0];
    for (int index = 0; index < FACTS_SLOTS; index++) {
        web_facts_t *slot = &self->facts[index];
        if (!slot->event || streq (slot->id, id)) {
            oldest = slot;
            break;
        }
        if (slot->made < oldest->made)
            oldest = slot;
    }
    free (oldest->event);
    free (oldest->sessions);
    snprintf (oldest->id, sizeof (oldest->id), "%s", id);
    oldest->event = event_text;
    oldest->sessions = sessions_text;
    oldest->changes = changes;
    oldest->made = zclock_mono ();
    pthread_mutex_unlock (&self->cache_lock);
}

//  The key a catalogue request is kept under: its language and filters; NULL
//  if a filter is too long to be worth keeping (it is refused anyway).
static char *
s_catalogue_key (struct MHD_Connection *connection, int language)
{
    const char *names[] = {"topic", "provider", "month"};
    char key[CACHE_KEY_MAX];
    size_t used = (size_t)snprintf (key, sizeof (key), "/%d", language);
    for (int index = 0; index < 3; index++) {
        const char *value =
            MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, names[index]);
        value = value ? value : "";
        if (strlen (value) > 150)
            return NULL;
        used += (size_t)snprintf (key + used, sizeof (key) - used, "\x1f%s", value);
    }
    return strdup (key);
}

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
    for (int index = 0; index < WEB_PAGES; index++) {
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
    //  Every text of one language is in the other
    for (int index = 0; s_languages[index]; index++) {
        const char *name;
        json_t *text;
        json_object_foreach (self->texts[index], name, text)
        {
            if (!json_is_string (text) ||
                !json_is_string (json_object_get (self->texts[1 - index], name))) {
                snprintf (error, size, "%s/%s.json: the text %.64s %s", self->folder,
                          s_languages[json_is_string (text) ? 1 - index : index], name,
                          json_is_string (text) ? "is missing" : "must be a string");
                return -1;
            }
        }
    }
    return 0;
}

const char *
web_text (web_t *self, int language, const char *name)
{
    return json_string_value (json_object_get (self->texts[language], name));
}

//  --------------------------------------------------------------------------
//  Asking the daemons

web_answer_t
web_ask (web_t *self, schalt_client_t *daemon, const char *command, const char *id, json_t *body)
{
    return web_ask_for (self, daemon, command, id, body, NULL);
}

static web_answer_t s_ask (web_t *self, schalt_client_t *daemon, const char *command,
                           const char *id, json_t *body, const web_login_t *login, int timeout_ms,
                           long attempts);

web_answer_t
web_ask_for (web_t *self, schalt_client_t *daemon, const char *command, const char *id,
             json_t *body, const web_login_t *login)
{
    return s_ask (self, daemon, command, id, body, login, 2000, 2);
}

web_answer_t
web_seats (web_t *self, const char *event, const web_login_t *login, bool *down)
{
    web_answer_t answer = {0, NULL};
    if (*down)
        return answer;
    json_t *ask = json_pack ("{s:s}", "event", event);
    answer = s_ask (self, self->registry, "session.seats", NULL, ask, login, 1000, 1);
    json_decref (ask);
    *down = answer.status == 0;
    return answer;
}

static web_answer_t
s_ask (web_t *self, schalt_client_t *daemon, const char *command, const char *id, json_t *body,
       const web_login_t *login, int timeout_ms, long attempts)
{
    if (s_worker) {
        //  The worker's own socket to the same daemon
        daemon = daemon == self->scheduler  ? s_worker->scheduler
                 : daemon == self->registry ? s_worker->registry
                 : daemon == self->notifier ? s_worker->notifier
                 : daemon == self->own      ? s_worker->own
                                            : daemon;
    }
    char made[32];
    if (!id)
        id = schalt_id_make ("web", made, sizeof (made));
    char *json = json_dumps (body, JSON_COMPACT);
    schalt_client_outcome_t outcome;
    schalt_envelope_t *reply = schalt_client_request (
        daemon, command, id, json, login ? login->name : NULL, login ? login->role : NULL,
        timeout_ms, attempts, NULL, NULL, &outcome);
    free (json);
    web_answer_t answer = {0, NULL};
    if (reply && schalt_envelope_status (reply) != 503) {
        answer.status = schalt_envelope_status (reply);
        answer.body = json_incref (schalt_envelope_body (reply));
    } else
        schalt_log_warning ("web: no answer command=%s status=%d outcome=%d", command,
                            reply ? schalt_envelope_status (reply) : 0, (int)outcome);
    schalt_envelope_destroy (&reply);
    return answer;
}

void
web_local (web_t *self, const char *instant, int language, char date[16], char clock[8])
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

//  --------------------------------------------------------------------------
//  The forms' hidden fields

//  The signature of a request id served at issued (UTC seconds), as 32 hex
//  digits.
static void
s_form_mac (web_t *self, const char *request, long long issued, char mac[33])
{
    char text[96];
    int length = snprintf (text, sizeof (text), "%s.%lld", request, issued);
    uint8_t digest[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256 (digest, (const uint8_t *)text, (unsigned long long)length,
                            self->form_key);
    sodium_bin2hex (mac, 33, digest, 16);
}

void
web_form_fields (web_t *self, json_t *context, const char *request)
{
    char made[32], mac[33], csrf[64];
    if (!request)
        request = schalt_id_make ("web", made, sizeof (made));
    long long issued = (long long)schalt_clock_now ();
    s_form_mac (self, request, issued, mac);
    snprintf (csrf, sizeof (csrf), "%lld.%s", issued, mac);
    json_object_set_new (context, "request", json_string (request));
    json_object_set_new (context, "csrf", json_string (csrf));
}

int
web_form_check (web_t *self, web_request_t *request)
{
    const char *id = web_form_value (request->form, "request", 0);
    const char *csrf = web_form_value (request->form, "csrf", 0);
    if (!id || !schalt_id_valid ("web", id)) {
        web_refuse (self, request, MHD_HTTP_BAD_REQUEST, "refused_form", NULL);
        return -1;
    }
    char *dot = csrf ? strchr (csrf, '.') : NULL;
    char *end = NULL;
    long long issued = dot ? strtoll (csrf, &end, 10) : 0;
    char mac[33];
    bool signed_here = dot && end == dot && issued > 0 && strlen (dot + 1) == 32;
    if (signed_here) {
        s_form_mac (self, id, issued, mac);
        signed_here = sodium_memcmp (mac, dot + 1, 32) == 0;
    }
    if (!signed_here) {
        web_refuse (self, request, MHD_HTTP_FORBIDDEN, "refused_csrf", NULL);
        return -1;
    }
    long long now = (long long)schalt_clock_now ();
    return now - issued > WEB_FORM_HOURS * 3600 || issued - now > 300 ? 1 : 0;
}

//  --------------------------------------------------------------------------
//  Answering

//  The headers every response carries.
void
web_headers (web_t *self, struct MHD_Response *response, const char *type, const char *language)
{
    if (self->secure)
        MHD_add_response_header (response, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'none'; style-src 'self'; img-src 'self'; "
                             "script-src 'self'; connect-src 'self'; "
                             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    if (language)
        MHD_add_response_header (response, "Content-Language", language);
}

static enum MHD_Result
s_send (web_t *self, web_request_t *request, unsigned int status, char *body, size_t length,
        const char *type, const char *language, const char *location)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (length, body, MHD_RESPMEM_MUST_FREE);
    web_headers (self, response, type, language);
    if (request->cookie)
        MHD_add_response_header (response, "Set-Cookie", request->cookie);
    if (request->login_cookie)
        MHD_add_response_header (response, "Set-Cookie", request->login_cookie);
    if (location)
        MHD_add_response_header (response, "Location", location);
    //  A page made for one visitor (a form's fields) is never kept by a cache
    MHD_add_response_header (response, "Cache-Control", "no-store");
    return web_queue (self, request, status, response);
}

enum MHD_Result
web_send (web_t *self, web_request_t *request, unsigned int status, char *body, size_t length,
          const char *type)
{
    return s_send (self, request, status, body, length, type, s_languages[request->language], NULL);
}

enum MHD_Result
web_queue (web_t *self, web_request_t *request, unsigned int status, struct MHD_Response *response)
{
    (void)self;
    if (s_worker) {
        //  libmicrohttpd's thread queues it when the connection is resumed
        if (request->response)
            MHD_destroy_response (request->response);
        request->response = response;
        request->status = status;
        return MHD_YES;
    }
    enum MHD_Result rc = MHD_queue_response (request->connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

enum MHD_Result
web_redirect (web_t *self, web_request_t *request, const char *location)
{
    return s_send (self, request, MHD_HTTP_SEE_OTHER, strdup (""), 0, "text/plain; charset=utf-8",
                   NULL, location);
}

enum MHD_Result
web_page (web_t *self, web_request_t *request, unsigned int status, web_page_t page,
          json_t *context)
{
    int language = request->language;
    json_object_set (context, "t", self->texts[language]);
    if (!json_object_get (context, "title"))
        json_object_set (context, "title",
                         json_object_get (self->texts[language], s_page_titles[page]));
    json_object_set_new (context, "lang", json_string (s_languages[language]));
    json_object_set_new (context, "other_lang", json_string (s_languages[1 - language]));
    char error[512] = "";
    char *html = web_html_render (self->pages[page], context, error, sizeof (error));
    if (!html) {
        schalt_log_error ("web: page not rendered: %s", error);
        __atomic_add_fetch (&self->failed, 1, __ATOMIC_RELAXED);
        html = strdup ("<!DOCTYPE html><html lang=\"en\"><title>Error</title>"
                       "<p>The page could not be made.</p></html>");
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (request->cache_key && status == MHD_HTTP_OK)
        s_cache_put (self, request->cache_key, html, strlen (html), request->cache_changes);
    return s_send (self, request, status, html, strlen (html), "text/html; charset=utf-8",
                   s_languages[language], NULL);
}

//  A page without a context of its own.
static enum MHD_Result
s_plain_page (web_t *self, web_request_t *request, unsigned int status, web_page_t page)
{
    json_t *context = json_object ();
    enum MHD_Result rc = web_page (self, request, status, page, context);
    json_decref (context);
    return rc;
}

enum MHD_Result
web_not_found (web_t *self, web_request_t *request)
{
    return s_plain_page (self, request, MHD_HTTP_NOT_FOUND, WEB_PAGE_NOT_FOUND);
}

enum MHD_Result
web_unavailable (web_t *self, web_request_t *request)
{
    return s_plain_page (self, request, MHD_HTTP_SERVICE_UNAVAILABLE, WEB_PAGE_UNAVAILABLE);
}

enum MHD_Result
web_refuse (web_t *self, web_request_t *request, unsigned int status, const char *text,
            const char *detail)
{
    json_t *context = json_object ();
    const char *words = web_text (self, request->language, text);
    json_object_set_new (context, "reason", json_string (words ? words : text));
    if (detail) {
        //  A field's label, if detail names one (field_<name>), else detail
        char name[64];
        snprintf (name, sizeof (name), "field_%s", detail);
        const char *label = web_text (self, request->language, name);
        json_object_set_new (context, "detail", json_string (label ? label : detail));
    }
    enum MHD_Result rc = web_page (self, request, status, WEB_PAGE_REFUSED, context);
    json_decref (context);
    return rc;
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

//  /static/NAME.css or NAME.js: a style sheet or script of the templates
//  folder (NAME of a-z and -).
static enum MHD_Result
s_static (web_t *self, web_request_t *request)
{
    const char *name = request->url + strlen ("/static/");
    size_t length = strlen (name);
    bool css = length > 4 && streq (name + length - 4, ".css");
    bool script = length > 3 && streq (name + length - 3, ".js");
    size_t stem = length - (css ? 4 : 3);
    bool valid = (css || script) && length < 64 && stem > 0;
    for (size_t index = 0; valid && index < stem; index++)
        valid = (name[index] >= 'a' && name[index] <= 'z') || name[index] == '-';
    char path[4096], error[512];
    size_t size = 0;
    char *text = NULL;
    if (valid) {
        snprintf (path, sizeof (path), "%s/static/%s", self->folder, name);
        text = s_read (path, STATIC_MAX, &size, error, sizeof (error));
    }
    if (!text)
        return web_not_found (self, request);
    return s_send (self, request, MHD_HTTP_OK, text, size,
                   css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", NULL, NULL);
}

//  Which page the path asks for.
static enum MHD_Result
s_route (web_t *self, web_request_t *request)
{
    const char *url = request->url;
    if (streq (url, "/") && !request->post)
        return web_catalogue (self, request);
    if (strncmp (url, "/static/", 8) == 0 && !request->post)
        return s_static (self, request);
    if (streq (url, "/datenschutz") && !request->post)
        return web_privacy (self, request);
    if (streq (url, "/kalender.ics") && !request->post)
        return web_feed (self, request, NULL);
    if (strncmp (url, "/kalender/", 10) == 0 && !request->post) {
        char topic[32];
        size_t length = strlen (url + 10);
        if (length > 4 && length < sizeof (topic) && streq (url + 10 + length - 4, ".ics")) {
            snprintf (topic, sizeof (topic), "%.*s", (int)(length - 4), url + 10);
            if (web_topic_known (topic))
                return web_feed (self, request, topic);
        }
    }
    if (strncmp (url, "/veranstaltung/", 15) == 0 && schalt_id_valid ("evt", url + 15))
        return web_event (self, request, url + 15);
    if (streq (url, "/verwaltung") || strncmp (url, "/verwaltung/", 12) == 0)
        return web_dashboard (self, request, url + strlen ("/verwaltung"));
    if (streq (url, "/registration/cancel") || streq (url, "/registration/decline") ||
        streq (url, "/registration/accept"))
        return web_link (self, request, url + strlen ("/registration/"));
    if (request->post)
        return web_refuse (self, request, MHD_HTTP_METHOD_NOT_ALLOWED, "refused_method", NULL);
    return web_not_found (self, request);
}

static enum MHD_Result
s_answer (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    web_t *self = (web_t *)arg;
    web_request_t request = {
        connection, url, streq (method, "POST"), 0, NULL, NULL, NULL, NULL, 0, false, NULL, 0};
    request.language = s_language (connection, &request.cookie);
    //  A worker answered: its response is queued here, on libmicrohttpd's thread
    s_upload_t *kept = (s_upload_t *)*state;
    if (kept && kept->job) {
        web_request_t *job = kept->job;
        if (!kept->done)
            return MHD_YES;
        if (job->stream)
            MHD_set_connection_option (connection, MHD_CONNECTION_OPTION_TIMEOUT, 60);
        enum MHD_Result rc = MHD_queue_response (connection, job->status, job->response);
        MHD_destroy_response (job->response);
        free (job);
        kept->job = NULL;
        return rc;
    }
    //  The first call is for the headers alone
    if (!*state) {
        s_upload_t *body = (s_upload_t *)zmalloc (sizeof (s_upload_t));
        assert (body);
        *state = body;
        const char *length =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Length");
        if (request.post && length && strtoull (length, NULL, 10) > WEB_BODY_MAX) {
            __atomic_add_fetch (&self->served, 1, __ATOMIC_RELAXED);
            return web_refuse (self, &request, MHD_HTTP_CONTENT_TOO_LARGE, "refused_too_large",
                               NULL);
        }
        return MHD_YES;
    }
    s_upload_t *body = (s_upload_t *)*state;
    if (*upload_size > 0) {
        //  Kept for a POST up to WEB_BODY_MAX; dropped otherwise
        if (request.post && !body->too_large && body->length + *upload_size <= WEB_BODY_MAX) {
            body->body = (char *)realloc (body->body, body->length + *upload_size + 1);
            assert (body->body);
            memcpy (body->body + body->length, upload, *upload_size);
            body->length += *upload_size;
            body->body[body->length] = 0;
        } else
            body->too_large = request.post;
        *upload_size = 0;
        return MHD_YES;
    }
    __atomic_add_fetch (&self->served, 1, __ATOMIC_RELAXED);
    if (!request.post && !streq (method, "GET") && !streq (method, "HEAD"))
        return web_refuse (self, &request, MHD_HTTP_METHOD_NOT_ALLOWED, "refused_method", NULL);
    if (body->too_large)
        return web_refuse (self, &request, MHD_HTTP_CONTENT_TOO_LARGE, "refused_too_large", NULL);
    if (request.post) {
        const char *type =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
        if (!type || strncasecmp (type, "application/x-www-form-urlencoded", 33) != 0 ||
            (type[33] && type[33] != ';'))
            return web_refuse (self, &request, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "refused_type",
                               NULL);
        char field[64], error[256];
        //  The one text area of any form: an event's description
        static const char *multiline[] = {"description", NULL};
        request.form = web_form_parse (body->body ? body->body : "", body->length, multiline, field,
                                       sizeof (field), error, sizeof (error));
        if (!request.form) {
            schalt_log_info ("web: form refused url=%s field=%s", url, field);
            return web_refuse (self, &request, MHD_HTTP_BAD_REQUEST, "refused_field",
                               field[0] ? field : NULL);
        }
    }
    //  The catalogue as it was made last, if nothing changed since
    if (streq (url, "/") && !request.post) {
        request.cache_changes = __atomic_load_n (&self->changes, __ATOMIC_ACQUIRE);
        request.cache_key = s_catalogue_key (connection, request.language);
        size_t length = 0;
        char *kept = request.cache_key ? s_cache_get (self, request.cache_key, &length) : NULL;
        if (kept) {
            free (request.cache_key);
            return s_send (self, &request, MHD_HTTP_OK, kept, length, "text/html; charset=utf-8",
                           s_languages[request.language], NULL);
        }
    }
    //  A style sheet or script is answered at once; every other page, which
    //  asks the daemons, by a worker while the connection is suspended
    if (strncmp (url, "/static/", 8) != 0) {
        pthread_mutex_lock (&self->jobs_lock);
        bool taken = !self->stopping && zlist_size (self->jobs) < JOBS_MAX;
        if (taken) {
            web_request_t *job = (web_request_t *)malloc (sizeof (web_request_t));
            assert (job);
            *job = request;
            body->job = job;
            body->done = false;
            MHD_suspend_connection (connection);
            zlist_append (self->jobs, body);
            pthread_cond_signal (&self->jobs_ready);
        }
        pthread_mutex_unlock (&self->jobs_lock);
        if (taken)
            return MHD_YES;
        web_form_destroy (&request.form);
        free (request.cache_key);
        schalt_log_warning ("web: every worker busy, %d requests waiting: 503", JOBS_MAX);
        return web_unavailable (self, &request);
    }
    enum MHD_Result rc = s_route (self, &request);
    web_form_destroy (&request.form);
    free (request.login_cookie);
    return rc;
}

//  A worker: answers the requests handed to it, one at a time, each with
//  the worker's own clients of the daemons, and resumes its connection.
static void *
s_work (void *arg)
{
    web_t *self = (web_t *)arg;
    s_worker_t worker = {NULL, NULL, NULL, NULL};
    char error[256];
    schalt_config_t *config = self->config;
    const char *names[] = {"scheduler", "registry", "notifier", "web"};
    schalt_client_t **clients[] = {&worker.scheduler, &worker.registry, &worker.notifier,
                                   &worker.own};
    for (int index = 0; index < 4; index++) {
        char setting[32];
        snprintf (setting, sizeof (setting), "%s/endpoint", names[index]);
        *clients[index] =
            schalt_client_new (self->curve, names[index], schalt_config_string (config, setting),
                               REPLY_MAX, error, sizeof (error));
        //  web_new made the same clients already: these cannot fail where those did not
        assert (*clients[index]);
    }
    s_worker = &worker;
    while (true) {
        pthread_mutex_lock (&self->jobs_lock);
        while (zlist_size (self->jobs) == 0 && !self->stopping)
            pthread_cond_wait (&self->jobs_ready, &self->jobs_lock);
        s_upload_t *kept = (s_upload_t *)zlist_pop (self->jobs);
        pthread_mutex_unlock (&self->jobs_lock);
        if (!kept)
            break; //  stopping, and nothing left to answer
        web_request_t *job = kept->job;
        s_route (self, job);
        //  What a form changed is on the next page at once, before its
        //  published event arrives
        if (job->post) {
            __atomic_add_fetch (&self->changes, 1, __ATOMIC_RELEASE);
            if (strncmp (job->url, "/verwaltung/", 12) == 0)
                __atomic_add_fetch (&self->scheduler_changes, 1, __ATOMIC_RELEASE);
        }
        if (!job->response) {
            //  A page that answered nothing is a fault of ours, not a hang
            static const char text[] = "The page could not be made.";
            job->response = MHD_create_response_from_buffer (sizeof (text) - 1, (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
            job->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        web_form_destroy (&job->form);
        free (job->login_cookie);
        job->login_cookie = NULL;
        if (job->cache_key)
            s_cache_release (self, job->cache_key); //  (kept by web_page if it was made)
        free (job->cache_key);
        job->cache_key = NULL;
        kept->done = true;
        MHD_resume_connection (job->connection);
    }
    s_worker = NULL;
    for (int index = 0; index < 4; index++)
        schalt_client_destroy (clients[index]);
    return NULL;
}

//  A request ends: its body is freed.
static void
s_completed (void *arg, struct MHD_Connection *connection, void **state,
             enum MHD_RequestTerminationCode code)
{
    (void)arg;
    (void)connection;
    (void)code;
    s_upload_t *body = (s_upload_t *)*state;
    if (body) {
        free (body->body);
        free (body);
        *state = NULL;
    }
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

//  The key that signs the forms: from the web front's own secret key, so
//  that a form served before a restart can still be sent after it; a
//  random one where CURVE is off (a benchmark's configuration).
static int
s_form_key (web_t *self, bool curve, char *error, size_t size)
{
    if (!curve) {
        randombytes_buf (self->form_key, sizeof (self->form_key));
        return 0;
    }
    zcert_t *certificate = schalt_keys_load_secret (
        schalt_config_string (self->config, "web/certificate"), error, size);
    if (!certificate)
        return -1;
    static const char context[] = "schalt-web: the signature of forms";
    crypto_generichash (self->form_key, sizeof (self->form_key), zcert_secret_key (certificate), 32,
                        (const uint8_t *)context, sizeof (context) - 1);
    zcert_destroy (&certificate);
    return 0;
}

web_t *
web_new (schalt_config_t *config)
{
    web_t *self = (web_t *)zmalloc (sizeof (web_t));
    assert (self);
    self->config = config;
    self->folder = schalt_config_string (config, "web/templates");
    self->zone = schalt_config_string (config, "schaltstelle/timezone");
    self->privacy_version = schalt_config_string (config, "web/privacy_version");
    self->base_url = schalt_config_string (config, "web/base_url");
    self->secure = strncmp (self->base_url, "https://", 8) == 0;
    self->login_hours = schalt_config_integer (config, "web/login_hours");
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
    bool version_valid = self->privacy_version[0] != 0;
    for (const char *at = self->privacy_version; *at; at++)
        version_valid = version_valid && (isalnum ((unsigned char)*at) || strchr ("._-", *at));
    if (!version_valid) {
        schalt_log_error ("web: cannot start: web/privacy_version '%s' must be letters, digits, "
                          ". _ and - (such as 2026-12 or 3)",
                          self->privacy_version);
        web_destroy (&self);
        return NULL;
    }
    if (s_form_key (self, curve, error, sizeof (error)) != 0) {
        schalt_log_error ("web: cannot start: %s", error);
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
    if (self->registry)
        self->notifier = schalt_client_new (self->curve, "notifier",
                                            schalt_config_string (config, "notifier/endpoint"),
                                            REPLY_MAX, error, sizeof (error));
    if (self->notifier)
        self->own =
            schalt_client_new (self->curve, "web", schalt_config_string (config, "web/endpoint"),
                               REPLY_MAX, error, sizeof (error));
    //  What a login with an unknown name is checked against, so that it
    //  takes as long as one with a known name and a wrong password
    char password[32];
    randombytes_buf (password, sizeof (password));
    if (self->own && crypto_pwhash_str (self->dummy_hash, password, sizeof (password),
                                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf (error, sizeof (error), "out of memory for a password hash");
        schalt_client_destroy (&self->own);
    }
    if (self->own && s_load_templates (self, error, sizeof (error)) == 0)
        self->live = web_live_new (self, error, sizeof (error));
    self->cache = (web_cached_t *)zmalloc (CACHE_SLOTS * sizeof (web_cached_t));
    self->facts = (web_facts_t *)zmalloc (FACTS_SLOTS * sizeof (web_facts_t));
    pthread_mutex_init (&self->cache_lock, NULL);
    if (self->live) {
        self->jobs = zlist_new ();
        pthread_mutex_init (&self->jobs_lock, NULL);
        pthread_cond_init (&self->jobs_ready, NULL);
        size_t wanted = (size_t)schalt_config_integer (config, "web/workers");
        self->workers = (pthread_t *)zmalloc (wanted * sizeof (pthread_t));
        while (self->worker_count < wanted &&
               pthread_create (&self->workers[self->worker_count], NULL, s_work, self) == 0)
            self->worker_count++;
        if (self->worker_count < wanted) {
            snprintf (error, sizeof (error), "cannot start a worker thread");
            web_live_stop (self->live);
        }
    }
    if (!self->live || self->worker_count == 0 ||
        self->worker_count < (size_t)schalt_config_integer (config, "web/workers")) {
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
    //  Each connection is a descriptor: the soft limit (often 1,024) is raised
    //  towards the hard one, so that web/connections can be held
    struct rlimit files;
    rlim_t wanted = (rlim_t)schalt_config_integer (config, "web/connections") + 512;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < wanted) {
        files.rlim_cur =
            files.rlim_max == RLIM_INFINITY || files.rlim_max > wanted ? wanted : files.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &files) != 0 || files.rlim_cur < wanted)
            schalt_log_warning ("web: only %llu open files allowed (ulimit -n): fewer than "
                                "web/connections can be held",
                                (unsigned long long)files.rlim_cur);
    }
    self->httpd = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        s_answer, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)schalt_config_integer (config, "web/connections"),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)schalt_config_integer (config, "web/timeout"),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        s_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, s_unescape, NULL, MHD_OPTION_END);
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
    //  The workers answer what they were handed and stop, and the live streams
    //  end: libmicrohttpd stops no suspended connection
    if (self->jobs) {
        pthread_mutex_lock (&self->jobs_lock);
        self->stopping = true;
        pthread_cond_broadcast (&self->jobs_ready);
        pthread_mutex_unlock (&self->jobs_lock);
        for (size_t index = 0; index < self->worker_count; index++)
            pthread_join (self->workers[index], NULL);
    }
    web_live_stop (self->live);
    if (self->httpd) {
        for (int waited = 0; waited < 100 && self->live && web_live_listeners (self->live) > 0;
             waited++)
            zclock_sleep (10);
        MHD_stop_daemon (self->httpd);
    }
    web_live_destroy (&self->live);
    if (self->jobs) {
        zlist_destroy (&self->jobs);
        pthread_mutex_destroy (&self->jobs_lock);
        pthread_cond_destroy (&self->jobs_ready);
    }
    free (self->workers);
    if (self->cache) {
        for (int index = 0; index < CACHE_SLOTS; index++)
            free (self->cache[index].html);
        free (self->cache);
        for (int index = 0; index < FACTS_SLOTS; index++) {
            free (self->facts[index].event);
            free (self->facts[index].sessions);
        }
        free (self->facts);
        pthread_mutex_destroy (&self->cache_lock);
    }
    for (int index = 0; index < WEB_PAGES; index++)
        web_html_destroy (&self->pages[index]);
    for (int index = 0; index < 2; index++)
        json_decref (self->texts[index]);
    schalt_client_destroy (&self->scheduler);
    schalt_client_destroy (&self->registry);
    schalt_client_destroy (&self->own);
    schalt_client_destroy (&self->notifier);
    schalt_curve_destroy (&self->curve);
    sodium_memzero (self->form_key, sizeof (self->form_key));
    free (self);
    *self_p = NULL;
}
