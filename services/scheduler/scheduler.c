/*  scheduler - the scheduler service: its command table and the prepare
    functions of its commands. See scheduler.h; the scripts are in lua/.
*/
#include "scheduler.h"

extern const char scheduler_lua_common[];
extern const schalt_script_t scheduler_lua_scripts[];

const char *scheduler_kinds[SCHEDULER_KINDS] = {"day-of-education", "meeting", "counselling",
                                                "other"};

typedef struct {
    scheduler_reminders_t reminders;
    schalt_worker_t *timeline; //  plans and fires reminders (scheduler_timeline.c)
} scheduler_t;

const schalt_offsets_t *
scheduler_reminders_of (const scheduler_reminders_t *self, const char *kind)
{
    for (int index = 0; index < SCHEDULER_KINDS; index++)
        if (streq (kind, scheduler_kinds[index]))
            return &self->kinds[index];
    return NULL;
}

char *
scheduler_reminders_describe (const scheduler_reminders_t *self, char *buffer, size_t size)
{
    buffer[0] = 0;
    for (int index = 0; index < SCHEDULER_KINDS; index++) {
        char offsets[128];
        snprintf (buffer + strlen (buffer), size - strlen (buffer), "%s%s=%s", index ? ";" : "",
                  scheduler_kinds[index],
                  schalt_offsets_format (&self->kinds[index], offsets, sizeof (offsets)));
    }
    return buffer;
}

//  --------------------------------------------------------------------------
//  Helpers for prepare functions

//  Reads the instant at body/name into *utc and, normalised to UTC, into
//  the record as name and name_ts. Returns 1 if present, 0 if absent, or
//  -1 after answering the call: the schema checked the format, but RFC 3339
//  allows instants we do not take (the year 0000).
static int
s_take_instant (schalt_call_t *call, json_t *body, const char *name, json_t *record, time_t *utc)
{
    json_t *value = json_object_get (body, name);
    if (!value)
        return 0;
    if (schalt_time_parse_instant (json_string_value (value), utc) != 0) {
        char field[40];
        snprintf (field, sizeof (field), "/%s", name);
        schalt_call_fail (call, 400, "invalid", field,
                          "%s must be a date and time from the year 1 on, as in RFC 3339", name);
        return -1;
    }
    char instant[32], ts_name[32];
    json_object_set_new (record, name, json_string (schalt_time_format_instant (*utc, instant)));
    snprintf (ts_name, sizeof (ts_name), "%s_ts", name);
    json_object_set_new (record, ts_name, json_integer ((json_int_t)*utc));
    return 1;
}

//  Copies the string fields named (those present) from body to record.
static void
s_copy_strings (json_t *body, json_t *record, const char **names)
{
    for (; *names; names++) {
        json_t *value = json_object_get (body, *names);
        if (value)
            json_object_set (record, *names, value);
    }
}

//  Copies body/name to the record, or sets fallback there if the body has
//  none (fallback is taken: a new reference).
static void
s_copy_or_default (json_t *body, json_t *record, const char *name, json_t *fallback)
{
    json_t *value = json_object_get (body, name);
    if (value) {
        json_object_set (record, name, value);
        json_decref (fallback);
    } else
        json_object_set_new (record, name, fallback);
}

//  Copies topics (a list without repeats) into the record as JSON text, the
//  way the store keeps it. Returns 0, or -1 after answering the call.
static int
s_take_topics (schalt_call_t *call, json_t *body, json_t *record)
{
    json_t *topics = json_object_get (body, "topics");
    if (!topics)
        return 0;
    size_t index, other;
    json_t *topic;
    json_array_foreach (topics, index,
                        topic) for (other = 0; other < index;
                                    other++) if (json_equal (topic, json_array_get (topics, other)))
    {
        schalt_call_fail (call, 400, "invalid", "/topics", "topics names %s twice",
                          json_string_value (topic));
        return -1;
    }
    char *text = json_dumps (topics, JSON_COMPACT);
    json_object_set_new (record, "topics", json_string (text));
    free (text);
    return 0;
}

//  Stamps the record with the time of the change.
static void
s_stamp (json_t *record, const char *field)
{
    char instant[32];
    json_object_set_new (record, field,
                         json_string (schalt_time_format_instant (schalt_clock_now (), instant)));
}

//  Checks the times of a create or update; answers the call and returns -1
//  if they are out of order or in the past. has_start/has_end say which
//  were given.
static int
s_check_times (schalt_call_t *call, int has_start, time_t start, int has_end, time_t end)
{
    if (has_start && has_end && end <= start) {
        schalt_call_fail (call, 422, "end_before_start", "/end", "end must be after start");
        return -1;
    }
    if (has_start && start < schalt_clock_now ()) {
        schalt_call_fail (call, 422, "in_past", "/start", "start lies in the past");
        return -1;
    }
    return 0;
}

