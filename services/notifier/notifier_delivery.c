/*  notifier_delivery - the delivery loop. See notifier_delivery.h for what
    it does and for the one window in which an e-mail can go out twice.
*/
#include "notifier_delivery.h"
#include "notifier_calendar.h"
#include "notifier_mail.h"
#include "notifier_store.h"
#include "notifier_template.h"

#define TICK_MS 200         //  between claims
#define BACKOFF_MAX 3600    //  seconds: the longest wait between two attempts
#define DRAIN_EXTRA_MS 5000 //  beyond the SMTP timeouts, to wait for a batch at stop

//  What status shows: reported to the server as figures (schalt_worker).
typedef struct {
    json_t *counts; //  notices per state at the last tick, or NULL
    const char *state;
    uint64_t sent, deferred, failed, resent;
    char last_error[256];
} stats_t;

//  A result waiting to be recorded (all strings owned).
typedef struct {
    char *id, *token, *state, *attempt, *reason;
    int64_t now_ms, next_ms;
} pending_t;

//  The job's state, in the worker's thread only.
typedef struct {
    notifier_settings_t settings_copy;
    const notifier_settings_t *settings;
    schalt_work_t *work;
    schalt_redis_t *redis; //  the worker's
    stats_t stats;
    zactor_t *mailer;
    char token[160];     //  this process's claim on the delivery lock
    zhashx_t *in_flight; //  id -> its claim (json_t), for the batch at the mailer
    bool at_mailer;      //  a batch is at the mailer: until its RESULTS, even
                         //  when every message in it has been reported
    zlist_t *pending;    //  pending_t, in order
    bool standby;
    bool redis_down;
} loop_t;

long
notifier_delivery_backoff (long first, int deferrals)
{
    long wait = first;
    for (int index = 1; index < deferrals && wait < BACKOFF_MAX; index++)
        wait *= 2;
    return wait < BACKOFF_MAX ? wait : BACKOFF_MAX;
}

//  --------------------------------------------------------------------------
//  Counters for status

//  Notes for status the state (a string literal) unless NULL, the last
//  error unless NULL, and reports the figures.
static void
s_note (loop_t *self, const char *state, const char *error)
{
    stats_t *stats = &self->stats;
    if (state)
        stats->state = state;
    if (error) {
        char instant[32];
        snprintf (stats->last_error, sizeof (stats->last_error), "%s %s",
                  schalt_time_format_instant (time (NULL), instant), error);
        schalt_text_utf8_repair (stats->last_error); //  status packs it into JSON
    }
    char smtp[300];
    snprintf (smtp, sizeof (smtp), "%s:%d", self->settings->smtp.host, self->settings->smtp.port);
    json_t *figures = json_pack (
        "{s:O?, s:{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s?}}", "notices", stats->counts, "delivery",
        "state", stats->state, "smtp", smtp, "in_flight", (json_int_t)zhashx_size (self->in_flight),
        "sent", (json_int_t)stats->sent, "deferred", (json_int_t)stats->deferred, "failed",
        (json_int_t)stats->failed, "resent_after_crash", (json_int_t)stats->resent, "last_error",
        stats->last_error[0] ? stats->last_error : NULL);
    assert (figures); //  every string is ours or repaired
    schalt_work_figures (self->work, figures);
}

//  Counts one recorded result.
static void
s_count (loop_t *self, const char *state)
{
    stats_t *stats = &self->stats;
    if (streq (state, "sent"))
        stats->sent++;
    else if (streq (state, "deferred"))
        stats->deferred++;
    else
        stats->failed++;
}

//  --------------------------------------------------------------------------
//  Recording results

static void
s_pending_destroy (pending_t **self_p)
{
    pending_t *self = *self_p;
    if (self) {
        free (self->id);
        free (self->token);
        free (self->state);
        free (self->attempt);
        free (self->reason);
        free (self);
        *self_p = NULL;
    }
}

//  Queues a result for recording. attempt may be NULL (none was made).
static void
s_pending_add (loop_t *self, json_t *claim, const char *state, json_t *attempt, const char *reason,
               int64_t now_ms, int64_t next_ms)
{
    pending_t *pending = (pending_t *)zmalloc (sizeof (pending_t));
    assert (pending);
    pending->id = strdup (json_string_value (json_object_get (claim, "id")));
    pending->token = strdup (json_string_value (json_object_get (claim, "token")));
    pending->state = strdup (state);
    pending->attempt = attempt ? json_dumps (attempt, JSON_COMPACT) : NULL;
    pending->reason = strdup (reason);
    pending->now_ms = now_ms;
    pending->next_ms = next_ms;
    zlist_append (self->pending, pending);
}

