/*  notifier_store - the notifier's keys and scripts. See notifier_store.h. */
#include "notifier_store.h"

//  The scripts, embedded from lua/ at build time (their table generated).
extern const char notifier_lua_common[];
extern const schalt_script_t notifier_lua_scripts[];

#define PREFIX "notifier:{notices}:"
#define KEY_MAX 400     //  the longest: to:<address of 254 octets>
#define RECORD_ARGS 9   //  script arguments for one result
#define RECORD_CHUNK 64 //  results recorded by one script call

//  --------------------------------------------------------------------------
//  Requests

int
notifier_store_send_args (schalt_call_t *call, const notifier_store_notice_t *notice,
                          int64_t now_ms)
{
    const char *id = schalt_call_id (call);
    char now[24], created[32];
    snprintf (now, sizeof (now), "%lld", (long long)now_ms);
    schalt_time_format_instant ((time_t)(now_ms / 1000), created);
    //  The reply: the view of a new notice (reply/notice.send.json)
    json_t *view =
        json_pack ("{s:{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:[], s:s, s:s, s:s}}", "notice", "id",
                   id, "template", notice->template_name, "language", notice->language, "recipient",
                   "name", notice->name, "email", notice->email, "state", "queued", "attempts",
                   "created", created, "updated", created, "next_attempt", created);
    assert (view); //  every value is the schema-checked body's or ours
    char *reply = json_dumps (view, JSON_COMPACT);
    assert (reply);
    json_decref (view);
    const char *fields[] = {"id",           id,
                            "template",     notice->template_name,
                            "language",     notice->language,
                            "name",         notice->name,
                            "email",        notice->email,
                            "variables",    notice->variables,
                            "created",      created,
                            "state",        "queued",
                            "updated",      created,
                            "created_ms",   now,
                            "updated_ms",   now,
                            "next_attempt", created,
                            "reason",       "",
                            "attempts",     "[]",
                            "deferrals",    "0"};
    schalt_call_arg (call, reply);
    schalt_call_arg (call, now);
    schalt_call_arg (call, notice->email);
    for (size_t index = 0; index < sizeof (fields) / sizeof (fields[0]); index++)
        schalt_call_arg (call, fields[index]);
    free (reply);
    return 0;
}

//  --------------------------------------------------------------------------
//  Delivery

int
notifier_store_delivery_scripts (schalt_redis_t *redis)
{
    return schalt_scripts_register (redis, notifier_lua_common, notifier_lua_scripts);
}

//  True if reply is an array of at least count elements.
static bool
s_array (redisReply *reply, size_t count)
{
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= count;
}

//  One claimed notice, {id, template, language, name, email, variables
//  (JSON text), attempts (JSON text), deferrals, created_ms, token, resend},
//  as the object notifier_store_claim promises; NULL if malformed.
static json_t *
s_claimed (redisReply *item)
{
    enum {
        ID,
        TEMPLATE,
        LANGUAGE,
        NAME,
        EMAIL,
        VARIABLES,
        ATTEMPTS,
        DEFERRALS,
        CREATED_MS,
        TOKEN,
        RESEND,
        FIELDS
    };
    if (!s_array (item, FIELDS))
        return NULL;
    for (int field = ID; field < RESEND; field++)
        if (item->element[field]->type != REDIS_REPLY_STRING)
            return NULL;
    json_t *variables = json_loads (item->element[VARIABLES]->str, 0, NULL);
    json_t *attempts = json_loads (item->element[ATTEMPTS]->str, 0, NULL);
    json_t *notice = NULL;
    if (json_is_object (variables) && json_is_array (attempts))
        notice = json_pack (
            "{s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:I, s:I, s:s, s:b}", "id", item->element[ID]->str,
            "template", item->element[TEMPLATE]->str, "language", item->element[LANGUAGE]->str,
            "name", item->element[NAME]->str, "email", item->element[EMAIL]->str, "variables",
            variables, "attempts", (json_int_t)json_array_size (attempts), "deferrals",
            (json_int_t)strtoll (item->element[DEFERRALS]->str, NULL, 10), "created_ms",
            (json_int_t)strtoll (item->element[CREATED_MS]->str, NULL, 10), "token",
            item->element[TOKEN]->str, "resend",
            item->element[RESEND]->type == REDIS_REPLY_INTEGER && item->element[RESEND]->integer);
    json_decref (variables);
    json_decref (attempts);
    return notice;
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
        json_t *notice = s_claimed (reply->element[index]);
        if (!notice) {
            schalt_log_error ("delivery: a claimed notice is malformed");
            continue;
        }
        json_array_append_new (notices, notice);
    }
    freeReplyObject (reply);
    return claimed;
}