//  Answers the call with 400 if the body changes nothing but the id.
static int
s_require_change (schalt_call_t *call)
{
    if (json_object_size (schalt_call_body (call)) > 1)
        return 0;
    schalt_call_fail (call, 400, "invalid", "", "give at least one field to change");
    return -1;
}

//  Adds the record as JSON text for the script (ARGV[5]) and frees it.
//  Returns 0.
static int
s_arg_record (schalt_call_t *call, json_t *record)
{
    char *text = json_dumps (record, JSON_COMPACT);
    assert (text);
    schalt_call_arg (call, text);
    free (text);
    json_decref (record);
    return 0;
}

//  Adds the time now as RFC 3339 for the script (ARGV[5]). Returns 0.
static int
s_arg_now (schalt_call_t *call)
{
    char now[32];
    schalt_call_arg (call, schalt_time_format_instant (schalt_clock_now (), now));
    return 0;
}

static const char *s_event_strings[] = {"kind",           "title",           "description", "place",
                                        "organiser_name", "organiser_email", "provider",    NULL};
static const char *s_session_strings[] = {"title", "room", NULL};

//  Copies body/reminders, normalised ("1d 7d" is "7d 1d"), into the record.
//  kind is the event's kind if known here (create), else NULL: the script
//  checks it then against the kinds without reminders (ARGV[6]). Returns
//  0, or -1 after answering the call.
static int
s_take_reminders (schalt_call_t *call, scheduler_t *self, json_t *body, const char *kind,
                  json_t *record)
{
    json_t *value = json_object_get (body, "reminders");
    if (!value)
        return 0;
    schalt_offsets_t offsets;
    char error[160], text[96];
    if (schalt_offsets_parse (json_string_value (value), &offsets, error, sizeof (error)) != 0) {
        schalt_call_fail (call, 400, "invalid", "/reminders", "reminders: %s", error);
        return -1;
    }
    const schalt_offsets_t *configured =
        kind ? scheduler_reminders_of (&self->reminders, kind) : NULL;
    if (configured && configured->count == 0 && offsets.count > 0) {
        schalt_call_fail (call, 422, "no_reminders", "/reminders",
                          "events of kind %s have no reminders (scheduler/reminders/%s is none)",
                          kind, kind);
        return -1;
    }
    json_object_set_new (record, "reminders",
                         json_string (schalt_offsets_format (&offsets, text, sizeof (text))));
    return 0;
}

//  --------------------------------------------------------------------------
//  Events

//  event.create: the new record (id, times in UTC, stamps) for the script.
static int
s_event_create (schalt_call_t *call, void *service)
{
    json_t *body = schalt_call_body (call);
    json_t *event = json_object ();
    time_t start = 0, end = 0;
    if (s_take_instant (call, body, "start", event, &start) < 0 ||
        s_take_instant (call, body, "end", event, &end) < 0 ||
        s_check_times (call, 1, start, 1, end) != 0 ||
        s_take_reminders (call, (scheduler_t *)service, body,
                          json_string_value (json_object_get (body, "kind")), event) != 0) {
        json_decref (event);
        return -1;
    }
    char id[32];
    schalt_id_make ("evt", id, sizeof (id));
    json_object_set_new (event, "id", json_string (id));
    json_object_set_new (event, "description", json_string (""));
    s_copy_strings (body, event, s_event_strings);
    s_copy_or_default (body, event, "waitlist_alert", json_integer (10));
    json_object_set_new (event, "status", json_string ("scheduled"));
    s_stamp (event, "created");
    s_stamp (event, "updated");
    return s_arg_record (call, event);
}

//  event.list: the bounds as UTC seconds (ARGV[5], ARGV[6]).
static int
s_event_list (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    json_t *ignored = json_object ();
    //  Without bounds: everything, from the epoch to far in the future
    time_t from = 0, to = (time_t)253402300799; //  9999-12-31T23:59:59Z
    bool taken = s_take_instant (call, body, "from", ignored, &from) >= 0 &&
                 s_take_instant (call, body, "to", ignored, &to) >= 0;
    json_decref (ignored);
    if (!taken)
        return -1;
    char bound[24];
    snprintf (bound, sizeof (bound), "%lld", (long long)from);
    schalt_call_arg (call, bound);
    snprintf (bound, sizeof (bound), "%lld", (long long)to);
    schalt_call_arg (call, bound);
    return 0;
}