//  Records what is pending, in order, until Redis fails (the rest waits
//  for the next tick).
static void
s_record_pending (loop_t *self)
{
    size_t count = zlist_size (self->pending);
    if (count == 0)
        return;
    //  All results with one pipelined round trip
    notifier_store_result_t *results =
        (notifier_store_result_t *)zmalloc (sizeof (notifier_store_result_t) * count);
    int *rcs = (int *)zmalloc (sizeof (int) * count);
    assert (results && rcs);
    size_t index = 0;
    for (pending_t *pending = (pending_t *)zlist_first (self->pending); pending;
         pending = (pending_t *)zlist_next (self->pending), index++) {
        notifier_store_result_t result = {pending->id,      pending->token,  pending->state,
                                          pending->attempt, pending->reason, pending->now_ms,
                                          pending->next_ms};
        results[index] = result;
    }
    notifier_store_record_many (self->redis, results, count, rcs);
    //  What got through leaves the list; the rest waits for Redis
    index = 0;
    pending_t *pending = (pending_t *)zlist_first (self->pending);
    while (pending) {
        pending_t *next = (pending_t *)zlist_next (self->pending);
        int rc = rcs[index++];
        if (rc >= 0) {
            if (rc == 0)
                schalt_log_warning ("notice: result not recorded, claimed again meanwhile id=%s",
                                    pending->id);
            else {
                if (rc == 2)
                    schalt_log_info ("notice: result was recorded already id=%s (redis applied "
                                     "it, then the connection failed before its answer)",
                                     pending->id);
                s_count (self, pending->state);
            }
            zlist_remove (self->pending, pending);
            s_pending_destroy (&pending);
        }
        pending = next;
    }
    free (results);
    free (rcs);
}

//  Decides what an attempt's outcome makes of the notice and queues it.
static void
s_decide (loop_t *self, json_t *claim, const char *outcome, int code, const char *reply)
{
    int64_t now = zclock_time ();
    const char *id = json_string_value (json_object_get (claim, "id"));
    int attempt = (int)json_integer_value (json_object_get (claim, "attempts")) + 1;
    //  The mailer sends the relay's text as one line of valid UTF-8 already;
    //  made sure of here too, where it goes into JSON, so no reply can fail the pack
    char instant[32], line[sizeof (((notifier_smtp_message_t *)0)->reply)];
    snprintf (line, sizeof (line), "%s", reply);
    schalt_text_utf8_repair (line);
    json_t *record = json_pack ("{s:s, s:s, s:i, s:s}", "time",
                                schalt_time_format_instant ((time_t)(now / 1000), instant),
                                "result", outcome, "smtp", code, "reply", line);
    assert (record); //  every value is ours or valid UTF-8 now
    if (streq (outcome, "sent")) {
        schalt_log_info ("notice: sent id=%s attempt=%d smtp=%d", id, attempt, code);
        s_pending_add (self, claim, "sent", record, "", now, 0);
    } else if (streq (outcome, "failed")) {
        char reason[96];
        snprintf (reason, sizeof (reason), "the mail server refused it for good (%d)", code);
        schalt_log_warning ("notice: failed id=%s attempt=%d smtp=%d", id, attempt, code);
        s_pending_add (self, claim, "failed", record, reason, now, 0);
    } else {
        //  Deferred: wait longer each time, but not past the give-up time
        int deferrals = (int)json_integer_value (json_object_get (claim, "deferrals")) + 1;
        //  (a number however the script's JSON wrote it)
        int64_t created = (int64_t)json_number_value (json_object_get (claim, "created_ms"));
        int64_t limit = created + self->settings->give_up * 1000;
        if (now >= limit) {
            long span = self->settings->give_up;
            char reason[160];
            snprintf (reason, sizeof (reason),
                      "given up after %d attempts in %ld %s: the mail server kept deferring it",
                      attempt, span >= 7200 ? span / 3600 : span / 60,
                      span >= 7200 ? "hours" : "minutes");
            schalt_log_warning ("notice: given up id=%s attempt=%d smtp=%d", id, attempt, code);
            s_pending_add (self, claim, "failed", record, reason, now, 0);
        } else {
            int64_t next =
                now + notifier_delivery_backoff (self->settings->retry_first, deferrals) * 1000;
            if (next > limit)
                next = limit;
            schalt_log_info ("notice: deferred id=%s attempt=%d smtp=%d retry_in=%llds", id,
                             attempt, code, (long long)((next - now) / 1000));
            s_pending_add (self, claim, "deferred", record, "", now, next);
        }
    }
    json_decref (record);
}

