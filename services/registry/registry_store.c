/*  registry_store - the registry's keys and scripts. See registry_store.h. */
#include "registry_store.h"

extern const char registry_lua_common[], registry_lua_session_facts[],
    registry_lua_registration_create[], registry_lua_registration_get[],
    registry_lua_registration_list[];

#define KEY_MAX 192

struct _registry_store_t {
    schalt_server_t *server;
};

static const schalt_script_t s_scripts[] = {
    {"session_facts", registry_lua_session_facts},
    {"registration_create", registry_lua_registration_create},
    {"registration_get", registry_lua_registration_get},
    {"registration_list", registry_lua_registration_list},
    {NULL, NULL}};

registry_store_t *
registry_store_new (schalt_server_t *server)
{
    registry_store_t *self = (registry_store_t *)zmalloc (sizeof (registry_store_t));
    assert (self);
    self->server = server;
    if (schalt_server_scripts (server, registry_lua_common, s_scripts) != 0)
        registry_store_destroy (&self);
    return self;
}

void
registry_store_destroy (registry_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  Writes registry:{session}:<name> into key.
static const char *
s_key (char key[KEY_MAX], const char *session_id, const char *name)
{
    snprintf (key, KEY_MAX, "registry:{%s}:%s", session_id, name);
    return key;
}

//  Queues a state-changing script with the request key in the session's tag.
static void
s_change (schalt_call_t *call, const char *script, const char *session_id, int nkeys,
          const char **keys, int nargs, const char **args)
{
    char request[KEY_MAX + 80];
    snprintf (request, sizeof (request), "registry:{%s}:request:%s", session_id,
              schalt_call_id (call));
    schalt_call_change (call, script, request, nkeys, keys, nargs, args);
}

void
registry_store_session_facts (registry_store_t *self, schalt_call_t *call, const char *session_id,
                              const char *facts, time_t start, time_t end)
{
    (void)self;
    char key[KEY_MAX], start_text[24], end_text[24];
    snprintf (start_text, sizeof (start_text), "%lld", (long long)start);
    snprintf (end_text, sizeof (end_text), "%lld", (long long)end);
    const char *keys[] = {s_key (key, session_id, "session")};
    const char *args[] = {facts, start_text, end_text};
    s_change (call, "session_facts", session_id, 1, keys, 3, args);
}

void
registry_store_registration_create (registry_store_t *self, schalt_call_t *call,
                                    const char *session_id, const char *registration,
                                    const char *notice_id)
{
    (void)self;
    char key[KEY_MAX];
    const char *keys[] = {s_key (key, session_id, "session")};
    const char *args[] = {registration, notice_id};
    s_change (call, "registration_create", session_id, 1, keys, 2, args);
}

void
registry_store_registration_get (registry_store_t *self, schalt_call_t *call,
                                 const char *session_id, const char *id)
{
    (void)self;
    char key[KEY_MAX], name[64];
    snprintf (name, sizeof (name), "registration:%s", id);
    const char *keys[] = {s_key (key, session_id, name)};
    const char *args[] = {id};
    schalt_call_eval (call, "registration_get", 1, keys, 1, args);
}

void
registry_store_registration_list (registry_store_t *self, schalt_call_t *call,
                                  const char *session_id)
{
    (void)self;
    char key[KEY_MAX];
    const char *keys[] = {s_key (key, session_id, "session")};
    const char *args[] = {session_id};
    schalt_call_eval (call, "registration_list", 1, keys, 1, args);
}
