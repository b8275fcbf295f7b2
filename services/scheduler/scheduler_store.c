/*  scheduler_store - the scheduler's keys and scripts. See scheduler_store.h. */
#include "scheduler_store.h"

//  The scripts, embedded from lua/ at build time.
extern const char scheduler_lua_common[];
extern const char scheduler_lua_event_create[], scheduler_lua_event_get[],
    scheduler_lua_event_list[], scheduler_lua_event_update[], scheduler_lua_event_cancel[],
    scheduler_lua_session_create[], scheduler_lua_session_get[], scheduler_lua_session_list[],
    scheduler_lua_session_update[], scheduler_lua_session_cancel[];

#define PREFIX "scheduler:{events}:"
#define KEY_MAX 160

struct _scheduler_store_t {
    schalt_server_t *server;
};

static const schalt_script_t s_scripts[] = {{"event_create", scheduler_lua_event_create},
                                            {"event_get", scheduler_lua_event_get},
                                            {"event_list", scheduler_lua_event_list},
                                            {"event_update", scheduler_lua_event_update},
                                            {"event_cancel", scheduler_lua_event_cancel},
                                            {"session_create", scheduler_lua_session_create},
                                            {"session_get", scheduler_lua_session_get},
                                            {"session_list", scheduler_lua_session_list},
                                            {"session_update", scheduler_lua_session_update},
                                            {"session_cancel", scheduler_lua_session_cancel},
                                            {NULL, NULL}};

scheduler_store_t *
scheduler_store_new (schalt_server_t *server)
{
    scheduler_store_t *self = (scheduler_store_t *)zmalloc (sizeof (scheduler_store_t));
    assert (self);
    self->server = server;
    if (schalt_server_scripts (server, scheduler_lua_common, s_scripts) != 0)
        scheduler_store_destroy (&self);
    return self;
}

void
scheduler_store_destroy (scheduler_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  Queues a state-changing script with the request key in the {events} tag.
static void
s_change (schalt_call_t *call, const char *script, int nkeys, const char **keys, int nargs,
          const char **args)
{
    char request[KEY_MAX];
    snprintf (request, KEY_MAX, PREFIX "request:%s", schalt_call_id (call));
    schalt_call_change (call, script, request, nkeys, keys, nargs, args);
}

void
scheduler_store_event_create (scheduler_store_t *self, schalt_call_t *call, const char *id,
                              const char *event)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "event:%s", id);
    const char *keys[] = {key, PREFIX "index"};
    const char *args[] = {event};
    s_change (call, "event_create", 2, keys, 1, args);
}

void
scheduler_store_event_get (scheduler_store_t *self, schalt_call_t *call, const char *id)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "event:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id};
    schalt_call_eval (call, "event_get", 1, keys, 1, args);
}

void
scheduler_store_event_list (scheduler_store_t *self, schalt_call_t *call, time_t from, time_t to,
                            bool include_cancelled)
{
    (void)self;
    char from_text[24], to_text[24];
    snprintf (from_text, sizeof (from_text), "%lld", (long long)from);
    snprintf (to_text, sizeof (to_text), "%lld", (long long)to);
    const char *keys[] = {PREFIX "index"};
    const char *args[] = {from_text, to_text, include_cancelled ? "1" : "0"};
    schalt_call_eval (call, "event_list", 1, keys, 3, args);
}

void
scheduler_store_event_update (scheduler_store_t *self, schalt_call_t *call, const char *id,
                              const char *changes)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "event:%s", id);
    const char *keys[] = {key, PREFIX "index"};
    const char *args[] = {id, changes};
    s_change (call, "event_update", 2, keys, 2, args);
}

void
scheduler_store_event_cancel (scheduler_store_t *self, schalt_call_t *call, const char *id,
                              const char *reason, const char *now)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "event:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id, reason, now};
    s_change (call, "event_cancel", 1, keys, 3, args);
}

void
scheduler_store_session_create (scheduler_store_t *self, schalt_call_t *call, const char *event_id,
                                const char *id, const char *session)
{
    (void)self;
    char event_key[KEY_MAX], sessions_key[KEY_MAX], session_key[KEY_MAX];
    snprintf (event_key, KEY_MAX, PREFIX "event:%s", event_id);
    snprintf (sessions_key, KEY_MAX, PREFIX "event:%s:sessions", event_id);
    snprintf (session_key, KEY_MAX, PREFIX "session:%s", id);
    const char *keys[] = {event_key, sessions_key, session_key};
    const char *args[] = {session};
    s_change (call, "session_create", 3, keys, 1, args);
}

void
scheduler_store_session_get (scheduler_store_t *self, schalt_call_t *call, const char *id)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "session:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id};
    schalt_call_eval (call, "session_get", 1, keys, 1, args);
}

void
scheduler_store_session_list (scheduler_store_t *self, schalt_call_t *call, const char *event_id,
                              bool include_cancelled)
{
    (void)self;
    char event_key[KEY_MAX], sessions_key[KEY_MAX];
    snprintf (event_key, KEY_MAX, PREFIX "event:%s", event_id);
    snprintf (sessions_key, KEY_MAX, PREFIX "event:%s:sessions", event_id);
    const char *keys[] = {event_key, sessions_key};
    const char *args[] = {event_id, include_cancelled ? "1" : "0"};
    schalt_call_eval (call, "session_list", 2, keys, 2, args);
}

void
scheduler_store_session_update (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                const char *changes)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "session:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id, changes};
    s_change (call, "session_update", 1, keys, 2, args);
}

void
scheduler_store_session_cancel (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                const char *reason, const char *now)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "session:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id, reason, now};
    s_change (call, "session_cancel", 1, keys, 3, args);
}