//  --------------------------------------------------------------------------
//  Claiming and sending

//  Renders a claimed notice. Returns the message, or NULL with a reason.
static char *
s_render (loop_t *self, json_t *claim, char *reason, size_t size)
{
    const notifier_settings_t *settings = self->settings;
    notifier_template_config_t config = {settings->templates, settings->timezone,
                                         settings->office_contact};
    const char *name = json_string_value (json_object_get (claim, "name"));
    const char *language = json_string_value (json_object_get (claim, "language"));
    notifier_template_request_t request = {json_string_value (json_object_get (claim, "template")),
                                           language, name, json_object_get (claim, "variables")};
    char *subject, *body;
    if (notifier_template_render (&config, &request, &subject, &body, reason, size) != 0)
        return NULL;
    notifier_mail_sender_t sender = {settings->from_address, settings->from_name,
                                     settings->timezone};
    const char *email = json_string_value (json_object_get (claim, "email"));
    //  The calendar entry, if the notice is about a date
    json_t *calendar = json_object_get (json_object_get (claim, "variables"), "calendar");
    char *ics = NULL;
    const char *method = NULL;
    if (calendar) {
        notifier_calendar_context_t context = {
            settings->timezone, settings->from_address, settings->from_name, email, name, language};
        ics = notifier_calendar_render (calendar, &context, schalt_clock_now (), &method, reason,
                                        size);
        if (!ics) {
            free (subject);
            free (body);
            return NULL;
        }
    }
    notifier_mail_t mail = {json_string_value (json_object_get (claim, "id")),
                            name,
                            email,
                            subject,
                            body,
                            language,
                            ics,
                            method};
    char *message = notifier_mail_render (&sender, &mail, time (NULL), reason, size);
    free (subject);
    free (body);
    free (ics);
    return message;
}

//  Renders the claimed notices and hands those that rendered to the mailer
//  as one batch; one that cannot be rendered fails at once, with its reason.
static void
s_dispatch (loop_t *self, json_t *notices)
{
    zmsg_t *batch = zmsg_new ();
    zmsg_addstr (batch, "SEND");
    size_t index;
    json_t *claim;
    json_array_foreach (notices, index, claim)
    {
        const char *id = json_string_value (json_object_get (claim, "id"));
        if (json_is_true (json_object_get (claim, "resend"))) {
            schalt_log_warning ("notice: resending after crash id=%s", id);
            self->stats.resent++;
        }
        char reason[320];
        char *message = s_render (self, claim, reason, sizeof (reason));
        if (!message) {
            schalt_log_warning ("notice: failed id=%s attempt=0 reason=not_rendered", id);
            s_pending_add (self, claim, "failed", NULL, reason, zclock_time (), 0);
            continue;
        }
        zmsg_addstr (batch, id);
        zmsg_addstr (batch, json_string_value (json_object_get (claim, "email")));
        zmsg_addstr (batch, message);
        free (message);
        zhashx_update (self->in_flight, id, json_incref (claim));
    }
    if (zhashx_size (self->in_flight) > 0) {
        zmsg_send (&batch, self->mailer);
        self->at_mailer = true;
    }
    zmsg_destroy (&batch);
}