//  The arguments of the record script for one result, as text in args.
//  The nine script arguments of one result, and the text they point into.
typedef struct {
    char now[24], now_iso[32], next[24], next_iso[32];
} record_text_t;

static void
s_record_args (const notifier_store_result_t *result, record_text_t *text, const char **argv)
{
    snprintf (text->now, sizeof (text->now), "%lld", (long long)result->now_ms);
    schalt_time_format_instant ((time_t)(result->now_ms / 1000), text->now_iso);
    snprintf (text->next, sizeof (text->next), "%lld", (long long)result->next_ms);
    schalt_time_format_instant ((time_t)(result->next_ms / 1000), text->next_iso);
    const char *values[RECORD_ARGS] = {
        result->id,     result->token, result->state, result->attempt ? result->attempt : "",
        result->reason, text->now,     text->now_iso, text->next,
        text->next_iso};
    memcpy (argv, values, sizeof (values));
}

//  Records up to RECORD_CHUNK results with one script call.
static void
s_record_chunk (schalt_redis_t *redis, const notifier_store_result_t *results, size_t count,
                int *rcs)
{
    const char *keys[] = {PREFIX "due"};
    record_text_t text[RECORD_CHUNK];
    const char *argv[RECORD_CHUNK * RECORD_ARGS];
    assert (count <= RECORD_CHUNK);
    for (size_t index = 0; index < count; index++) {
        s_record_args (&results[index], &text[index], argv + index * RECORD_ARGS);
        rcs[index] = -1;
    }
    redisReply *reply =
        schalt_redis_eval (redis, "record", 1, keys, (int)(count * RECORD_ARGS), argv, NULL);
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == count) {
        for (size_t index = 0; index < count; index++) {
            redisReply *rc = reply->element[index];
            rcs[index] = rc->type == REDIS_REPLY_INTEGER && (rc->integer == 1 || rc->integer == 2)
                             ? (int)rc->integer
                             : 0;
        }
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        //  A script error is a bug, not an outage: trying again would fail the
        //  same way. Results it did not reach stay 'sending' and are claimed
        //  again when their lease ends.
        schalt_log_error ("delivery: record script failed id=%s error=%s", results[0].id,
                          reply->str);
        for (size_t index = 0; index < count; index++)
            rcs[index] = 0;
    }
    if (reply)
        freeReplyObject (reply);
}

