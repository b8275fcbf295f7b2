/*  scheduler - the scheduler service: events and their sessions.

    Commands: event.create|get|list|update|cancel and
    session.create|get|list|update|cancel, one row each in scheduler.c.
    Their prepare functions check what a schema cannot (times in order, not
    in the past), make ids and normalise times to UTC; their scripts in lua/
    check what needs the stored state (the event exists and is open, the
    session fits in its event, the room is free) and change it in one atomic
    step. lua/common.lua names every key.
*/
#ifndef SCHEDULER_H_INCLUDED
#define SCHEDULER_H_INCLUDED

#include "schalt.h"

//  The service as the server skeleton runs it.
extern const schalt_service_t scheduler_service;

#endif
