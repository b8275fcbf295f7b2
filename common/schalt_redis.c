/*  schalt_redis - one daemon's connection to its Redis, built on hiredis 0.14.

    hiredis 0.14 leaves a context unusable once it has seen an error (I/O,
    timeout, protocol). This class frees such a context at once and is then
    "down": every call returns NULL (or -1) without touching the network
    until the daemon's heartbeat calls schalt_redis_reconnect. The state
    change is logged once each way, never for every failed retry.

    Lua scripts are kept by name with their source and SHA1 (computed here),
    loaded with SCRIPT LOAD on every connect, and called with EVALSHA. Redis
    forgets scripts on restart and on SCRIPT FLUSH; a NOSCRIPT reply is then
    healed by loading the script again (synchronous calls) or by running the
    full source with EVAL (pipelined calls, see schalt_redis_read).

    Pipelined calls are kept in a queue, oldest first, each with a copy of
    its arguments. A synchronous call made while replies are still queued
    first reads those replies into the queue, so that it gets its own.
*/
#include "schalt_redis.h"
#include "schalt_log.h"
#include "schalt_text.h"
#include "schalt_testutil.h"

#include <czmq.h>
#include <poll.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

//  A registered Lua script
typedef struct {
    char *name;
    char *source;
    char sha[41]; //  lowercase hex SHA1 of source, as Redis names it
} s_script_t;

//  One pipelined EVALSHA whose reply the caller has not read yet
typedef struct {
    s_script_t *script; //  borrowed: scripts live as long as the object
    int argc;
    char **argv; //  EVALSHA sha numkeys keys... args... (copies)
    size_t *argvlen;
    redisReply *reply; //  read ahead of the caller (see s_drain)
    bool lost;         //  the connection failed before its reply came
} s_call_t;

//  The state last logged, so that each change is logged once
typedef enum { S_STATE_NEW, S_STATE_UP, S_STATE_DOWN } s_state_t;

struct _schalt_redis_t {
    char *host;
    int port;
    int timeout_ms;
    redisContext *context; //  NULL while down
    zhashx_t *scripts;     //  name -> s_script_t
    zlistx_t *calls;       //  pipelined s_call_t, oldest first
    s_state_t logged;
    char last_error[160];
};

//  --------------------------------------------------------------------------
//  Scripts and calls

//  Returns a NUL-terminated copy of size bytes of data.
static char *
s_memdup (const char *data, size_t size)
{
    char *copy = (char *)zmalloc (size + 1);
    memcpy (copy, data, size);
    return copy;
}

//  Returns a new script with its SHA1 in lowercase hex.
static s_script_t *
s_script_new (const char *name, const char *source)
{
    s_script_t *self = (s_script_t *)zmalloc (sizeof (s_script_t));
    self->name = s_memdup (name, strlen (name));
    self->source = s_memdup (source, strlen (source));

    //  zdigest is SHA-1 in uppercase hex; Redis names scripts in lowercase.
    //  A czmq built without crypto returns NULL: not a usable build.
    zdigest_t *digest = zdigest_new ();
    assert (digest);
    zdigest_update (digest, (const byte *)source, strlen (source));
    const char *hex = zdigest_string (digest);
    assert (hex && strlen (hex) == 40);
    for (int i = 0; i < 40; i++)
        self->sha[i] = (char)tolower ((unsigned char)hex[i]);
    zdigest_destroy (&digest);
    return self;
}

//  Destroys a script (zhashx destructor).
static void
s_script_destroy (s_script_t **self_p)
{
    if (*self_p) {
        s_script_t *self = *self_p;
        free (self->name);
        free (self->source);
        free (self);
        *self_p = NULL;
    }
}

//  Returns a call holding copies of EVALSHA sha numkeys keys... args...
//  A NULL arglens means every arg is a C string.
static s_call_t *
s_call_new (s_script_t *script, int nkeys, const char **keys, int nargs, const char **args,
            const size_t *arglens)
{
    assert (nkeys >= 0 && nargs >= 0);
    s_call_t *self = (s_call_t *)zmalloc (sizeof (s_call_t));
    self->script = script;
    self->argc = 3 + nkeys + nargs;
    self->argv = (char **)zmalloc (sizeof (char *) * (size_t)self->argc);
    self->argvlen = (size_t *)zmalloc (sizeof (size_t) * (size_t)self->argc);

    char numkeys[16];
    snprintf (numkeys, sizeof numkeys, "%d", nkeys);
    const char *head[] = {"EVALSHA", script->sha, numkeys};
    for (int i = 0; i < self->argc; i++) {
        const char *data;
        size_t size;
        if (i < 3)
            data = head[i], size = strlen (data);
        else if (i < 3 + nkeys)
            data = keys[i - 3], size = strlen (data);
        else {
            data = args[i - 3 - nkeys];
            size = arglens ? arglens[i - 3 - nkeys] : strlen (data);
        }
        self->argv[i] = s_memdup (data, size);
        self->argvlen[i] = size;
    }
    return self;
}

