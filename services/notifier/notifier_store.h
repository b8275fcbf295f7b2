/*  notifier_store - the only code of the notifier that knows its Redis keys.

    Keys (all with the one hash tag {notices}: the delivery scripts move a
    notice between the queue and several indexes in one step; when several
    notifiers share the load, the notices will be sharded over a few tags,
    one notifier delivering each):
      notifier:{notices}:notice:<id>        hash: a notice: template, language,
                                            recipient, variables (JSON), state,
                                            attempts (JSON), times, when it was
                                            due as last claimed (due_ms), the claim
                                            token of its last recorded result
                                            (recorded_token) (forever, for now:
                                            erasure comes with the registry's
                                            "forget this person")
      notifier:{notices}:request:<req-id>   hash: digest, status, body of a
                                            state-changing request's reply
                                            (schaltstelle/request_ttl seconds)
      notifier:{notices}:due                zset: ids of notices waiting to be
                                            sent (queued, deferred, sending) by
                                            when they are due, in ms
      notifier:{notices}:state:<state>      zset: ids in that state (queued,
                                            sending, sent, deferred, failed) by
                                            last change, in ms
      notifier:{notices}:all                zset: every id by last change, in ms
      notifier:{notices}:to:<address>       zset: ids of the notices to one address
                                            (in lower case) by last change, in ms
      notifier:{notices}:lock               string: the token of the notifier
                                            process that delivers (expires 10 s
                                            after its last renewal)

    The request side is notifier.c's command table and lua/notice_*.lua, run
    by the server on its connection; the delivery side runs lua/claim.lua,
    record.lua and release.lua on the delivery loop's own connection, through
    the functions below. lua/common.lua names the keys for both.
*/
#ifndef NOTIFIER_STORE_H_INCLUDED
#define NOTIFIER_STORE_H_INCLUDED

#include "schalt.h"

//  A new notice as notice.send stores it.
typedef struct {
    const char *template_name, *language, *name, *email;
    const char *variables; //  JSON text
} notifier_store_notice_t;

//  notice.send's prepare: adds the arguments of lua/notice_send.lua to the
//  call (the reply for a new notice, the time in ms, the address, and the
//  notice's fields, queued and due at now_ms). Returns 0.
int notifier_store_send_args (schalt_call_t *call, const notifier_store_notice_t *notice,
                              int64_t now_ms);

//  --------------------------------------------------------------------------
//  Delivery

//  How long a claimed notice stays 'sending' before it is due again, and how
//  long the delivery lock lasts after its last renewal (milliseconds).
#define NOTIFIER_LEASE_MS 300000
#define NOTIFIER_LOCK_MS 10000

//  Registers the delivery scripts with the delivery loop's connection.
//  Returns 0 or -1.
int notifier_store_delivery_scripts (schalt_redis_t *redis);

//  Renews the lock (or learns that another process holds it) and claims up
//  to batch due notices. Returns {"standby": bool, "took_over": bool,
//  "counts": {state: n}, "notices": [{id, template, language, name, email,
//  variables (object), attempts, deferrals, created_ms, token, resend}]}
//  (the caller decrefs it), or NULL if Redis failed.
json_t *notifier_store_claim (schalt_redis_t *redis, const char *token, int64_t now_ms, int batch);

//  The result of one claimed notice.
typedef struct {
    const char *id;
    const char *token;   //  the claim's token
    const char *state;   //  "sent", "deferred" or "failed"
    const char *attempt; //  the attempt as JSON, or NULL if none was made
    const char *reason;  //  "" for none
    int64_t now_ms;
    int64_t next_ms; //  deferred: when it is due again
} notifier_store_result_t;

//  Records count results with one script call for each 64 (one round trip
//  and one fsync under appendfsync always). rcs[i] is 1 if results[i] was
//  recorded, 2 if it had been recorded already (by an earlier call whose
//  reply was lost), 0 if its notice is no longer in that claim (nothing
//  changed), -1 if Redis failed (try again later). Returns 0, or -1 if any
//  is -1.
int notifier_store_record_many (schalt_redis_t *redis, const notifier_store_result_t *results,
                                size_t count, int *rcs);

//  Frees the lock if this token holds it. Returns 0, or -1 if Redis failed.
int notifier_store_release (schalt_redis_t *redis, const char *token);

//  Self test of the delivery scripts against a real redis-server.
void notifier_store_test (bool verbose);

#endif
