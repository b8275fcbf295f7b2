/*  schalt_worker - the one shape of timed work (architecture rule 9).

    Whatever must happen at a time (an e-mail to deliver or retry, an offer
    that runs out, a reminder that falls due) is an entry in a due-time
    index in Redis, found and claimed by a worker: a czmq actor with its own
    zloop and its own Redis connection, so that the server's loop only
    answers requests and a slow Redis call never holds one up. A job says
    what the worker does: it starts its state in the worker's thread, is
    ticked every tick_ms, may add readers to the worker's loop (the
    notifier's mailer), and is told what its owner sends it (a key that a
    script wrote).

    The worker acts in one of two ways. It runs its own scripts on its own
    connection (the notifier's claims and results), or, where the act must
    be one atomic step with its outbox messages and its replay record, it
    asks the server to run a command as an internal call
    (schalt_work_call): the command then runs exactly as a request from
    outside. Claims are leases: what a worker claimed and did not finish is
    claimed again once the lease runs out, by it or by the next one.

    What the worker would show in status (its state, its counters) it
    reports over its pipe as figures, a JSON object that the server merges
    into its status reply: nothing is shared between the threads.
*/
#ifndef SCHALT_WORKER_H_INCLUDED
#define SCHALT_WORKER_H_INCLUDED

#include "schalt_redis.h"
#include <czmq.h>
#include <jansson.h>

//  The worker as its job sees it (in the worker's thread only).
typedef struct _schalt_work_t schalt_work_t;

//  A job: what a worker does. Every function runs in the worker's thread;
//  those marked may be NULL.
typedef struct {
    const char *name; //  "delivery": names its thread in the logs
    size_t tick_ms;   //  between two ticks
    //  Makes the job's state from args (which the owner keeps only until
    //  schalt_worker_new returns: copy what is needed). NULL if it cannot.
    void *(*start) (schalt_work_t *work, const void *args);
    //  Every tick, whether Redis is up or not (schalt_work_redis_up says).
    void (*tick) (schalt_work_t *work, void *state);
    //  A message the owner sent with schalt_worker_tell (may be NULL).
    void (*told) (schalt_work_t *work, void *state, zmsg_t *msg);
    //  At a clean stop, before the loop ends (may be NULL).
    void (*finish) (schalt_work_t *work, void *state);
    //  Frees the state.
    void (*destroy) (void **state_p);
} schalt_job_t;

//  Where the worker's Redis is, and how often to retry it while it is down.
typedef struct {
    const char *host;
    int port;
    int timeout_ms;
    int heartbeat_ms; //  at most one reconnect attempt in this time
} schalt_worker_redis_t;

//  --------------------------------------------------------------------------
//  For jobs, in the worker's thread

//  The worker's own Redis connection (borrowed).
schalt_redis_t *schalt_work_redis (schalt_work_t *self);

//  True if Redis is up; while it is down, reconnects at most once a heartbeat.
bool schalt_work_redis_up (schalt_work_t *self);

//  The worker's loop, for the job's own readers and timers.
zloop_t *schalt_work_loop (schalt_work_t *self);

//  Asks the server to run command as an internal call (schalt_server_call).
//  Its answer goes to the service's schalt_server_on_answer function; a job
//  that needs to know the outcome reads it back from Redis.
void schalt_work_call (schalt_work_t *self, const char *command, const char *id, const char *json);

//  Tells the owner something (text frames, ending with NULL): a key the
//  job found, say. The server passes it to the service (schalt_server_worker).
void schalt_work_tell_owner (schalt_work_t *self, const char *first, ...);

//  Sets the figures the job shows in status (taken: the caller gives up its
//  reference). They reach the server at most every 100 ms, when changed.
void schalt_work_figures (schalt_work_t *self, json_t *figures);

//  Runs the job's tick now, rather than at the next tick.
void schalt_work_tick (schalt_work_t *self);

//  --------------------------------------------------------------------------
//  For the owner (the server, in its thread)

typedef struct _schalt_worker_t schalt_worker_t;

//  Starts a worker with job. Returns NULL if it could not start (the job's
//  start returned NULL; it has logged why).
schalt_worker_t *schalt_worker_new (const schalt_job_t *job, const void *args,
                                    const schalt_worker_redis_t *redis);

//  Stops the job (its finish runs first) and the worker; safe to call twice.
void schalt_worker_destroy (schalt_worker_t **self_p);

//  The socket to read the worker's messages from: [CALL, command, id,
//  json], [TELL, frames...] or [FIGURES, json]; schalt_worker_take reads one.
zsock_t *schalt_worker_socket (schalt_worker_t *self);

//  Reads one message of the worker's. A call ([CALL, command, id, json])
//  or what the job told its owner ([TELL, frames...]) is returned in *msg
//  (the caller destroys it); figures are kept for schalt_worker_figures.
//  Returns 0, or -1 if nothing could be read.
int schalt_worker_take (schalt_worker_t *self, zmsg_t **msg);

//  The figures last reported (borrowed), or NULL before the first.
json_t *schalt_worker_figures (schalt_worker_t *self);

//  Sends the job a message of text frames (a key its scripts wrote):
//  schalt_worker_tell (worker, "TOUCH", key, NULL).
void schalt_worker_tell (schalt_worker_t *self, const char *first, ...);

//  Self test against a real Redis.
void schalt_worker_test (bool verbose);

#endif
