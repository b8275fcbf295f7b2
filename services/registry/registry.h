/*  registry - the registry service: people's registrations for sessions.

    Commands: registration.create|get|list|cancel|decline|accept|checkin|
    attendance, and session.facts and audience.notify (a reminder falls due),
    which the scheduler delivers through its outbox; offers.expire is the
    internal call of the offers worker (registry_offers.c). A registration is decided and
    written in one script: the session is known, open and in the future; an
    address registers once per session; a seat if one is free, else a
    waitlist place in arrival order; the notice for the notifier in the outbox;
    the reply under the request id. One row a command in registry.c; the
    scripts in lua/, whose common.lua names every key.
*/
#ifndef REGISTRY_H_INCLUDED
#define REGISTRY_H_INCLUDED

#include "schalt.h"

//  The service as the server skeleton runs it.
extern const schalt_service_t registry_service;

//  The worker that expires offers (registry_offers.c); it is told TOUCH
//  and a due-time index key, and tells OVERFULL and a set's key.
extern const schalt_job_t registry_offers_job;

//  The event of a due-time index key, registry:{evt-X}:due, into event.
bool registry_due_event (const char *key, char *event, size_t size);

#endif