//  Destroys a call and any reply read ahead for it (zlistx destructor).
static void
s_call_destroy (s_call_t **self_p)
{
    if (*self_p) {
        s_call_t *self = *self_p;
        for (int i = 0; i < self->argc; i++)
            free (self->argv[i]);
        free (self->argv);
        free (self->argvlen);
        if (self->reply)
            freeReplyObject (self->reply);
        free (self);
        *self_p = NULL;
    }
}

//  Returns true if the reply is Redis's "NOSCRIPT No matching script".
static bool
s_is_noscript (redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->str &&
           strncmp (reply->str, "NOSCRIPT", 8) == 0;
}

//  --------------------------------------------------------------------------
//  Connection state

//  Logs "up" unless that was the last state logged.
static void
s_mark_up (schalt_redis_t *self)
{
    if (self->logged != S_STATE_UP)
        schalt_log_info ("redis: up host=%s port=%d", self->host, self->port);
    self->logged = S_STATE_UP;
}

//  Records the error and logs "down" unless that was the last state logged.
static void
s_mark_down (schalt_redis_t *self, const char *error)
{
    snprintf (self->last_error, sizeof self->last_error, "%s", error);
    schalt_text_utf8_repair (self->last_error); //  shown in status, as JSON
    if (self->logged != S_STATE_DOWN)
        schalt_log_warning ("redis: down host=%s port=%d error=%s", self->host, self->port,
                            self->last_error);
    self->logged = S_STATE_DOWN;
}

//  Returns the error text of a failed context; a blocking read or write
//  that ran out of time reports EAGAIN, which reads better as "timeout".
static const char *
s_context_error (redisContext *context)
{
    if (!context->err)
        return "no reply";
    if (context->err == REDIS_ERR_IO && strcmp (context->errstr, strerror (EAGAIN)) == 0)
        return "timeout";
    return context->errstr;
}

//  Frees the context after an error: the object is down until reconnected.
//  Every queued call without a reply is lost, so its read returns NULL at
//  once. error may be NULL: then the context's own error is recorded.
static void
s_drop (schalt_redis_t *self, const char *error)
{
    if (self->context) {
        s_mark_down (self, error ? error : s_context_error (self->context));
        redisFree (self->context);
        self->context = NULL;
    }
    for (s_call_t *call = (s_call_t *)zlistx_first (self->calls); call;
         call = (s_call_t *)zlistx_next (self->calls))
        if (!call->reply)
            call->lost = true;
}

//  Reads the next reply off the connection. Returns it, or NULL after
//  dropping the connection.
static redisReply *
s_receive (schalt_redis_t *self)
{
    assert (self->context);
    void *reply = NULL;
    if (redisGetReply (self->context, &reply) != REDIS_OK || !reply) {
        if (reply)
            freeReplyObject (reply);
        s_drop (self, NULL);
        return NULL;
    }
    return (redisReply *)reply;
}

//  Reads the replies of every queued call into the queue, so that the next
//  reply on the connection belongs to whoever sends next. Stops at the
//  first failure (s_drop then marks the rest lost).
static void
s_drain (schalt_redis_t *self)
{
    for (s_call_t *call = (s_call_t *)zlistx_first (self->calls); call;
         call = (s_call_t *)zlistx_next (self->calls)) {
        if (call->reply || call->lost)
            continue;
        call->reply = s_receive (self);
        if (!call->reply)
            break;
    }
}

//  Runs one command now. Returns its reply, or NULL if down or if the
//  connection failed (it is dropped then). Error replies are replies.
static redisReply *
s_command (schalt_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    if (!self->context)
        return NULL;
    s_drain (self);
    if (!self->context)
        return NULL;
    redisReply *reply = (redisReply *)redisCommandArgv (self->context, argc, argv, argvlen);
    if (!reply)
        s_drop (self, NULL);
    return reply;
}

