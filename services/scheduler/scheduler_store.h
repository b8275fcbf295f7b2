/*  scheduler_store - the only code of the scheduler that knows its Redis keys.

    Keys (all with the hash tag {events}, see lua/common.lua for why):
      scheduler:{events}:event:<evt-id>            hash: an event (forever)
      scheduler:{events}:index                     zset: event ids by start (forever)
      scheduler:{events}:event:<evt-id>:sessions   zset: its session ids by start (forever)
      scheduler:{events}:session:<ses-id>          hash: a session (forever)
      scheduler:{events}:outbox:registry           list: session facts for the registry,
                                                   until it acknowledges them
      scheduler:{events}:dead:registry             list: facts the registry refused
                                                   (kept for an admin)
      scheduler:{events}:request:<request-id>      hash: digest, status, body of a
                                                   state-changing request's reply
                                                   (schaltstelle/request_ttl seconds)
    Each function queues one script call for the request (schalt_call_eval);
    its reply becomes the answer.
*/
#ifndef SCHEDULER_STORE_H_INCLUDED
#define SCHEDULER_STORE_H_INCLUDED

#include "schalt.h"

typedef struct _scheduler_store_t scheduler_store_t;

//  Registers the scripts with the server's Redis. Returns NULL on failure.
scheduler_store_t *scheduler_store_new (schalt_server_t *server);

//  Destroy; safe to call twice.
void scheduler_store_destroy (scheduler_store_t **self_p);

//  event: the complete new record as JSON (the handler made and checked it).
void scheduler_store_event_create (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                   const char *event);
void scheduler_store_event_get (scheduler_store_t *self, schalt_call_t *call, const char *id);
//  Events that end after from and start before to (UTC seconds).
void scheduler_store_event_list (scheduler_store_t *self, schalt_call_t *call, time_t from,
                                 time_t to, bool include_cancelled);
//  changes: the fields to change as JSON, times normalised.
void scheduler_store_event_update (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                   const char *changes);
void scheduler_store_event_cancel (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                   const char *reason, const char *now);

void scheduler_store_session_create (scheduler_store_t *self, schalt_call_t *call,
                                     const char *event_id, const char *id, const char *session);
void scheduler_store_session_get (scheduler_store_t *self, schalt_call_t *call, const char *id);
void scheduler_store_session_list (scheduler_store_t *self, schalt_call_t *call,
                                   const char *event_id, bool include_cancelled);
void scheduler_store_session_update (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                     const char *changes);
void scheduler_store_session_cancel (scheduler_store_t *self, schalt_call_t *call, const char *id,
                                     const char *reason, const char *now);

#endif
