/*  registry - the registry service: its command table and the prepare
    functions of its commands. See registry.h; the scripts are in lua/.
*/
#include "registry.h"

extern const char registry_lua_common[];
extern const schalt_script_t registry_lua_scripts[];

//  --------------------------------------------------------------------------
//  Session facts, from the scheduler

//  session.facts: the session's times as UTC seconds (ARGV[5], ARGV[6]).
static int
s_session_facts (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *session = json_object_get (schalt_call_body (call), "session");
    //  The schema checked both instants' format, but RFC 3339 allows some we
    //  do not take (the year 0000)
    const char *names[] = {"start", "end"};
    for (int index = 0; index < 2; index++) {
        time_t instant;
        if (schalt_time_parse_instant (json_string_value (json_object_get (session, names[index])),
                                       &instant) != 0) {
            schalt_call_fail (call, 400, "invalid", index ? "/session/end" : "/session/start",
                              "session/%s must be a date and time from the year 1 on, as in "
                              "RFC 3339",
                              names[index]);
            return -1;
        }
        char seconds[24];
        snprintf (seconds, sizeof (seconds), "%lld", (long long)instant);
        schalt_call_arg (call, seconds);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Registrations

//  registration.create: the new registration as JSON (ARGV[5]) and the id of
//  its notice (ARGV[6]).
static int
s_registration_create (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    const char *session_id = json_string_value (json_object_get (body, "session"));

    //  reg-<the event's ten characters>-<ten random ones>: its keys are found
    //  from its id; 50 random bits make a collision within one event
    //  practically impossible, and the script refuses one anyway (500,
    //  retried with a new id)
    char event[16], id[48], notice[64], created[32];
    schalt_id_make_in_event ("reg", schalt_id_event_of (session_id, event, sizeof (event)), id,
                             sizeof (id));
    snprintf (notice, sizeof (notice), "ntc-%s-registered", id + 4);
    schalt_time_format_instant (time (NULL), created);

    json_t *language = json_object_get (body, "language");
    json_t *institution = json_object_get (body, "institution");
    json_t *registration =
        json_pack ("{s:s, s:s, s:O, s:O, s:s, s:s, s:s}", "id", id, "session", session_id, "name",
                   json_object_get (body, "name"), "email", json_object_get (body, "email"),
                   "institution", institution ? json_string_value (institution) : "", "language",
                   language ? json_string_value (language) : "de", "created", created);
    assert (registration); //  every value is the schema-checked body's or ours
    char *text = json_dumps (registration, JSON_COMPACT);
    schalt_call_arg (call, text);
    schalt_call_arg (call, notice);
    free (text);
    json_decref (registration);
    return 0;
}

//  --------------------------------------------------------------------------
//  The service

//  Every key of an event's sessions has the event's id as its hash tag (see
//  lua/common.lua), and every id the registry is given carries it: the
//  body's session (an id, or the facts' session object), else its
//  registration id (the schemas guarantee one of these).
static int
s_tag (schalt_call_t *call, char *tag, size_t size)
{
    json_t *body = schalt_call_body (call);
    json_t *id = json_object_get (body, "session");
    if (json_is_object (id))
        id = json_object_get (id, "id");
    if (!json_is_string (id))
        id = json_object_get (body, "id");
    char event[16];
    if (!schalt_id_event_of (json_string_value (id), event, sizeof (event))) {
        schalt_call_fail (call, 400, "invalid", "", "the request names no session or registration");
        return -1;
    }
    snprintf (tag, size, "%s", event);
    return 0;
}

static void *
s_create (schalt_server_t *server)
{
    //  Notices to the notifier; their order across people does not matter
    if (schalt_server_outbox (server, "notifier", 64) != 0)
        return NULL;
    return server;
}

//  One row a command: its schema is request/<command>.json, its script
//  lua/<script>.lua (which says what it checks and changes).
static const schalt_command_t s_commands[] = {
    {"session.facts", "session_facts", SCHALT_CHANGES, s_session_facts},
    {"registration.create", "registration_create", SCHALT_CHANGES, s_registration_create},
    {"registration.get", "registration_get", SCHALT_READS, NULL},
    {"registration.list", "registration_list", SCHALT_READS, NULL},
    {NULL, NULL, SCHALT_READS, NULL}};

const schalt_service_t registry_service = {
    "registry", s_commands, registry_lua_scripts, registry_lua_common, s_tag, s_create, NULL, NULL};
