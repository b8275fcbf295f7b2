/*  schalt_server - the daemon skeleton every service runs in.

    A server is a czmq actor with one zloop: a ROUTER socket for requests, a
    PUB socket for events and logs, and a heartbeat timer that watches Redis.
    A request is decoded (schalt_envelope), looked up in the service's
    command table, checked against its schema (`request/<command>` in the
    schema folder), prepared by the command's prepare function if it has
    one, and run as the command's Lua script. A command is one row of that
    table (schalt_command_t), its schema and its script: the skeleton finds
    the hash tag (the service's tag function), builds the request key and
    the arguments, and queues the script. Requests that arrive together are
    handled together: the server reads every waiting request, queues their
    scripts on one pipelined connection, then answers each from its script's
    reply. That makes a burst of N requests one Redis round trip instead of N.

    A script answers with { status, body [, topic, event, outbox...] }: the
    reply's status and JSON body, optionally an event to publish on the PUB
    socket once the reply is sent ('' for none), and the outbox lists it
    wrote to, which the relay then sends from at once. Every script has the
    prelude (common/lua/prelude.lua) and its service's lua/common.lua in
    front: schalt.prefix is the key prefix of its hash tag, and a script
    that changes state first asks schalt.replay(), so a repeated request id
    returns the first reply and changes nothing (rule 5).

    Who may call: every socket is CURVE (schalt_curve.h), so each request
    comes from a known key with a role, and each command's row names the
    roles that may call it. A key whose role is not named gets 403
    `forbidden`, naming the role, and nothing changes. The web front (role
    `web`) may call the commands whose row names `web` (public ones) as it
    is, those whose row names `web-token` when the body carries a
    participant's token, and every other command only on behalf of a
    logged-in person whose name and role it sends as the request's fifth
    frame (schalt_envelope.h): then that person's role is checked. Calls a
    daemon makes to itself (its workers') need no role.

    Every state change that succeeds, and every call refused for its role,
    is appended to the daemon's audit log (the stream <service>:{audit}:log):
    when, which key (and web user), the command, the object's id and the
    request id, never a participant's name or address.

    The built-in `status` command reports uptime, Redis state, counters and
    the last error, plus anything the service adds. The actor stops cleanly
    on $TERM: it finishes the batch in hand, so no request is half-applied.
*/
#ifndef SCHALT_SERVER_H_INCLUDED
#define SCHALT_SERVER_H_INCLUDED

#include "schalt_config.h"
#include "schalt_envelope.h"
#include "schalt_redis.h"
#include "schalt_schema.h"
#include "schalt_worker.h"
#include <czmq.h>
#include <jansson.h>

typedef struct _schalt_server_t schalt_server_t;
typedef struct _schalt_call_t schalt_call_t;

//  A service's script: its name and its Lua source. Each service's table is
//  made at build time from its lua/ folder (schalt_embed_scripts in
//  CMakeLists.txt): lua/<name>.lua is the script <name>.
typedef struct {
    const char *name;
    const char *source;
} schalt_script_t;

//  Whether a command changes state (its reply is remembered under its
//  request id and a repeat gets that reply, architecture rule 5) or reads.
typedef enum { SCHALT_READS, SCHALT_CHANGES } schalt_access_t;

//  Prepares a call for its script: checks what the schema cannot (and
//  answers with schalt_call_fail), or adds what the script needs beyond the
//  body (ids, normalised times) with schalt_call_arg. Returns 0 to run the
//  script, -1 if it answered the call. service is what create returned.
typedef int (schalt_prepare_fn) (schalt_call_t *call, void *service);

//  A command, declared in one row: its schema is request/<command>.json (and
//  reply/<command>.json), its script lua/<script>.lua, and the roles that
//  may call it, separated by spaces (schalt_keys.h names the roles; "web"
//  lets the web front call it for anyone, "web-token" with a token in the
//  body; "" for a command only the daemon's own workers call). The script gets the
//  request key as KEYS[1] (<service>:{tag}:request:<id>, in the hash tag
//  that the service's tag function names), the prelude's three arguments,
//  the body as JSON in ARGV[4], and what prepare added from ARGV[5] on.
typedef struct {
    const char *command; //  "event.create"
    const char *script;  //  "event_create"
    schalt_access_t access;
    schalt_prepare_fn *prepare; //  NULL if the body is all the script needs
    const char *roles;          //  "admin organiser web"
} schalt_command_t;

//  Role lists that several commands share.
#define SCHALT_CALLED_BY_STAFF "admin organiser"
#define SCHALT_CALLED_BY_ANYONE "admin organiser group-lead counsellor web"
#define SCHALT_CALLED_BY_WORKERS "" //  only the daemon's own workers (internal calls)

