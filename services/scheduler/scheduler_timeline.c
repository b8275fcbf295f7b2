/*  scheduler_timeline - the scheduler's worker for reminders.

    The timeline is a due-time index in Redis, scheduler:{events}:timeline:
    one entry per reminder of a session, rem-<session>-<offset>-r<revision>,
    scored by its due time. This job of the common worker (schalt_worker)
    does two things each tick, both through internal calls, so that each is
    one script with its replay record:

    - it plans: a script that changed a session (created, moved, renamed,
      its event changed) took the session's reminders out of the timeline
      and named it in scheduler:{events}:plan. The job reads the session,
      its event's offsets (the event's own, or its kind's from the
      configuration), computes the due times in the installation's zone
      (days keep the wall-clock time, schalt_offsets) and the session's
      local day, and asks for a timeline.plan;
    - it fires: the reminders due by the scheduler's clock, grouped by
      session, each group one timeline.fire, which sends the latest to the
      registry (audience.notify through the outbox) and drops the rest.

    At start, until the timeline is planned with the configured offsets, it
    asks for a timeline.replan, so that a changed configuration applies to
    the reminders not yet due.
    What it asked for and has not seen done is asked again after LEASE_MS.
    Its figures: the timeline's size, its next due time, the sessions
    waiting to be planned.
*/
#include "scheduler.h"

#define TIMELINE_TICK 250 //  ms between two looks at the timeline
#define LEASE_MS 10000    //  a call not seen to act is asked again after this
#define PLAN_BATCH 500    //  sessions planned in one tick, at most
#define FIRE_BATCH 2000   //  due reminders read in one tick, at most

#define TIMELINE_KEY SCHEDULER_PREFIX "timeline"
#define OFFSETS_KEY SCHEDULER_PREFIX "timeline:offsets"

typedef struct {
    scheduler_reminders_t settings;
    zhashx_t *asked; //  what a call is out for ("plan <ses> <since>", "fire <id>") -> zclock_mono
    bool replanned;  //  the timeline is planned with the configured offsets
} timeline_t;

//  True if key was asked for within the lease; else marks it asked now.
static bool
s_leased (timeline_t *self, const char *key)
{
    int64_t now = zclock_mono ();
    intptr_t asked = (intptr_t)zhashx_lookup (self->asked, key);
    if (asked && now - asked < LEASE_MS)
        return true;
    zhashx_update (self->asked, key, (void *)(intptr_t)(now > 0 ? now : 1));
    return false;
}

//  Forgets leases that have run out (their work was done or will be asked again).
static void
s_expire_leases (timeline_t *self)
{
    int64_t now = zclock_mono ();
    zlist_t *old = zlist_new ();
    zlist_autofree (old);
    for (void *asked = zhashx_first (self->asked); asked; asked = zhashx_next (self->asked))
        if (now - (intptr_t)asked >= LEASE_MS)
            zlist_append (old, (void *)zhashx_cursor (self->asked));
    for (char *key = (char *)zlist_first (old); key; key = (char *)zlist_next (old))
        zhashx_delete (self->asked, key);
    zlist_destroy (&old);
}

//  The offsets for an event: its own, else its kind's. NULL for an unknown kind.
static const schalt_offsets_t *
s_offsets_for (timeline_t *self, const char *kind, const char *own, schalt_offsets_t *parsed)
{
    char error[160];
    if (own && *own && schalt_offsets_parse (own, parsed, error, sizeof (error)) == 0)
        return parsed;
    return scheduler_reminders_of (&self->settings, kind);
}

