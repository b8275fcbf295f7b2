/*  registry - the registry service's handlers. See registry.h. */
#include "registry.h"
#include "registry_store.h"

//  The ten characters that make a session id unique ("ses-XXXXXXXXXX").
#define SESSION_PREFIX_LENGTH 4

//  --------------------------------------------------------------------------
//  Session facts, from the scheduler

static void
s_session_facts (schalt_call_t *call, void *service)
{
    registry_store_t *store = (registry_store_t *)service;
    json_t *body = schalt_call_body (call);
    json_t *session = json_object_get (body, "session");
    time_t start = 0, end = 0;
    //  The schema checked both instants' format, but RFC 3339 allows some we
    //  do not take (the year 0000)
    const char *names[] = {"start", "end"};
    time_t *instants[] = {&start, &end};
    for (int index = 0; index < 2; index++)
        if (schalt_time_parse_instant (json_string_value (json_object_get (session, names[index])),
                                       instants[index]) != 0) {
            schalt_call_fail (call, 400, "invalid", index ? "/session/end" : "/session/start",
                              "session/%s must be a date and time from the year 1 on, as in "
                              "RFC 3339",
                              names[index]);
            return;
        }
    char *facts = json_dumps (body, JSON_COMPACT);
    registry_store_session_facts (store, call, json_string_value (json_object_get (session, "id")),
                                  facts, start, end);
    free (facts);
}

//  --------------------------------------------------------------------------
//  Registrations

static void
s_registration_create (schalt_call_t *call, void *service)
{
    registry_store_t *store = (registry_store_t *)service;
    json_t *body = schalt_call_body (call);
    const char *session_id = json_string_value (json_object_get (body, "session"));

    //  reg-<the session's ten characters>-<ten random ones>: found from its
    //  id; 50 random bits make a collision within one session practically
    //  impossible, and the script refuses one anyway (500, retried with a new id)
    char random[32], id[48], notice[64], created[32];
    schalt_id_make ("x", random, sizeof (random));
    snprintf (id, sizeof (id), "reg-%s-%s", session_id + SESSION_PREFIX_LENGTH, random + 2);
    snprintf (notice, sizeof (notice), "ntc-%s-registered", id + 4);
    schalt_time_format_instant (time (NULL), created);

    json_t *language = json_object_get (body, "language");
    json_t *institution = json_object_get (body, "institution");
    json_t *registration =
        json_pack ("{s:s, s:s, s:O, s:O, s:s, s:s, s:s}", "id", id, "session", session_id, "name",
                   json_object_get (body, "name"), "email", json_object_get (body, "email"),
                   "institution", institution ? json_string_value (institution) : "", "language",
                   language ? json_string_value (language) : "de", "created", created);
    assert (registration);
    char *text = json_dumps (registration, JSON_COMPACT);
    registry_store_registration_create (store, call, session_id, text, notice);
    free (text);
    json_decref (registration);
}

static void
s_registration_get (schalt_call_t *call, void *service)
{
    registry_store_t *store = (registry_store_t *)service;
    const char *id = json_string_value (json_object_get (schalt_call_body (call), "id"));
    //  The schema guarantees reg-XXXXXXXXXX-YYYYYY
    char session_id[24];
    snprintf (session_id, sizeof (session_id), "ses-%.10s", id + 4);
    registry_store_registration_get (store, call, session_id, id);
}

static void
s_registration_list (schalt_call_t *call, void *service)
{
    registry_store_t *store = (registry_store_t *)service;
    registry_store_registration_list (
        store, call, json_string_value (json_object_get (schalt_call_body (call), "session")));
}

//  --------------------------------------------------------------------------
//  The service

static void *
s_create (schalt_server_t *server)
{
    //  Notices to the notifier; their order across people does not matter
    if (schalt_server_outbox (server, "notifier", 64) != 0)
        return NULL;
    return registry_store_new (server);
}

static void
s_destroy (void **store_p)
{
    registry_store_destroy ((registry_store_t **)store_p);
}

static const schalt_command_t s_commands[] = {{"session.facts", s_session_facts},
                                              {"registration.create", s_registration_create},
                                              {"registration.get", s_registration_get},
                                              {"registration.list", s_registration_list},
                                              {NULL, NULL}};

const schalt_service_t registry_service = {"registry", s_commands, s_create, s_destroy, NULL};