//  event.update: the changes, times in UTC and stamped, for the script
//  (ARGV[5]), and the kinds of event that have no reminders as a JSON list
//  (ARGV[6]).
static int
s_event_update (schalt_call_t *call, void *service)
{
    scheduler_t *self = (scheduler_t *)service;
    json_t *body = schalt_call_body (call);
    if (s_require_change (call) != 0)
        return -1;
    json_t *changes = json_object ();
    time_t start = 0, end = 0;
    int has_start = s_take_instant (call, body, "start", changes, &start);
    int has_end = has_start < 0 ? -1 : s_take_instant (call, body, "end", changes, &end);
    if (has_end < 0 || s_check_times (call, has_start, start, has_end, end) != 0 ||
        s_take_reminders (call, self, body, json_string_value (json_object_get (body, "kind")),
                          changes) != 0) {
        json_decref (changes);
        return -1;
    }
    s_copy_strings (body, changes, s_event_strings);
    json_t *alert = json_object_get (body, "waitlist_alert");
    if (alert)
        json_object_set (changes, "waitlist_alert", alert);
    s_stamp (changes, "updated");
    s_arg_record (call, changes);
    json_t *without = json_array ();
    for (int index = 0; index < SCHEDULER_KINDS; index++)
        if (self->reminders.kinds[index].count == 0)
            json_array_append_new (without, json_string (scheduler_kinds[index]));
    char *text = json_dumps (without, JSON_COMPACT);
    schalt_call_arg (call, text);
    free (text);
    json_decref (without);
    return 0;
}

//  event.cancel and session.cancel: the time now (ARGV[5]).
static int
s_cancel (schalt_call_t *call, void *service)
{
    (void)service;
    return s_arg_now (call);
}

//  --------------------------------------------------------------------------
//  Sessions

//  session.create: the new record (id, times in UTC, topics, stamps; the
//  script checks that cancel_until is not after the start).
static int
s_session_create (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    json_t *session = json_object ();
    time_t start = 0, end = 0;
    json_object_set_new (session, "topics", json_string ("[]"));
    if (s_take_instant (call, body, "start", session, &start) < 0 ||
        s_take_instant (call, body, "end", session, &end) < 0 ||
        s_check_times (call, 1, start, 1, end) != 0 || s_take_topics (call, body, session) != 0 ||
        s_take_instant (call, body, "cancel_until", session, &end) < 0) {
        json_decref (session);
        return -1;
    }
    //  ses-<the event's ten>-<ten random>: the registry keeps an event's
    //  sessions together in one hash tag, found from the id alone
    char id[40];
    schalt_id_make_in_event ("ses", json_string_value (json_object_get (body, "event")), id,
                             sizeof (id));
    json_object_set_new (session, "id", json_string (id));
    json_object_set (session, "event", json_object_get (body, "event"));
    s_copy_strings (body, session, s_session_strings);
    json_object_set (session, "capacity", json_object_get (body, "capacity"));
    s_copy_or_default (body, session, "promotion", json_string ("auto"));
    s_copy_or_default (body, session, "hold_hours", json_integer (48));
    json_object_set_new (session, "status", json_string ("scheduled"));
    s_stamp (session, "created");
    s_stamp (session, "updated");
    return s_arg_record (call, session);
}

//  session.update: the changes, times in UTC, topics, stamped.
static int
s_session_update (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    if (s_require_change (call) != 0)
        return -1;
    json_t *changes = json_object ();
    time_t start = 0, end = 0;
    int has_start = s_take_instant (call, body, "start", changes, &start);
    int has_end = has_start < 0 ? -1 : s_take_instant (call, body, "end", changes, &end);
    time_t cancel_until;
    if (has_end < 0 || s_check_times (call, has_start, start, has_end, end) != 0 ||
        s_take_topics (call, body, changes) != 0 ||
        s_take_instant (call, body, "cancel_until", changes, &cancel_until) < 0) {
        json_decref (changes);
        return -1;
    }
    s_copy_strings (body, changes, s_session_strings);
    const char *copied[] = {"capacity", "hold_hours", "promotion"};
    for (size_t index = 0; index < 3; index++) {
        json_t *value = json_object_get (body, copied[index]);
        if (value)
            json_object_set (changes, copied[index], value);
    }
    s_stamp (changes, "updated");
    return s_arg_record (call, changes);
}

//  --------------------------------------------------------------------------
//  The service

//  Every scheduler key has the one hash tag {events} (see lua/common.lua).
static int
s_tag (schalt_call_t *call, char *tag, size_t size)
{
    (void)call;
    snprintf (tag, size, "events");
    return 0;
}

