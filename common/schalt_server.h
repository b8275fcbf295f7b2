/*  schalt_server - the daemon skeleton every service runs in.

    A server is a czmq actor with one zloop: a ROUTER socket for requests, a
    PUB socket for events and logs, and a heartbeat timer that watches Redis.
    A request is decoded (schalt_envelope), looked up in the service's
    dispatch table, checked against its schema (`request/<command>` in the
    schema folder), and handed to the command's handler as a call.

    A handler answers at once (schalt_call_reply, schalt_call_fail) or, for
    anything that touches Redis, queues one script call through its store
    (schalt_call_eval). Requests that arrive together are handled together:
    the server reads every waiting request, queues their scripts on one
    pipelined connection, then answers each from its script's reply. That
    makes a burst of N requests one Redis round trip instead of N.

    A script answers with { status, body [, topic, event, outbox...] }: the
    reply's status and JSON body, optionally an event to publish on the PUB
    socket once the reply is sent ('' for none), and the outbox lists it
    wrote to, which the relay then sends from at once. Scripts that change state begin with the
    prelude (common/lua/prelude.lua): KEYS[1] remembers the request id, so a
    repeated id returns the first reply and changes nothing (rule 5).

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
#include <czmq.h>
#include <jansson.h>

typedef struct _schalt_server_t schalt_server_t;
typedef struct _schalt_call_t schalt_call_t;

//  A command's handler. service is what the service's constructor returned.
typedef void (schalt_handler_fn) (schalt_call_t *call, void *service);

typedef struct {
    const char *command;        //  "event.create"
    schalt_handler_fn *handler; //  answers or queues one script call
} schalt_command_t;

//  What a service plugs into the skeleton.
typedef struct {
    const char *name;                 //  "scheduler": also its config section
    const schalt_command_t *commands; //  ends with a row whose command is NULL
    //  Creates the service's state (registering its scripts); NULL on failure.
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

//  Register a script that changes state: the prelude is put in front of it.
//  Returns 0 or -1.
int schalt_server_script (schalt_server_t *self, const char *name, const char *source);

//  A service's script: its name and its Lua source.
typedef struct {
    const char *name;
    const char *source;
} schalt_script_t;

//  Register every script of a table (ending with a NULL name), each with
//  common (the service's shared Lua, may be NULL) and the prelude in front.
//  Returns 0 or -1.
int schalt_server_scripts (schalt_server_t *self, const char *common,
                           const schalt_script_t *scripts);

//  The same for a connection of the daemon's own (a delivery loop's, say).
int schalt_scripts_register (schalt_redis_t *redis, const char *common,
                             const schalt_script_t *scripts);

//  Add a reliable outbox to the peer (schalt_outbox), at the endpoint the
//  configuration names for it (<peer>/endpoint): the server relays its
//  entries on a timer and right after a script wrote to it, and shows its
//  depth in status. window is how many of one list may be in flight (1 keeps
//  strict order). Returns 0 or -1.
int schalt_server_outbox (schalt_server_t *self, const char *peer, size_t window);

//  Publish an event [topic, id, json] on the PUB socket (for observers).
void schalt_server_publish (schalt_server_t *self, const char *topic, const char *id,
                            const char *json);

//  --------------------------------------------------------------------------
//  For handlers

//  The call's command, request id and schema-valid body (all borrowed).
const char *schalt_call_command (schalt_call_t *self);
const char *schalt_call_id (schalt_call_t *self);
json_t *schalt_call_body (schalt_call_t *self);

//  The arguments every state-changing script receives first: ARGV[1] the
//  digest of command and body (to tell a replay from a reused id), ARGV[2]
//  the seconds a reply is remembered, ARGV[3] the time now (UTC seconds).
//  Fills args[0..2] with borrowed strings; returns 3.
int schalt_call_prelude_args (schalt_call_t *self, const char **args);

//  Answer with a status and a JSON body (ownership of body is taken).
void schalt_call_reply (schalt_call_t *self, int status, json_t **body_p);

//  Answer with an error: {"error":{"code","message","field"}}.
void schalt_call_fail (schalt_call_t *self, int status, const char *code, const char *field,
                       const char *format, ...) __attribute__ ((format (printf, 5, 6)));

//  Queue a state-changing script (see the prelude's contract): KEYS[1] is
//  request_key (where the request id's reply is remembered, in the hash tag
//  of the other keys), then keys; ARGV holds the three prelude arguments,
//  then args. At most 7 keys and 8 args.
void schalt_call_change (schalt_call_t *self, const char *script, const char *request_key,
                         int nkeys, const char **keys, int nargs, const char **args);

//  Queue one script call whose reply { status, body [, topic, event] }
//  becomes the answer. If Redis is down the call is answered 503 at once.
void schalt_call_eval (schalt_call_t *self, const char *script, int nkeys, const char **keys,
                       int nargs, const char **args);

//  Self test: runs a small service in the actor against a real Redis.
void schalt_server_test (bool verbose);

#endif
