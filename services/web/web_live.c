/*  web_live - the dashboard's live fill levels: /verwaltung/live, a stream of
    server-sent events (text/event-stream) for a logged-in organiser.

    An actor subscribes to the registry's published registration.* events
    and the scheduler's session.* events (their PUB sockets, with the web
    front's key). For each, it asks the registry for the seats of the
    session's event (session.seats: counts only, no person) and sends every
    listener one `fill` event a session: {"session", "taken", "capacity",
    "waiting"}; the overview's script (static/live.js) writes them into the
    rows. Every 15 s a comment line keeps proxies from closing the stream.

    A listener's connection is suspended (libmicrohttpd) while it has
    nothing to send, so the one thread that serves the pages never waits for
    it; the actor resumes it when there is. What waits for a listener is
    bounded (LISTENER_PENDING_MAX; a listener that falls behind is closed and
    its browser reconnects), as is the number of listeners (LISTENERS_MAX),
    and a stream ends after an hour, so the browser reconnects and its
    login is checked again.
*/
#include "web_internal.h"

#include <pthread.h>

#define LISTENERS_MAX 256
#define LISTENER_PENDING_MAX (64 * 1024)
#define STREAM_SECONDS 3600
#define KEEPALIVE_MS 15000

typedef struct _s_listener_t s_listener_t;
struct _s_listener_t {
    web_live_t *live;
    struct MHD_Connection *connection;
    char *pending; //  what is still to be sent
    size_t length;
    bool suspended;
    bool behind; //  fell behind: the stream ends
    time_t opened;
    s_listener_t *next;
};

struct _web_live_t {
    pthread_mutex_t lock;
    s_listener_t *listeners;
    size_t count;
    bool stopping;
    zactor_t *actor;
    //  Made here, used only by the actor
    zsock_t *registry_events;
    zsock_t *scheduler_events;
    schalt_client_t *registry;
    uint64_t sent;
    uint64_t *changes;           //  the web front's count of published changes
    uint64_t *scheduler_changes; //  and of the scheduler's
};

//  --------------------------------------------------------------------------
//  Listeners (the page server's thread, and the actor's, under the lock)

//  Appends text to every listener and wakes those that sleep. Called with
//  the lock held.
static void
s_broadcast_locked (web_live_t *self, const char *text)
{
    size_t length = strlen (text);
    for (s_listener_t *listener = self->listeners; listener; listener = listener->next) {
        if (listener->behind)
            continue;
        if (listener->length + length > LISTENER_PENDING_MAX)
            listener->behind = true;
        else {
            listener->pending = (char *)realloc (listener->pending, listener->length + length);
            assert (listener->pending);
            memcpy (listener->pending + listener->length, text, length);
            listener->length += length;
        }
        if (listener->suspended) {
            listener->suspended = false;
            MHD_resume_connection (listener->connection);
        }
    }
}

static void
s_broadcast (web_live_t *self, const char *text)
{
    pthread_mutex_lock (&self->lock);
    s_broadcast_locked (self, text);
    self->sent++;
    pthread_mutex_unlock (&self->lock);
}

//  libmicrohttpd asks for the stream's next octets.
static ssize_t
s_read (void *arg, uint64_t position, char *buffer, size_t max)
{
    (void)position;
    s_listener_t *listener = (s_listener_t *)arg;
    web_live_t *self = listener->live;
    pthread_mutex_lock (&self->lock);
    ssize_t given = 0;
    if (self->stopping || listener->behind ||
        (schalt_clock_now () - listener->opened > STREAM_SECONDS && listener->length == 0))
        given = MHD_CONTENT_READER_END_OF_STREAM;
    else if (listener->length > 0) {
        size_t count = listener->length < max ? listener->length : max;
        memcpy (buffer, listener->pending, count);
        memmove (listener->pending, listener->pending + count, listener->length - count);
        listener->length -= count;
        given = (ssize_t)count;
    } else {
        //  Nothing to send: sleep until the actor has something (under the
        //  lock, so that its resume comes after this suspend)
        listener->suspended = true;
        MHD_suspend_connection (listener->connection);
    }
    pthread_mutex_unlock (&self->lock);
    return given;
}