//  --------------------------------------------------------------------------
//  Reminders

//  reminder.list: due_before as UTC seconds (ARGV[5]), or "".
static int
s_reminder_list (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *ignored = json_object ();
    time_t before = 0;
    int has = s_take_instant (call, schalt_call_body (call), "due_before", ignored, &before);
    json_decref (ignored);
    if (has < 0)
        return -1;
    char bound[24] = "";
    if (has)
        snprintf (bound, sizeof (bound), "%lld", (long long)before);
    schalt_call_arg (call, bound);
    return 0;
}

//  A script named sessions to plan: the timeline worker plans them now.
static void
s_on_touch (void *service, const char *key)
{
    scheduler_t *self = (scheduler_t *)service;
    if (streq (key, SCHEDULER_PLAN_KEY) && self->timeline)
        schalt_worker_tell (self->timeline, "PLAN", NULL);
}

static void
s_destroy (void **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

static void *
s_create (schalt_server_t *server)
{
    scheduler_t *self = (scheduler_t *)zmalloc (sizeof (scheduler_t));
    assert (self);
    schalt_config_t *config = schalt_server_config (server);
    snprintf (self->reminders.zone, sizeof (self->reminders.zone), "%s",
              schalt_config_string (config, "schaltstelle/timezone"));
    int rc = 0;
    for (int index = 0; index < SCHEDULER_KINDS; index++) {
        char path[64], error[160];
        snprintf (path, sizeof (path), "scheduler/reminders/%s", scheduler_kinds[index]);
        for (char *cursor = path; *cursor; cursor++)
            if (*cursor == '-')
                *cursor = '_';
        //  The configuration checked them already; a second look costs nothing
        if (schalt_offsets_parse (schalt_config_string (config, path),
                                  &self->reminders.kinds[index], error, sizeof (error)) != 0) {
            schalt_log_error ("scheduler: %s: %s", path, error);
            rc = -1;
        }
    }
    //  Session facts and reminders go to the registry one after the other (window 1)
    if (rc == 0)
        self->timeline =
            schalt_server_worker (server, &scheduler_timeline_job, &self->reminders, NULL);
    if (rc != 0 || !self->timeline || schalt_server_outbox (server, "registry", 1) != 0) {
        free (self);
        return NULL;
    }
    schalt_server_on_touch (server, s_on_touch);
    return self;
}

//  One row a command: its schema is request/<command>.json, its script
//  lua/<script>.lua (which says what it checks and changes).
static const schalt_command_t s_commands[] = {
    {"event.create", "event_create", SCHALT_CHANGES, s_event_create, SCHALT_CALLED_BY_STAFF},
    {"event.get", "event_get", SCHALT_READS, NULL, SCHALT_CALLED_BY_ANYONE},
    {"event.list", "event_list", SCHALT_READS, s_event_list, SCHALT_CALLED_BY_ANYONE},
    {"event.update", "event_update", SCHALT_CHANGES, s_event_update, SCHALT_CALLED_BY_STAFF},
    {"event.cancel", "event_cancel", SCHALT_CHANGES, s_cancel, SCHALT_CALLED_BY_STAFF},
    {"session.create", "session_create", SCHALT_CHANGES, s_session_create, SCHALT_CALLED_BY_STAFF},
    {"session.get", "session_get", SCHALT_READS, NULL, SCHALT_CALLED_BY_ANYONE},
    {"session.list", "session_list", SCHALT_READS, NULL, SCHALT_CALLED_BY_ANYONE},
    {"session.update", "session_update", SCHALT_CHANGES, s_session_update, SCHALT_CALLED_BY_STAFF},
    {"session.cancel", "session_cancel", SCHALT_CHANGES, s_cancel, SCHALT_CALLED_BY_STAFF},
    {"reminder.list", "reminder_list", SCHALT_READS, s_reminder_list, SCHALT_CALLED_BY_STAFF},
    //  Internal calls of the timeline worker (scheduler_timeline.c)
    {"timeline.plan", "timeline_plan", SCHALT_CHANGES, NULL, SCHALT_CALLED_BY_WORKERS},
    {"timeline.fire", "timeline_fire", SCHALT_CHANGES, NULL, SCHALT_CALLED_BY_WORKERS},
    {"timeline.replan", "timeline_replan", SCHALT_CHANGES, NULL, SCHALT_CALLED_BY_WORKERS},
    {NULL, NULL, SCHALT_READS, NULL, NULL}};

const schalt_service_t scheduler_service = {
    "scheduler", s_commands, scheduler_lua_scripts, scheduler_lua_common, s_tag, s_create,
    s_destroy,   NULL};
