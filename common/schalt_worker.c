/*  schalt_worker - the one shape of timed work. See schalt_worker.h.
 */
#include "schalt.h"

#define FIGURES_MS 100 //  at most this often, figures go to the owner

struct _schalt_work_t {
    const schalt_job_t *job;
    void *state;
    zsock_t *pipe;
    zloop_t *loop;
    schalt_redis_t *redis;
    int heartbeat_ms;
    int64_t last_reconnect;
    json_t *figures; //  the job's latest
    json_t *sent;    //  what the owner has
};

struct _schalt_worker_t {
    zactor_t *actor;
    json_t *figures; //  the latest the worker reported
};

//  What the actor is started with (the owner's, until the actor signals).
typedef struct {
    const schalt_job_t *job;
    const void *args;
    const schalt_worker_redis_t *redis;
    int started;
} s_args_t;

//  --------------------------------------------------------------------------
//  For jobs

schalt_redis_t *
schalt_work_redis (schalt_work_t *self)
{
    return self->redis;
}

bool
schalt_work_redis_up (schalt_work_t *self)
{
    if (schalt_redis_connected (self->redis))
        return true;
    int64_t now = zclock_mono ();
    if (now - self->last_reconnect < self->heartbeat_ms)
        return false;
    self->last_reconnect = now;
    return schalt_redis_reconnect (self->redis) == 0;
}

zloop_t *
schalt_work_loop (schalt_work_t *self)
{
    return self->loop;
}

void
schalt_work_call (schalt_work_t *self, const char *command, const char *id, const char *json)
{
    zstr_sendx (self->pipe, "CALL", command, id, json, NULL);
}

//  Sends [TELL, first, frames...] (text frames until a NULL) to socket.
static void
s_tell (void *socket, const char *first, va_list frames)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "TELL");
    for (const char *frame = first; frame; frame = va_arg (frames, const char *))
        zmsg_addstr (msg, frame);
    zmsg_send (&msg, socket);
}

void
schalt_work_tell_owner (schalt_work_t *self, const char *first, ...)
{
    va_list frames;
    va_start (frames, first);
    s_tell (self->pipe, first, frames);
    va_end (frames);
}

void
schalt_work_figures (schalt_work_t *self, json_t *figures)
{
    json_decref (self->figures);
    self->figures = figures;
}

void
schalt_work_tick (schalt_work_t *self)
{
    self->job->tick (self, self->state);
}

//  --------------------------------------------------------------------------
//  The actor

//  Sends the figures if they changed since the owner last got them.
static void
s_send_figures (schalt_work_t *self)
{
    if (!self->figures || (self->sent && json_equal (self->figures, self->sent)))
        return;
    char *text = json_dumps (self->figures, JSON_COMPACT);
    assert (text);
    zstr_sendx (self->pipe, "FIGURES", text, NULL);
    free (text);
    json_decref (self->sent);
    self->sent = json_deep_copy (self->figures);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    (void)loop;
    (void)timer_id;
    schalt_work_t *self = (schalt_work_t *)argument;
    self->job->tick (self, self->state);
    return 0;
}