//  The stream ended (the browser left, or it was closed): the listener goes.
static void
s_free (void *arg)
{
    s_listener_t *listener = (s_listener_t *)arg;
    web_live_t *self = listener->live;
    pthread_mutex_lock (&self->lock);
    for (s_listener_t **at = &self->listeners; *at; at = &(*at)->next)
        if (*at == listener) {
            *at = listener->next;
            self->count--;
            break;
        }
    pthread_mutex_unlock (&self->lock);
    free (listener->pending);
    free (listener);
}

enum MHD_Result
web_live_stream (web_t *self, web_request_t *request)
{
    web_live_t *live = self->live;
    pthread_mutex_lock (&live->lock);
    bool full = live->count >= LISTENERS_MAX || live->stopping;
    if (!full)
        live->count++;
    pthread_mutex_unlock (&live->lock);
    if (full)
        return web_unavailable (self, request);
    s_listener_t *listener = (s_listener_t *)zmalloc (sizeof (s_listener_t));
    assert (listener);
    listener->live = live;
    listener->connection = request->connection;
    listener->opened = schalt_clock_now ();
    //  The browser reconnects 5 s after the stream ends
    static const char hello[] = "retry: 5000\n: fill levels of the sessions follow\n\n";
    listener->pending = strdup (hello);
    listener->length = strlen (hello);
    pthread_mutex_lock (&live->lock);
    listener->next = live->listeners;
    live->listeners = listener;
    pthread_mutex_unlock (&live->lock);
    struct MHD_Response *response =
        MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 4096, s_read, listener, s_free);
    web_headers (self, response, "text/event-stream; charset=utf-8", NULL);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    request->stream = true;
    return web_queue (self, request, MHD_HTTP_OK, response);
}

//  --------------------------------------------------------------------------
//  The actor

//  The session a published change is about, or NULL.
static const char *
s_session_of (const char *topic, json_t *body)
{
    json_t *session = NULL;
    if (strncmp (topic, "session.", 8) == 0)
        session = json_object_get (json_object_get (body, "session"), "id");
    else if (strncmp (topic, "registrations.", 14) == 0)
        session = json_object_get (json_array_get (json_object_get (body, "registrations"), 0),
                                   "session");
    else if (strncmp (topic, "registration.", 13) == 0)
        session = json_object_get (json_object_get (body, "registration"), "session");
    return json_string_value (session);
}

//  A published change: the fill levels of its event's sessions go out.
static void
s_changed (web_live_t *self, zmsg_t *msg)
{
    //  Every change makes the kept pages out of date (web_cache_get)
    __atomic_add_fetch (self->changes, 1, __ATOMIC_RELEASE);
    char *topic = zmsg_popstr (msg);
    char *id = zmsg_popstr (msg);
    char *json = zmsg_popstr (msg);
    if (topic && (strncmp (topic, "session.", 8) == 0 || strncmp (topic, "event.", 6) == 0))
        __atomic_add_fetch (self->scheduler_changes, 1, __ATOMIC_RELEASE);
    json_t *body = json ? json_loads (json, 0, NULL) : NULL;
    const char *session = topic && body ? s_session_of (topic, body) : NULL;
    char event[16];
    //  The registry is asked only when someone watches: a burst of registrations
    //  with no dashboard open costs it nothing
    if (session && web_live_listeners (self) > 0 &&
        schalt_id_event_of (session, event, sizeof (event))) {
        //  A session's capacity is the scheduler's news before the registry has it
        json_int_t capacity = -1;
        if (strncmp (topic, "session.", 8) == 0)
            capacity = json_integer_value (
                json_object_get (json_object_get (body, "session"), "capacity"));
        char made[32], *ask = zsys_sprintf ("{\"event\":\"%s\"}", event);
        schalt_client_outcome_t outcome;
        schalt_envelope_t *reply = schalt_client_request (
            self->registry, "session.seats", schalt_id_make ("web", made, sizeof (made)), ask, NULL,
            NULL, 1000, 1, NULL, NULL, &outcome);
        zstr_free (&ask);
        size_t index;
        json_t *seats;
        json_t *sessions = reply && schalt_envelope_status (reply) == 200
                               ? json_object_get (schalt_envelope_body (reply), "sessions")
                               : NULL;
        json_array_foreach (sessions, index, seats)
        {
            const char *its = json_string_value (json_object_get (seats, "id"));
            json_int_t shown = json_integer_value (json_object_get (seats, "capacity"));
            if (its && streq (its, session) && capacity >= 0)
                shown = capacity;
            char line[256];
            snprintf (line, sizeof (line),
                      "event: fill\ndata: {\"session\":\"%s\",\"taken\":%lld,\"capacity\":%lld,"
                      "\"waiting\":%lld}\n\n",
                      its ? its : "",
                      (long long)json_integer_value (json_object_get (seats, "taken")),
                      (long long)shown,
                      (long long)json_integer_value (json_object_get (seats, "waiting")));
            if (its && web_event_id_valid ("ses", its))
                s_broadcast (self, line);
        }
        schalt_envelope_destroy (&reply);
    }
    json_decref (body);
    zstr_free (&topic);
    zstr_free (&id);
    zstr_free (&json);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    web_live_t *self = (web_live_t *)args;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->registry_events, self->scheduler_events, NULL);
    int64_t keepalive = zclock_mono () + KEEPALIVE_MS;
    while (true) {
        int64_t wait = keepalive - zclock_mono ();
        void *which = zpoller_wait (poller, wait > 0 ? (int)wait : 0);
        if (which == pipe) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (term)
                break;
        } else if (which) {
            zmsg_t *msg = zmsg_recv (which);
            if (msg && zmsg_size (msg) == 3)
                s_changed (self, msg);
            zmsg_destroy (&msg);
        } else if (zpoller_terminated (poller))
            break;
        if (zclock_mono () >= keepalive) {
            s_broadcast (self, ": keepalive\n\n");
            keepalive = zclock_mono () + KEEPALIVE_MS;
        }
    }
    zpoller_destroy (&poller);
}

