/*  registry_store - the only code of the registry that knows its Redis keys.

    Keys, all of one session under its hash tag (see lua/common.lua for why):
      registry:{ses-X}:session                 hash: the session's facts as the
                                               scheduler last told them (revision,
                                               times, capacity, status, event title,
                                               place) (forever)
      registry:{ses-X}:registration:<reg-id>   hash: one person's registration (forever)
      registry:{ses-X}:confirmed               zset: confirmed registration ids by arrival
      registry:{ses-X}:waitlist                zset: waitlisted ids by arrival
      registry:{ses-X}:arrivals                counter: the arrival order
      registry:{ses-X}:emails                  hash: lower-cased address -> registration id
      registry:{ses-X}:outbox:notifier         list: notices for the notifier, until
                                               it acknowledges them
      registry:{ses-X}:dead:notifier           list: notices the notifier refused
      registry:{ses-X}:request:<request-id>    hash: replay record of a change
                                               (schaltstelle/request_ttl seconds)
    A registration id carries its session: reg-<session's ten characters>-<ten
    random characters>, so any registration is found from its id alone.
*/
#ifndef REGISTRY_STORE_H_INCLUDED
#define REGISTRY_STORE_H_INCLUDED

#include "schalt.h"

typedef struct _registry_store_t registry_store_t;

//  Registers the scripts. Returns NULL on failure.
registry_store_t *registry_store_new (schalt_server_t *server);

//  Destroy; safe to call twice.
void registry_store_destroy (registry_store_t **self_p);

//  Applies session facts (JSON) if newer than those stored.
void registry_store_session_facts (registry_store_t *self, schalt_call_t *call,
                                   const char *session_id, const char *facts, time_t start,
                                   time_t end);

//  Registers (registration JSON made by the handler) and queues its notice.
void registry_store_registration_create (registry_store_t *self, schalt_call_t *call,
                                         const char *session_id, const char *registration,
                                         const char *notice_id);

void registry_store_registration_get (registry_store_t *self, schalt_call_t *call,
                                      const char *session_id, const char *id);

void registry_store_registration_list (registry_store_t *self, schalt_call_t *call,
                                       const char *session_id);

#endif
