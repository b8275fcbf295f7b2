/*  notifier_store - the notifier's keys and scripts. See notifier_store.h. */
#include "notifier_store.h"

#include <ctype.h>

//  The scripts, embedded from lua/ at build time; the prelude from common/.
extern const char schalt_lua_prelude[];
extern const char notifier_lua_common[];
extern const char notifier_lua_notice_send[], notifier_lua_notice_get[], notifier_lua_notice_list[],
    notifier_lua_claim[], notifier_lua_record[], notifier_lua_release[];

#define PREFIX "notifier:{notices}:"
#define KEY_MAX 400 //  the longest: to:<address of 254 octets>

struct _notifier_store_t {
    schalt_server_t *server;
};

static const struct {
    const char *name;
    const char *source;
} s_request_scripts[] = {{"notice_send", notifier_lua_notice_send},
                         {"notice_get", notifier_lua_notice_get},
                         {"notice_list", notifier_lua_notice_list},
                         {NULL, NULL}},
  s_delivery_scripts[] = {{"claim", notifier_lua_claim},
                          {"record", notifier_lua_record},
                          {"release", notifier_lua_release},
                          {NULL, NULL}};

//  --------------------------------------------------------------------------
//  Requests

notifier_store_t *
notifier_store_new (schalt_server_t *server)
{
    notifier_store_t *self = (notifier_store_t *)zmalloc (sizeof (notifier_store_t));
    assert (self);
    self->server = server;
    for (int index = 0; s_request_scripts[index].name; index++) {
        char *source =
            zsys_sprintf ("%s\n%s", notifier_lua_common, s_request_scripts[index].source);
        int rc = schalt_server_script (server, s_request_scripts[index].name, source);
        zstr_free (&source);
        if (rc != 0) {
            notifier_store_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
notifier_store_destroy (notifier_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
notifier_store_send (notifier_store_t *self, schalt_call_t *call, const char *notice,
                     int64_t now_ms)
{
    (void)self;
    char request[KEY_MAX], key[KEY_MAX], now[24];
    snprintf (request, KEY_MAX, PREFIX "request:%s", schalt_call_id (call));
    snprintf (key, KEY_MAX, PREFIX "notice:%s", schalt_call_id (call));
    snprintf (now, sizeof (now), "%lld", (long long)now_ms);
    const char *keys[] = {request, key};
    const char *args[5];
    int count = schalt_call_prelude_args (call, args);
    args[count++] = notice;
    args[count++] = now;
    schalt_call_eval (call, "notice_send", 2, keys, count, args);
}

void
notifier_store_get (notifier_store_t *self, schalt_call_t *call, const char *id)
{
    (void)self;
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "notice:%s", id);
    const char *keys[] = {key};
    const char *args[] = {id};
    schalt_call_eval (call, "notice_get", 1, keys, 1, args);
}

void
notifier_store_list (notifier_store_t *self, schalt_call_t *call, const char *state, const char *to,
                     long limit)
{
    (void)self;
    //  The smallest index that holds the answer: the address's, else the
    //  state's (then no filter is needed), else all
    char key[KEY_MAX], limit_text[24];
    const char *filter = "";
    if (to) {
        snprintf (key, KEY_MAX, PREFIX "to:%s", to);
        for (char *cursor = key + strlen (PREFIX); *cursor; cursor++)
            *cursor = (char)tolower ((unsigned char)*cursor);
        filter = state ? state : "";
    } else if (state)
        snprintf (key, KEY_MAX, PREFIX "state:%s", state);
    else
        snprintf (key, KEY_MAX, PREFIX "all");
    snprintf (limit_text, sizeof (limit_text), "%ld", limit);
    const char *keys[] = {key};
    const char *args[] = {filter, limit_text};
    schalt_call_eval (call, "notice_list", 1, keys, 2, args);
}

//  --------------------------------------------------------------------------
//  Delivery

int
notifier_store_delivery_scripts (schalt_redis_t *redis)
{
    //  The prelude too, for schalt.hash and schalt.encode
    for (int index = 0; s_delivery_scripts[index].name; index++) {
        char *source = zsys_sprintf ("%s\n%s\n%s", schalt_lua_prelude, notifier_lua_common,
                                     s_delivery_scripts[index].source);
        int rc = schalt_redis_script (redis, s_delivery_scripts[index].name, source);
        zstr_free (&source);
        if (rc != 0)
            return -1;
    }
    return 0;
}

//  True if reply is an array of at least count elements.
static bool
s_array (redisReply *reply, size_t count)
{
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= count;
}

json_t *
notifier_store_claim (schalt_redis_t *redis, const char *token, int64_t now_ms, int batch)
{
    char now[24], now_iso[32], batch_text[16], lease[24], lock[24];
    snprintf (now, sizeof (now), "%lld", (long long)now_ms);
    schalt_time_format_instant ((time_t)(now_ms / 1000), now_iso);
    snprintf (batch_text, sizeof (batch_text), "%d", batch);
    snprintf (lease, sizeof (lease), "%d", NOTIFIER_LEASE_MS);
    snprintf (lock, sizeof (lock), "%d", NOTIFIER_LOCK_MS);
    const char *keys[] = {PREFIX "due", PREFIX "lock"};
    const char *args[] = {now, now_iso, batch_text, lease, token, lock};
    redisReply *reply = schalt_redis_eval (redis, "claim", 2, keys, 6, args, NULL);
    if (!s_array (reply, 3) || reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[2]->type != REDIS_REPLY_STRING) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            schalt_log_error ("delivery: claim script failed error=%s", reply->str);
        if (reply)
            freeReplyObject (reply);
        return NULL;
    }
    json_t *claimed =
        json_pack ("{s:b, s:b, s:o?, s:[]}", "standby", reply->element[0]->integer == 1,
                   "took_over", reply->element[1]->integer == 1, "counts",
                   json_loads (reply->element[2]->str, 0, NULL), "notices");
    assert (claimed);
    json_t *notices = json_object_get (claimed, "notices");
    for (size_t index = 3; index < reply->elements; index++) {
        json_t *notice = json_loads (reply->element[index]->str, 0, NULL);
        //  The variables travel as the JSON text they are stored as
        json_t *variables =
            notice ? json_loads (json_string_value (json_object_get (notice, "variables")), 0, NULL)
                   : NULL;
        if (!notice || !variables) {
            schalt_log_error ("delivery: a claimed notice is malformed");
            json_decref (notice);
            continue;
        }
        json_object_set_new (notice, "variables", variables);
        json_array_append_new (notices, notice);
    }
    freeReplyObject (reply);
    return claimed;
}

//  The arguments of the record script for one result, as text in args.
typedef struct {
    char now[24], now_iso[32], next[24], next_iso[32];
    const char *argv[9];
} record_args_t;

static void
s_record_args (const notifier_store_result_t *result, record_args_t *args)
{
    snprintf (args->now, sizeof (args->now), "%lld", (long long)result->now_ms);
    schalt_time_format_instant ((time_t)(result->now_ms / 1000), args->now_iso);
    snprintf (args->next, sizeof (args->next), "%lld", (long long)result->next_ms);
    schalt_time_format_instant ((time_t)(result->next_ms / 1000), args->next_iso);
    const char *argv[] = {
        result->id,     result->token, result->state, result->attempt ? result->attempt : "",
        result->reason, args->now,     args->now_iso, args->next,
        args->next_iso};
    memcpy (args->argv, argv, sizeof (argv));
}

//  What the record script's reply means: 1 recorded, 0 not (or a script
//  error, logged: retrying cannot help, the lease brings the notice back),
//  -1 no reply.
static int
s_record_result (redisReply *reply, const char *id)
{
    int rc = -1;
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        rc = reply->integer == 1 ? 1 : 0;
    else if (reply && reply->type == REDIS_REPLY_ERROR) {
        schalt_log_error ("delivery: record script failed id=%s error=%s", id, reply->str);
        rc = 0;
    }
    if (reply)
        freeReplyObject (reply);
    return rc;
}

int
notifier_store_record (schalt_redis_t *redis, const notifier_store_result_t *result)
{
    int rc = -1;
    notifier_store_record_many (redis, result, 1, &rc);
    return rc;
}

int
notifier_store_record_many (schalt_redis_t *redis, const notifier_store_result_t *results,
                            size_t count, int *rcs)
{
    const char *keys[] = {PREFIX "due"};
    size_t queued = 0;
    for (size_t index = 0; index < count; index++) {
        record_args_t args;
        s_record_args (&results[index], &args);
        rcs[index] = -1;
        if (schalt_redis_append_eval (redis, "record", 1, keys, 9, args.argv, NULL) != 0)
            break;
        queued++;
    }
    for (size_t index = 0; index < queued; index++)
        rcs[index] = s_record_result (schalt_redis_read (redis), results[index].id);
    for (size_t index = 0; index < count; index++)
        if (rcs[index] < 0)
            return -1;
    return 0;
}

int
notifier_store_release (schalt_redis_t *redis, const char *token)
{
    const char *keys[] = {PREFIX "lock"};
    const char *args[] = {token};
    redisReply *reply = schalt_redis_eval (redis, "release", 1, keys, 1, args, NULL);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}