//  SCRIPT LOAD one script. Returns 0, or -1 if the connection failed. A
//  script that Redis refuses (a Lua syntax error) is a bug in our code:
//  it is logged, and its calls will return Redis's error reply.
static int
s_load (schalt_redis_t *self, s_script_t *script)
{
    const char *argv[] = {"SCRIPT", "LOAD", script->source};
    redisReply *reply = s_command (self, 3, argv, NULL);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ERROR)
        schalt_log_error ("redis: script load failed name=%s error=%s", script->name, reply->str);
    else if (reply->type != REDIS_REPLY_STRING || strcmp (reply->str, script->sha) != 0)
        schalt_log_error ("redis: script sha differs name=%s sha=%s", script->name, script->sha);
    freeReplyObject (reply);
    return 0;
}

//  Connects, checks with PING that the server serves (not still loading its
//  data, say), and loads every script. Returns 0 if up, else -1.
static int
s_connect (schalt_redis_t *self)
{
    struct timeval timeout = {self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000};
    redisContext *context = redisConnectWithTimeout (self->host, self->port, timeout);
    if (!context) {
        s_mark_down (self, "out of memory");
        return -1;
    }
    if (context->err || redisSetTimeout (context, timeout) != REDIS_OK) {
        s_mark_down (self, s_context_error (context));
        redisFree (context);
        return -1;
    }
    self->context = context;

    const char *ping[] = {"PING"};
    redisReply *reply = s_command (self, 1, ping, NULL);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ERROR)
        s_drop (self, reply->str); //  LOADING, NOAUTH, ...: not usable yet
    freeReplyObject (reply);

    for (s_script_t *script = (s_script_t *)zhashx_first (self->scripts); script && self->context;
         script = (s_script_t *)zhashx_next (self->scripts))
        s_load (self, script);
    if (!self->context)
        return -1;
    s_mark_up (self);
    return 0;
}