//  Takes one message of the mailer's (a RESULT as the relay accepted a
//  message, or the RESULTS that end the batch) and decides the fate of each
//  notice in it. Returns true if the batch at the mailer is over.
static bool
s_take_results (loop_t *self)
{
    zmsg_t *msg = zmsg_recv (self->mailer);
    if (!msg)
        return false;
    char *command = zmsg_popstr (msg);
    bool last = command && streq (command, "RESULTS");
    while (command && (last || streq (command, "RESULT")) && zmsg_size (msg) >= 4) {
        char *id = zmsg_popstr (msg), *outcome = zmsg_popstr (msg);
        char *code = zmsg_popstr (msg), *reply = zmsg_popstr (msg);
        json_t *claim = (json_t *)zhashx_lookup (self->in_flight, id);
        if (claim) {
            s_decide (self, claim, outcome, atoi (code), reply);
            zhashx_delete (self->in_flight, id);
        }
        zstr_free (&id);
        zstr_free (&outcome);
        zstr_free (&code);
        zstr_free (&reply);
    }
    //  A notice the mailer did not answer for comes back after its lease
    if (last)
        self->at_mailer = false;
    if (last && zhashx_size (self->in_flight) > 0) {
        schalt_log_error ("delivery: mailer left notices unanswered count=%zu",
                          zhashx_size (self->in_flight));
        zhashx_purge (self->in_flight);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
    s_note (self, NULL, NULL);
    return last;
}

//  True if Redis is up; while it is down, reconnects at most every heartbeat.
static bool
s_redis_up (loop_t *self)
{
    return schalt_work_redis_up (self->work);
}

//  Notes what a claim says about the lock and the queue.
static void
s_note_claim (loop_t *self, json_t *claimed)
{
    bool standby = json_is_true (json_object_get (claimed, "standby"));
    if (standby && !self->standby)
        schalt_log_warning ("delivery: standby, another notifier holds the delivery lock");
    if (json_is_true (json_object_get (claimed, "took_over")))
        schalt_log_info ("delivery: delivering token=%s", self->token);
    self->standby = standby;
    if (self->redis_down)
        schalt_log_info ("delivery: redis up again");
    self->redis_down = false;
    json_decref (self->stats.counts);
    self->stats.counts = json_incref (json_object_get (claimed, "counts"));
    s_note (self, standby ? "standby" : "delivering", NULL);
}

static void
s_on_tick (schalt_work_t *work, void *state)
{
    (void)work;
    loop_t *self = (loop_t *)state;
    json_t *claimed = NULL;
    if (s_redis_up (self)) {
        s_record_pending (self);
        //  While a batch is at the mailer or results wait, only renew the lock
        bool busy = self->at_mailer || zlist_size (self->pending) > 0;
        //  Back after Redis failed: a claim whose reply was lost left its
        //  notices 'sending' for the lease (five minutes), though nothing of
        //  them went out. With nothing at the mailer and every result
        //  recorded, this process has no notice in hand: it lets the lock go
        //  and takes it over at once, which makes every 'sending' notice due again
        if (self->redis_down && !busy && zhashx_size (self->in_flight) == 0) {
            notifier_store_release (self->redis, self->token);
            schalt_log_info ("delivery: redis back; notices claimed while it failed are due "
                             "again");
        }
        claimed = notifier_store_claim (self->redis, self->token, zclock_time (),
                                        busy ? 0 : self->settings->batch);
    }
    if (!claimed) {
        if (!self->redis_down) {
            schalt_log_warning ("delivery: redis down error=%s",
                                schalt_redis_last_error (self->redis));
            s_note (self, "redis down", "redis down");
        }
        self->redis_down = true;
        return;
    }
    s_note_claim (self, claimed);
    json_t *notices = json_object_get (claimed, "notices");
    if (json_array_size (notices) > 0) {
        s_dispatch (self, notices);
        s_record_pending (self); //  the notices that could not be rendered
    }
    json_decref (claimed);
    s_note (self, NULL, NULL);
}

static int
s_on_mailer (zloop_t *loop, zsock_t *reader, void *argument)
{
    (void)loop;
    (void)reader;
    loop_t *self = (loop_t *)argument;
    //  Every result that has come, recorded with one call: the relay's
    //  acceptance is in Redis a round trip later, while the session goes on
    bool over = false;
    do
        over |= s_take_results (self);
    while (zsock_events (self->mailer) & ZMQ_POLLIN);
    if (s_redis_up (self))
        s_record_pending (self);
    //  Claim the next batch now rather than at the next tick: under load the
    //  mailer never waits, so delivery is not capped at batch / tick
    if (over)
        schalt_work_tick (self->work);
    return 0;
}

//  --------------------------------------------------------------------------
//  Start and stop

//  At a clean stop: waits (bounded) for the batch at the mailer, records
//  what can be recorded and frees the lock, so a restart sends nothing twice.
static void
s_finish (schalt_work_t *work, void *state)
{
    (void)work;
    loop_t *self = (loop_t *)state;
    if (self->at_mailer) {
        schalt_log_info ("delivery: stopping, waiting for the mailer count=%zu",
                         zhashx_size (self->in_flight));
        zpoller_t *poller = zpoller_new (self->mailer, NULL);
        zpoller_set_nonstop (poller, true); //  SIGTERM is why we stop, not a reason to hurry
        int64_t deadline = zclock_mono () + self->settings->smtp.timeout * 6 + DRAIN_EXTRA_MS;
        while (self->at_mailer && zclock_mono () < deadline)
            if (zpoller_wait (poller, 100) == self->mailer)
                s_take_results (self);
        zpoller_destroy (&poller);
    }
    if (s_redis_up (self)) {
        s_record_pending (self);
        notifier_store_release (self->redis, self->token);
    }
    if (zlist_size (self->pending) > 0 || zhashx_size (self->in_flight) > 0)
        schalt_log_warning ("delivery: stopped with results unrecorded count=%zu; those notices "
                            "are sent again after their lease",
                            zlist_size (self->pending) + zhashx_size (self->in_flight));
}

//  Frees a json_t held in a zhashx.
static void
s_json_free (void **item_p)
{
    json_decref ((json_t *)*item_p);
    *item_p = NULL;
}

static void
s_destroy (void **state_p)
{
    loop_t *self = (loop_t *)*state_p;
    if (!self)
        return;
    zactor_destroy (&self->mailer);
    pending_t *pending;
    while ((pending = (pending_t *)zlist_pop (self->pending)))
        s_pending_destroy (&pending);
    zlist_destroy (&self->pending);
    zhashx_destroy (&self->in_flight);
    json_decref (self->stats.counts);
    explicit_bzero (self->settings_copy.smtp.password, sizeof (self->settings_copy.smtp.password));
    free (self);
    *state_p = NULL;
}

static void *
s_start (schalt_work_t *work, const void *args)
{
    loop_t *self = (loop_t *)zmalloc (sizeof (loop_t));
    assert (self);
    self->settings_copy = *(const notifier_settings_t *)args;
    self->settings = &self->settings_copy;
    const notifier_settings_t *settings = self->settings;
    self->work = work;
    self->redis = schalt_work_redis (work);
    int rc = notifier_store_delivery_scripts (self->redis); //  loaded at once, or when Redis is up
    assert (rc == 0);
    char *host = zsys_hostname (), instance[16];
    schalt_id_make ("d", instance, sizeof (instance));
    snprintf (self->token, sizeof (self->token), "%s:%d:%s", host ? host : "-", (int)getpid (),
              instance + 2);
    zstr_free (&host);
    self->in_flight = zhashx_new ();
    zhashx_set_destructor (self->in_flight, s_json_free);
    self->pending = zlist_new ();
    self->mailer = zactor_new (notifier_smtp_actor, (void *)&settings->smtp);
    if (!self->mailer) {
        schalt_log_error ("delivery: cannot start the mailer");
        void *state = self;
        s_destroy (&state);
        return NULL;
    }
    zloop_reader (schalt_work_loop (work), zactor_sock (self->mailer), s_on_mailer, self);
    s_note (self, "starting", NULL);
    schalt_log_info ("delivery: started smtp=%s:%d starttls=%d batch=%d token=%s",
                     settings->smtp.host, settings->smtp.port, (int)settings->smtp.starttls,
                     settings->batch, self->token);
    return self;
}

static const schalt_job_t s_delivery_job = {"delivery", TICK_MS,  s_start,  s_on_tick,
                                            NULL,       s_finish, s_destroy};

int
notifier_delivery_start (schalt_server_t *server, const notifier_settings_t *settings)
{
    return schalt_server_worker (server, &s_delivery_job, settings, NULL) ? 0 : -1;
}

void
notifier_delivery_test (bool verbose)
{
    printf (" * notifier_delivery: ");
    if (verbose)
        printf ("\n");
    assert (notifier_delivery_backoff (60, 1) == 60);
    assert (notifier_delivery_backoff (60, 2) == 120);
    assert (notifier_delivery_backoff (60, 6) == 1920);
    assert (notifier_delivery_backoff (60, 7) == 3600);
    assert (notifier_delivery_backoff (60, 1000) == 3600);
    assert (notifier_delivery_backoff (3600, 1) == 3600);
    assert (notifier_delivery_backoff (1, 3) == 4);
    printf ("OK\n");
}
