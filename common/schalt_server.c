/*  schalt_server - the daemon skeleton every service runs in.
    See schalt_server.h for the request path; this file is its one loop.
*/
#include "schalt_server.h"
#include "schalt_clock.h"
#include "schalt_curve.h"
#include "schalt_log.h"
#include "schalt_outbox.h"
#include "schalt_testutil.h"
#include "schalt_text.h"
#include "schalt_time.h"

#include <ctype.h>
#include <malloc.h>
#include <stdarg.h>

extern const char schalt_lua_prelude[], schalt_lua_audit_list[], schalt_lua_audit_trim[];

#define BATCH_MAX 512                //  requests read from the ROUTER before Redis is asked
#define RELAY_INTERVAL 100           //  ms between relays of the outboxes
#define TRIM_AFTER (4 * 1024 * 1024) //  octets of a dropped message that are given back at once

struct _schalt_server_t {
    zsock_t *pipe;   //  to the actor's owner
    zsock_t *router; //  requests
    zsock_t *pub;    //  events and logs
    zsock_t *logs;   //  log relay: zsys's log sender connects here
    zloop_t *loop;
    schalt_curve_t *curve; //  the daemon's key, and the keys that may connect
    uint64_t removals;     //  schalt_curve_removals when the PUB was last bound
    char *pub_endpoint;    //  where the PUB is bound (resolved)
    bool pub_unbound;      //  unbound to drop its subscribers, not bound again yet
    zhashx_t *refusals;    //  key name -> s_refusals_t: audit entries of refusals this minute
    char audit_key[96];    //  <service>:{audit}:log
    schalt_config_t *config;
    const schalt_service_t *service;
    void *state; //  what the service's create returned
    schalt_redis_t *redis;
    schalt_schema_set_t *schemas;
    zhashx_t *commands;          //  command -> schalt_command_t (borrowed)
    schalt_answer_fn *on_answer; //  the service's, for the answers to its internal calls
    schalt_touch_fn *on_touch;   //  the service's, for keys its scripts name that are no outbox
    schalt_told_fn *on_told;     //  the service's, for what its workers tell it
    zlist_t *timers;             //  the service's timers (s_timer_t), freed at the end
    zlist_t *queued;             //  calls waiting for their script's reply, in order
    zlist_t *outboxes;           //  schalt_outbox_t, one per peer
    zlist_t *workers;            //  schalt_worker_t, the service's timed work
    int redis_fd;                //  the Redis socket the loop watches, or -1
    bool relay_due;              //  a script wrote to an outbox in this batch
    bool audit_due;              //  audit entries appended and not yet sent
    int64_t started;             //  zclock_time at start
    long request_ttl;
    size_t max_message_size; //  octets a request's four frames may hold together
    uint64_t log_sequence;
    struct {
        uint64_t requests, ok, client_errors, server_errors, batches;
    } counters;
    char last_error[320];
    char last_error_time[32];
};

#define CALL_ARGS_MAX 40 //  arguments a prepare function may add

struct _schalt_call_t {
    schalt_server_t *server;
    zframe_t *routing; //  the peer's identity
    schalt_envelope_t *envelope;
    char *canonical; //  the body, keys sorted, ASCII: digested, and the script's ARGV[4]
    char digest[41];
    char ttl[24];
    char now[24];
    char *args[CALL_ARGS_MAX]; //  what prepare added, from ARGV[5] on
    int nargs;
    char tag[128]; //  the hash tag, if prepare named it ("" to ask the service)
    const schalt_command_t *entry;
    //  Who called: the key's name and role ("internal" for the daemon's own)
    char caller[SCHALT_KEY_NAME_MAX + 1];
    char caller_role[SCHALT_ROLE_MAX + 1];
    bool audit_only; //  a queued audit entry's reply, not a call's
};

//  status is open to every known key (roles NULL)
static const schalt_command_t s_status_command = {"status", NULL, SCHALT_READS, NULL, NULL};
//  Only in a configuration made for tests (schaltstelle/test_clock = settable)
static const schalt_command_t s_clock_command = {"clock.set", NULL, SCHALT_CHANGES, NULL, "admin"};

//  audit.list: every daemon's, for admins; its script reads the {audit} tag
static int s_audit_list_prepare (schalt_call_t *call, void *service);
static const schalt_command_t s_audit_command = {"audit.list", "schalt_audit_list", SCHALT_READS,
                                                 s_audit_list_prepare, "admin"};

#define AUDIT_SCRIPT "schalt_audit"
#define AUDIT_TRIM_SCRIPT "schalt_audit_trim"
#define AUDIT_TRIM_EVERY 10000 //  ms between two looks for entries past their time
//  Appends one entry to the audit log: KEYS[1] the stream, ARGV the fields
//  as name, value pairs.
static const char s_audit_script[] = "return redis.call('XADD', KEYS[1], '*', unpack(ARGV))";

//  --------------------------------------------------------------------------
//  Answering

//  Remembers an error of the daemon's own (5xx) for the status reply.
static void
s_note_error (schalt_server_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->last_error, sizeof (self->last_error), format, args);
    va_end (args);
    //  It may quote Redis or a script and be cut inside a character; status packs it into JSON
    schalt_text_utf8_repair (self->last_error);
    char instant[32];
    schalt_time_format_instant (time (NULL), instant);
    snprintf (self->last_error_time, sizeof (self->last_error_time), "%s", instant);
}

//  Logs an answer once, where it is decided: refusals and changes at info,
//  the daemon's own failures as warnings, status requests not at all.
static void
s_log_answer (const char *command, const char *id, int status, const char *json)
{
    if (streq (command, "status"))
        return;
    if (status < 400) {
        schalt_log_info ("request: done command=%s id=%s status=%d", command, id, status);
        return;
    }
    json_t *body = json_loads (json, 0, NULL);
    const char *code =
        json_string_value (json_object_get (json_object_get (body, "error"), "code"));
    if (status < 500)
        schalt_log_info ("request: refused command=%s id=%s status=%d code=%s", command, id, status,
                         code ? code : "-");
    else
        schalt_log_warning ("request: failed command=%s id=%s status=%d code=%s", command, id,
                            status, code ? code : "-");
    json_decref (body);
}

//  Sends [routing, SCHALT/1, status, id, json], logs and counts it.
static void
s_send (schalt_server_t *self, zframe_t *routing, const char *command, int status, const char *id,
        const char *json)
{
    s_log_answer (command, id, status, json);
    if (zframe_size (routing) == 0) {
        //  An internal call's answer (no ROUTER peer has an empty identity)
        if (self->on_answer)
            self->on_answer (self->state, command, status, id, json);
    } else {
        zmsg_t *reply = schalt_envelope_reply (status, id, json);
        zframe_t *identity = zframe_dup (routing);
        zmsg_prepend (reply, &identity);
        zmsg_send (&reply, self->router);
    }
    if (status < 400)
        self->counters.ok++;
    else if (status < 500)
        self->counters.client_errors++;
    else
        self->counters.server_errors++;
}

//  Sends an error reply built from error.
static void
s_send_error (schalt_server_t *self, zframe_t *routing, const char *command, const char *id,
              const schalt_error_t *error)
{
    char *json = schalt_error_json (error);
    s_send (self, routing, command, error->status, id, json);
    free (json);
}

static void
s_call_destroy (schalt_call_t **self_p)
{
    schalt_call_t *self = *self_p;
    if (self) {
        zframe_destroy (&self->routing);
        schalt_envelope_destroy (&self->envelope);
        free (self->canonical);
        for (int index = 0; index < self->nargs; index++)
            free (self->args[index]);
        free (self);
        *self_p = NULL;
    }
}

void
schalt_call_reply (schalt_call_t *self, int status, json_t **body_p)
{
    char *json = json_dumps (*body_p, JSON_COMPACT);
    assert (json);
    s_send (self->server, self->routing, schalt_call_command (self), status,
            schalt_envelope_id (self->envelope), json);
    free (json);
    json_decref (*body_p);
    *body_p = NULL;
}

void
schalt_call_fail (schalt_call_t *self, int status, const char *code, const char *field,
                  const char *format, ...)
{
    schalt_error_t error;
    schalt_error_set (&error, status, code, field, "%s", "");
    va_list args;
    va_start (args, format);
    vsnprintf (error.message, sizeof (error.message), format, args);
    va_end (args);
    s_send_error (self->server, self->routing, schalt_call_command (self),
                  schalt_envelope_id (self->envelope), &error);
}

//  --------------------------------------------------------------------------
//  The audit log

//  The id of the object a call changed, for its audit entry: the reply's
//  "id", or that of the object it shows ({"event": {"id": ...}}), else the
//  request's id, session or event. Never a token, a name or an address.
static void
s_object_of (schalt_call_t *call, const char *reply, char *object, size_t size)
{
    object[0] = 0;
    json_t *body = reply ? json_loads (reply, 0, NULL) : NULL;
    const char *found = json_string_value (json_object_get (body, "id"));
    const char *shown[] = {"registration", "session", "event", "notice", NULL};
    for (const char **field = shown; !found && *field; field++)
        found = json_string_value (json_object_get (json_object_get (body, *field), "id"));
    json_t *request = schalt_call_body (call);
    const char *fields[] = {"id", "session", "event", NULL};
    for (const char **field = fields; !found && *field; field++) {
        json_t *value = json_object_get (request, *field);
        found = json_is_object (value) ? json_string_value (json_object_get (value, "id"))
                                       : json_string_value (value);
    }
    if (found && schalt_envelope_valid_id (found))
        snprintf (object, size, "%s", found);
    json_decref (body);
}