//  What a service plugs into the skeleton.
typedef struct {
    const char *name;                 //  "scheduler": also its config section and key prefix
    const schalt_command_t *commands; //  ends with a row whose command is NULL
    const schalt_script_t *scripts;   //  its lua/ folder (ends with a NULL name)
    const char *common;               //  its lua/common.lua, put in front of each script
    //  Writes the hash tag of a call's keys ("events", "ses-..."), without
    //  braces, into tag. Returns 0, or -1 after answering the call.
    int (*tag) (schalt_call_t *call, char *tag, size_t size);
    //  Creates the service's state; NULL on failure. May be NULL.
    void *(*create) (schalt_server_t *server);
    //  Destroys that state.
    void (*destroy) (void **service_p);
    //  Adds service-specific fields to the status reply; may be NULL.
    void (*status) (void *service, json_t *status);
} schalt_service_t;

//  What the actor is started with: zactor_new (schalt_server_actor, &args).
//  Both are borrowed and must outlive the actor.
//  After zactor_new returns, started is 0 if the server runs, -1 if it
//  could not start (it has logged why; destroy the actor).
typedef struct {
    const schalt_service_t *service;
    schalt_config_t *config;
    int started;
} schalt_server_args_t;

//  The actor. It answers "$TERM", "ENDPOINT" with the ROUTER endpoint it
//  bound and "EVENTS" with the PUB endpoint (resolved if the port was '*').
void schalt_server_actor (zsock_t *pipe, void *args);

//  --------------------------------------------------------------------------
//  For services

//  The server's Redis connection, borrowed.
schalt_redis_t *schalt_server_redis (schalt_server_t *self);

//  The configuration, borrowed.
schalt_config_t *schalt_server_config (schalt_server_t *self);

//  Register every script of a table (ending with a NULL name), each with
//  common (the service's shared Lua, may be NULL) and the prelude in front,
//  on a connection of the daemon's own (a delivery loop's, say); the server
//  registers its service's scripts itself. Returns 0 or -1.
int schalt_scripts_register (schalt_redis_t *redis, const char *common,
                             const schalt_script_t *scripts);

//  Add a reliable outbox to the peer (schalt_outbox), at the endpoint the
//  configuration names for it (<peer>/endpoint): the server relays its
//  entries on a timer and right after a script wrote to it, and shows its
//  depth in status. window is how many of one list may be in flight (1 keeps
//  strict order). Returns 0 or -1.
int schalt_server_outbox (schalt_server_t *self, const char *peer, size_t window);

//  Internal calls: a service sends a command to itself (a timer's work,
//  such as expiring offers), and it runs exactly as a request from outside
//  (schema, prepare, hash tag, replay record, script), without a socket.
//  The answers go to the function set with schalt_server_on_answer.
typedef void (schalt_answer_fn) (void *service, const char *command, int status, const char *id,
                                 const char *json);
void schalt_server_call (schalt_server_t *self, const char *command, const char *id,
                         const char *json);
void schalt_server_on_answer (schalt_server_t *self, schalt_answer_fn *fn);

//  A key a script named in its reply that is no outbox list's (a due-time
//  index it wrote, say) goes to this function.
typedef void (schalt_touch_fn) (void *service, const char *key);
void schalt_server_on_touch (schalt_server_t *self, schalt_touch_fn *fn);

//  Calls fn with the service's state every interval_ms, from the loop.
typedef void (schalt_timer_fn) (void *service);
void schalt_server_every (schalt_server_t *self, size_t interval_ms, schalt_timer_fn *fn);

//  Starts a worker for job (schalt_worker), on a Redis connection of its
//  own to the service's Redis: its calls run as internal calls, its figures
//  are merged into the status reply, what it tells its owner goes to told
//  (with the service's state and the frames after TELL; may be NULL), and
//  it stops before the service does. Returns the worker (the server owns
//  it; for schalt_worker_tell), or NULL if it could not start.
typedef void (schalt_told_fn) (void *service, zmsg_t *msg);
schalt_worker_t *schalt_server_worker (schalt_server_t *self, const schalt_job_t *job,
                                       const void *args, schalt_told_fn *told);

//  Publish an event [topic, id, json] on the PUB socket (for observers).
void schalt_server_publish (schalt_server_t *self, const char *topic, const char *id,
                            const char *json);

//  --------------------------------------------------------------------------
//  For prepare functions (and the status command)

//  The call's command, request id and schema-valid body (all borrowed).
const char *schalt_call_command (schalt_call_t *self);
const char *schalt_call_id (schalt_call_t *self);
json_t *schalt_call_body (schalt_call_t *self);

//  Adds an argument for the call's script (copied): ARGV[5] first, at most 40.
void schalt_call_arg (schalt_call_t *self, const char *text);

//  Names the call's hash tag (without braces), for a call whose tag only
//  prepare can know (from a token it checked); the service's tag function
//  is then not asked.
void schalt_call_tag (schalt_call_t *self, const char *tag);

//  Answer with a status and a JSON body (ownership of body is taken).
void schalt_call_reply (schalt_call_t *self, int status, json_t **body_p);

//  Answer with an error: {"error":{"code","message","field"}}.
void schalt_call_fail (schalt_call_t *self, int status, const char *code, const char *field,
                       const char *format, ...) __attribute__ ((format (printf, 5, 6)));

//  Self test: runs a small service in the actor against a real Redis.
void schalt_server_test (bool verbose);

#endif