//  Plans one session: reads it and its event, computes its reminders' due
//  times and asks for a timeline.plan. Returns false if Redis failed.
static bool
s_plan (schalt_work_t *work, timeline_t *self, const char *session_id, const char *since)
{
    char key[128];
    snprintf (key, sizeof (key), SCHEDULER_PREFIX "session:%s", session_id);
    const char *argv[] = {"HMGET", key, "start_ts", "revision", "status", "event"};
    redisReply *session = schalt_redis_command (schalt_work_redis (work), 6, argv, NULL);
    if (!session || session->type != REDIS_REPLY_ARRAY || session->elements != 4) {
        if (session)
            freeReplyObject (session);
        return false;
    }
    bool known = session->element[0]->type == REDIS_REPLY_STRING &&
                 session->element[1]->type == REDIS_REPLY_STRING &&
                 session->element[3]->type == REDIS_REPLY_STRING;
    //  A session gone or without its event still gets its plan call: the
    //  script drops it from the plan (stale)
    time_t start = known ? (time_t)atoll (session->element[0]->str) : 0;
    long revision = known ? atol (session->element[1]->str) : 1;
    //  Leased by what it plans for: a change in the same second is a new revision
    char lease[128];
    snprintf (lease, sizeof (lease), "plan %s %ld %s", session_id, revision, since);
    if (s_leased (self, lease)) {
        freeReplyObject (session);
        return true;
    }
    redisReply *event = NULL;
    if (known) {
        char event_key[96];
        snprintf (event_key, sizeof (event_key), SCHEDULER_PREFIX "event:%s",
                  session->element[3]->str);
        const char *event_argv[] = {"HMGET", event_key, "kind", "reminders"};
        event = schalt_redis_command (schalt_work_redis (work), 4, event_argv, NULL);
    }
    freeReplyObject (session);
    if (known && (!event || event->type != REDIS_REPLY_ARRAY || event->elements != 2)) {
        if (event)
            freeReplyObject (event);
        zhashx_delete (self->asked, lease); //  Redis failed: asked again next tick
        return false;
    }
    schalt_offsets_t parsed;
    const schalt_offsets_t *offsets =
        event && event->element[0]->type == REDIS_REPLY_STRING
            ? s_offsets_for (self, event->element[0]->str,
                             event->element[1]->type == REDIS_REPLY_STRING ? event->element[1]->str
                                                                           : NULL,
                             &parsed)
            : NULL;
    json_t *due = json_array ();
    for (size_t index = 0; offsets && index < offsets->count; index++) {
        time_t at;
        if (schalt_offset_before (&offsets->offsets[index], start, self->settings.zone, &at) == 0)
            json_array_append_new (due,
                                   json_pack ("{s:s, s:I}", "offset", offsets->offsets[index].text,
                                              "at", (json_int_t)at));
    }
    if (event)
        freeReplyObject (event);
    time_t day_start = start, day_end = start + 1;
    schalt_time_local_day (start, self->settings.zone, &day_start, &day_end);
    json_t *body =
        json_pack ("{s:s, s:i, s:I, s:I, s:I, s:o}", "session", session_id, "revision",
                   (int)(revision > 0 ? revision : 1), "since", (json_int_t)atoll (since),
                   "day_start", (json_int_t)day_start, "day_end", (json_int_t)day_end, "due", due);
    char *text = json_dumps (body, JSON_COMPACT);
    //  A new id each time: the same revision and second may be planned again
    //  with other offsets (a restart with a changed configuration)
    char id[96], random[32];
    schalt_id_make ("x", random, sizeof (random));
    snprintf (id, sizeof (id), "tp-%s-r%ld-%s-%.6s", session_id, revision, since, random + 2);
    schalt_work_call (work, "timeline.plan", id, text);
    free (text);
    json_decref (body);
    return true;
}

//  Plans the sessions named in the plan hash (a batch a tick).
static void
s_plan_changed (schalt_work_t *work, timeline_t *self)
{
    char count[16];
    snprintf (count, sizeof (count), "%d", PLAN_BATCH);
    const char *argv[] = {"HSCAN", SCHEDULER_PLAN_KEY, "0", "COUNT", count};
    redisReply *reply = schalt_redis_command (schalt_work_redis (work), 5, argv, NULL);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        if (reply)
            freeReplyObject (reply);
        return;
    }
    redisReply *pairs = reply->element[1];
    for (size_t index = 0; index + 1 < pairs->elements; index += 2) {
        const char *session = pairs->element[index]->str, *since = pairs->element[index + 1]->str;
        if (strlen (session) > 40 || strlen (since) > 20)
            continue;
        if (!s_plan (work, self, session, since))
            break;
    }
    freeReplyObject (reply);
}

//  Fires what is due: one timeline.fire per session, naming its due reminders.
static void
s_fire_due (schalt_work_t *work, timeline_t *self)
{
    char now[24], batch[16];
    snprintf (now, sizeof (now), "%lld", (long long)schalt_clock_now ());
    snprintf (batch, sizeof (batch), "%d", FIRE_BATCH);
    const char *argv[] = {"ZRANGEBYSCORE", TIMELINE_KEY, "-inf", now, "LIMIT", "0", batch};
    redisReply *reply = schalt_redis_command (schalt_work_redis (work), 7, argv, NULL);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        if (reply)
            freeReplyObject (reply);
        return;
    }
    //  rem-<session>-<offset>-r<revision>: the session is the 25 characters after rem-
    zhashx_t *groups = zhashx_new (); //  session -> json array of its due reminders
    zlist_t *order = zlist_new ();
    zlist_autofree (order);
    for (size_t index = 0; index < reply->elements; index++) {
        const char *id = reply->element[index]->str;
        if (strlen (id) < 4 + 25 + 4 || strncmp (id, "rem-ses-", 8) != 0)
            continue;
        char session[32];
        snprintf (session, sizeof (session), "%.25s", id + 4);
        json_t *group = (json_t *)zhashx_lookup (groups, session);
        if (!group) {
            group = json_array ();
            zhashx_insert (groups, session, group);
            zlist_append (order, session);
        }
        if (json_array_size (group) < 64)
            json_array_append_new (group, json_string (id));
    }
    for (char *session = (char *)zlist_first (order); session;
         session = (char *)zlist_next (order)) {
        json_t *group = (json_t *)zhashx_lookup (groups, session);
        //  Leased by its last reminder: one that falls due meanwhile is a new call
        const char *last = json_string_value (json_array_get (group, json_array_size (group) - 1));
        char lease[96], id[96];
        snprintf (lease, sizeof (lease), "fire %s", last);
        if (!s_leased (self, lease)) {
            json_t *body = json_pack ("{s:s, s:O}", "session", session, "reminders", group);
            char *text = json_dumps (body, JSON_COMPACT);
            snprintf (id, sizeof (id), "tf-%s", last + 4);
            schalt_work_call (work, "timeline.fire", id, text);
            free (text);
            json_decref (body);
        }
        json_decref (group);
    }
    zlist_destroy (&order);
    zhashx_destroy (&groups);
    freeReplyObject (reply);
}

