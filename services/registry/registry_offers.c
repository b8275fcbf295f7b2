/*  registry_offers - the registry's worker for offers that run out.

    An offered seat is held until a time; each event keeps its offers in a
    due-time index, registry:{evt-X}:due (registration id -> UTC seconds).
    This job of the common worker (schalt_worker) knows those indexes (from
    a SCAN at start and every minute, and from the keys the scripts name,
    which the registry tells it), reads each one's first due time on its own
    connection, and when one has come by the registry's clock asks for an
    offers.expire of that event: an internal call, so the expiry, the next
    offer and their e-mails are one script with its replay record. The
    call's script names the index again, and the job reads it anew; a call
    that got lost is asked again after LEASE_MS.

    The SCAN also finds the events' sets of over-full sessions, which the
    job tells the registry for its status.
*/
#include "registry.h"

#define OFFERS_TICK 1000 //  ms between looks at the due-time indexes
#define LEASE_MS 10000   //  an offers.expire not seen to act is asked again after this
#define RESCAN_TICKS 60  //  a SCAN every minute: a lost reply names no keys
#define TO_READ 1        //  an index's due time before it is read: always come

typedef struct {
    zhashx_t *due;   //  index key -> its first due time (UTC seconds), or TO_READ
    zhashx_t *asked; //  index key -> zclock_mono when an offers.expire was asked for it
    bool scanned;
    unsigned ticks; //  since the last SCAN
} offers_t;

//  The event of a due-time index key, registry:{evt-X}:due, into event.
bool
registry_due_event (const char *key, char *event, size_t size)
{
    const char *open = strchr (key, '{');
    const char *close = open ? strchr (open, '}') : NULL;
    if (!close || strcmp (close, "}:due") != 0 || (size_t)(close - open - 1) >= size ||
        strncmp (key, "registry:{", 10) != 0)
        return false;
    snprintf (event, size, "%.*s", (int)(close - open - 1), open + 1);
    return true;
}

//  Finds the indexes and over-full sets left from before (SCAN on the
//  worker's connection). Returns false if Redis failed: again next tick.
static bool
s_scan (schalt_work_t *work, offers_t *self)
{
    const char *patterns[] = {"registry:{*}:due", "registry:{*}:overfull"};
    for (int pattern = 0; pattern < 2; pattern++) {
        const char *argv[] = {"SCAN", "0", "MATCH", patterns[pattern], "COUNT", "1000"};
        char cursor[32] = "0";
        do {
            argv[1] = cursor;
            redisReply *reply = schalt_redis_command (schalt_work_redis (work), 6, argv, NULL);
            if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
                if (reply)
                    freeReplyObject (reply);
                return false;
            }
            snprintf (cursor, sizeof (cursor), "%s", reply->element[0]->str);
            for (size_t index = 0; index < reply->element[1]->elements; index++) {
                const char *key = reply->element[1]->element[index]->str;
                char event[32];
                if (pattern == 1)
                    schalt_work_tell_owner (work, "OVERFULL", key, NULL);
                else if (registry_due_event (key, event, sizeof (event)) &&
                         !zhashx_lookup (self->due, key))
                    zhashx_update (self->due, key, (void *)(intptr_t)TO_READ);
            }
            freeReplyObject (reply);
        } while (!streq (cursor, "0"));
    }
    return true;
}

//  Reads an index's first due time: 0 if it is empty (or gone), -1 if Redis failed.
static int64_t
s_first_due (schalt_work_t *work, const char *key)
{
    const char *argv[] = {"ZRANGE", key, "0", "0", "WITHSCORES"};
    redisReply *reply = schalt_redis_command (schalt_work_redis (work), 5, argv, NULL);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        if (reply)
            freeReplyObject (reply);
        return -1;
    }
    int64_t due = reply->elements == 2 ? (int64_t)strtod (reply->element[1]->str, NULL) : 0;
    freeReplyObject (reply);
    return due > TO_READ ? due : TO_READ + 1; //  one at the epoch is due all the same
}

static void
s_tick (schalt_work_t *work, void *state)
{
    offers_t *self = (offers_t *)state;
    if (!schalt_work_redis_up (work))
        return;
    if (++self->ticks >= RESCAN_TICKS) {
        self->ticks = 0;
        self->scanned = false;
    }
    if (!self->scanned)
        self->scanned = s_scan (work, self);

    //  The keys first: reading an index may drop it from the table
    int64_t now = (int64_t)schalt_clock_now (), mono = zclock_mono ();
    zlist_t *look = zlist_new ();
    zlist_autofree (look);
    for (void *due = zhashx_first (self->due); due; due = zhashx_next (self->due)) {
        const char *key = (const char *)zhashx_cursor (self->due);
        intptr_t asked = (intptr_t)zhashx_lookup (self->asked, key);
        if ((int64_t)(intptr_t)due <= now && (!asked || mono - asked >= LEASE_MS))
            zlist_append (look, (void *)key);
    }
    for (char *key = (char *)zlist_first (look); key; key = (char *)zlist_next (look)) {
        int64_t due = s_first_due (work, key);
        if (due < 0)
            break; //  Redis failed: next tick
        zhashx_delete (self->asked, key);
        if (due == 0) {
            zhashx_delete (self->due, key);
            continue;
        }
        zhashx_update (self->due, key, (void *)(intptr_t)due);
        char event[32];
        if (due > now || !registry_due_event (key, event, sizeof (event)))
            continue;
        //  ox-<event>-<random>: a new request id each time, so that no old
        //  answer is replayed (a clock set back, a restart)
        char random[32], id[96], body[96];
        schalt_id_make ("x", random, sizeof (random));
        snprintf (id, sizeof (id), "ox-%s-%s", event, random + 2);
        snprintf (body, sizeof (body), "{\"event\":\"%s\"}", event);
        zhashx_update (self->asked, key, (void *)(intptr_t)(mono > 0 ? mono : 1));
        schalt_work_call (work, "offers.expire", id, body);
    }
    zlist_destroy (&look);
}

//  TOUCH key: a script wrote the index; read it at the next tick.
static void
s_told (schalt_work_t *work, void *state, zmsg_t *msg)
{
    (void)work;
    offers_t *self = (offers_t *)state;
    char *what = zmsg_popstr (msg), *key = zmsg_popstr (msg);
    char event[32];
    if (what && key && streq (what, "TOUCH") && registry_due_event (key, event, sizeof (event))) {
        zhashx_update (self->due, key, (void *)(intptr_t)TO_READ);
        zhashx_delete (self->asked, key);
    }
    zstr_free (&what);
    zstr_free (&key);
}

static void *
s_start (schalt_work_t *work, const void *args)
{
    (void)work;
    (void)args;
    offers_t *self = (offers_t *)zmalloc (sizeof (offers_t));
    assert (self);
    self->due = zhashx_new ();
    self->asked = zhashx_new ();
    return self;
}

static void
s_destroy (void **state_p)
{
    offers_t *self = (offers_t *)*state_p;
    if (self) {
        zhashx_destroy (&self->due);
        zhashx_destroy (&self->asked);
        free (self);
        *state_p = NULL;
    }
}

const schalt_job_t registry_offers_job = {"offers", OFFERS_TICK, s_start,  s_tick,
                                          s_told,   NULL,        s_destroy};