//  --------------------------------------------------------------------------
//  Start and stop

web_live_t *
web_live_new (web_t *web, char *error, size_t size)
{
    web_live_t *self = (web_live_t *)zmalloc (sizeof (web_live_t));
    assert (self);
    pthread_mutex_init (&self->lock, NULL);
    self->changes = &web->changes;
    self->scheduler_changes = &web->scheduler_changes;
    schalt_config_t *config = web->config;
    self->registry_events = schalt_curve_client (web->curve, ZMQ_SUB, "registry", error, size);
    if (self->registry_events)
        self->scheduler_events =
            schalt_curve_client (web->curve, ZMQ_SUB, "scheduler", error, size);
    if (self->scheduler_events)
        self->registry = schalt_client_new (web->curve, "registry",
                                            schalt_config_string (config, "registry/endpoint"),
                                            1024 * 1024, error, size);
    if (!self->registry) {
        web_live_destroy (&self);
        return NULL;
    }
    zsock_set_subscribe (self->registry_events, "registration");
    zsock_set_subscribe (self->scheduler_events, "session.");
    zsock_set_subscribe (self->scheduler_events, "event.");
    zsock_set_rcvhwm (self->registry_events, 10000);
    zsock_set_rcvhwm (self->scheduler_events, 10000);
    if (zsock_connect (self->registry_events, "%s",
                       schalt_config_string (config, "registry/events")) != 0 ||
        zsock_connect (self->scheduler_events, "%s",
                       schalt_config_string (config, "scheduler/events")) != 0) {
        snprintf (error, size,
                  "cannot connect to the daemons' events (registry/events, "
                  "scheduler/events)");
        web_live_destroy (&self);
        return NULL;
    }
    self->actor = zactor_new (s_actor, self);
    return self;
}

void
web_live_stop (web_live_t *self)
{
    if (!self)
        return;
    zactor_destroy (&self->actor);
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    for (s_listener_t *listener = self->listeners; listener; listener = listener->next)
        if (listener->suspended) {
            listener->suspended = false;
            MHD_resume_connection (listener->connection);
        }
    pthread_mutex_unlock (&self->lock);
}

void
web_live_destroy (web_live_t **self_p)
{
    web_live_t *self = *self_p;
    if (!self)
        return;
    web_live_stop (self);
    zsock_destroy (&self->registry_events);
    zsock_destroy (&self->scheduler_events);
    schalt_client_destroy (&self->registry);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

uint64_t
web_live_listeners (web_live_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t count = self->count;
    pthread_mutex_unlock (&self->lock);
    return count;
}