//  The figures for status: the timeline's size, its next due time, the
//  sessions waiting to be planned.
static void
s_figures (schalt_work_t *work)
{
    const char *card[] = {"ZCARD", TIMELINE_KEY};
    const char *first[] = {"ZRANGE", TIMELINE_KEY, "0", "0", "WITHSCORES"};
    const char *plans[] = {"HLEN", SCHEDULER_PLAN_KEY};
    redisReply *size = schalt_redis_command (schalt_work_redis (work), 2, card, NULL);
    redisReply *next = schalt_redis_command (schalt_work_redis (work), 5, first, NULL);
    redisReply *waiting = schalt_redis_command (schalt_work_redis (work), 2, plans, NULL);
    if (size && next && waiting && size->type == REDIS_REPLY_INTEGER &&
        next->type == REDIS_REPLY_ARRAY && waiting->type == REDIS_REPLY_INTEGER) {
        char instant[32];
        const char *next_due =
            next->elements == 2
                ? schalt_time_format_instant ((time_t)atoll (next->element[1]->str), instant)
                : NULL;
        schalt_work_figures (work, json_pack ("{s:{s:I, s:s?, s:I}}", "timeline", "planned",
                                              (json_int_t)size->integer, "next_due", next_due,
                                              "to_plan", (json_int_t)waiting->integer));
    }
    if (size)
        freeReplyObject (size);
    if (next)
        freeReplyObject (next);
    if (waiting)
        freeReplyObject (waiting);
}

static void
s_tick (schalt_work_t *work, void *state)
{
    timeline_t *self = (timeline_t *)state;
    if (!schalt_work_redis_up (work))
        return;
    if (!self->replanned) {
        //  Until the timeline is planned with the configured offsets (asked
        //  again after the lease if the call was lost)
        char offsets[512], random[32], id[64];
        scheduler_reminders_describe (&self->settings, offsets, sizeof (offsets));
        const char *argv[] = {"GET", OFFSETS_KEY};
        redisReply *stored = schalt_redis_command (schalt_work_redis (work), 2, argv, NULL);
        self->replanned =
            stored && stored->type == REDIS_REPLY_STRING && streq (stored->str, offsets);
        if (stored)
            freeReplyObject (stored);
        if (!self->replanned && !s_leased (self, "replan")) {
            json_t *body = json_pack ("{s:s}", "offsets", offsets);
            char *text = json_dumps (body, JSON_COMPACT);
            schalt_id_make ("x", random, sizeof (random));
            snprintf (id, sizeof (id), "tr-%s", random + 2);
            schalt_work_call (work, "timeline.replan", id, text);
            free (text);
            json_decref (body);
        }
    }
    s_expire_leases (self);
    s_plan_changed (work, self);
    s_fire_due (work, self);
    s_figures (work);
}

//  PLAN: a script named sessions to plan; plan them now.
static void
s_told (schalt_work_t *work, void *state, zmsg_t *msg)
{
    (void)msg;
    if (schalt_work_redis_up (work))
        s_plan_changed (work, (timeline_t *)state);
}

static void *
s_start (schalt_work_t *work, const void *args)
{
    (void)work;
    timeline_t *self = (timeline_t *)zmalloc (sizeof (timeline_t));
    assert (self);
    self->settings = *(const scheduler_reminders_t *)args;
    self->asked = zhashx_new ();
    return self;
}

static void
s_destroy (void **state_p)
{
    timeline_t *self = (timeline_t *)*state_p;
    if (self) {
        zhashx_destroy (&self->asked);
        free (self);
        *state_p = NULL;
    }
}

const schalt_job_t scheduler_timeline_job = {"timeline", TIMELINE_TICK, s_start,  s_tick,
                                             s_told,     NULL,          s_destroy};