int
notifier_store_record_many (schalt_redis_t *redis, const notifier_store_result_t *results,
                            size_t count, int *rcs)
{
    for (size_t first = 0; first < count; first += RECORD_CHUNK) {
        size_t chunk = count - first < RECORD_CHUNK ? count - first : RECORD_CHUNK;
        s_record_chunk (redis, results + first, chunk, rcs + first);
    }
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

//  --------------------------------------------------------------------------
//  Self test: the delivery scripts against a real redis-server

//  Runs one command given as words; asserts that Redis answered.
static void
s_test_command (schalt_redis_t *redis, int argc, const char **argv)
{
    redisReply *reply = schalt_redis_command (redis, argc, argv, NULL);
    assert (reply && reply->type != REDIS_REPLY_ERROR);
    freeReplyObject (reply);
}

//  Stores notice id, queued and due at due_ms, as notice.send does.
static void
s_test_queue (schalt_redis_t *redis, const char *id, const char *due_ms)
{
    char key[KEY_MAX];
    snprintf (key, KEY_MAX, PREFIX "notice:%s", id);
    const char *hset[] = {
        "HSET",         key,  "id",         id,       "template",   "t",
        "language",     "de", "name",       "Anna",   "email",      "anna@example.org",
        "variables",    "{}", "state",      "queued", "created",    "x",
        "updated",      "x",  "created_ms", due_ms,   "updated_ms", due_ms,
        "next_attempt", "x",  "reason",     "",       "attempts",   "[]",
        "deferrals",    "0"};
    s_test_command (redis, sizeof hset / sizeof *hset, hset);
    const char *due[] = {"ZADD", PREFIX "due", due_ms, id};
    s_test_command (redis, 4, due);
    const char *queued[] = {"ZADD", PREFIX "state:queued", due_ms, id};
    s_test_command (redis, 4, queued);
}

//  Claims one notice as token at now_ms; returns its id (freed by the
//  caller), or NULL if none was claimed. Sets *token_out to its claim token.
static char *
s_test_claim_one (schalt_redis_t *redis, const char *token, int64_t now_ms, char *claim_token)
{
    json_t *claimed = notifier_store_claim (redis, token, now_ms, 1);
    assert (claimed && !json_is_true (json_object_get (claimed, "standby")));
    json_t *notice = json_array_get (json_object_get (claimed, "notices"), 0);
    char *id = notice ? strdup (json_string_value (json_object_get (notice, "id"))) : NULL;
    if (notice)
        snprintf (claim_token, 24, "%s", json_string_value (json_object_get (notice, "token")));
    json_decref (claimed);
    return id;
}

void
notifier_store_test (bool verbose)
{
    printf (" * notifier_store: ");
    if (verbose)
        printf ("\n");
    char *dir = schalt_test_tempdir ("schalt-notifier-store");
    int port = schalt_test_free_port ();
    pid_t server = schalt_test_redis_start (port, dir);
    assert (server > 0);
    schalt_redis_t *redis = schalt_redis_new ("127.0.0.1", port, 2000);
    assert (schalt_redis_connected (redis));
    assert (notifier_store_delivery_scripts (redis) == 0);
    char token[24];

    //  A result recorded, then recorded again (Redis applied the first call
    //  but its answer was lost): the second says so, and changes nothing
    s_test_queue (redis, "ntc-a", "1000");
    char *id = s_test_claim_one (redis, "notifier-1", 2000, token);
    assert (id && streq (id, "ntc-a"));
    notifier_store_result_t sent = {"ntc-a", token, "sent", "{\"result\":\"sent\"}", "", 2100, 0};
    int rc = -1;
    assert (notifier_store_record_many (redis, &sent, 1, &rc) == 0 && rc == 1);
    assert (notifier_store_record_many (redis, &sent, 1, &rc) == 0 && rc == 2);
    const char *attempts[] = {"HGET", PREFIX "notice:ntc-a", "attempts"};
    redisReply *reply = schalt_redis_command (redis, 3, attempts, NULL);
    assert (reply && reply->type == REDIS_REPLY_STRING);
    assert (streq (reply->str, "[{\"result\":\"sent\"}]")); //  one attempt, not two
    freeReplyObject (reply);
    //  A result of an older claim than the notice's last is still refused
    notifier_store_result_t stale = {"ntc-a", "1", "failed", NULL, "", 2200, 0};
    assert (notifier_store_record_many (redis, &stale, 1, &rc) == 0 && rc == 0);
    zstr_free (&id);

    //  A notifier dies with a notice claimed; one is queued after it; the next
    //  notifier takes over: the interrupted one keeps its place and goes first
    s_test_queue (redis, "ntc-b", "5000");
    id = s_test_claim_one (redis, "notifier-1", 6000, token);
    assert (id && streq (id, "ntc-b"));
    zstr_free (&id);
    s_test_queue (redis, "ntc-c", "7000");
    const char *expire[] = {"DEL", PREFIX "lock"}; //  as when its lock runs out
    s_test_command (redis, 2, expire);
    id = s_test_claim_one (redis, "notifier-2", 8000, token);
    assert (id && streq (id, "ntc-b"));
    zstr_free (&id);
    id = s_test_claim_one (redis, "notifier-2", 8100, token);
    assert (id && streq (id, "ntc-c"));
    zstr_free (&id);

    schalt_redis_destroy (&redis);
    schalt_test_redis_stop (server, SIGTERM);
    schalt_test_rmtree (dir);
    zstr_free (&dir);
    printf ("OK\n");
}
