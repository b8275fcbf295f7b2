/*  scheduler - the scheduler service: events and their sessions.

    Commands: event.create|get|list|update|cancel,
    session.create|get|list|update|cancel and reminder.list, one row each in
    scheduler.c; timeline.plan|fire|replan are the internal calls of the
    reminder timeline's worker (scheduler_timeline.c).
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

//  The keys that C reads as well as the scripts (lua/common.lua names
//  them all): the prefix of the one hash tag, and the sessions to plan.
#define SCHEDULER_PREFIX "scheduler:{events}:"
#define SCHEDULER_PLAN_KEY SCHEDULER_PREFIX "plan"

//  The reminders' settings: the zone and the configured offsets of each
//  kind of event (scheduler/reminders/<kind>).
#define SCHEDULER_KINDS 4
typedef struct {
    char zone[64];
    schalt_offsets_t kinds[SCHEDULER_KINDS]; //  in the order of scheduler_kinds
} scheduler_reminders_t;

extern const char *scheduler_kinds[SCHEDULER_KINDS]; //  "day-of-education", ...

//  The configured offsets of kind, or NULL for a kind unknown.
const schalt_offsets_t *scheduler_reminders_of (const scheduler_reminders_t *self,
                                                const char *kind);

//  The configured offsets as one text ("day-of-education=7d 1d;meeting=2d;...").
char *scheduler_reminders_describe (const scheduler_reminders_t *self, char *buffer, size_t size);

//  The worker that plans and fires reminders (scheduler_timeline.c); it is
//  started with the scheduler_reminders_t.
extern const schalt_job_t scheduler_timeline_job;

#endif
