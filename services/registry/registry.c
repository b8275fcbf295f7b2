/*  registry - the registry service: its command table and the prepare
    functions of its commands. See registry.h; the scripts are in lua/.
*/
#include "registry.h"

extern const char registry_lua_common[];
extern const schalt_script_t registry_lua_scripts[];

typedef struct {
    schalt_server_t *server;
    schalt_token_keys_t *keys; //  check the tokens of the links in e-mails
    schalt_worker_t *offers;   //  expires offers (registry_offers.c)
    //  The events' sets of over-full sessions (for status), named by the
    //  scripts that write them and found by the offers worker's SCAN
    zhashx_t *overfull;
    schalt_redis_t *status_redis; //  a connection of its own, to read them for status
} registry_t;

//  --------------------------------------------------------------------------
//  Session facts, from the scheduler

//  session.facts: the session's start, end and cancellation deadline as UTC
//  seconds (ARGV[5], ARGV[6], ARGV[7]: "" if the session has none).
static int
s_session_facts (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *session = json_object_get (schalt_call_body (call), "session");
    //  The schema checked the instants' format, but RFC 3339 allows some we
    //  do not take (the year 0000)
    const char *names[] = {"start", "end", "cancel_until"};
    for (int index = 0; index < 3; index++) {
        time_t instant;
        json_t *value = json_object_get (session, names[index]);
        if (!value) {
            schalt_call_arg (call, "");
            continue;
        }
        if (schalt_time_parse_instant (json_string_value (value), &instant) != 0) {
            char field[32];
            snprintf (field, sizeof (field), "/session/%s", names[index]);
            schalt_call_fail (call, 400, "invalid", field,
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

//  The sessions of a registration.create: [session] or its sessions (the
//  schema allows one of the two; here: exactly one, each session once, all
//  of one event). Returns the list (borrowed or new: the caller decrefs), or
//  NULL after answering the call.
static json_t *
s_sessions_of (schalt_call_t *call)
{
    json_t *body = schalt_call_body (call);
    json_t *session = json_object_get (body, "session");
    json_t *sessions = json_object_get (body, "sessions");
    if ((session != NULL) == (sessions != NULL)) {
        schalt_call_fail (call, 400, "invalid", session ? "/sessions" : "/session",
                          "give the session, or a list of sessions, not %s",
                          session ? "both" : "neither");
        return NULL;
    }
    if (session)
        return json_pack ("[O]", session);
    char first[16], event[16];
    schalt_id_event_of (json_string_value (json_array_get (sessions, 0)), first, sizeof (first));
    size_t index, other;
    json_t *id;
    json_array_foreach (sessions, index, id)
    {
        char field[32];
        snprintf (field, sizeof (field), "/sessions/%zu", index);
        for (other = 0; other < index; other++)
            if (json_equal (id, json_array_get (sessions, other))) {
                schalt_call_fail (call, 400, "invalid", field, "sessions names %s twice",
                                  json_string_value (id));
                return NULL;
            }
        schalt_id_event_of (json_string_value (id), event, sizeof (event));
        if (!streq (event, first)) {
            schalt_call_fail (call, 400, "invalid", field,
                              "%s is of another event than %s: book each event's sessions in a "
                              "request of their own",
                              json_string_value (id),
                              json_string_value (json_array_get (sessions, 0)));
            return NULL;
        }
    }
    return json_incref (sessions);
}

//  registration.create: ARGV[5] the new registrations as a JSON list, one
//  for each session asked for, in that order (id, session, name, email,
//  institution, language, created, code), and ARGV[6] the id of the notice
//  that tells of them.
static int
s_registration_create (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    json_t *sessions = s_sessions_of (call);
    if (!sessions)
        return -1;
    char created[32];
    schalt_time_format_instant (schalt_clock_now (), created);
    json_t *language = json_object_get (body, "language");
    json_t *institution = json_object_get (body, "institution");
    json_t *privacy = json_object_get (body, "privacy");
    json_t *registrations = json_array ();
    size_t index;
    json_t *session;
    json_array_foreach (sessions, index, session)
    {
        //  reg-<the event's ten characters>-<ten random ones>: its keys are
        //  found from its id; 50 random bits make a collision within one
        //  event practically impossible, and the script refuses one anyway
        //  (500, retried with a new id)
        char event[16], id[48];
        schalt_id_make_in_event (
            "reg", schalt_id_event_of (json_string_value (session), event, sizeof (event)), id,
            sizeof (id));
        //  The check-in code: the id's first six random characters, as
        //  "ABC-DEF" (the script takes the last six if a session has it)
        char code[8];
        snprintf (code, sizeof (code), "%.3s-%.3s", id + 15, id + 18);
        for (char *cursor = code; *cursor; cursor++)
            *cursor = (char)toupper ((unsigned char)*cursor);
        json_t *registration = json_pack (
            "{s:s, s:O, s:O, s:O, s:s, s:s, s:s, s:s}", "id", id, "session", session, "name",
            json_object_get (body, "name"), "email", json_object_get (body, "email"), "institution",
            institution ? json_string_value (institution) : "", "language",
            language ? json_string_value (language) : "de", "created", created, "code", code);
        assert (registration); //  every value is the schema-checked body's or ours
        if (privacy)
            json_object_set (registration, "privacy", privacy);
        json_array_append_new (registrations, registration);
    }
    char notice[64];
    snprintf (notice, sizeof (notice), "ntc-%s-registered",
              json_string_value (json_object_get (json_array_get (registrations, 0), "id")) + 4);
    char *text = json_dumps (registrations, JSON_COMPACT);
    schalt_call_arg (call, text);
    schalt_call_arg (call, notice);
    free (text);
    json_decref (registrations);
    json_decref (sessions);
    return 0;
}

//  --------------------------------------------------------------------------
//  Ending a registration: by the organiser (its id) or by the person (the
//  token of a link in their e-mail)

//  Checks the body's token for action (NULL: any action, whose name then
//  goes into action_found) at the clock's time and writes the
//  registration it names into id[size]. A token that is not this office's
//  is answered here (-1). One that is, but has expired or is for another
//  action, names its registration all the same: its refusal goes into
//  refusal[size] as JSON for the script, which answers a retry of a request
//  that once succeeded from its replay record first (rule 5), and this one
//  with the refusal. Returns 0, or -1 after answering the call.
static int
s_take_token (schalt_call_t *call, registry_t *self, const char *action, char *id, size_t size,
              char *refusal, size_t refusal_size, char *action_found)
{
    const char *token = json_string_value (json_object_get (schalt_call_body (call), "token"));
    char found[SCHALT_TOKEN_ACTION_MAX + 1], subject[SCHALT_TOKEN_SUBJECT_MAX + 1], event[16];
    schalt_token_result_t result =
        schalt_token_check (self->keys, token, schalt_clock_now (), found, subject);
    if (result == SCHALT_TOKEN_MALFORMED ||
        (result != SCHALT_TOKEN_FORGED && !schalt_id_event_of (subject, event, sizeof (event)))) {
        schalt_call_fail (call, 400, "invalid", "/token",
                          "token is not a link of this office (cut off or changed?); open the "
                          "link in the e-mail again, or copy it whole");
        return -1;
    }
    if (result == SCHALT_TOKEN_FORGED) {
        schalt_call_fail (call, 403, "token_invalid", "/token",
                          "token was not signed by this office (changed, or signed with a key "
                          "that is no longer in use)");
        return -1;
    }
    json_t *error = NULL;
    if (result == SCHALT_TOKEN_EXPIRED)
        error = json_pack ("{s:i, s:s, s:s}", "status", 410, "code", "token_expired", "message",
                           "token has expired: the session it was for is over");
    else if (action && !streq (found, action)) {
        char message[96];
        snprintf (message, sizeof (message), "token is a link to %s, not to %s", found, action);
        error = json_pack ("{s:i, s:s, s:s}", "status", 403, "code", "token_wrong_action",
                           "message", message);
    }
    refusal[0] = 0;
    if (error) {
        char *text = json_dumps (error, JSON_COMPACT);
        snprintf (refusal, refusal_size, "%s", text);
        free (text);
        json_decref (error);
    }
    snprintf (id, size, "%s", subject);
    if (action_found)
        snprintf (action_found, SCHALT_TOKEN_ACTION_MAX + 1, "%s", found);
    schalt_call_tag (call, event);
    return 0;
}

//  registration.cancel and registration.decline: ARGV[5] the registration
//  id, ARGV[6] who ends it (organiser, participant), ARGV[7] what (cancel,
//  decline), ARGV[8] the token's refusal as JSON ({status, code, message})
//  or "".
static int
s_registration_end (schalt_call_t *call, registry_t *self, const char *action)
{
    json_t *body = schalt_call_body (call);
    json_t *id = json_object_get (body, "id");
    json_t *token = json_object_get (body, "token");
    if ((id != NULL) == (token != NULL)) {
        schalt_call_fail (call, 400, "invalid", id ? "/token" : "/id",
                          "give the registration's id (organisers) or the token of the link in "
                          "the e-mail (the person), not %s",
                          id ? "both" : "neither");
        return -1;
    }
    if (token && json_object_get (body, "reason")) {
        schalt_call_fail (call, 400, "invalid", "/reason",
                          "a reason is the office's note to the person; a link gives none");
        return -1;
    }
    char registration[SCHALT_TOKEN_SUBJECT_MAX + 1], refusal[256] = "";
    if (id)
        snprintf (registration, sizeof (registration), "%s", json_string_value (id));
    else if (s_take_token (call, self, action, registration, sizeof (registration), refusal,
                           sizeof (refusal), NULL) != 0)
        return -1;
    schalt_call_arg (call, registration);
    schalt_call_arg (call, id ? "organiser" : "participant");
    schalt_call_arg (call, action);
    schalt_call_arg (call, refusal);
    return 0;
}

static int
s_registration_cancel (schalt_call_t *call, void *service)
{
    return s_registration_end (call, (registry_t *)service, "cancel");
}

static int
s_registration_decline (schalt_call_t *call, void *service)
{
    return s_registration_end (call, (registry_t *)service, "decline");
}

//  registration.accept: ARGV[5] the registration id, ARGV[6] the token's
//  refusal as JSON or "" (see s_take_token).
static int
s_registration_accept (schalt_call_t *call, void *service)
{
    char registration[SCHALT_TOKEN_SUBJECT_MAX + 1], refusal[256] = "";
    if (s_take_token (call, (registry_t *)service, "accept", registration, sizeof (registration),
                      refusal, sizeof (refusal), NULL) != 0)
        return -1;
    schalt_call_arg (call, registration);
    schalt_call_arg (call, refusal);
    return 0;
}

//  registration.show: ARGV[5] the registration id, ARGV[6] the token's
//  action, ARGV[7] its refusal as JSON (expired) or "" (see s_take_token).
static int
s_registration_show (schalt_call_t *call, void *service)
{
    char registration[SCHALT_TOKEN_SUBJECT_MAX + 1], refusal[256] = "";
    char action[SCHALT_TOKEN_ACTION_MAX + 1] = "";
    if (s_take_token (call, (registry_t *)service, NULL, registration, sizeof (registration),
                      refusal, sizeof (refusal), action) != 0)
        return -1;
    schalt_call_arg (call, registration);
    schalt_call_arg (call, action);
    schalt_call_arg (call, refusal);
    return 0;
}

//  --------------------------------------------------------------------------
//  Offers that run out (registry_offers.c) and over-full sessions

//  A script wrote a due-time index: the offers worker reads it anew; or a
//  set of over-full sessions: show it in status.
static void
s_on_touch (void *service, const char *key)
{
    registry_t *self = (registry_t *)service;
    char event[32];
    size_t length = strlen (key);
    if (registry_due_event (key, event, sizeof (event)))
        schalt_worker_tell (self->offers, "TOUCH", key, NULL);
    else if (length > 10 && streq (key + length - 10, "}:overfull"))
        zhashx_update (self->overfull, key, (void *)1);
}

//  The offers worker found a set of over-full sessions (OVERFULL key).
static void
s_on_told (void *service, zmsg_t *msg)
{
    registry_t *self = (registry_t *)service;
    char *what = zmsg_popstr (msg), *key = zmsg_popstr (msg);
    if (what && key && streq (what, "OVERFULL"))
        zhashx_update (self->overfull, key, (void *)1);
    zstr_free (&what);
    zstr_free (&key);
}

//  status: the sessions over their capacity, from the sets the scripts named.
static void
s_status (void *service, json_t *status)
{
    registry_t *self = (registry_t *)service;
    json_t *sessions = json_array ();
    for (void *item = zhashx_first (self->overfull); item; item = zhashx_next (self->overfull)) {
        const char *argv[] = {"SMEMBERS", (const char *)zhashx_cursor (self->overfull)};
        if (!schalt_redis_connected (self->status_redis))
            schalt_redis_reconnect (self->status_redis);
        redisReply *reply = schalt_redis_connected (self->status_redis)
                                ? schalt_redis_command (self->status_redis, 2, argv, NULL)
                                : NULL;
        for (size_t index = 0; reply && reply->type == REDIS_REPLY_ARRAY && index < reply->elements;
             index++)
            json_array_append_new (sessions, json_string (reply->element[index]->str));
        if (reply)
            freeReplyObject (reply);
    }
    json_object_set_new (status, "over_full", sessions);
}

//  --------------------------------------------------------------------------
//  Check-in

//  registration.checkin: ARGV[5] the registration id or "", ARGV[6] the
//  check-in code, normalised ("k7mq2x" is "K7M-Q2X"), or "".
static int
s_registration_checkin (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    json_t *id = json_object_get (body, "id");
    const char *code = json_string_value (json_object_get (body, "code"));
    if ((id != NULL) == (code != NULL)) {
        schalt_call_fail (call, 400, "invalid", id ? "/code" : "/id",
                          "give the registration's id or its check-in code, not %s",
                          id ? "both" : "neither");
        return -1;
    }
    char normal[8] = "";
    if (code) {
        //  The schema let through six letters and digits, with or without the dash
        size_t out = 0;
        for (const char *cursor = code; *cursor && out < 7; cursor++)
            if (*cursor != '-') {
                if (out == 3)
                    normal[out++] = '-';
                normal[out++] = (char)toupper ((unsigned char)*cursor);
            }
        normal[out] = 0;
    }
    schalt_call_arg (call, id ? json_string_value (id) : "");
    schalt_call_arg (call, normal);
    return 0;
}

//  --------------------------------------------------------------------------
//  The service

//  Every key of an event's sessions has the event's id as its hash tag (see
//  lua/common.lua), and every id the registry is given carries it: the
//  body's session (an id, or the facts' session object), else the first of
//  its sessions, else its registration id.
static int
s_tag (schalt_call_t *call, char *tag, size_t size)
{
    json_t *body = schalt_call_body (call);
    json_t *id = json_object_get (body, "session");
    if (json_is_object (id))
        id = json_object_get (id, "id");
    if (!json_is_string (id))
        id = json_array_get (json_object_get (body, "sessions"), 0);
    if (!json_is_string (id))
        id = json_object_get (body, "id");
    json_t *event_id = json_object_get (body, "event");
    if (json_is_string (event_id)) {
        snprintf (tag, size, "%s", json_string_value (event_id));
        return 0;
    }
    char event[16];
    if (!schalt_id_event_of (json_string_value (id), event, sizeof (event))) {
        schalt_call_fail (call, 400, "invalid", "", "the request names no session or registration");
        return -1;
    }
    snprintf (tag, size, "%s", event);
    return 0;
}

static void
s_destroy (void **self_p)
{
    registry_t *self = (registry_t *)*self_p;
    if (self) {
        schalt_token_keys_destroy (&self->keys);
        zhashx_destroy (&self->overfull);
        schalt_redis_destroy (&self->status_redis);
        free (self);
        *self_p = NULL;
    }
}

static void *
s_create (schalt_server_t *server)
{
    registry_t *self = (registry_t *)zmalloc (sizeof (registry_t));
    assert (self);
    schalt_config_t *config = schalt_server_config (server);
    self->server = server;
    self->keys = schalt_token_keys_configured (config);
    self->overfull = zhashx_new ();
    self->status_redis =
        schalt_redis_new (schalt_config_string (config, "registry/redis/host"),
                          (int)schalt_config_integer (config, "registry/redis/port"),
                          (int)schalt_config_integer (config, "registry/redis/timeout"));
    schalt_server_on_touch (server, s_on_touch);
    self->offers = schalt_server_worker (server, &registry_offers_job, NULL, s_on_told);
    //  Notices to the notifier; their order across people does not matter
    if (!self->keys || !self->offers || schalt_server_outbox (server, "notifier", 64) != 0) {
        void *state = self;
        s_destroy (&state);
        return NULL;
    }
    return self;
}

//  One row a command: its schema is request/<command>.json, its script
//  lua/<script>.lua (which says what it checks and changes).
static const schalt_command_t s_commands[] = {
    {"session.facts", "session_facts", SCHALT_CHANGES, s_session_facts, "scheduler"},
    {"registration.create", "registration_create", SCHALT_CHANGES, s_registration_create,
     SCHALT_CALLED_BY_STAFF " web"},
    {"registration.cancel", "registration_end", SCHALT_CHANGES, s_registration_cancel,
     SCHALT_CALLED_BY_STAFF " web-token"},
    {"registration.decline", "registration_end", SCHALT_CHANGES, s_registration_decline,
     SCHALT_CALLED_BY_STAFF " web-token"},
    {"registration.accept", "registration_accept", SCHALT_CHANGES, s_registration_accept,
     SCHALT_CALLED_BY_STAFF " web-token"},
    {"offers.expire", "offers_expire", SCHALT_CHANGES, NULL, SCHALT_CALLED_BY_WORKERS},
    {"audience.notify", "audience_notify", SCHALT_CHANGES, NULL, "scheduler"},
    {"registration.checkin", "registration_checkin", SCHALT_CHANGES, s_registration_checkin,
     SCHALT_CALLED_BY_STAFF},
    {"registration.attendance", "registration_attendance", SCHALT_READS, NULL,
     SCHALT_CALLED_BY_STAFF},
    {"session.seats", "session_seats", SCHALT_READS, NULL, SCHALT_CALLED_BY_ANYONE},
    {"registration.show", "registration_show", SCHALT_READS, s_registration_show,
     SCHALT_CALLED_BY_STAFF " web-token"},
    {"registration.get", "registration_get", SCHALT_READS, NULL, SCHALT_CALLED_BY_STAFF},
    {"registration.list", "registration_list", SCHALT_READS, NULL, SCHALT_CALLED_BY_STAFF},
    {NULL, NULL, SCHALT_READS, NULL, NULL}};

const schalt_service_t registry_service = {"registry",          s_commands, registry_lua_scripts,
                                           registry_lua_common, s_tag,      s_create,
                                           s_destroy,           s_status};
