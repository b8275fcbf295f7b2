/*  schalt_redis - one daemon's connection to its Redis, built on hiredis 0.14.

    hiredis 0.14 (Debian 12) has no connect options, no RESP3 and no TLS, and a
    context that has seen an error is unusable: this class absorbs that. It
    connects with a timeout and sets a command timeout; after any I/O or
    protocol error it frees the context and reports "down" until the caller's
    heartbeat calls schalt_redis_reconnect. Lua scripts are registered once,
    loaded with SCRIPT LOAD on every (re)connect and called by SHA; a NOSCRIPT
    reply (after a Redis restart or SCRIPT FLUSH) loads the script again and
    retries once.

    Calls can be pipelined: append any number, then read the replies in order.
    That is how a daemon turns a burst of requests into one round trip.
*/
#ifndef SCHALT_REDIS_H_INCLUDED
#define SCHALT_REDIS_H_INCLUDED

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _schalt_redis_t schalt_redis_t;

//  Create a connection object and try to connect once. Never returns NULL
//  for an unreachable server: the object starts "down" and the caller's
//  heartbeat retries. timeout_ms bounds connect and each command.
schalt_redis_t *schalt_redis_new (const char *host, int port, int timeout_ms);

//  Destroy; safe to call twice, clears the caller's pointer.
void schalt_redis_destroy (schalt_redis_t **self_p);

//  True while connected and no error has been seen since.
bool schalt_redis_connected (schalt_redis_t *self);

//  If down, try to connect (and load every registered script). If up, send
//  PING to find out whether it still is. Returns 0 if up afterwards, else -1.
int schalt_redis_reconnect (schalt_redis_t *self);

//  The last error text ("connection refused", "timeout", ...), borrowed;
//  empty string if none.
const char *schalt_redis_last_error (schalt_redis_t *self);

//  Register a Lua script under a name. Its SHA1 is computed locally; it is
//  loaded now if connected and again after every reconnect. Returns 0, or -1
//  if the name is taken.
int schalt_redis_script (schalt_redis_t *self, const char *name, const char *source);

//  Plain command, argv style, run now. Returns a reply the caller frees with
//  freeReplyObject, or NULL when Redis is down (the connection is then dropped).
//  An error reply (REDIS_REPLY_ERROR) is returned as a reply, not as NULL.
redisReply *schalt_redis_command (schalt_redis_t *self, int argc, const char **argv,
                                  const size_t *argvlen);

//  Run a registered script now: EVALSHA name numkeys keys... args...
//  Returns as schalt_redis_command; handles NOSCRIPT by loading and retrying.
redisReply *schalt_redis_eval (schalt_redis_t *self, const char *name, int nkeys, const char **keys,
                               int nargs, const char **args, const size_t *arglens);

//  Pipelining: queue an EVALSHA without waiting. Returns 0, or -1 if down or
//  the name is unknown (nothing queued then).
int schalt_redis_append_eval (schalt_redis_t *self, const char *name, int nkeys, const char **keys,
                              int nargs, const char **args, const size_t *arglens);

//  Read the reply of the oldest queued call (flushing the output first).
//  Returns NULL if the connection fails; then every later queued call's reply
//  is NULL too (the caller answers those 503). A NOSCRIPT reply is retried
//  synchronously with EVAL of the full source, so the caller never sees it.
redisReply *schalt_redis_read (schalt_redis_t *self);

//  For an event loop: the connection's socket (to watch for replies), or -1
//  while down. It changes with every reconnect.
int schalt_redis_fd (schalt_redis_t *self);

//  Write every appended call to the socket now, without waiting for replies.
//  Returns 0, or -1 if the connection failed (the calls are then lost).
int schalt_redis_flush (schalt_redis_t *self);

//  True if schalt_redis_read would return the oldest queued call's reply
//  without waiting: it has arrived (this reads what the socket holds,
//  without blocking), or the call is lost. False if nothing is queued.
bool schalt_redis_ready (schalt_redis_t *self);

//  Number of appended calls whose reply has not been read yet.
size_t schalt_redis_pending (schalt_redis_t *self);

//  Self test against a real redis-server that the test starts on a free
//  loopback port and stops by pid (including a restart under the client).
void schalt_redis_test (bool verbose);

#endif
