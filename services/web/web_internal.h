/*  web_internal - what the parts of schalt-web share: the daemon's state, a
    request as the pages see it, asking the daemons, rendering a page, and
    the forms' hidden fields (web.c). The public pages are in web_public.c,
    the pages behind the links in e-mails in web_links.c, the organisers'
    dashboard in web_dashboard.c.
*/
#ifndef WEB_INTERNAL_H_INCLUDED
#define WEB_INTERNAL_H_INCLUDED

#include "web.h"
#include "web_form.h"
#include "web_html.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>

#define WEB_BODY_MAX (16 * 1024) //  octets of a form's body; more is 413
#define WEB_FORM_HOURS 24        //  a form served may be sent for this long

typedef enum {
    WEB_PAGE_CATALOGUE,
    WEB_PAGE_EVENT,
    WEB_PAGE_REGISTERED,
    WEB_PAGE_LINK,
    WEB_PAGE_LINK_DONE,
    WEB_PAGE_PRIVACY,
    WEB_PAGE_NOT_FOUND,
    WEB_PAGE_UNAVAILABLE,
    WEB_PAGE_REFUSED,
    WEB_PAGE_LOGIN,
    WEB_PAGE_DASHBOARD,
    WEB_PAGE_DASHBOARD_SESSION,
    WEB_PAGE_CHECKIN,
    WEB_PAGE_OFFICE_FORM,
    WEB_PAGE_NOTICES,
    WEB_PAGES
} web_page_t;

//  One request as a page handler sees it.
typedef struct {
    struct MHD_Connection *connection;
    const char *url;
    bool post;          //  else GET or HEAD
    int language;       //  0 de, 1 en
    const char *cookie; //  the language cookie to set, or NULL
    web_form_t *form;   //  a POST's form, read and checked
    char *login_cookie; //  a login cookie to set or clear, or NULL (freed after)
    //  Set when a worker answers it (web.c): the response waits here until
    //  libmicrohttpd's thread queues it
    struct MHD_Response *response;
    unsigned int status;
    bool stream; //  the response is a stream (no idle timeout while it runs)
    //  A page the same for every visitor (the catalogue) is kept under this
    //  key once made, as of the daemons' state at changes (web_cache_*)
    char *cache_key;
    uint64_t cache_changes;
} web_request_t;

//  The organiser logged in to the dashboard: their name and role (from the
//  web front's own login.check), sent to the daemons as the request's
//  fifth frame so that they check that role and audit that name.
typedef struct {
    char name[40];
    char role[16];
    char digest[65]; //  the SHA-256 of the login cookie, in hex
} web_login_t;

//  What a daemon answered: its status (0: no answer, or not in time) and
//  its body (the caller decrefs it; NULL without an answer).
typedef struct {
    int status;
    json_t *body;
} web_answer_t;

//  The live fill levels' listeners and the actor that feeds them (web_live.c).
typedef struct _web_live_t web_live_t;

//  A page kept for every visitor, and an event's facts (web.c).
typedef struct _web_cached_t web_cached_t;
typedef struct _web_facts_t web_facts_t;

struct _web_t {
    schalt_config_t *config;
    schalt_curve_t *curve;
    schalt_client_t *scheduler;
    schalt_client_t *registry;
    schalt_client_t *notifier;
    schalt_client_t *own; //  this daemon's own ROUTER: the accounts and logins
    web_live_t *live;     //  /verwaltung/live
    bool secure;          //  web/base_url is https://: Secure cookies and HSTS
    long login_hours;
    char dummy_hash[crypto_pwhash_STRBYTES]; //  checked for an unknown name
    struct MHD_Daemon *httpd;
    const char *folder;
    const char *zone;
    const char *privacy_version;
    const char *base_url;
    web_html_t *pages[WEB_PAGES];
    json_t *texts[2];        //  de.json, en.json
    uint8_t form_key[32];    //  signs the forms' hidden fields
    uint64_t served, failed; //  counted atomically (by the workers)
    //  Changes the daemons published (web_live.c counts them): a kept page
    //  made before the last one is out of date
    uint64_t changes;
    uint64_t scheduler_changes; //  of those, the scheduler's (events, sessions)
    web_cached_t *cache;
    web_facts_t *facts;
    pthread_mutex_t cache_lock;
    //  The workers that answer pages (web.c): a request that asks a daemon
    //  waits in one of them, with its connection suspended, never in
    //  libmicrohttpd's one thread
    zlist_t *jobs;
    pthread_mutex_t jobs_lock;
    pthread_cond_t jobs_ready;
    pthread_t *workers;
    size_t worker_count;
    bool stopping;
};

//  Asks a daemon with request id (NULL: a new one) and body (borrowed).
web_answer_t web_ask (web_t *self, schalt_client_t *daemon, const char *command, const char *id,
                      json_t *body);

//  The seats of an event's sessions (the registry's session.seats), asked
//  once for at most a second: a page that shows them shows capacities
//  without them. Once the registry did not answer (*down), the rest of the
//  page's events are not asked.
web_answer_t web_seats (web_t *self, const char *event, const web_login_t *login, bool *down);