//  Refusals a key may add to the audit log a minute: a stolen key of a low
//  role could otherwise fill it with 403s. The daemon's log counts the rest.
#define REFUSALS_AUDITED 60

typedef struct {
    int64_t minute;
    int count;
} s_refusals_t;

static void
s_refusals_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  True if this refusal of who's may go to the audit log.
static bool
s_refusal_audited (schalt_server_t *self, const char *who)
{
    if (!self->refusals) {
        self->refusals = zhashx_new ();
        zhashx_set_destructor (self->refusals, s_refusals_free);
    }
    s_refusals_t *seen = (s_refusals_t *)zhashx_lookup (self->refusals, who);
    if (!seen) {
        seen = (s_refusals_t *)zmalloc (sizeof (s_refusals_t));
        assert (seen);
        zhashx_insert (self->refusals, who, seen);
    }
    int64_t minute = zclock_time () / 60000;
    if (seen->minute != minute) {
        seen->minute = minute;
        seen->count = 0;
    }
    if (++seen->count == REFUSALS_AUDITED + 1)
        schalt_log_warning ("audit: key=%s was refused %d times this minute; the rest of this "
                            "minute's refusals are in this log only",
                            who, REFUSALS_AUDITED);
    return seen->count <= REFUSALS_AUDITED;
}

//  Appends an entry to the audit log for a call that changed state (status
//  2xx) or was refused for its role (403). It goes with the pipeline, and
//  its reply is read in turn, as a queued call's.
static void
s_audit (schalt_server_t *self, schalt_call_t *call, int status, const char *reply)
{
    char instant[32], code[8], object[SCHALT_ID_MAX + 1];
    schalt_time_format_instant (schalt_clock_now (), instant);
    snprintf (code, sizeof (code), "%d", status);
    s_object_of (call, reply, object, sizeof (object));
    const char *user = schalt_envelope_user (call->envelope);
    const char *user_role = schalt_envelope_user_role (call->envelope);
    const char *args[] = {"time",      instant,
                          "who",       call->caller,
                          "role",      call->caller_role,
                          "user",      user ? user : "",
                          "user_role", user_role ? user_role : "",
                          "command",   schalt_call_command (call),
                          "object",    object,
                          "request",   schalt_call_id (call),
                          "status",    code};
    const char *keys[] = {self->audit_key};
    if (schalt_redis_append_eval (self->redis, AUDIT_SCRIPT, 1, keys,
                                  (int)(sizeof (args) / sizeof (args[0])), args, NULL) != 0) {
        schalt_log_warning ("audit: entry not written command=%s id=%s (the database is down)",
                            schalt_call_command (call), schalt_call_id (call));
        return;
    }
    schalt_call_t *entry = (schalt_call_t *)zmalloc (sizeof (schalt_call_t));
    assert (entry);
    entry->server = self;
    entry->audit_only = true;
    zlist_append (self->queued, entry);
    self->audit_due = true;
}

//  The audit trimmer: a worker job that removes the entries older than
//  schaltstelle/audit_days, by the daemon's clock.
typedef struct {
    char key[96];
    long days;
    uint64_t trimmed;
} s_trimmer_t;

static void *
s_trimmer_start (schalt_work_t *work, const void *args)
{
    s_trimmer_t *self = (s_trimmer_t *)zmalloc (sizeof (s_trimmer_t));
    assert (self);
    *self = *(const s_trimmer_t *)args;
    schalt_redis_script (schalt_work_redis (work), AUDIT_TRIM_SCRIPT, schalt_lua_audit_trim);
    return self;
}

static void
s_trimmer_tick (schalt_work_t *work, void *state)
{
    s_trimmer_t *self = (s_trimmer_t *)state;
    if (!schalt_work_redis_up (work))
        return;
    char oldest[32];
    schalt_time_format_instant (schalt_clock_now () - (time_t)self->days * 86400, oldest);
    const char *keys[] = {self->key};
    const char *args[] = {oldest};
    redisReply *reply =
        schalt_redis_eval (schalt_work_redis (work), AUDIT_TRIM_SCRIPT, 1, keys, 1, args, NULL);
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
        self->trimmed += (uint64_t)reply->integer;
        schalt_log_info ("audit: trimmed entries=%lld older_than=%s", (long long)reply->integer,
                         oldest);
    } else if (reply && reply->type == REDIS_REPLY_ERROR)
        schalt_log_warning ("audit: trim failed: %s", reply->str);
    if (reply)
        freeReplyObject (reply);
    schalt_work_figures (work, json_pack ("{s:{s:I, s:I}}", "audit", "days", (json_int_t)self->days,
                                          "trimmed", (json_int_t)self->trimmed));
}

static void
s_trimmer_destroy (void **state_p)
{
    free (*state_p);
    *state_p = NULL;
}

static const schalt_job_t s_trimmer_job = {
    "audit", AUDIT_TRIM_EVERY, s_trimmer_start, s_trimmer_tick, NULL, NULL, s_trimmer_destroy};

//  --------------------------------------------------------------------------
//  Calls

const char *
schalt_call_command (schalt_call_t *self)
{
    return schalt_envelope_command (self->envelope);
}

const char *
schalt_call_id (schalt_call_t *self)
{
    return schalt_envelope_id (self->envelope);
}

json_t *
schalt_call_body (schalt_call_t *self)
{
    return schalt_envelope_body (self->envelope);
}

void
schalt_call_arg (schalt_call_t *self, const char *text)
{
    assert (self->nargs < CALL_ARGS_MAX);
    self->args[self->nargs] = strdup (text);
    assert (self->args[self->nargs]);
    self->nargs++;
}

void
schalt_call_tag (schalt_call_t *self, const char *tag)
{
    assert (strlen (tag) < sizeof (self->tag));
    snprintf (self->tag, sizeof (self->tag), "%s", tag);
}

//  audit.list reads the audit log, in the {audit} tag.
static int
s_audit_list_prepare (schalt_call_t *call, void *service)
{
    (void)service;
    schalt_call_tag (call, "audit");
    return 0;
}