//  hiredis 0.14 writes with write(2): a write to a connection that Redis
//  closed would raise SIGPIPE and kill the daemon. If nobody has chosen a
//  disposition for SIGPIPE, ignore it, so the write fails with EPIPE.
static void
s_ignore_sigpipe (void)
{
    struct sigaction action;
    if (sigaction (SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL) {
        memset (&action, 0, sizeof action);
        action.sa_handler = SIG_IGN;
        sigemptyset (&action.sa_mask);
        sigaction (SIGPIPE, &action, NULL);
    }
}

//  --------------------------------------------------------------------------
//  Create a connection object and try to connect once. Returns the object
//  (down if Redis could not be reached), or NULL if out of memory.

schalt_redis_t *
schalt_redis_new (const char *host, int port, int timeout_ms)
{
    assert (host);
    assert (timeout_ms > 0);
    schalt_redis_t *self = (schalt_redis_t *)zmalloc (sizeof (schalt_redis_t));
    self->host = s_memdup (host, strlen (host));
    self->port = port;
    self->timeout_ms = timeout_ms;
    self->scripts = zhashx_new ();
    self->calls = zlistx_new ();
    if (!self->scripts || !self->calls) {
        schalt_redis_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->scripts, (zhashx_destructor_fn *)s_script_destroy);
    zlistx_set_destructor (self->calls, (zlistx_destructor_fn *)s_call_destroy);

    s_ignore_sigpipe ();
    s_connect (self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy; safe to call twice, clears the caller's pointer.

void
schalt_redis_destroy (schalt_redis_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        schalt_redis_t *self = *self_p;
        zlistx_destroy (&self->calls);
        if (self->context)
            redisFree (self->context);
        zhashx_destroy (&self->scripts);
        free (self->host);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Returns true while connected and no error has been seen since.

bool
schalt_redis_connected (schalt_redis_t *self)
{
    assert (self);
    return self->context != NULL;
}

//  --------------------------------------------------------------------------
//  Connect if down, PING if up. Returns 0 if up afterwards, else -1.

int
schalt_redis_reconnect (schalt_redis_t *self)
{
    assert (self);
    if (!self->context)
        return s_connect (self);

    const char *ping[] = {"PING"};
    redisReply *reply = s_command (self, 1, ping, NULL);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

//  --------------------------------------------------------------------------
//  Returns the last error text (borrowed), or "" if there was none.

const char *
schalt_redis_last_error (schalt_redis_t *self)
{
    assert (self);
    return self->last_error;
}

//  --------------------------------------------------------------------------
//  Register a Lua script, loading it now if connected. Returns 0, or -1 if
//  the name is taken.

int
schalt_redis_script (schalt_redis_t *self, const char *name, const char *source)
{
    assert (self);
    assert (name && source);
    if (zhashx_lookup (self->scripts, name))
        return -1;
    s_script_t *script = s_script_new (name, source);
    zhashx_insert (self->scripts, name, script);
    if (self->context)
        s_load (self, script); //  a failure drops the connection: reconnect loads it
    return 0;
}

//  --------------------------------------------------------------------------
//  Run a plain command now. Returns the reply (caller frees), or NULL if
//  down or the connection failed.

redisReply *
schalt_redis_command (schalt_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    assert (self);
    assert (argc > 0 && argv);
    return s_command (self, argc, argv, argvlen);
}

//  --------------------------------------------------------------------------
//  Run a registered script now. Returns the reply (caller frees), or NULL if
//  down, the connection failed, or the name is unknown (a bug; logged).

redisReply *
schalt_redis_eval (schalt_redis_t *self, const char *name, int nkeys, const char **keys, int nargs,
                   const char **args, const size_t *arglens)
{
    assert (self);
    assert (name);
    s_script_t *script = (s_script_t *)zhashx_lookup (self->scripts, name);
    if (!script) {
        schalt_log_error ("redis: unknown script name=%s", name);
        return NULL;
    }
    if (!self->context)
        return NULL;

    s_call_t *call = s_call_new (script, nkeys, keys, nargs, args, arglens);
    const char **argv = (const char **)call->argv;
    redisReply *reply = s_command (self, call->argc, argv, call->argvlen);
    //  Redis forgot the script (restart or SCRIPT FLUSH): load it, retry once
    if (reply && s_is_noscript (reply)) {
        freeReplyObject (reply);
        reply = NULL;
        if (s_load (self, script) == 0)
            reply = s_command (self, call->argc, argv, call->argvlen);
    }
    s_call_destroy (&call);
    return reply;
}

//  --------------------------------------------------------------------------
//  Queue an EVALSHA without waiting. Returns 0, or -1 if down or the name is
//  unknown (nothing queued then).

int
schalt_redis_append_eval (schalt_redis_t *self, const char *name, int nkeys, const char **keys,
                          int nargs, const char **args, const size_t *arglens)
{
    assert (self);
    assert (name);
    if (!self->context)
        return -1;
    s_script_t *script = (s_script_t *)zhashx_lookup (self->scripts, name);
    if (!script) {
        schalt_log_error ("redis: unknown script name=%s", name);
        return -1;
    }
    s_call_t *call = s_call_new (script, nkeys, keys, nargs, args, arglens);
    if (redisAppendCommandArgv (self->context, call->argc, (const char **)call->argv,
                                call->argvlen) != REDIS_OK) {
        //  Only out of memory gets here; the context is unusable then
        s_call_destroy (&call);
        s_drop (self, NULL);
        return -1;
    }
    zlistx_add_end (self->calls, call);
    return 0;
}

//  --------------------------------------------------------------------------
//  Read the reply of the oldest queued call. Returns it (caller frees), or
//  NULL if the connection failed before it came (then every later queued
//  call's reply is NULL too) or if nothing was queued.
//
//  A NOSCRIPT reply is retried here with EVAL of the full source, so the
//  caller never sees it. That retry runs after the later calls of the same
//  pipeline have already run in Redis, so their order differs from the
//  order of appending. It is accepted because NOSCRIPT follows only a
//  SCRIPT FLUSH (an operator's act) or a Redis restart that the heartbeat
//  has not yet noticed (a reconnect loads every script again); the scripts
//  must not rely on the order of calls within one pipeline.

redisReply *
schalt_redis_read (schalt_redis_t *self)
{
    assert (self);
    s_call_t *call = (s_call_t *)zlistx_detach (self->calls, NULL);
    if (!call)
        return NULL;

    //  The reply may have been read ahead; else, unless lost, it is next
    redisReply *reply = call->reply;
    call->reply = NULL;
    if (!reply && !call->lost)
        reply = s_receive (self);

    if (reply && s_is_noscript (reply)) {
        freeReplyObject (reply);
        //  The same arguments with EVAL source in place of EVALSHA sha.
        //  s_command reads the later calls' replies ahead first.
        const char **argv = (const char **)zmalloc (sizeof (char *) * (size_t)call->argc);
        size_t *argvlen = (size_t *)zmalloc (sizeof (size_t) * (size_t)call->argc);
        for (int i = 0; i < call->argc; i++) {
            argv[i] = call->argv[i];
            argvlen[i] = call->argvlen[i];
        }
        argv[0] = "EVAL";
        argvlen[0] = 4;
        argv[1] = call->script->source;
        argvlen[1] = strlen (call->script->source);
        reply = s_command (self, call->argc, argv, argvlen);
        free (argv);
        free (argvlen);
    }
    s_call_destroy (&call);
    return reply;
}

//  --------------------------------------------------------------------------
//  For event loops: the socket, writing without reading, and whether the
//  oldest call's reply can be read without waiting.

int
schalt_redis_fd (schalt_redis_t *self)
{
    assert (self);
    return self->context ? self->context->fd : -1;
}

int
schalt_redis_flush (schalt_redis_t *self)
{
    assert (self);
    if (!self->context)
        return -1;
    int done = 0;
    while (!done)
        if (redisBufferWrite (self->context, &done) != REDIS_OK) {
            s_drop (self, NULL);
            return -1;
        }
    return 0;
}

//  Takes a complete reply out of hiredis's buffer, reading the socket once
//  only if poll says it has data. Returns 1 with a reply, 0 if none has
//  arrived yet, -1 if the connection failed (dropped then).
static int
s_take_ready (schalt_redis_t *self, void **reply)
{
    *reply = NULL;
    if (redisGetReplyFromReader (self->context, reply) != REDIS_OK)
        return -1;
    if (*reply)
        return 1;
    struct pollfd socket = {self->context->fd, POLLIN, 0};
    if (poll (&socket, 1, 0) <= 0)
        return 0;
    if (redisBufferRead (self->context) != REDIS_OK ||
        redisGetReplyFromReader (self->context, reply) != REDIS_OK)
        return -1;
    return *reply ? 1 : 0;
}

bool
schalt_redis_ready (schalt_redis_t *self)
{
    assert (self);
    s_call_t *call = (s_call_t *)zlistx_first (self->calls);
    if (!call)
        return false;
    if (call->reply || call->lost)
        return true;
    if (!self->context)
        return true; //  cannot happen: a drop marks every call lost
    void *reply = NULL;
    int rc = s_take_ready (self, &reply);
    if (rc < 0) {
        if (reply)
            freeReplyObject (reply);
        s_drop (self, NULL);
        return true;
    }
    call->reply = (redisReply *)reply;
    return rc == 1;
}

//  --------------------------------------------------------------------------
//  Returns the number of appended calls whose reply has not been read.

size_t
schalt_redis_pending (schalt_redis_t *self)
{
    assert (self);
    return zlistx_size (self->calls);
}

//  --------------------------------------------------------------------------
//  Self test

#define TEST_SCRIPT "return redis.call('INCRBY', KEYS[1], ARGV[1])"

//  Runs the test script on key with increment by. Returns the result,
//  asserting that it is an integer.
static long long
s_test_incr (schalt_redis_t *redis, const char *key, const char *by)
{
    redisReply *reply = schalt_redis_eval (redis, "incr", 1, &key, 1, &by, NULL);
    assert (reply);
    assert (reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  Runs a command given as one string of words. Returns its reply.
static redisReply *
s_test_command (schalt_redis_t *redis, const char *words)
{
    char *copy = s_memdup (words, strlen (words));
    const char *argv[8];
    int argc = 0;
    char *state = NULL;
    for (char *word = strtok_r (copy, " ", &state); word && argc < 8;
         word = strtok_r (NULL, " ", &state))
        argv[argc++] = word;
    redisReply *reply = schalt_redis_command (redis, argc, argv, NULL);
    free (copy);
    return reply;
}

//  Returns true if the test script is in Redis's script cache.
static bool
s_test_script_exists (schalt_redis_t *redis)
{
    s_script_t *script = (s_script_t *)zhashx_lookup (redis->scripts, "incr");
    const char *argv[] = {"SCRIPT", "EXISTS", script->sha};
    redisReply *reply = schalt_redis_command (redis, 3, argv, NULL);
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    bool exists = reply->element[0]->integer == 1;
    freeReplyObject (reply);
    return exists;
}

//  Queues count calls of the test script on key (by 1), then reads them
//  and checks that they count up from first in order.
static void
s_test_pipeline (schalt_redis_t *redis, const char *key, int count, long long first)
{
    const char *by = "1";
    for (int i = 0; i < count; i++)
        assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    assert (schalt_redis_pending (redis) == (size_t)count);
    for (int i = 0; i < count; i++) {
        redisReply *reply = schalt_redis_read (redis);
        assert (reply && reply->type == REDIS_REPLY_INTEGER);
        assert (reply->integer == first + i);
        freeReplyObject (reply);
    }
    assert (schalt_redis_pending (redis) == 0);
}

void
schalt_redis_test (bool verbose)
{
    printf (" * schalt_redis: ");
    if (verbose)
        printf ("\n");

    char *dir = schalt_test_tempdir ("schalt-redis-test");
    assert (dir);
    int port = schalt_test_free_port ();
    assert (port > 0);
    pid_t pid = schalt_test_redis_start (port, dir);
    assert (pid > 0);

    //  Connect; register a script (a name only once) and run it
    schalt_redis_t *redis = schalt_redis_new ("127.0.0.1", port, 2000);
    assert (redis);
    assert (schalt_redis_connected (redis));
    assert (streq (schalt_redis_last_error (redis), ""));
    assert (schalt_redis_script (redis, "incr", TEST_SCRIPT) == 0);
    assert (schalt_redis_script (redis, "incr", "return 1") == -1);
    assert (s_test_script_exists (redis));
    assert (s_test_incr (redis, "test:{a}:n", "5") == 5);
    assert (s_test_incr (redis, "test:{a}:n", "2") == 7);

    //  A binary-safe plain command: the value holds a NUL byte
    const char *set[] = {"SET", "test:bin", "a\0b"};
    size_t setlen[] = {3, 8, 3};
    redisReply *reply = schalt_redis_command (redis, 3, set, setlen);
    assert (reply && reply->type == REDIS_REPLY_STATUS && streq (reply->str, "OK"));
    freeReplyObject (reply);
    reply = s_test_command (redis, "GET test:bin");
    assert (reply && reply->type == REDIS_REPLY_STRING && reply->len == 3);
    assert (memcmp (reply->str, "a\0b", 3) == 0);
    freeReplyObject (reply);

    //  Pipeline: 100 appends, then 100 replies in order
    s_test_pipeline (redis, "test:{p}:n", 100, 1);

    //  A synchronous call while replies are queued gets its own reply
    const char *key = "test:{p}:n";
    const char *by = "10";
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    reply = s_test_command (redis, "GET test:{p}:n");
    assert (reply && reply->type == REDIS_REPLY_STRING && streq (reply->str, "120"));
    freeReplyObject (reply);
    assert (s_test_incr (redis, "test:{p}:n", "1") == 121);
    assert (schalt_redis_pending (redis) == 2);
    for (long long expect = 110; expect <= 120; expect += 10) {
        reply = schalt_redis_read (redis);
        assert (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == expect);
        freeReplyObject (reply);
    }
    assert (schalt_redis_read (redis) == NULL); //  nothing queued

    //  SCRIPT FLUSH: a synchronous eval loads the script again
    reply = s_test_command (redis, "SCRIPT FLUSH");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    assert (!s_test_script_exists (redis));
    assert (s_test_incr (redis, "test:{a}:n", "1") == 8);
    assert (s_test_script_exists (redis));

    //  SCRIPT FLUSH: pipelined calls all get NOSCRIPT and are retried
    reply = s_test_command (redis, "SCRIPT FLUSH");
    freeReplyObject (reply);
    s_test_pipeline (redis, "test:{q}:n", 10, 1);

    //  Error replies are replies, and the connection stays up
    reply = s_test_command (redis, "SET test:str text");
    freeReplyObject (reply);
    reply = s_test_command (redis, "INCR test:str");
    assert (reply && reply->type == REDIS_REPLY_ERROR);
    freeReplyObject (reply);
    key = "test:str";
    by = "1";
    reply = schalt_redis_eval (redis, "incr", 1, &key, 1, &by, NULL);
    assert (reply && reply->type == REDIS_REPLY_ERROR);
    freeReplyObject (reply);
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    reply = schalt_redis_read (redis);
    assert (reply && reply->type == REDIS_REPLY_ERROR);
    freeReplyObject (reply);
    assert (schalt_redis_connected (redis));
    assert (schalt_redis_reconnect (redis) == 0);
    //  An unknown script is refused without touching the connection
    assert (schalt_redis_append_eval (redis, "nope", 1, &key, 1, &by, NULL) == -1);
    assert (schalt_redis_eval (redis, "nope", 1, &key, 1, &by, NULL) == NULL);
    assert (schalt_redis_pending (redis) == 0 && schalt_redis_connected (redis));

    //  Crash: the next call returns NULL and the object is down
    assert (schalt_test_redis_stop (pid, SIGKILL) == 0);
    assert (s_test_command (redis, "PING") == NULL);
    assert (!schalt_redis_connected (redis));
    assert (strlen (schalt_redis_last_error (redis)) > 0);
    if (verbose)
        schalt_log_info ("redis test: error after crash: %s", schalt_redis_last_error (redis));
    assert (schalt_redis_reconnect (redis) == -1);
    assert (schalt_redis_eval (redis, "incr", 1, &key, 1, &by, NULL) == NULL);
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == -1);
    assert (schalt_redis_pending (redis) == 0);

    //  Restart on the same folder: the AOF kept the data, scripts come back
    pid = schalt_test_redis_start (port, dir);
    assert (pid > 0);
    assert (schalt_redis_reconnect (redis) == 0);
    assert (s_test_script_exists (redis));
    assert (s_test_incr (redis, "test:{a}:n", "1") == 9);

    //  Crash with calls queued: every read returns NULL; calls lost to the
    //  old connection stay NULL after a reconnect, new ones work
    key = "test:{a}:n";
    for (int i = 0; i < 5; i++)
        assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    assert (schalt_test_redis_stop (pid, SIGKILL) == 0);
    assert (schalt_redis_read (redis) == NULL);
    assert (schalt_redis_read (redis) == NULL);
    assert (!schalt_redis_connected (redis));
    assert (schalt_redis_pending (redis) == 3);
    pid = schalt_test_redis_start (port, dir);
    assert (pid > 0);
    assert (schalt_redis_reconnect (redis) == 0);
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    assert (schalt_redis_pending (redis) == 4);
    for (int i = 0; i < 3; i++)
        assert (schalt_redis_read (redis) == NULL);
    reply = schalt_redis_read (redis);
    assert (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 10);
    freeReplyObject (reply);
    assert (schalt_redis_pending (redis) == 0);

    //  A server that stops answering: commands and reconnect time out
    schalt_redis_t *slow = schalt_redis_new ("127.0.0.1", port, 300);
    assert (slow && schalt_redis_connected (slow));
    assert (kill (pid, SIGSTOP) == 0);
    assert (s_test_command (slow, "PING") == NULL);
    assert (streq (schalt_redis_last_error (slow), "timeout"));
    assert (schalt_redis_reconnect (slow) == -1);
    assert (kill (pid, SIGCONT) == 0);
    assert (schalt_redis_reconnect (slow) == 0);
    schalt_redis_destroy (&slow);

    //  Nothing listening: the object exists, down, and scripts still register
    int nobody = schalt_test_free_port ();
    assert (nobody > 0);
    schalt_redis_t *down = schalt_redis_new ("127.0.0.1", nobody, 500);
    assert (down);
    assert (!schalt_redis_connected (down));
    assert (strlen (schalt_redis_last_error (down)) > 0);
    assert (schalt_redis_script (down, "incr", TEST_SCRIPT) == 0);
    assert (schalt_redis_reconnect (down) == -1);
    assert (s_test_command (down, "PING") == NULL);
    assert (schalt_redis_eval (down, "incr", 1, &key, 1, &by, NULL) == NULL);
    assert (schalt_redis_append_eval (down, "incr", 1, &key, 1, &by, NULL) == -1);
    assert (schalt_redis_read (down) == NULL);
    assert (schalt_redis_pending (down) == 0);
    schalt_redis_destroy (&down);

    //  Destroy with calls still queued frees them
    assert (schalt_redis_append_eval (redis, "incr", 1, &key, 1, &by, NULL) == 0);
    schalt_redis_destroy (&redis);
    schalt_redis_destroy (&redis);
    assert (redis == NULL);

    assert (schalt_test_redis_stop (pid, SIGTERM) == 0);
    schalt_test_rmtree (dir);
    free (dir);
    printf ("OK\n");
}