static int
s_on_figures (zloop_t *loop, int timer_id, void *argument)
{
    (void)loop;
    (void)timer_id;
    s_send_figures ((schalt_work_t *)argument);
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *pipe, void *argument)
{
    (void)loop;
    schalt_work_t *self = (schalt_work_t *)argument;
    zmsg_t *msg = zmsg_recv (pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    bool stop = !command || streq (command, "$TERM");
    if (!stop && streq (command, "TELL") && self->job->told)
        self->job->told (self, self->state, msg);
    zstr_free (&command);
    zmsg_destroy (&msg);
    if (!stop)
        return 0;
    if (self->job->finish)
        self->job->finish (self, self->state);
    return -1;
}

static void
s_worker_actor (zsock_t *pipe, void *argument)
{
    s_args_t *args = (s_args_t *)argument;
    schalt_work_t self = {
        .job = args->job, .pipe = pipe, .heartbeat_ms = args->redis->heartbeat_ms};
    self.redis = schalt_redis_new (args->redis->host, args->redis->port, args->redis->timeout_ms);
    self.loop = zloop_new ();
    zloop_set_nonstop (self.loop, true); //  ends on $TERM only
    self.state = self.job->start (&self, args->args);
    args->started = self.state ? 0 : -1;
    zsock_signal (pipe, 0);
    if (self.state) {
        zloop_reader (self.loop, pipe, s_on_pipe, &self);
        zloop_timer (self.loop, self.job->tick_ms, 0, s_on_tick, &self);
        zloop_timer (self.loop, FIGURES_MS, 0, s_on_figures, &self);
        zloop_start (self.loop);
        s_send_figures (&self); //  the last word, for an owner still reading
        self.job->destroy (&self.state);
    } else {
        //  Wait for the owner's $TERM, as every actor does
        char *command = NULL;
        while ((command = zstr_recv (pipe)) && !streq (command, "$TERM"))
            zstr_free (&command);
        zstr_free (&command);
    }
    zloop_destroy (&self.loop);
    json_decref (self.figures);
    json_decref (self.sent);
    schalt_redis_destroy (&self.redis);
}

//  --------------------------------------------------------------------------
//  For the owner

schalt_worker_t *
schalt_worker_new (const schalt_job_t *job, const void *args, const schalt_worker_redis_t *redis)
{
    schalt_worker_t *self = (schalt_worker_t *)zmalloc (sizeof (schalt_worker_t));
    assert (self);
    s_args_t actor_args = {job, args, redis, -1};
    self->actor = zactor_new (s_worker_actor, &actor_args);
    if (!self->actor || actor_args.started != 0) {
        schalt_log_error ("worker: did not start job=%s", job->name);
        schalt_worker_destroy (&self);
        return NULL;
    }
    return self;
}

void
schalt_worker_destroy (schalt_worker_t **self_p)
{
    schalt_worker_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    json_decref (self->figures);
    free (self);
    *self_p = NULL;
}

zsock_t *
schalt_worker_socket (schalt_worker_t *self)
{
    return zactor_sock (self->actor);
}

int
schalt_worker_take (schalt_worker_t *self, zmsg_t **taken)
{
    *taken = NULL;
    zmsg_t *msg = zmsg_recv (self->actor);
    if (!msg)
        return -1;
    char *kind = zmsg_first (msg) ? zframe_strdup (zmsg_first (msg)) : NULL;
    if (kind && ((streq (kind, "CALL") && zmsg_size (msg) == 4) || streq (kind, "TELL"))) {
        *taken = msg;
        msg = NULL;
    } else if (kind && streq (kind, "FIGURES") && zmsg_size (msg) == 2) {
        zframe_t *first = zmsg_pop (msg);
        zframe_destroy (&first);
        char *text = zmsg_popstr (msg);
        json_t *figures = json_loads (text, 0, NULL);
        if (json_is_object (figures)) {
            json_decref (self->figures);
            self->figures = figures;
        } else
            json_decref (figures);
        zstr_free (&text);
    }
    zstr_free (&kind);
    zmsg_destroy (&msg);
    return 0;
}

json_t *
schalt_worker_figures (schalt_worker_t *self)
{
    return self->figures;
}

void
schalt_worker_tell (schalt_worker_t *self, const char *first, ...)
{
    va_list frames;
    va_start (frames, first);
    s_tell (self->actor, first, frames);
    va_end (frames);
}

//  --------------------------------------------------------------------------
//  Self test: a job that counts its ticks in Redis, reports them as figures,
//  asks for a call once, and hears what its owner tells it.

typedef struct {
    int ticks;
    int told;
    bool called;
} s_test_state_t;

static void *
s_test_start (schalt_work_t *work, const void *args)
{
    (void)work;
    if (args && streq ((const char *)args, "refuse"))
        return NULL;
    return zmalloc (sizeof (s_test_state_t));
}

static void
s_test_tick (schalt_work_t *work, void *state)
{
    s_test_state_t *self = (s_test_state_t *)state;
    if (!schalt_work_redis_up (work))
        return;
    const char *argv[] = {"INCR", "test:{w}:ticks"};
    redisReply *reply = schalt_redis_command (schalt_work_redis (work), 2, argv, NULL);
    if (reply)
        freeReplyObject (reply);
    self->ticks++;
    if (!self->called) {
        schalt_work_call (work, "thing.put", "w1", "{\"value\":\"w\"}");
        self->called = true;
    }
    schalt_work_figures (work, json_pack ("{s:{s:i, s:i}}", "test", "ticks",
                                          self->ticks > 2 ? 3 : self->ticks, "told", self->told));
}

static void
s_test_told (schalt_work_t *work, void *state, zmsg_t *msg)
{
    char *what = zmsg_popstr (msg);
    if (what && streq (what, "TOUCH")) {
        ((s_test_state_t *)state)->told++;
        schalt_work_tell_owner (work, "SEEN", "test:{w}:due", NULL);
    }
    zstr_free (&what);
}

static void
s_test_destroy (void **state_p)
{
    free (*state_p);
    *state_p = NULL;
}

static const schalt_job_t s_test_job = {"test",      20,   s_test_start,  s_test_tick,
                                        s_test_told, NULL, s_test_destroy};

void
schalt_worker_test (bool verbose)
{
    printf (" * schalt_worker: ");
    if (verbose)
        printf ("\n");
    char *dir = schalt_test_tempdir ("schalt-worker");
    int port = schalt_test_free_port ();
    pid_t redis = schalt_test_redis_start (port, dir);
    assert (redis > 0);
    schalt_worker_redis_t where = {"127.0.0.1", port, 1000, 100};

    //  A job that cannot start: no worker
    assert (schalt_worker_new (&s_test_job, "refuse", &where) == NULL);

    schalt_worker_t *worker = schalt_worker_new (&s_test_job, NULL, &where);
    assert (worker);
    assert (schalt_worker_figures (worker) == NULL);
    //  The call comes first, then figures as they change (at most every 100 ms)
    zmsg_t *call = NULL;
    zpoller_t *poller = zpoller_new (schalt_worker_socket (worker), NULL);
    while (!call && zpoller_wait (poller, 2000))
        assert (schalt_worker_take (worker, &call) == 0);
    assert (call && zmsg_size (call) == 4);
    char *kind = zmsg_popstr (call), *command = zmsg_popstr (call);
    assert (streq (kind, "CALL") && streq (command, "thing.put"));
    zstr_free (&kind);
    zstr_free (&command);
    zmsg_destroy (&call);
    schalt_worker_tell (worker, "TOUCH", "test:{w}:due", NULL);
    json_t *figures = NULL;
    int seen = 0;
    for (int round = 0; round < 50; round++) {
        if (zpoller_wait (poller, 200)) {
            assert (schalt_worker_take (worker, &call) == 0);
            if (call) { //  one call only: the rest is what the job told
                char *first = zmsg_popstr (call), *what = zmsg_popstr (call);
                assert (streq (first, "TELL") && streq (what, "SEEN"));
                seen++;
                zstr_free (&first);
                zstr_free (&what);
                zmsg_destroy (&call);
            }
        }
        figures = json_object_get (schalt_worker_figures (worker), "test");
        if (json_integer_value (json_object_get (figures, "ticks")) == 3 &&
            json_integer_value (json_object_get (figures, "told")) == 1)
            break;
    }
    assert (json_integer_value (json_object_get (figures, "ticks")) == 3);
    assert (json_integer_value (json_object_get (figures, "told")) == 1);
    assert (seen == 1);
    zpoller_destroy (&poller);

    //  Redis away and back: the worker keeps ticking on its reconnected connection
    schalt_test_redis_stop (redis, SIGKILL);
    zclock_sleep (200);
    redis = schalt_test_redis_start (port, dir);
    assert (redis > 0);
    redisContext *check = redisConnect ("127.0.0.1", port);
    assert (check && !check->err);
    long long before = -1, after = -1;
    for (int round = 0; round < 50 && (before < 0 || after <= before); round++) {
        zclock_sleep (100);
        redisReply *reply = (redisReply *)redisCommand (check, "GET test:{w}:ticks");
        long long value = reply && reply->type == REDIS_REPLY_STRING ? atoll (reply->str) : -1;
        if (reply)
            freeReplyObject (reply);
        if (before < 0)
            before = value;
        else
            after = value;
    }
    assert (after > before);
    redisFree (check);

    schalt_worker_destroy (&worker);
    schalt_worker_destroy (&worker);
    schalt_test_redis_stop (redis, SIGTERM);
    schalt_test_rmtree (dir);
    zstr_free (&dir);
    printf ("OK\n");
}