//  Makes the arguments every script receives first: ARGV[1] the digest of
//  command and body (to tell a replay from a reused id; "" for a command
//  that only reads, whose reply is never remembered), ARGV[2] the
//  seconds a reply is remembered, ARGV[3] the time now (UTC seconds), ARGV[4]
//  the body. The digest covers the command and the body in a canonical form
//  (keys sorted), so a retry that only reorders keys is still the same
//  request; that form is also what the script reads as the body.
static void
s_call_prelude (schalt_call_t *self, schalt_access_t access)
{
    self->canonical =
        json_dumps (schalt_call_body (self), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    assert (self->canonical);
    snprintf (self->ttl, sizeof (self->ttl), "%ld", self->server->request_ttl);
    snprintf (self->now, sizeof (self->now), "%lld", (long long)schalt_clock_now ());
    if (access == SCHALT_READS)
        return; //  a read is not remembered: its digest stays ""
    zdigest_t *digest = zdigest_new ();
    zdigest_update (digest, (const byte *)schalt_call_command (self),
                    strlen (schalt_call_command (self)));
    zdigest_update (digest, (const byte *)"\n", 1);
    zdigest_update (digest, (const byte *)self->canonical, strlen (self->canonical));
    snprintf (self->digest, sizeof (self->digest), "%s", zdigest_string (digest));
    zdigest_destroy (&digest);
}

//  Queues the command's script for the call: KEYS[1] the request key in
//  the call's hash tag, then the prelude's arguments, the body and what
//  prepare added. If Redis is down the call is answered 503 at once; if the
//  service's tag function refused the call, it has answered it.
static void
s_call_run (schalt_call_t *self, const schalt_command_t *command)
{
    schalt_server_t *server = self->server;
    char tag[128], key[256];
    if (self->tag[0])
        snprintf (tag, sizeof (tag), "%s", self->tag);
    else if (server->service->tag (self, tag, sizeof (tag)) != 0)
        return;
    snprintf (key, sizeof (key), "%s:{%s}:request:%s", server->service->name, tag,
              schalt_call_id (self));
    s_call_prelude (self, command->access);
    const char *args[4 + CALL_ARGS_MAX] = {self->digest, self->ttl, self->now, self->canonical};
    for (int index = 0; index < self->nargs; index++)
        args[4 + index] = self->args[index];
    const char *keys[] = {key};
    if (schalt_redis_append_eval (server->redis, command->script, 1, keys, 4 + self->nargs, args,
                                  NULL) == 0) {
        //  The call now belongs to the queue; the loop answers it
        zlist_append (server->queued, self);
        return;
    }
    schalt_call_fail (self, 503, "unavailable", "",
                      "the database is not reachable; retry with the same request id");
}

//  Turns a script's reply into the call's answer (and an event to publish).
static void
s_answer_from_script (schalt_server_t *self, schalt_call_t *call, redisReply *reply)
{
    const char *id = schalt_envelope_id (call->envelope);
    if (!reply) {
        s_note_error (self, "redis: no reply: %s", schalt_redis_last_error (self->redis));
        schalt_call_fail (call, 503, "unavailable", "",
                          "the database did not answer; retry with the same request id");
        return;
    }
    bool shaped =
        reply->type == REDIS_REPLY_ARRAY && (reply->elements == 2 || reply->elements >= 4) &&
        reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[0]->integer >= 200 &&
        reply->element[0]->integer <= 599 && reply->element[1]->type == REDIS_REPLY_STRING;
    if (!shaped) {
        const char *why = reply->type == REDIS_REPLY_ERROR ? reply->str : "malformed reply";
        schalt_log_error ("server: script failed command=%s id=%s error=%s",
                          schalt_call_command (call), id, why);
        s_note_error (self, "script for %s failed: %s", schalt_call_command (call), why);
        schalt_call_fail (call, 500, "internal", "", "the request could not be processed");
        return;
    }
    int status = (int)reply->element[0]->integer;
    s_send (self, call->routing, schalt_call_command (call), status, id, reply->element[1]->str);
    //  A change made now (a replay's reply has two elements) by a caller from
    //  outside goes to the audit log (the daemon's own timed work is in its log)
    if (reply->elements >= 4 && status < 400 && call->entry &&
        call->entry->access == SCHALT_CHANGES && zframe_size (call->routing) > 0)
        s_audit (self, call, status, reply->element[1]->str);
    if (reply->elements >= 4 && reply->element[2]->type == REDIS_REPLY_STRING &&
        reply->element[3]->type == REDIS_REPLY_STRING && reply->element[2]->len > 0)
        schalt_server_publish (self, reply->element[2]->str, id, reply->element[3]->str);
    //  The outbox lists the script wrote to: relay from them after the batch
    for (size_t index = 4; index < reply->elements; index++) {
        if (reply->element[index]->type != REDIS_REPLY_STRING)
            continue;
        bool owned = false;
        for (schalt_outbox_t *outbox = (schalt_outbox_t *)zlist_first (self->outboxes); outbox;
             outbox = (schalt_outbox_t *)zlist_next (self->outboxes))
            if (schalt_outbox_owns (outbox, reply->element[index]->str)) {
                schalt_outbox_touch (outbox, reply->element[index]->str);
                self->relay_due = true;
                owned = true;
            }
        if (!owned && self->on_touch)
            self->on_touch (self->state, reply->element[index]->str);
    }
}

//  Reads the reply of the oldest queued call (waiting for it if need be)
//  and answers it.
static void
s_answer_oldest (schalt_server_t *self)
{
    schalt_call_t *call = (schalt_call_t *)zlist_pop (self->queued);
    redisReply *reply = schalt_redis_read (self->redis);
    if (!call->audit_only)
        s_answer_from_script (self, call, reply);
    else if (!reply || reply->type == REDIS_REPLY_ERROR)
        schalt_log_warning ("audit: entry not written: %s",
                            reply ? reply->str : schalt_redis_last_error (self->redis));
    if (reply)
        freeReplyObject (reply);
    s_call_destroy (&call);
}

//  Reads the reply of every queued call, in order, and answers it.
static void
s_flush_queued (schalt_server_t *self)
{
    while (zlist_size (self->queued) > 0)
        s_answer_oldest (self);
}

//  --------------------------------------------------------------------------
//  The built-in status command

static void
s_handle_status (schalt_server_t *self, schalt_call_t *call)
{
    schalt_config_t *config = self->config;
    char path[128];
    snprintf (path, sizeof (path), "%s/redis/port", self->service->name);
    long port = schalt_config_integer (config, path);
    snprintf (path, sizeof (path), "%s/redis/host", self->service->name);
    const char *host = schalt_config_string (config, path);
    bool up = schalt_redis_connected (self->redis);

    json_t *status = json_pack (
        "{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:I, s:s}, s:{s:I, s:I, s:I, s:I, s:I}}", "service",
        self->service->name, "version", SCHALT_VERSION, "pid", (json_int_t)getpid (), "uptime",
        (json_int_t)((zclock_time () - self->started) / 1000), "redis", "state", up ? "up" : "down",
        "host", host, "port", (json_int_t)port, "error",
        up ? "" : schalt_redis_last_error (self->redis), "requests", "total",
        (json_int_t)self->counters.requests, "ok", (json_int_t)self->counters.ok, "client_errors",
        (json_int_t)self->counters.client_errors, "server_errors",
        (json_int_t)self->counters.server_errors, "batches", (json_int_t)self->counters.batches);
    assert (status);
    if (self->last_error[0])
        json_object_set_new (
            status, "last_error",
            json_pack ("{s:s, s:s}", "time", self->last_error_time, "message", self->last_error));
    else
        json_object_set_new (status, "last_error", json_null ());
    if (zlist_size (self->outboxes) > 0) {
        json_t *outboxes = json_object ();
        for (schalt_outbox_t *outbox = (schalt_outbox_t *)zlist_first (self->outboxes); outbox;
             outbox = (schalt_outbox_t *)zlist_next (self->outboxes))
            schalt_outbox_status (outbox, outboxes);
        json_object_set_new (status, "outboxes", outboxes);
    }
    //  What the workers last reported (each its own fields)
    for (schalt_worker_t *worker = (schalt_worker_t *)zlist_first (self->workers); worker;
         worker = (schalt_worker_t *)zlist_next (self->workers))
        if (schalt_worker_figures (worker))
            json_object_update (status, schalt_worker_figures (worker));
    if (self->service->status)
        self->service->status (self->state, status);
    schalt_call_reply (call, 200, &status);
}

//  --------------------------------------------------------------------------
//  The built-in clock.set command (test configurations only, schalt_clock.h)

//  clock.set {now}: the daemon's clock reads now from here on (and moves on
//  with real time). Answers the clock's time and offset.
static void
s_handle_clock (schalt_server_t *self, schalt_call_t *call)
{
    (void)self;
    time_t target;
    const char *now = json_string_value (json_object_get (schalt_call_body (call), "now"));
    if (schalt_time_parse_instant (now, &target) != 0) {
        schalt_call_fail (call, 400, "invalid", "/now",
                          "now must be a date and time from the year 1 on, as in RFC 3339");
        return;
    }
    schalt_clock_set_offset ((int64_t)target - (int64_t)time (NULL));
    if (zframe_size (call->routing) > 0)
        s_audit (self, call, 200, NULL); //  moving the clock is a change like any other
    schalt_log_warning ("server: test clock set now=%s offset=%lld s", now,
                        (long long)schalt_clock_offset ());
    char instant[32];
    json_t *body =
        json_pack ("{s:s, s:I}", "now", schalt_time_format_instant (schalt_clock_now (), instant),
                   "offset", (json_int_t)schalt_clock_offset ());
    schalt_call_reply (call, 200, &body);
}

//  --------------------------------------------------------------------------
//  Requests

//  True if word is one of the space-separated words of list.
static bool
s_listed (const char *list, const char *word)
{
    size_t length = strlen (word);
    for (const char *at = list; (at = strstr (at, word)); at += length)
        if ((at == list || at[-1] == ' ') && (at[length] == ' ' || at[length] == 0))
            return true;
    return false;
}

//  Whether the caller's role may call the command: NULL if so, else why
//  not, written into why. user and user_role are the fifth frame's person.
static const char *
s_refusal (const schalt_command_t *entry, const char *role, const char *user, const char *user_role,
           json_t *body, char *why, size_t size)
{
    if (!entry->roles)
        return NULL; //  status: every known key
    if (user && !streq (role, "web"))
        snprintf (why, size,
                  "only the web front sends requests on behalf of a user (the fifth frame); "
                  "the role %s does not",
                  role);
    else if (user && (s_listed (entry->roles, user_role) || s_listed (entry->roles, "web") ||
                      (s_listed (entry->roles, "web-token") &&
                       json_is_string (json_object_get (body, "token")))))
        return NULL; //  (what the web front may do for anyone, it may do for a user too)
    else if (user)
        snprintf (why, size, "the role %s (of the web user %s) may not call %s", user_role, user,
                  entry->command);
    else if (streq (role, "web") && s_listed (entry->roles, "web-token") &&
             !json_is_string (json_object_get (body, "token")))
        snprintf (why, size,
                  "the web front may call %s with a participant's token, or on behalf of a "
                  "logged-in user",
                  entry->command);
    else if (streq (role, "web") &&
             (s_listed (entry->roles, "web") || s_listed (entry->roles, "web-token")))
        return NULL;
    else if (streq (role, "web"))
        snprintf (why, size, "the web front may call %s only on behalf of a logged-in user",
                  entry->command);
    else if (!s_listed (entry->roles, role))
        snprintf (why, size, "the role %s may not call %s", role, entry->command);
    else
        return NULL;
    return why;
}

//  Decodes, checks and dispatches one request: answers it at once, or
//  queues its script (the queue then owns the call). user_id is the
//  sender's public key (the message's User-Id), NULL for an internal call.
static void
s_handle_request (schalt_server_t *self, zmsg_t *msg)
{
    self->counters.requests++;
    zframe_t *routing = zmsg_pop (msg);
    if (!routing) {
        zmsg_destroy (&msg);
        return;
    }
    bool internal = zframe_size (routing) == 0;
    //  Who sent it, asked now: a key removed since it connected is refused
    schalt_key_t key = {"", "", ""};
    bool known = internal || !schalt_curve_enabled (self->curve);
    if (internal)
        snprintf (key.name, sizeof (key.name), "%s", self->service->name);
    if (internal || !schalt_curve_enabled (self->curve))
        snprintf (key.role, sizeof (key.role), "%s", internal ? "internal" : "admin");
    if (!known && zmsg_first (msg))
        known = schalt_curve_caller (self->curve, zframe_meta (zmsg_first (msg), "User-Id"), &key);
    schalt_error_t error;
    char reply_id[SCHALT_ID_MAX + 1];
    schalt_envelope_t *envelope = schalt_envelope_decode_request (&msg, &error, reply_id);
    if (!envelope) {
        s_send_error (self, routing, "-", reply_id, &error);
        zframe_destroy (&routing);
        return;
    }
    const char *command = schalt_envelope_command (envelope);
    const char *id = schalt_envelope_id (envelope);
    const schalt_command_t *entry =
        (const schalt_command_t *)zhashx_lookup (self->commands, command);
    char name[SCHALT_COMMAND_MAX + 16];
    snprintf (name, sizeof (name), "request/%s", command);
    schalt_schema_t *schema = schalt_schema_set_lookup (self->schemas, name);
    char why[320];
    if (!known) {
        schalt_error_set (&error, 403, "unknown_key", "envelope",
                          "%s does not know this connection's key (any more): it is not in the "
                          "keys directory",
                          self->service->name);
        s_send_error (self, routing, command, id, &error);
    } else if (!entry || !schema) {
        schalt_error_set (&error, 400, "unknown_command", "envelope/command",
                          "%s does not know the command '%s'", self->service->name, command);
        s_send_error (self, routing, command, id, &error);
    } else {
        schalt_call_t *call = (schalt_call_t *)zmalloc (sizeof (schalt_call_t));
        assert (call);
        call->server = self;
        call->routing = routing;
        call->envelope = envelope;
        call->entry = entry;
        snprintf (call->caller, sizeof (call->caller), "%s", key.name);
        snprintf (call->caller_role, sizeof (call->caller_role), "%s", key.role);
        schalt_schema_error_t invalid;
        //  Internal calls (the daemon's own workers') may run any command
        if (!internal && schalt_curve_enabled (self->curve) &&
            s_refusal (entry, key.role, schalt_envelope_user (envelope),
                       schalt_envelope_user_role (envelope), schalt_envelope_body (envelope), why,
                       sizeof (why))) {
            schalt_call_fail (call, 403, "forbidden", "envelope/command", "%s", why);
            if (s_refusal_audited (self, key.name))
                s_audit (self, call, 403, NULL);
        } else if (!schalt_schema_validate (schema, schalt_envelope_body (envelope), &invalid))
            schalt_call_fail (call, 400, "invalid", invalid.field, "%s %s",
                              invalid.field[0] ? invalid.field + 1 : "the body", invalid.message);
        else if (entry == &s_status_command)
            s_handle_status (self, call);
        else if (entry == &s_clock_command)
            s_handle_clock (self, call);
        else if (!entry->prepare || entry->prepare (call, self->state) == 0)
            s_call_run (call, entry);
        //  If the script was queued, the queue owns the call (an audit entry
        //  queued for a refusal is not the call)
        if (zlist_last (self->queued) != call)
            s_call_destroy (&call);
        return;
    }
    schalt_envelope_destroy (&envelope);
    zframe_destroy (&routing);
}

//  --------------------------------------------------------------------------
//  What a service adds: internal calls, timers, touched keys

static void s_answer_ready (schalt_server_t *self);

void
schalt_server_call (schalt_server_t *self, const char *command, const char *id, const char *json)
{
    zmsg_t *msg = schalt_envelope_request (command, id, json);
    zmsg_pushmem (msg, NULL, 0); //  the empty identity: an internal call
    size_t in_flight = zlist_size (self->queued);
    s_handle_request (self, msg);
    //  Sent now, not with the next batch of requests
    if (zlist_size (self->queued) > in_flight)
        schalt_redis_flush (self->redis);
    s_answer_ready (self);
}

void
schalt_server_on_answer (schalt_server_t *self, schalt_answer_fn *fn)
{
    self->on_answer = fn;
}

void
schalt_server_on_touch (schalt_server_t *self, schalt_touch_fn *fn)
{
    self->on_touch = fn;
}

typedef struct {
    schalt_server_t *server;
    schalt_timer_fn *fn;
} s_timer_t;

static int
s_on_service_timer (zloop_t *loop, int timer_id, void *argument)
{
    (void)loop;
    (void)timer_id;
    s_timer_t *timer = (s_timer_t *)argument;
    if (timer->server->state)
        timer->fn (timer->server->state);
    return 0;
}

void
schalt_server_every (schalt_server_t *self, size_t interval_ms, schalt_timer_fn *fn)
{
    s_timer_t *timer = (s_timer_t *)zmalloc (sizeof (s_timer_t));
    assert (timer);
    timer->server = self;
    timer->fn = fn;
    zlist_append (self->timers, timer);
    zlist_freefn (self->timers, timer, free, true);
    zloop_timer (self->loop, interval_ms, 0, s_on_service_timer, timer);
}

static const char *s_setting (schalt_server_t *self, const char *key);
static long s_setting_integer (schalt_server_t *self, const char *key);

//  A worker's messages: its calls run as internal calls, its figures are kept.
static int
s_on_worker (zloop_t *loop, zsock_t *reader, void *argument)
{
    (void)loop;
    schalt_server_t *self = (schalt_server_t *)argument;
    schalt_worker_t *worker = (schalt_worker_t *)zlist_first (self->workers);
    while (worker && schalt_worker_socket (worker) != reader)
        worker = (schalt_worker_t *)zlist_next (self->workers);
    if (!worker)
        return 0;
    do {
        zmsg_t *msg = NULL;
        if (schalt_worker_take (worker, &msg) != 0)
            break;
        char *kind = msg ? zmsg_popstr (msg) : NULL;
        if (kind && streq (kind, "CALL")) {
            char *command = zmsg_popstr (msg), *id = zmsg_popstr (msg);
            char *json = zmsg_popstr (msg);
            schalt_server_call (self, command, id, json);
            zstr_free (&command);
            zstr_free (&id);
            zstr_free (&json);
        } else if (kind && self->on_told && self->state)
            self->on_told (self->state, msg);
        zstr_free (&kind);
        zmsg_destroy (&msg);
    } while (zsock_events (reader) & ZMQ_POLLIN);
    return 0;
}

schalt_worker_t *
schalt_server_worker (schalt_server_t *self, const schalt_job_t *job, const void *args,
                      schalt_told_fn *told)
{
    if (told)
        self->on_told = told;
    schalt_worker_redis_t redis = {
        s_setting (self, "redis/host"), (int)s_setting_integer (self, "redis/port"),
        (int)s_setting_integer (self, "redis/timeout"), (int)s_setting_integer (self, "heartbeat")};
    schalt_worker_t *worker = schalt_worker_new (job, args, &redis);
    if (!worker)
        return NULL;
    zlist_append (self->workers, worker);
    zloop_reader (self->loop, schalt_worker_socket (worker), s_on_worker, self);
    return worker;
}

//  Sends what is due from every outbox.
static void
s_relay (schalt_server_t *self)
{
    self->relay_due = false;
    for (schalt_outbox_t *outbox = (schalt_outbox_t *)zlist_first (self->outboxes); outbox;
         outbox = (schalt_outbox_t *)zlist_next (self->outboxes))
        schalt_outbox_relay (outbox);
}

static int s_on_redis (zloop_t *loop, zmq_pollitem_t *item, void *argument);

//  Keeps the loop watching the Redis socket of the moment (it changes with
//  every reconnect, and is gone while Redis is down).
static void
s_watch_redis (schalt_server_t *self)
{
    int fd = schalt_redis_fd (self->redis);
    if (fd == self->redis_fd || !self->loop)
        return;
    if (self->redis_fd >= 0) {
        zmq_pollitem_t item = {NULL, self->redis_fd, ZMQ_POLLIN, 0};
        zloop_poller_end (self->loop, &item);
    }
    self->redis_fd = fd;
    if (fd >= 0) {
        zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
        zloop_poller (self->loop, &item, s_on_redis, self);
        zloop_poller_set_tolerant (self->loop, &item);
    }
}

//  Answers every queued call whose reply has arrived, in order, without
//  waiting for the others. Relays the outboxes once nothing is in flight
//  and no request waits (their commands would wait for the pipeline, and
//  people waiting for an answer come before e-mails; the relay timer covers
//  a pipeline that never empties). Every loop handler ends here.
static void
s_answer_ready (schalt_server_t *self)
{
    while (zlist_size (self->queued) > 0 && schalt_redis_ready (self->redis))
        s_answer_oldest (self);
    if (self->audit_due) {
        self->audit_due = false;
        schalt_redis_flush (self->redis);
    }
    //  Requests first: a relay waits while requests wait on the ROUTER (the
    //  relay timer still runs it every RELAY_INTERVAL)
    if (self->relay_due && zlist_size (self->queued) == 0 &&
        !(zsock_events (self->router) & ZMQ_POLLIN))
        s_relay (self);
    s_watch_redis (self);
}

//  Reads one message from the ROUTER, frame by frame, keeping at most what
//  a request may be: the peer's routing frame, four frames, and
//  max_message_size octets in them together (libzmq's ZMQ_MAXMSGSIZE holds
//  for each frame alone, and disconnects a peer that sends a larger one). A
//  larger message is freed frame by frame as it is read and not answered,
//  and the memory its frames took goes back to the system (libzmq held the
//  whole message before the first frame could be read: docs/protocol.md).
//  The peer is not disconnected: libzmq cannot drop one peer of a ROUTER,
//  and shutting down the descriptor libzmq reports could hit another
//  connection that took its number meanwhile. Returns the message, or NULL
//  if none was waiting or it was dropped.
static zmsg_t *
s_receive (schalt_server_t *self)
{
    zmsg_t *msg = zmsg_new ();
    size_t frames = 0, octets = 0;
    bool dropped = false;
    zframe_t *frame;
    while ((frame = zframe_recv_nowait (self->router))) {
        bool more = zframe_more (frame);
        if (++frames > 1)
            octets += zframe_size (frame); //  the routing frame is libzmq's, not the peer's
        if (!dropped && (frames > 1 + 5 || octets > self->max_message_size)) {
            dropped = true;
            zmsg_destroy (&msg);
        }
        if (dropped)
            zframe_destroy (&frame);
        else
            zmsg_append (msg, &frame);
        if (!more)
            break;
    }
    if (dropped) {
        self->counters.requests++;
        self->counters.client_errors++;
        schalt_log_warning ("request: dropped unanswered frames=%zu%s octets=%zu%s max=%zu", frames,
                            frames > 1 + 5 ? " (more than 5)" : "", octets,
                            octets > self->max_message_size ? " (too large)" : "",
                            self->max_message_size);
        //  glibc keeps freed memory for reuse: a large message's would stay
        if (octets > TRIM_AFTER)
            malloc_trim (0);
        return NULL;
    }
    if (frames == 0)
        zmsg_destroy (&msg);
    return msg;
}

//  Reads every waiting request (up to BATCH_MAX), then answers the ones
//  that went to Redis with one pipelined round trip.
static int
s_on_router (zloop_t *loop, zsock_t *router, void *argument)
{
    (void)loop;
    schalt_server_t *self = (schalt_server_t *)argument;
    size_t in_flight = zlist_size (self->queued);
    int count = 0;
    while (count < BATCH_MAX && (zsock_events (router) & ZMQ_POLLIN)) {
        zmsg_t *msg = s_receive (self);
        count++;
        if (msg)
            s_handle_request (self, msg);
    }
    //  Send this batch's scripts and go on: while Redis runs them, the loop
    //  reads and checks the next batch; replies are taken as they arrive.
    if (zlist_size (self->queued) > in_flight) {
        self->counters.batches++;
        schalt_redis_flush (self->redis);
    }
    s_answer_ready (self);
    return 0;
}

//  Replies from Redis have arrived.
static int
s_on_redis (zloop_t *loop, zmq_pollitem_t *item, void *argument)
{
    (void)loop;
    (void)item;
    s_answer_ready ((schalt_server_t *)argument);
    return 0;
}

//  --------------------------------------------------------------------------
//  Heartbeat, logs and the pipe

static int
s_on_relay_timer (zloop_t *loop, int timer_id, void *argument)
{
    (void)loop;
    (void)timer_id;
    schalt_server_t *self = (schalt_server_t *)argument;
    s_relay (self);
    s_answer_ready (self);
    return 0;
}

//  Acknowledgements from a peer: remove what they acknowledge.
static int
s_on_outbox (zloop_t *loop, zsock_t *socket, void *argument)
{
    (void)loop;
    (void)socket;
    schalt_server_t *self = (schalt_server_t *)argument;
    //  The outbox's calls are synchronous: replies to the calls in flight
    //  that come first are kept for s_answer_ready, which ends this handler
    for (schalt_outbox_t *outbox = (schalt_outbox_t *)zlist_first (self->outboxes); outbox;
         outbox = (schalt_outbox_t *)zlist_next (self->outboxes))
        schalt_outbox_receive (outbox);
    //  An acknowledgement frees room in the window: what waits goes now, not
    //  at the next relay timer (a window of 1 would pass ten messages a second)
    self->relay_due = true;
    s_answer_ready (self);
    return 0;
}

//  A key was removed from the directory: a subscriber with it must not go on
//  receiving, and the PUB socket cannot check each message, so its
//  connections are dropped (unbind, bind again); the others reconnect.
static void
s_drop_subscribers (schalt_server_t *self)
{
    uint64_t removals = schalt_curve_removals (self->curve);
    if (removals != self->removals && !self->pub_unbound) {
        //  libzmq closes the listener and the connections it took
        self->removals = removals;
        if (zsock_unbind (self->pub, "%s", self->pub_endpoint) == 0)
            self->pub_unbound = true;
    }
    if (!self->pub_unbound)
        return;
    //  The port is free again a moment later; until then, the next heartbeats retry
    for (int attempt = 0; attempt < 20 && self->pub_unbound; attempt++) {
        if (zsock_bind (self->pub, "%s", self->pub_endpoint) >= 0)
            self->pub_unbound = false;
        else
            zclock_sleep (10);
    }
    if (self->pub_unbound)
        schalt_log_warning ("server: the events socket is not bound again yet endpoint=%s "
                            "error=%s",
                            self->pub_endpoint, zmq_strerror (zmq_errno ()));
    else
        schalt_log_notice ("server: a key was removed: subscribers reconnect endpoint=%s",
                           self->pub_endpoint);
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *argument)
{
    (void)loop;
    (void)timer_id;
    schalt_server_t *self = (schalt_server_t *)argument;
    s_drop_subscribers (self);
    if (schalt_redis_reconnect (self->redis) != 0)
        s_note_error (self, "redis: %s", schalt_redis_last_error (self->redis));
    s_answer_ready (self);
    return 0;
}

//  Republishes a zsys log line "L: (ident) yy-mm-dd hh:mm:ss text" as
//  [log.<level>, sequence, {"service","level","time","message"}].
static int
s_on_log (zloop_t *loop, zsock_t *logs, void *argument)
{
    (void)loop;
    schalt_server_t *self = (schalt_server_t *)argument;
    char *line = zstr_recv (logs);
    if (!line)
        return 0;
    //  A log line may quote what came from outside: the event is JSON
    schalt_text_utf8_repair (line);
    const char *level = schalt_log_level_name (line[0]);
    const char *text = line;
    //  Skip the level, the identity and the local date and time
    const char *close = strstr (line, ") ");
    if (close && strlen (close) > 20)
        text = close + 2 + 18;
    char instant[32], topic[32], sequence[24];
    schalt_time_format_instant (time (NULL), instant);
    snprintf (topic, sizeof (topic), "log.%s", level);
    snprintf (sequence, sizeof (sequence), "log-%llu", (unsigned long long)++self->log_sequence);
    json_t *event = json_pack ("{s:s, s:s, s:s, s:s}", "service", self->service->name, "level",
                               level, "time", instant, "message", text);
    char *json = json_dumps (event, JSON_COMPACT);
    zsock_send (self->pub, "sss", topic, sequence, json);
    free (json);
    json_decref (event);
    zstr_free (&line);
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *pipe, void *argument)
{
    (void)loop;
    schalt_server_t *self = (schalt_server_t *)argument;
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = 0;
    if (command && streq (command, "$TERM"))
        rc = -1;
    else if (command && streq (command, "ENDPOINT"))
        zstr_send (pipe, zsock_endpoint (self->router));
    else if (command && streq (command, "EVENTS"))
        zstr_send (pipe, zsock_endpoint (self->pub));
    zstr_free (&command);
    zmsg_destroy (&msg);
    return rc;
}

//  --------------------------------------------------------------------------
//  Start and stop

void
schalt_server_publish (schalt_server_t *self, const char *topic, const char *id, const char *json)
{
    zsock_send (self->pub, "sss", topic, id, json);
}

schalt_redis_t *
schalt_server_redis (schalt_server_t *self)
{
    return self->redis;
}

schalt_config_t *
schalt_server_config (schalt_server_t *self)
{
    return self->config;
}

int
schalt_server_outbox (schalt_server_t *self, const char *peer, size_t window)
{
    char path[96];
    snprintf (path, sizeof (path), "%s/endpoint", peer);
    const char *endpoint = schalt_config_string (self->config, path);
    schalt_outbox_t *outbox =
        schalt_outbox_new (self->redis, self->curve, self->service->name, peer, endpoint, window);
    if (!outbox)
        return -1;
    zlist_append (self->outboxes, outbox);
    //  (its socket joins the loop when the server has made the service)
    return 0;
}

int
schalt_scripts_register (schalt_redis_t *redis, const char *common, const schalt_script_t *scripts)
{
    for (const schalt_script_t *script = scripts; script->name; script++) {
        char *source =
            zsys_sprintf ("%s\n%s\n%s", schalt_lua_prelude, common ? common : "", script->source);
        int rc = schalt_redis_script (redis, script->name, source);
        zstr_free (&source);
        if (rc != 0)
            return -1;
    }
    return 0;
}

//  Returns the setting <service>/<key>.
static const char *
s_setting (schalt_server_t *self, const char *key)
{
    char path[128];
    snprintf (path, sizeof (path), "%s/%s", self->service->name, key);
    return schalt_config_string (self->config, path);
}

static long
s_setting_integer (schalt_server_t *self, const char *key)
{
    char path[128];
    snprintf (path, sizeof (path), "%s/%s", self->service->name, key);
    return schalt_config_integer (self->config, path);
}

static void
s_server_destroy (schalt_server_t **self_p)
{
    schalt_server_t *self = *self_p;
    if (!self)
        return;
    //  The workers first: each finishes its work in hand (schalt_worker_destroy)
    schalt_worker_t *worker;
    while (self->workers && (worker = (schalt_worker_t *)zlist_pop (self->workers)))
        schalt_worker_destroy (&worker);
    zlist_destroy (&self->workers);
    if (self->state && self->service->destroy)
        self->service->destroy (&self->state);
    zloop_destroy (&self->loop);
    zlist_destroy (&self->timers);
    zsock_destroy (&self->router);
    zsock_destroy (&self->pub);
    free (self->pub_endpoint);
    zsock_destroy (&self->logs);
    zhashx_destroy (&self->commands);
    zhashx_destroy (&self->refusals);
    schalt_call_t *call;
    while (self->queued && (call = (schalt_call_t *)zlist_pop (self->queued)))
        s_call_destroy (&call);
    zlist_destroy (&self->queued);
    schalt_outbox_t *outbox;
    while (self->outboxes && (outbox = (schalt_outbox_t *)zlist_pop (self->outboxes)))
        schalt_outbox_destroy (&outbox);
    zlist_destroy (&self->outboxes);
    schalt_redis_destroy (&self->redis);
    schalt_schema_set_destroy (&self->schemas);
    schalt_curve_destroy (&self->curve); //  the authenticator, once no socket needs it
    free (self);
    *self_p = NULL;
}

//  Loads the daemon's key and the keys directory (schalt_curve.h), and
//  checks that its public half is <service>.cert there, under the
//  service's name and role: else no client could reach it. Returns 0, or -1
//  having logged why.
static int
s_curve_new (schalt_server_t *self)
{
    const char *name = self->service->name;
    const char *keys = schalt_config_string (self->config, "schaltstelle/keys");
    bool enabled = streq (schalt_config_string (self->config, "schaltstelle/curve"), "on");
    if (!enabled &&
        !streq (schalt_config_string (self->config, "schaltstelle/test_clock"), "settable")) {
        schalt_log_error ("server: schaltstelle/curve = off is for test configurations only "
                          "(test_clock = settable); service=%s does not start",
                          name);
        return -1;
    }
    char error[512] = "";
    self->curve =
        schalt_curve_new (keys, s_setting (self, "certificate"), enabled, error, sizeof (error));
    if (!self->curve) {
        schalt_log_error ("server: cannot start service=%s: %s", name, error);
        return -1;
    }
    if (!enabled) {
        schalt_log_warning ("server: CURVE is off: anyone who reaches the sockets may call "
                            "anything (schaltstelle/curve = off, for benchmarks only)");
        return 0;
    }
    //  The key pair must be the one the keys directory names for this daemon
    zsock_t *probe = schalt_curve_client (self->curve, ZMQ_DEALER, name, error, sizeof (error));
    const char *role = schalt_curve_role (self->curve);
    int rc = 0;
    if (!probe)
        rc = -1;
    else if (!streq (schalt_curve_name (self->curve), name) || !streq (role, name)) {
        snprintf (error, sizeof (error),
                  "%s/certificate is the key of '%s' (role %s); a daemon's key has its "
                  "service's name and role, %s",
                  name, schalt_curve_name (self->curve), role, name);
        rc = -1;
    }
    zsock_destroy (&probe);
    if (rc == 0) {
        schalt_key_t key;
        if (!schalt_curve_caller (self->curve, schalt_curve_public (self->curve), &key) ||
            !streq (key.name, name)) {
            snprintf (error, sizeof (error),
                      "%s/%s.cert is not the public half of %s/certificate (%s): make them "
                      "again together (schalt key create)",
                      keys, name, name, s_setting (self, "certificate"));
            rc = -1;
        }
    }
    if (rc != 0)
        schalt_log_error ("server: cannot start service=%s: %s", name, error);
    else
        schalt_log_info ("server: keys loaded service=%s dir=%s keys=%zu", name, keys,
                         schalt_curve_keys (self->curve));
    return rc;
}

//  Builds the server: schemas, sockets, Redis, the service. Returns NULL
//  (having logged why) if anything is missing.
static schalt_server_t *
s_server_new (zsock_t *pipe, schalt_server_args_t *args)
{
    schalt_server_t *self = (schalt_server_t *)zmalloc (sizeof (schalt_server_t));
    assert (self);
    self->pipe = pipe;
    self->config = args->config;
    self->service = args->service;
    self->started = zclock_time ();
    self->request_ttl = schalt_config_integer (self->config, "schaltstelle/request_ttl");
    self->max_message_size =
        (size_t)schalt_config_integer (self->config, "schaltstelle/max_message_size");
    self->queued = zlist_new ();
    self->outboxes = zlist_new ();
    self->workers = zlist_new ();
    self->redis_fd = -1;
    self->commands = zhashx_new ();
    const char *name = self->service->name;

    //  Every command needs a schema and a script, or the daemon does not start
    self->schemas =
        schalt_schema_set_new (schalt_config_string (self->config, "schaltstelle/schemas"));
    if (!self->schemas) {
        schalt_log_error ("server: cannot load schemas service=%s", name);
        s_server_destroy (&self);
        return NULL;
    }
    zhashx_insert (self->commands, "status", (void *)&s_status_command);
    zhashx_insert (self->commands, "audit.list", (void *)&s_audit_command);
    if (streq (schalt_config_string (self->config, "schaltstelle/test_clock"), "settable")) {
        zhashx_insert (self->commands, "clock.set", (void *)&s_clock_command);
        schalt_log_warning ("server: this is a test configuration: clock.set can move the "
                            "clock (schaltstelle/test_clock = settable)");
    }
    for (const schalt_command_t *entry = self->service->commands; entry->command; entry++) {
        char schema[SCHALT_COMMAND_MAX + 16];
        snprintf (schema, sizeof (schema), "request/%s", entry->command);
        if (!schalt_schema_set_lookup (self->schemas, schema)) {
            schalt_log_error ("server: no schema for command=%s (expected %s.json)", entry->command,
                              schema);
            s_server_destroy (&self);
            return NULL;
        }
        const schalt_script_t *script = self->service->scripts;
        while (script && script->name && !streq (script->name, entry->script))
            script++;
        if (!script || !script->name) {
            schalt_log_error ("server: no script for command=%s (expected lua/%s.lua)",
                              entry->command, entry->script);
            s_server_destroy (&self);
            return NULL;
        }
        zhashx_insert (self->commands, entry->command, (void *)entry);
    }

    //  Keys: the daemon's own, and those that may connect
    if (s_curve_new (self) != 0) {
        s_server_destroy (&self);
        return NULL;
    }
    snprintf (self->audit_key, sizeof (self->audit_key), "%s:{audit}:log", name);

    //  Sockets: a peer that sends a frame over max_message_size is
    //  disconnected by libzmq as the frame comes in; a message over it in
    //  all, or of more frames than a request has, by s_receive. The log
    //  relay is in-process (inproc), where no one else can reach.
    char error[512] = "";
    self->router = schalt_curve_server (self->curve, ZMQ_ROUTER, error, sizeof (error));
    self->pub =
        self->router ? schalt_curve_server (self->curve, ZMQ_PUB, error, sizeof (error)) : NULL;
    if (!self->pub) {
        schalt_log_error ("server: cannot make its sockets service=%s error=\"%s\"", name, error);
        s_server_destroy (&self);
        return NULL;
    }
    self->logs = zsock_new (ZMQ_SUB);
    zsock_set_maxmsgsize (self->router, (int)self->max_message_size);
    zsock_set_rcvhwm (self->router, 100000);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_subscribe (self->logs, "");
    if (zsock_bind (self->router, "%s", s_setting (self, "endpoint")) < 0 ||
        zsock_bind (self->pub, "%s", s_setting (self, "events")) < 0 ||
        zsock_connect (self->logs, "%s", schalt_log_endpoint ()) < 0) {
        schalt_log_error ("server: cannot bind service=%s endpoint=%s events=%s error=%s", name,
                          s_setting (self, "endpoint"), s_setting (self, "events"),
                          zmq_strerror (zmq_errno ()));
        s_server_destroy (&self);
        return NULL;
    }
    self->pub_endpoint = strdup (zsock_endpoint (self->pub)); //  the port, if it was '*'
    assert (self->pub_endpoint);

    self->redis = schalt_redis_new (s_setting (self, "redis/host"),
                                    (int)s_setting_integer (self, "redis/port"),
                                    (int)s_setting_integer (self, "redis/timeout"));
    //  The service's scripts, each with the prelude and its common Lua in front
    schalt_redis_script (self->redis, AUDIT_SCRIPT, s_audit_script);
    schalt_redis_script (self->redis, AUDIT_TRIM_SCRIPT, schalt_lua_audit_trim);
    const schalt_script_t audit_scripts[] = {{"schalt_audit_list", schalt_lua_audit_list},
                                             {NULL, NULL}};
    schalt_scripts_register (self->redis, NULL, audit_scripts);
    if (self->service->scripts &&
        schalt_scripts_register (self->redis, self->service->common, self->service->scripts) != 0) {
        schalt_log_error ("server: cannot register the scripts service=%s", name);
        s_server_destroy (&self);
        return NULL;
    }
    self->loop = zloop_new ();
    self->timers = zlist_new ();
    self->state = self->service->create ? self->service->create (self) : self;
    s_trimmer_t trimmer = {"", schalt_config_integer (self->config, "schaltstelle/audit_days"), 0};
    snprintf (trimmer.key, sizeof (trimmer.key), "%s", self->audit_key);
    if (self->state && !schalt_server_worker (self, &s_trimmer_job, &trimmer, NULL)) {
        schalt_log_error ("server: cannot start the audit trimmer service=%s", name);
        s_server_destroy (&self);
        return NULL;
    }
    if (!self->state) {
        schalt_log_error ("server: service did not start service=%s", name);
        s_server_destroy (&self);
        return NULL;
    }
    zloop_set_nonstop (self->loop, true); //  stop on $TERM only, after the batch in hand
    zloop_reader (self->loop, pipe, s_on_pipe, self);
    zloop_reader (self->loop, self->router, s_on_router, self);
    zloop_reader (self->loop, self->logs, s_on_log, self);
    zloop_timer (self->loop, (size_t)s_setting_integer (self, "heartbeat"), 0, s_on_heartbeat,
                 self);
    //  Outboxes: acknowledgements as they come, and a relay that retries
    for (schalt_outbox_t *outbox = (schalt_outbox_t *)zlist_first (self->outboxes); outbox;
         outbox = (schalt_outbox_t *)zlist_next (self->outboxes))
        zloop_reader (self->loop, schalt_outbox_socket (outbox), s_on_outbox, self);
    if (zlist_size (self->outboxes) > 0)
        zloop_timer (self->loop, RELAY_INTERVAL, 0, s_on_relay_timer, self);
    s_watch_redis (self);
    return self;
}

void
schalt_server_actor (zsock_t *pipe, void *args)
{
    schalt_server_args_t *server_args = (schalt_server_args_t *)args;
    schalt_server_t *self = s_server_new (pipe, server_args);
    server_args->started = self ? 0 : -1;
    zsock_signal (pipe, 0);
    if (!self) {
        //  Wait for the owner's $TERM, as every actor does
        char *command = NULL;
        while ((command = zstr_recv (pipe)) && !streq (command, "$TERM"))
            zstr_free (&command);
        zstr_free (&command);
        return;
    }
    schalt_log_info ("server: started service=%s endpoint=%s events=%s redis=%s",
                     self->service->name, zsock_endpoint (self->router), zsock_endpoint (self->pub),
                     schalt_redis_connected (self->redis) ? "up" : "down");
    zloop_start (self->loop);
    s_flush_queued (self); //  no request half-answered: replies in flight are read and sent
    schalt_log_info ("server: stopped service=%s requests=%llu", self->service->name,
                     (unsigned long long)self->counters.requests);
    s_server_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Self test: a small service with one state-changing command, run in the
//  actor against a real redis-server, driven over a DEALER as clients do.

//  thing.put: the body's value, counted, in one script; the prepare function
//  refuses the value "nope" and hands the script the value in upper case.
static int
s_test_put (schalt_call_t *call, void *service)
{
    (void)service;
    const char *value = json_string_value (json_object_get (schalt_call_body (call), "value"));
    if (streq (value, "nope")) {
        schalt_call_fail (call, 422, "nope", "/value", "not this one");
        return -1;
    }
    char upper[16];
    snprintf (upper, sizeof (upper), "%s", value);
    for (char *cursor = upper; *cursor; cursor++)
        *cursor = (char)toupper ((unsigned char)*cursor);
    schalt_call_arg (call, upper);
    return 0;
}

static int
s_test_tag (schalt_call_t *call, char *tag, size_t size)
{
    (void)call;
    snprintf (tag, size, "t");
    return 0;
}

static const schalt_script_t s_test_scripts[] = {
    {"put", "local seen = schalt.replay()\n"
            "if seen then return seen end\n"
            "local n = redis.call('INCR', schalt.prefix .. 'counter')\n"
            "local body = cjson.encode({value = schalt.body().value, count = n,\n"
            "    upper = ARGV[5], request = schalt.request_id})\n"
            "return schalt.answer(201, body, 'thing.put', body)\n"},
    {NULL, NULL}};

static const schalt_command_t s_test_commands[] = {
    {"thing.put", "put", SCHALT_CHANGES, s_test_put, "admin web"},
    {"thing.take", "put", SCHALT_CHANGES, s_test_put, "admin"},
    {NULL, NULL, SCHALT_READS, NULL, NULL}};

//  A worker that asks for one thing.put as an internal call and says so in
//  its figures.
static void *
s_test_job_start (schalt_work_t *work, const void *args)
{
    (void)work;
    (void)args;
    return zmalloc (sizeof (bool));
}

static void
s_test_job_tick (schalt_work_t *work, void *state)
{
    bool *called = (bool *)state;
    if (!*called)
        schalt_work_call (work, "thing.put", "w1", "{\"value\":\"w\"}");
    *called = true;
    schalt_work_figures (work, json_pack ("{s:{s:b}}", "worker", "called", 1));
}

static void
s_test_job_destroy (void **state_p)
{
    free (*state_p);
    *state_p = NULL;
}

static const schalt_job_t s_test_job = {"test", 50,   s_test_job_start,  s_test_job_tick,
                                        NULL,   NULL, s_test_job_destroy};

static void *
s_test_create (schalt_server_t *server)
{
    return schalt_server_worker (server, &s_test_job, NULL, NULL) ? server : NULL;
}

static const schalt_service_t s_test_service = {"scheduler", s_test_commands, s_test_scripts, NULL,
                                                s_test_tag,  s_test_create,   NULL,           NULL};

//  Sends a request and returns the reply (the caller destroys it).
static schalt_envelope_t *
s_test_ask (zsock_t *client, const char *command, const char *id, const char *json)
{
    zmsg_t *msg = schalt_envelope_request (command, id, json);
    assert (msg);
    zmsg_send (&msg, client);
    msg = zmsg_recv (client);
    assert (msg);
    schalt_error_t error;
    schalt_envelope_t *reply = schalt_envelope_decode_reply (&msg, &error);
    assert (reply);
    return reply;
}

//  The error code of a reply, or "".
static const char *
s_test_code (schalt_envelope_t *reply)
{
    json_t *code =
        json_object_get (json_object_get (schalt_envelope_body (reply), "error"), "code");
    return code ? json_string_value (code) : "";
}

void
schalt_server_test (bool verbose)
{
    printf (" * schalt_server: ");
    if (verbose)
        printf ("\n");

    //  A real Redis, and schemas in a folder of their own
    char *dir = schalt_test_tempdir ("schalt-server");
    int port = schalt_test_free_port ();
    pid_t redis = schalt_test_redis_start (port, dir);
    assert (redis > 0);
    char *schemas = zsys_sprintf ("%s/schemas", dir);
    zsys_dir_create ("%s/request", schemas);
    schalt_test_write (
        schemas, "request/thing.put.json",
        "{\"type\":\"object\",\"required\":[\"value\"],\"additionalProperties\":false,"
        "\"properties\":{\"value\":{\"type\":\"string\",\"maxLength\":10}}}");
    schalt_test_write (
        schemas, "request/thing.take.json",
        "{\"type\":\"object\",\"required\":[\"value\"],\"additionalProperties\":false,"
        "\"properties\":{\"value\":{\"type\":\"string\",\"maxLength\":10}}}");
    schalt_test_write (schemas, "request/status.json",
                       "{\"type\":\"object\",\"additionalProperties\":false}");

    char port_text[16];
    snprintf (port_text, sizeof (port_text), "%d", port);
    setenv ("SCHALT_SCHALTSTELLE_SCHEMAS", schemas, 1);
    setenv ("SCHALT_SCHEDULER_REDIS_PORT", port_text, 1);
    setenv ("SCHALT_SCHEDULER_ENDPOINT", "tcp://127.0.0.1:*", 1);
    setenv ("SCHALT_SCHEDULER_EVENTS", "tcp://127.0.0.1:*", 1);
    setenv ("SCHALT_SCHEDULER_HEARTBEAT", "100", 1);
    //  Keys: the daemon's, an admin's, an organiser's and the web front's
    const char *names[] = {"scheduler:scheduler", "admin:admin", "erika:organiser", "web:web",
                           NULL};
    char *keys = schalt_test_keys (dir, names);
    char *daemon_key = zsys_sprintf ("%s/secret/scheduler.key", dir);
    setenv ("SCHALT_SCHALTSTELLE_KEYS", keys, 1);
    setenv ("SCHALT_SCHEDULER_CERTIFICATE", daemon_key, 1);
    schalt_config_t *config = schalt_config_new (NULL, stderr);
    assert (config);
    char error[512] = "";
    schalt_curve_t *curves[3];
    const char *clients[] = {"admin", "erika", "web"};
    for (int index = 0; index < 3; index++) {
        char *path = zsys_sprintf ("%s/secret/%s.key", dir, clients[index]);
        curves[index] = schalt_curve_new (keys, path, true, error, sizeof (error));
        assert (curves[index]);
        zstr_free (&path);
    }

    schalt_server_args_t args = {&s_test_service, config, -1};
    zactor_t *server = zactor_new (schalt_server_actor, &args);
    assert (args.started == 0);
    zstr_send (server, "ENDPOINT");
    char *endpoint = zstr_recv (server);
    zsock_t *client =
        schalt_curve_client (curves[0], ZMQ_DEALER, "scheduler", error, sizeof (error));
    assert (client);
    zsock_connect (client, "%s", endpoint);
    zsock_set_rcvtimeo (client, 5000);

    //  status answers with Redis up
    schalt_envelope_t *reply = s_test_ask (client, "status", "s1", "{}");
    assert (schalt_envelope_status (reply) == 200);
    json_t *body = schalt_envelope_body (reply);
    assert (streq (json_string_value (json_object_get (json_object_get (body, "redis"), "state")),
                   "up"));
    schalt_envelope_destroy (&reply);

    //  The worker's internal call ran as a request (its replay record
    //  answers the same id), and its figures are in status
    bool called = false;
    for (int tries = 0; tries < 100 && !called; tries++) {
        zclock_sleep (50);
        reply = s_test_ask (client, "status", "s0", "{}");
        body = schalt_envelope_body (reply);
        called = json_is_true (json_object_get (json_object_get (body, "worker"), "called"));
        schalt_envelope_destroy (&reply);
    }
    assert (called);
    reply = s_test_ask (client, "thing.put", "w1", "{\"value\":\"w\"}");
    assert (schalt_envelope_status (reply) == 201);
    assert (json_integer_value (json_object_get (schalt_envelope_body (reply), "count")) == 1);
    schalt_envelope_destroy (&reply);

    //  A change, its replay (same reply, applied once), a reused id
    reply = s_test_ask (client, "thing.put", "r1", "{\"value\":\"a\"}");
    assert (schalt_envelope_status (reply) == 201);
    //  The script read the body, what prepare added, and its request id
    json_t *put = schalt_envelope_body (reply);
    assert (streq (json_string_value (json_object_get (put, "value")), "a"));
    assert (streq (json_string_value (json_object_get (put, "upper")), "A"));
    assert (streq (json_string_value (json_object_get (put, "request")), "r1"));
    char *first = strdup (schalt_envelope_text (reply));
    schalt_envelope_destroy (&reply);
    reply = s_test_ask (client, "thing.put", "r1", "{ \"value\" : \"a\" }");
    assert (schalt_envelope_status (reply) == 201);
    assert (streq (schalt_envelope_text (reply), first));
    schalt_envelope_destroy (&reply);
    reply = s_test_ask (client, "thing.put", "r1", "{\"value\":\"b\"}");
    assert (schalt_envelope_status (reply) == 409);
    assert (streq (s_test_code (reply), "request_id_reused"));
    schalt_envelope_destroy (&reply);
    free (first);

    //  An organiser's key may not put things (403, nothing applied); the web
    //  front may, for anyone, and not on behalf of a user whose role may not
    zsock_t *organiser =
        schalt_curve_client (curves[1], ZMQ_DEALER, "scheduler", error, sizeof (error));
    zsock_connect (organiser, "%s", endpoint);
    zsock_set_rcvtimeo (organiser, 5000);
    reply = s_test_ask (organiser, "thing.put", "o1", "{\"value\":\"o\"}");
    assert (schalt_envelope_status (reply) == 403 && streq (s_test_code (reply), "forbidden"));
    assert (strstr (schalt_envelope_text (reply), "organiser"));
    schalt_envelope_destroy (&reply);
    reply = s_test_ask (organiser, "status", "o2", "{}");
    assert (schalt_envelope_status (reply) == 200);
    schalt_envelope_destroy (&reply);
    zsock_t *web = schalt_curve_client (curves[2], ZMQ_DEALER, "scheduler", error, sizeof (error));
    zsock_connect (web, "%s", endpoint);
    zsock_set_rcvtimeo (web, 5000);
    zmsg_t *for_user =
        schalt_envelope_request_for ("thing.take", "u1", "{\"value\":\"u\"}", "erika", "organiser");
    zmsg_send (&for_user, web);
    for_user = zmsg_recv (web);
    schalt_error_t for_error;
    reply = schalt_envelope_decode_reply (&for_user, &for_error);
    assert (reply && schalt_envelope_status (reply) == 403);
    assert (strstr (schalt_envelope_text (reply), "web user erika"));
    schalt_envelope_destroy (&reply);
    //  ...and an admin's key may not pretend to act for a user
    for_user =
        schalt_envelope_request_for ("thing.put", "u2", "{\"value\":\"u\"}", "erika", "admin");
    zmsg_send (&for_user, client);
    for_user = zmsg_recv (client);
    reply = schalt_envelope_decode_reply (&for_user, &for_error);
    assert (reply && schalt_envelope_status (reply) == 403);
    schalt_envelope_destroy (&reply);
    reply = s_test_ask (web, "thing.put", "u3", "{\"value\":\"u\"}");
    assert (schalt_envelope_status (reply) == 201);
    schalt_envelope_destroy (&reply);

    //  The audit log: each change once (not its replay), each refusal, who
    //  did it; never the body
    schalt_redis_t *audit = schalt_redis_new ("127.0.0.1", port, 1000);
    const char *xrange[] = {"XRANGE", "scheduler:{audit}:log", "-", "+"};
    redisReply *entries = NULL;
    //  (written right after each reply, so the last may be on its way)
    for (int tries = 0; tries < 50 && (!entries || entries->elements < 5); tries++) {
        if (entries)
            freeReplyObject (entries);
        zclock_sleep (tries ? 20 : 0);
        entries = schalt_redis_command (audit, 4, xrange, NULL);
        assert (entries && entries->type == REDIS_REPLY_ARRAY);
    }
    //  r1 (once), o1 (refused), u1, u2 (refused), u3; not w1, the worker's own
    if (verbose || entries->elements != 5)
        printf ("   audit entries: %zu\n", entries->elements);
    assert (entries->elements == 5);
    char *flat = zsys_sprintf ("%s", "");
    for (size_t index = 0; index < entries->elements; index++) {
        redisReply *fields = entries->element[index]->element[1];
        for (size_t field = 0; field < fields->elements; field++) {
            char *longer = zsys_sprintf ("%s%s=", flat, fields->element[field]->str);
            zstr_free (&flat);
            flat = longer;
        }
        char *longer = zsys_sprintf ("%s\n", flat);
        zstr_free (&flat);
        flat = longer;
    }
    if (verbose)
        printf ("%s", flat);
    assert (!strstr (flat, "role=internal"));
    assert (strstr (
        flat,
        "who=admin=role=admin=user==user_role==command=thing.put=object==request=r1=status=201"));
    assert (strstr (flat, "who=erika=role=organiser="));
    assert (strstr (flat, "who=web=role=web=user=erika=user_role=organiser=command=thing.take="
                          "object==request=u1=status=403"));
    assert (strstr (flat, "request=u3=status=201"));
    assert (!strstr (flat, "\"a\""));
    zstr_free (&flat);
    freeReplyObject (entries);
    schalt_redis_destroy (&audit);
    zsock_destroy (&web);
    zsock_destroy (&organiser);

    //  A client without a key gets nothing, and the daemon serves on
    zsock_t *plain = zsock_new_dealer (endpoint);
    zsock_set_sndtimeo (plain, 0);
    zmsg_t *unkeyed = schalt_envelope_request ("status", "p1", "{}");
    zmsg_send (&unkeyed, plain);
    zpoller_t *quiet = zpoller_new (plain, NULL);
    assert (zpoller_wait (quiet, 300) == NULL);
    zpoller_destroy (&quiet);
    zsock_destroy (&plain);

    //  A prepare function's refusal: answered, nothing run
    reply = s_test_ask (client, "thing.put", "r5", "{\"value\":\"nope\"}");
    assert (schalt_envelope_status (reply) == 422 && streq (s_test_code (reply), "nope"));
    schalt_envelope_destroy (&reply);

    //  Refusals: unknown command, schema, envelope
    reply = s_test_ask (client, "thing.burn", "r2", "{}");
    assert (schalt_envelope_status (reply) == 400);
    assert (streq (s_test_code (reply), "unknown_command"));
    schalt_envelope_destroy (&reply);
    reply = s_test_ask (client, "thing.put", "r3", "{\"value\":\"far too long\"}");
    assert (schalt_envelope_status (reply) == 400);
    assert (streq (json_string_value (json_object_get (
                       json_object_get (schalt_envelope_body (reply), "error"), "field")),
                   "/value"));
    schalt_envelope_destroy (&reply);
    //  More frames than a request has: dropped without an answer
    zsock_send (client, "ssssss", SCHALT_PROTOCOL, "thing.put", "r4", "{}", "erika organiser",
                "extra");
    zpoller_t *poller = zpoller_new (client, NULL);
    assert (zpoller_wait (poller, 500) == NULL);
    zpoller_destroy (&poller);
    zmsg_t *msg;

    //  A burst is answered in full, in fewer batches than requests
    for (int index = 0; index < 200; index++) {
        char id[16], json[32];
        snprintf (id, sizeof (id), "b%d", index);
        snprintf (json, sizeof (json), "{\"value\":\"%d\"}", index);
        zmsg_t *request = schalt_envelope_request ("thing.put", id, json);
        zmsg_send (&request, client);
    }
    for (int index = 0; index < 200; index++) {
        msg = zmsg_recv (client);
        reply = schalt_envelope_decode_reply (&msg, &for_error);
        assert (reply && schalt_envelope_status (reply) == 201);
        schalt_envelope_destroy (&reply);
    }
    reply = s_test_ask (client, "status", "s2", "{}");
    json_t *requests = json_object_get (schalt_envelope_body (reply), "requests");
    assert (json_integer_value (json_object_get (requests, "batches")) < 200);
    schalt_envelope_destroy (&reply);

    //  Redis gone: 503 and nothing applied; back: served again without a restart
    schalt_test_redis_stop (redis, SIGKILL);
    reply = s_test_ask (client, "thing.put", "r5", "{\"value\":\"x\"}");
    assert (schalt_envelope_status (reply) == 503);
    schalt_envelope_destroy (&reply);
    redis = schalt_test_redis_start (port, dir);
    assert (redis > 0);
    int status = 0;
    for (int attempt = 0; attempt < 50 && status != 201; attempt++) {
        zclock_sleep (100);
        reply = s_test_ask (client, "thing.put", "r5", "{\"value\":\"x\"}");
        status = schalt_envelope_status (reply);
        //  The counter survived the restart (AOF): the worker's, r1, u3, 200, this one
        if (status == 201)
            assert (json_integer_value (json_object_get (schalt_envelope_body (reply), "count")) ==
                    204);
        schalt_envelope_destroy (&reply);
    }
    assert (status == 201);

    zsock_destroy (&client);
    zstr_free (&endpoint);
    zactor_destroy (&server);
    schalt_config_destroy (&config);
    for (int index = 0; index < 3; index++)
        schalt_curve_destroy (&curves[index]);
    unsetenv ("SCHALT_SCHALTSTELLE_KEYS");
    unsetenv ("SCHALT_SCHEDULER_CERTIFICATE");
    zstr_free (&keys);
    zstr_free (&daemon_key);
    unsetenv ("SCHALT_SCHALTSTELLE_SCHEMAS");
    unsetenv ("SCHALT_SCHEDULER_REDIS_PORT");
    unsetenv ("SCHALT_SCHEDULER_ENDPOINT");
    unsetenv ("SCHALT_SCHEDULER_EVENTS");
    unsetenv ("SCHALT_SCHEDULER_HEARTBEAT");
    schalt_test_redis_stop (redis, SIGTERM);
    schalt_test_rmtree (dir);
    zstr_free (&schemas);
    zstr_free (&dir);
    printf ("OK\n");
}