//  An event (the scheduler's event.get) and its sessions (session.list), as
//  kept since the scheduler last published a change (at most 10 s), else
//  asked. The caller decrefs both bodies.
void web_event_facts (web_t *self, const char *id, web_answer_t *event, web_answer_t *sessions);

//  The same on behalf of the organiser logged in (NULL: no one).
web_answer_t web_ask_for (web_t *self, schalt_client_t *daemon, const char *command, const char *id,
                          json_t *body, const web_login_t *login);

//  Renders page with context (borrowed; the texts, title and languages are
//  added) and queues it with status.
enum MHD_Result web_page (web_t *self, web_request_t *request, unsigned int status, web_page_t page,
                          json_t *context);

//  The page that tells that a request is refused (400, 403, 413 and the
//  like): what is wrong (a text of de.json/en.json, by its name) and, if
//  given, the field (its label's text name) or a detail.
enum MHD_Result web_refuse (web_t *self, web_request_t *request, unsigned int status,
                            const char *text, const char *detail);

//  Answers request with response (taken) and status: queued at once on
//  libmicrohttpd's thread, or kept for it when a worker made it.
enum MHD_Result web_queue (web_t *self, web_request_t *request, unsigned int status,
                           struct MHD_Response *response);

//  Adds the headers every response carries (the security headers; the
//  content type, and the language if not NULL).
void web_headers (web_t *self, struct MHD_Response *response, const char *type,
                  const char *language);

//  Whether id is the id of an event's thing: kind ("ses", "reg") + "-" +
//  the event's ten characters + "-" + ten more.
bool web_event_id_valid (const char *kind, const char *id);

//  A redirect (303 See Other) to location, a path of this web front.
enum MHD_Result web_redirect (web_t *self, web_request_t *request, const char *location);

//  The 404 page, and the page that says the daemons do not answer (503).
enum MHD_Result web_not_found (web_t *self, web_request_t *request);
enum MHD_Result web_unavailable (web_t *self, web_request_t *request);

//  A text of the request's language by its name, or NULL.
const char *web_text (web_t *self, int language, const char *name);

//  date ("13.03.2027" in German, "2027-03-13" in English) and clock
//  ("10:00") of an RFC 3339 instant in the installation's zone; empty if it
//  is none.
void web_local (web_t *self, const char *instant, int language, char date[16], char clock[8]);

//  A form's hidden fields: a request id and the signature that ties it to
//  this web front and the time it was served (form[64]), so that a form
//  sent from elsewhere (CSRF) is refused and a form sent twice is one
//  request. web_form_fields adds "request" and "csrf" to context, a new id if
//  request is NULL.
void web_form_fields (web_t *self, json_t *context, const char *request);

//  Checks a POST's request and csrf fields: 0 if the form is this web
//  front's and in time, -1 after answering (403 for a missing or wrong
//  signature, 400 for a missing request id); 1 if it is only out of time
//  (the caller serves the form again, with new fields).
int web_form_check (web_t *self, web_request_t *request);

//  Queues body (length octets, freed by the server) with status and type,
//  and the headers every response carries.
enum MHD_Result web_send (web_t *self, web_request_t *request, unsigned int status, char *body,
                          size_t length, const char *type);

//  The five transitions (the sessions' topics), NULL-terminated, and
//  whether topic is one of them.
extern const char *web_topics[];
bool web_topic_known (const char *topic);

//  Every upcoming event, each {"event", "sessions"} (the scheduler's
//  event.list and session.list), in start order; NULL if the scheduler did
//  not answer.
json_t *web_upcoming (web_t *self);

//  The public pages (web_public.c).
enum MHD_Result web_catalogue (web_t *self, web_request_t *request);
enum MHD_Result web_event (web_t *self, web_request_t *request, const char *id);
enum MHD_Result web_privacy (web_t *self, web_request_t *request);

//  The iCalendar feeds of the catalogue (web_feed.c): every upcoming
//  session, or those of topic (NULL: all).
enum MHD_Result web_feed (web_t *self, web_request_t *request, const char *topic);

//  The pages behind the links in e-mails (web_links.c): action is cancel,
//  decline or accept.
enum MHD_Result web_link (web_t *self, web_request_t *request, const char *action);

//  The organisers' dashboard (web_dashboard.c), every path under
//  /verwaltung; path is what follows it ("", "/anmelden", ...).
enum MHD_Result web_dashboard (web_t *self, web_request_t *request, const char *path);

//  The dashboard's forms (web_office.c): path is what follows /verwaltung
//  (/veranstaltung/neu, /angebot/<ses>/bearbeiten, ...).
enum MHD_Result web_office (web_t *self, web_request_t *request, const web_login_t *login,
                            const char *path);

//  The live fill levels (web_live.c): subscribes to the registry's and the
//  scheduler's events. NULL with error if it cannot.
web_live_t *web_live_new (web_t *web, char *error, size_t size);

//  Stops feeding and wakes every listener, so that their streams end (before
//  the web server stops); destroy frees it (after the web server stopped).
void web_live_stop (web_live_t *self);
void web_live_destroy (web_live_t **self_p);

//  How many streams are open.
uint64_t web_live_listeners (web_live_t *self);

//  GET /verwaltung/live for a logged-in organiser: the stream.
enum MHD_Result web_live_stream (web_t *self, web_request_t *request);

#endif
