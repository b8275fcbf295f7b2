/*  schalt_outbox - the sending half of reliable delivery between daemons.
    See schalt_outbox.h for the contract; this file is the relay.
*/
#include "schalt_outbox.h"
#include "schalt_envelope.h"
#include "schalt_log.h"
#include "schalt_testutil.h"

#define ACK_TIMEOUT 2000                  //  ms before an unacknowledged message is sent again
#define RETRY_AFTER 1000                  //  ms of pause for an outbox whose peer answered 5xx
#define SCAN_INTERVAL 60000               //  ms between SCANs for outboxes this process missed
#define REREAD_INTERVAL (ACK_TIMEOUT / 2) //  ms between reads of a whole window
#define DEAD_SCRIPT "schalt_outbox_dead"
#define ACK_SCRIPT "schalt_outbox_ack"

//  Removes acknowledged entries of one outbox list, all in one call.
static const char s_ack_script[] = "for index = 1, #ARGV do\n"
                                   "    redis.call('LREM', KEYS[1], 1, ARGV[index])\n"
                                   "end\n"
                                   "return #ARGV\n";

//  Moves an entry from an outbox to its dead-letter list, in one step.
static const char s_dead_script[] = "if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then\n"
                                    "    redis.call('RPUSH', KEYS[2], ARGV[1])\n"
                                    "    return 1\n"
                                    "end\n"
                                    "return 0\n";

//  One outbox list this relay knows of.
typedef struct {
    char *key;
    size_t in_flight;
    int64_t last_read; //  zclock_mono of the last read of its whole window
    int64_t paused;    //  no sends before this (after a 5xx)
} box_t;

//  One message sent and not yet acknowledged.
typedef struct {
    box_t *box;
    char *raw; //  the entry exactly as stored, for LREM
    char id[SCHALT_ID_MAX + 1];
    int64_t sent_at;
    bool acknowledged; //  its removal is under way
} flight_t;

struct _schalt_outbox_t {
    schalt_redis_t *redis; //  borrowed
    char *sender, *peer, *pattern, *suffix;
    zsock_t *dealer;
    size_t window;
    zhashx_t *boxes;   //  key -> box_t
    zhashx_t *flights; //  message id -> flight_t
    int64_t next_scan;
    uint64_t delivered, dead;
};

//  --------------------------------------------------------------------------
//  Construction

static void
s_box_destroy (void **item)
{
    box_t *box = (box_t *)*item;
    if (box) {
        free (box->key);
        free (box);
        *item = NULL;
    }
}

static void
s_flight_destroy (void **item)
{
    flight_t *flight = (flight_t *)*item;
    if (flight) {
        free (flight->raw);
        free (flight);
        *item = NULL;
    }
}

schalt_outbox_t *
schalt_outbox_new (schalt_redis_t *redis, schalt_curve_t *curve, const char *sender,
                   const char *peer, const char *endpoint, size_t window)
{
    assert (redis && curve && sender && peer && endpoint && window > 0);
    char error[512] = "";
    zsock_t *dealer = schalt_curve_client (curve, ZMQ_DEALER, peer, error, sizeof (error));
    if (!dealer) {
        schalt_log_error ("outbox: cannot reach peer=%s: %s", peer, error);
        return NULL;
    }
    //  Queue nothing for a peer that is not connected: the outbox in Redis is
    //  the queue, and a send that cannot go now is simply tried again later.
    zsock_set_immediate (dealer, 1);
    zsock_set_sndtimeo (dealer, 0);
    zsock_set_linger (dealer, 0);
    zsock_set_maxmsgsize (dealer, 16 * 1024 * 1024);
    if (zsock_connect (dealer, "%s", endpoint) != 0) {
        schalt_log_error ("outbox: bad endpoint peer=%s endpoint=%s", peer, endpoint);
        zsock_destroy (&dealer);
        return NULL;
    }
    schalt_outbox_t *self = (schalt_outbox_t *)zmalloc (sizeof (schalt_outbox_t));
    assert (self);
    self->redis = redis;
    self->dealer = dealer;
    self->window = window;
    self->sender = strdup (sender);
    self->peer = strdup (peer);
    self->pattern = zsys_sprintf ("%s:*:outbox:%s", sender, peer);
    self->suffix = zsys_sprintf (":outbox:%s", peer);
    self->boxes = zhashx_new ();
    zhashx_set_destructor (self->boxes, s_box_destroy);
    self->flights = zhashx_new ();
    zhashx_set_destructor (self->flights, s_flight_destroy);
    //  The same script serves every outbox; a second registration is refused
    //  by name, which is fine.
    schalt_redis_script (redis, DEAD_SCRIPT, s_dead_script);
    schalt_redis_script (redis, ACK_SCRIPT, s_ack_script);
    return self;
}

void
schalt_outbox_destroy (schalt_outbox_t **self_p)
{
    assert (self_p);
    schalt_outbox_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->flights);
        zhashx_destroy (&self->boxes);
        zsock_destroy (&self->dealer);
        free (self->sender);
        free (self->peer);
        zstr_free (&self->pattern);
        zstr_free (&self->suffix);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
schalt_outbox_socket (schalt_outbox_t *self)
{
    return self->dealer;
}

bool
schalt_outbox_owns (schalt_outbox_t *self, const char *key)
{
    size_t length = strlen (key), suffix = strlen (self->suffix);
    return length > suffix && strncmp (key, self->sender, strlen (self->sender)) == 0 &&
           streq (key + length - suffix, self->suffix);
}

//  Returns the box of a key, made if new.
static box_t *
s_box (schalt_outbox_t *self, const char *key)
{
    box_t *box = (box_t *)zhashx_lookup (self->boxes, key);
    if (!box) {
        box = (box_t *)zmalloc (sizeof (box_t));
        assert (box);
        box->key = strdup (key);
        zhashx_insert (self->boxes, key, box);
    }
    return box;
}

void
schalt_outbox_touch (schalt_outbox_t *self, const char *key)
{
    s_box (self, key);
}

//  --------------------------------------------------------------------------
//  Sending

//  Finds every outbox list of this peer in Redis. Returns 0, or -1 if down.
static int
s_scan (schalt_outbox_t *self)
{
    char cursor[32] = "0";
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", self->pattern, "COUNT", "1000"};
        redisReply *reply = schalt_redis_command (self->redis, 6, argv, NULL);
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            if (reply)
                freeReplyObject (reply);
            return -1;
        }
        snprintf (cursor, sizeof (cursor), "%s", reply->element[0]->str);
        redisReply *keys = reply->element[1];
        for (size_t index = 0; index < keys->elements; index++)
            s_box (self, keys->element[index]->str);
        freeReplyObject (reply);
    } while (!streq (cursor, "0"));
    return 0;
}

//  The parts of a stored entry: id and command copied, body pointing into
//  the entry (body_size octets).
typedef struct {
    char id[SCHALT_ID_MAX + 1];
    char command[SCHALT_COMMAND_MAX + 1];
    const char *body;
    size_t body_size;
} entry_t;

//  Copies the run of characters at *cursor that belong to a name (an id or
//  a command) into target, up to the closing quote. Returns false if the run
//  is empty, too long, or ends in anything but a quote.
static bool
s_take_name (const char **cursor, char *target, size_t size)
{
    const char *start = *cursor, *end = start;
    while (isalnum ((unsigned char)*end) || *end == '-' || *end == '_' || *end == '.' ||
           *end == ':')
        end++;
    size_t length = (size_t)(end - start);
    if (length == 0 || length >= size || *end != '"')
        return false;
    memcpy (target, start, length);
    target[length] = 0;
    *cursor = end + 1;
    return true;
}

//  Returns what follows the JSON object that starts at text ('{'), or NULL
//  if it does not end: braces are counted outside strings only.
static const char *
s_object_end (const char *text)
{
    int depth = 0;
    bool string = false;
    for (const char *cursor = text; *cursor; cursor++) {
        if (string) {
            if (*cursor == '\\' && cursor[1])
                cursor++; //  an escaped character, a quote perhaps
            else if (*cursor == '"')
                string = false;
        } else if (*cursor == '"')
            string = true;
        else if (*cursor == '{')
            depth++;
        else if (*cursor == '}' && --depth == 0)
            return cursor + 1;
    }
    return NULL;
}

//  Splits an entry as the prelude writes it, {"id":"..","command":"..",
//  "body":{..}}, without parsing its body: the relay reads each entry at
//  least once, and the receiver checks the body against its schema anyway.
//  Returns false for anything else (then s_split_json tries).
static bool
s_split_fast (const char *raw, entry_t *entry)
{
    const char *cursor = raw;
    if (strncmp (cursor, "{\"id\":\"", 7) != 0)
        return false;
    cursor += 7;
    if (!s_take_name (&cursor, entry->id, sizeof (entry->id)) ||
        strncmp (cursor, ",\"command\":\"", 12) != 0)
        return false;
    cursor += 12;
    if (!s_take_name (&cursor, entry->command, sizeof (entry->command)) ||
        strncmp (cursor, ",\"body\":{", 9) != 0)
        return false;
    cursor += 8;
    //  The body must be the last member: its closing brace, then the entry's
    const char *end = s_object_end (cursor);
    if (!end || strcmp (end, "}") != 0)
        return false;
    entry->body = cursor;
    entry->body_size = (size_t)(end - cursor);
    return true;
}

//  For tests: s_split_fast under a public name (see schalt_outbox.h).
bool
schalt_outbox_split_entry (const char *raw, char *id, char *command, const char **body,
                           size_t *body_size)
{
    entry_t entry;
    if (!s_split_fast (raw, &entry))
        return false;
    memcpy (id, entry.id, sizeof (entry.id));
    memcpy (command, entry.command, sizeof (entry.command));
    *body = entry.body;
    *body_size = entry.body_size;
    return true;
}

//  Splits any other entry by parsing it. Returns the body text to free, or
//  NULL if the entry is not a message.
static char *
s_split_json (const char *raw, entry_t *entry)
{
    json_t *parsed = json_loads (raw, 0, NULL);
    const char *id = json_string_value (json_object_get (parsed, "id"));
    const char *command = json_string_value (json_object_get (parsed, "command"));
    json_t *body = json_object_get (parsed, "body");
    char *text = NULL;
    if (id && command && json_is_object (body) && strlen (id) <= SCHALT_ID_MAX &&
        strlen (command) <= SCHALT_COMMAND_MAX) {
        snprintf (entry->id, sizeof (entry->id), "%s", id);
        snprintf (entry->command, sizeof (entry->command), "%s", command);
        text = json_dumps (body, JSON_COMPACT);
        entry->body = text;
        entry->body_size = text ? strlen (text) : 0;
    }
    json_decref (parsed);
    return text;
}

//  One entry of a read, split once: ok is false for one that is not a message.
typedef struct {
    entry_t entry;
    char *parsed; //  the body as s_split_json made it, or NULL
    bool ok;
} split_t;

//  Splits every entry of a read (reply). The caller frees with s_splits_free.
static split_t *
s_splits_new (redisReply *reply)
{
    split_t *splits =
        (split_t *)zmalloc ((reply->elements ? reply->elements : 1) * sizeof (split_t));
    assert (splits);
    for (size_t index = 0; index < reply->elements; index++) {
        split_t *split = &splits[index];
        const char *raw = reply->element[index]->str;
        split->ok = s_split_fast (raw, &split->entry) ||
                    (split->parsed = s_split_json (raw, &split->entry)) != NULL;
    }
    return splits;
}

static void
s_splits_free (split_t *splits, size_t count)
{
    for (size_t index = 0; index < count; index++)
        free (splits[index].parsed);
    free (splits);
}

//  Sends one entry as a request. Returns 0, -1 if the peer cannot take it
//  now, or -2 if it is not a message.
static int
s_send (schalt_outbox_t *self, const entry_t *entry)
{
    zmsg_t *msg =
        schalt_envelope_request_sized (entry->command, entry->id, entry->body, entry->body_size);
    int rc = msg ? (zmsg_send (&msg, self->dealer) == 0 ? 0 : -1) : -2;
    zmsg_destroy (&msg);
    return rc;
}

//  Moves a raw entry of box to the dead letters. Returns 0 or -1.
static int
s_bury (schalt_outbox_t *self, box_t *box, const char *raw, const char *why)
{
    char *dead = strdup (box->key);
    char *infix = strstr (dead, ":outbox:");
    assert (infix);
    memcpy (infix, ":dead:", 6);
    memmove (infix + 6, infix + 8, strlen (infix + 8) + 1);
    const char *keys[] = {box->key, dead};
    redisReply *reply = schalt_redis_eval (self->redis, DEAD_SCRIPT, 2, keys, 1, &raw, NULL);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc == 0) {
        self->dead++;
        schalt_log_error ("outbox: dead letter peer=%s key=%s reason=%s", self->peer, dead, why);
    }
    if (reply)
        freeReplyObject (reply);
    free (dead);
    return rc;
}

//  After a read of a box's whole window (its count entries, split): forgets
//  each flight of the box whose entry is not there any more. The entries in
//  flight are the head of the list, so every one still there was read; one
//  that is gone was removed by a call whose reply was lost (Redis down
//  after it ran).
static void
s_forget_gone (schalt_outbox_t *self, box_t *box, const split_t *splits, size_t count)
{
    zhashx_t *read = zhashx_new (); //  the ids read, as keys
    for (size_t index = 0; index < count; index++)
        if (splits[index].ok)
            zhashx_insert (read, splits[index].entry.id, (void *)"");
    zlist_t *gone = zlist_new ();
    zlist_autofree (gone); //  copies: deleting a flight frees its id
    for (flight_t *flight = (flight_t *)zhashx_first (self->flights); flight;
         flight = (flight_t *)zhashx_next (self->flights))
        if (flight->box == box && !zhashx_lookup (read, flight->id))
            zlist_append (gone, flight->id);
    for (char *id = (char *)zlist_first (gone); id; id = (char *)zlist_next (gone)) {
        box->in_flight--;
        zhashx_delete (self->flights, id);
    }
    zlist_destroy (&gone);
    zhashx_destroy (&read);
}

//  Sends what is due from one box. Returns the number sent, or -1 if Redis
//  failed. Sets *empty if the box holds nothing.
//
//  Entries are sent in list order and removed only when acknowledged, so
//  the list is always the entries in flight followed by those not sent
//  yet: a read starts after the ones in flight. Every REREAD_INTERVAL it
//  starts at the head instead, to send again what is overdue.
static int
s_relay_box (schalt_outbox_t *self, box_t *box, int64_t now, bool *empty)
{
    bool whole = box->in_flight == 0 || now - box->last_read >= REREAD_INTERVAL;
    if (!whole && box->in_flight >= self->window)
        return 0;
    char start[24], stop[24];
    snprintf (start, sizeof (start), "%zu", whole ? 0 : box->in_flight);
    snprintf (stop, sizeof (stop), "%zu", self->window - 1);
    const char *argv[] = {"LRANGE", box->key, start, stop};
    redisReply *reply = schalt_redis_command (self->redis, 4, argv, NULL);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        if (reply)
            freeReplyObject (reply);
        return -1;
    }
    split_t *splits = s_splits_new (reply);
    if (whole) {
        box->last_read = now;
        s_forget_gone (self, box, splits, reply->elements);
    }
    *empty = whole && reply->elements == 0;
    int sent = 0;
    for (size_t index = 0; index < reply->elements; index++) {
        const char *raw = reply->element[index]->str;
        const entry_t *entry = &splits[index].entry;
        flight_t *flight =
            splits[index].ok ? (flight_t *)zhashx_lookup (self->flights, entry->id) : NULL;
        //  In flight and not overdue: wait for its acknowledgement
        if (flight && now - flight->sent_at < ACK_TIMEOUT)
            continue;
        int rc = splits[index].ok ? s_send (self, entry) : -2;
        if (rc == -2) {
            s_bury (self, box, raw, "not a message");
            continue;
        }
        if (rc == -1)
            break; //  the peer is not connected: try again later
        if (!flight) {
            flight = (flight_t *)zmalloc (sizeof (flight_t));
            assert (flight);
            flight->box = box;
            flight->raw = strdup (raw);
            snprintf (flight->id, sizeof (flight->id), "%s", entry->id);
            zhashx_insert (self->flights, entry->id, flight);
            box->in_flight++;
        }
        flight->sent_at = now;
        sent++;
    }
    s_splits_free (splits, reply->elements);
    freeReplyObject (reply);
    return sent;
}

size_t
schalt_outbox_relay (schalt_outbox_t *self)
{
    if (!schalt_redis_connected (self->redis))
        return 0;
    int64_t now = zclock_mono ();
    if (now >= self->next_scan) {
        if (s_scan (self) != 0)
            return 0;
        self->next_scan = now + SCAN_INTERVAL;
    }
    size_t sent = 0;
    zlist_t *finished = zlist_new ();
    for (box_t *box = (box_t *)zhashx_first (self->boxes); box;
         box = (box_t *)zhashx_next (self->boxes)) {
        //  A full window is read again only when an acknowledgement is overdue
        bool due = now >= box->paused &&
                   (box->in_flight < self->window || now - box->last_read >= REREAD_INTERVAL);
        if (!due)
            continue;
        bool empty = false;
        int count = s_relay_box (self, box, now, &empty);
        if (count < 0)
            break;
        sent += (size_t)count;
        if (empty && box->in_flight == 0)
            zlist_append (finished, box->key);
    }
    for (char *key = (char *)zlist_first (finished); key; key = (char *)zlist_next (finished))
        zhashx_delete (self->boxes, key);
    zlist_destroy (&finished);
    return sent;
}

//  --------------------------------------------------------------------------
//  Acknowledgements

//  Applies a refusal or failure at once (they are rare); returns the flight
//  if the reply acknowledges it (2xx), to be removed with the others.
static flight_t *
s_judge (schalt_outbox_t *self, schalt_envelope_t *reply)
{
    const char *id = schalt_envelope_id (reply);
    flight_t *flight = (flight_t *)zhashx_lookup (self->flights, id);
    if (!flight || flight->acknowledged)
        return NULL; //  a late duplicate of an acknowledgement
    int status = schalt_envelope_status (reply);
    box_t *box = flight->box;
    if (status >= 200 && status < 300) {
        flight->acknowledged = true;
        return flight;
    }
    if (status == 403) {
        //  Our key or role is refused (a key being rotated, a role set wrong):
        //  the message is good, the setup is not; keep trying until it is fixed
        if (box->paused <= zclock_mono ())
            schalt_log_warning ("outbox: peer=%s refused our key or role (403): %s; retrying "
                                "until the keys are right (docs/security.md)",
                                self->peer, schalt_envelope_text (reply));
        box->paused = zclock_mono () + RETRY_AFTER;
        flight->sent_at = 0;
        box->last_read = 0;
    } else if (status >= 400 && status < 500) {
        //  The peer will never take it: keep it for an admin, unblock the rest
        char why[96];
        snprintf (why, sizeof (why), "peer refused with %d", status);
        if (s_bury (self, box, flight->raw, why) == 0) {
            box->in_flight--;
            zhashx_delete (self->flights, id);
        }
    } else {
        //  5xx: the peer cannot store it now; pause this outbox, keep the entry
        box->paused = zclock_mono () + RETRY_AFTER;
        flight->sent_at = 0; //  overdue: sent again when the pause ends,
        box->last_read = 0;  //  by a read of the whole window
    }
    return NULL;
}

//  Removes the acknowledged flights of one box with one script call (under
//  appendfsync always, one fsync for the lot). Returns the number removed;
//  on failure they stay in flight, are sent again and acknowledged again.
static size_t
s_remove (schalt_outbox_t *self, box_t *box, zlist_t *flights)
{
    size_t count = zlist_size (flights), index = 0;
    const char **raws = (const char **)zmalloc (sizeof (char *) * count);
    assert (raws);
    for (flight_t *flight = (flight_t *)zlist_first (flights); flight;
         flight = (flight_t *)zlist_next (flights))
        raws[index++] = flight->raw;
    //  A synchronous call: replies of calls still in flight on this
    //  connection are read ahead and kept for their callers
    redisReply *reply = schalt_redis_eval (self->redis, ACK_SCRIPT, 1, (const char **)&box->key,
                                           (int)count, raws, NULL);
    free (raws);
    bool removed = reply && reply->type == REDIS_REPLY_INTEGER;
    if (reply)
        freeReplyObject (reply);
    for (flight_t *flight = (flight_t *)zlist_first (flights); flight;
         flight = (flight_t *)zlist_next (flights)) {
        if (!removed) {
            flight->acknowledged = false;
            continue;
        }
        self->delivered++;
        box->in_flight--;
        zhashx_delete (self->flights, flight->id);
    }
    return removed ? count : 0;
}

static void
s_flights_destroy (void **item)
{
    zlist_destroy ((zlist_t **)item);
}

size_t
schalt_outbox_receive (schalt_outbox_t *self)
{
    //  Take every reply waiting, then remove the acknowledged entries of each
    //  outbox list with one call
    zhashx_t *acknowledged = zhashx_new (); //  box key -> zlist_t of flights
    zhashx_set_destructor (acknowledged, s_flights_destroy);
    while (zsock_events (self->dealer) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            break;
        schalt_error_t error;
        schalt_envelope_t *reply = schalt_envelope_decode_reply (&msg, &error);
        if (!reply) {
            schalt_log_warning ("outbox: bad reply peer=%s code=%s", self->peer, error.code);
            continue;
        }
        flight_t *flight = s_judge (self, reply);
        if (flight) {
            zlist_t *flights = (zlist_t *)zhashx_lookup (acknowledged, flight->box->key);
            if (!flights) {
                flights = zlist_new ();
                zhashx_insert (acknowledged, flight->box->key, flights);
            }
            zlist_append (flights, flight);
        }
        schalt_envelope_destroy (&reply);
    }
    size_t removed = 0;
    for (zlist_t *flights = (zlist_t *)zhashx_first (acknowledged); flights;
         flights = (zlist_t *)zhashx_next (acknowledged)) {
        flight_t *first = (flight_t *)zlist_first (flights);
        removed += s_remove (self, first->box, flights);
    }
    zhashx_destroy (&acknowledged);
    return removed;
}

void
schalt_outbox_status (schalt_outbox_t *self, json_t *object)
{
    //  The lists known from touches and the last SCAN (at start, then each
    //  minute): a status request must not walk the whole keyspace. Until the
    //  first SCAN, the lists left from before a restart are not known yet:
    //  that SCAN runs now, so status tells what the outbox holds from the
    //  first answer on; if Redis is down, the depth is unknown (null).
    if (self->next_scan == 0 && schalt_redis_connected (self->redis) && s_scan (self) == 0)
        self->next_scan = zclock_mono () + SCAN_INTERVAL;
    bool counted = self->next_scan != 0 && schalt_redis_connected (self->redis);
    long long depth = 0;
    if (counted)
        for (box_t *box = (box_t *)zhashx_first (self->boxes); box && counted;
             box = (box_t *)zhashx_next (self->boxes)) {
            const char *argv[] = {"LLEN", box->key};
            redisReply *reply = schalt_redis_command (self->redis, 2, argv, NULL);
            if (reply && reply->type == REDIS_REPLY_INTEGER)
                depth += reply->integer;
            else
                counted = false; //  a part of the count is no count
            if (reply)
                freeReplyObject (reply);
        }
    json_object_set_new (object, self->peer,
                         json_pack ("{s:o, s:I, s:I, s:I}", "depth",
                                    counted ? json_integer (depth) : json_null (), "in_flight",
                                    (json_int_t)zhashx_size (self->flights), "delivered",
                                    (json_int_t)self->delivered, "dead", (json_int_t)self->dead));
}

//  --------------------------------------------------------------------------
//  Self test

//  Receives one request at the test's ROUTER peer; returns its envelope and
//  sets *routing (the caller destroys both).
static schalt_envelope_t *
s_test_take (zsock_t *peer, zframe_t **routing)
{
    zmsg_t *msg = zmsg_recv (peer);
    assert (msg);
    *routing = zmsg_pop (msg);
    schalt_error_t error;
    char reply_id[SCHALT_ID_MAX + 1];
    schalt_envelope_t *request = schalt_envelope_decode_request (&msg, &error, reply_id);
    assert (request);
    return request;
}

//  Answers a request at the peer with status.
static void
s_test_answer (zsock_t *peer, zframe_t **routing, schalt_envelope_t **request, int status)
{
    zmsg_t *reply = schalt_envelope_reply (status, schalt_envelope_id (*request), "{}");
    zmsg_prepend (reply, routing);
    zmsg_send (&reply, peer);
    schalt_envelope_destroy (request);
}

//  Runs a Redis command given as words; returns its integer reply.
static long long
s_test_integer (schalt_redis_t *redis, int argc, const char **argv)
{
    redisReply *reply = schalt_redis_command (redis, argc, argv, NULL);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  Waits until the outbox has acknowledgements to read, and reads them.
static size_t
s_test_receive (schalt_outbox_t *outbox)
{
    zpoller_t *poller = zpoller_new (schalt_outbox_socket (outbox), NULL);
    zpoller_wait (poller, 2000);
    zpoller_destroy (&poller);
    zclock_sleep (20); //  let every reply of the burst arrive
    return schalt_outbox_receive (outbox);
}

//  Pushes one entry, relays it, checks the request the peer gets (its id and
//  body) and acknowledges it.
static void
s_test_deliver (schalt_redis_t *redis, schalt_outbox_t *outbox, zsock_t *peer, const char *key,
                const char *entry, const char *id, const char *body)
{
    const char *push[] = {"RPUSH", key, entry};
    s_test_integer (redis, 3, push);
    schalt_outbox_touch (outbox, key);
    assert (schalt_outbox_relay (outbox) == 1);
    zframe_t *routing;
    schalt_envelope_t *request = s_test_take (peer, &routing);
    assert (streq (schalt_envelope_id (request), id));
    assert (streq (schalt_envelope_text (request), body));
    s_test_answer (peer, &routing, &request, 201);
    assert (s_test_receive (outbox) == 1);
}

void
schalt_outbox_test (bool verbose)
{
    printf (" * schalt_outbox: ");
    if (verbose)
        printf ("\n");
    char *dir = schalt_test_tempdir ("schalt-outbox");
    int port = schalt_test_free_port ();
    pid_t server = schalt_test_redis_start (port, dir);
    assert (server > 0);
    schalt_redis_t *redis = schalt_redis_new ("127.0.0.1", port, 1000);
    assert (schalt_redis_connected (redis));

    //  Three messages in one outbox list, and a peer that acknowledges
    const char *key = "test:{a}:outbox:peer";
    for (int index = 1; index <= 3; index++) {
        char entry[128];
        snprintf (entry, sizeof (entry),
                  "{\"id\":\"msg-%d\",\"command\":\"thing.put\",\"body\":{\"n\":%d}}", index,
                  index);
        const char *argv[] = {"RPUSH", key, entry};
        s_test_integer (redis, 3, argv);
    }
    //  The peer takes the sender's key only, as a daemon does
    const char *names[] = {"test:scheduler", "peer:registry", NULL};
    char *keys = schalt_test_keys (dir, names);
    char error[512] = "";
    char *sender_key = zsys_sprintf ("%s/secret/test.key", dir);
    char *peer_key = zsys_sprintf ("%s/secret/peer.key", dir);
    schalt_curve_t *sender_curve = schalt_curve_new (keys, sender_key, true, error, sizeof (error));
    schalt_curve_t *peer_curve = schalt_curve_new (keys, peer_key, true, error, sizeof (error));
    assert (sender_curve && peer_curve);
    zsock_t *peer = schalt_curve_server (peer_curve, ZMQ_ROUTER, error, sizeof (error));
    assert (peer);
    assert (zsock_bind (peer, "tcp://127.0.0.1:*") > 0);
    zsock_set_rcvtimeo (peer, 2000);
    schalt_outbox_t *outbox =
        schalt_outbox_new (redis, sender_curve, "test", "peer", zsock_endpoint (peer), 8);
    assert (outbox);
    assert (schalt_outbox_owns (outbox, key));
    assert (!schalt_outbox_owns (outbox, "test:{a}:outbox:other"));
    assert (!schalt_outbox_owns (outbox, "else:{a}:outbox:peer"));

    //  Right after a start, before any relay, status knows what is waiting
    json_t *early = json_object ();
    schalt_outbox_status (outbox, early);
    assert (json_integer_value (json_object_get (json_object_get (early, "peer"), "depth")) == 3);
    json_decref (early);

    //  Found by SCAN (as after a restart), sent in order
    size_t sent = 0;
    for (int attempt = 0; attempt < 50 && sent == 0; attempt++) {
        zclock_sleep (20); //  until the DEALER has connected
        sent = schalt_outbox_relay (outbox);
    }
    assert (sent == 3);
    zframe_t *routing[3];
    schalt_envelope_t *requests[3];
    for (int index = 0; index < 3; index++) {
        requests[index] = s_test_take (peer, &routing[index]);
        char expected[16];
        snprintf (expected, sizeof (expected), "msg-%d", index + 1);
        assert (streq (schalt_envelope_id (requests[index]), expected));
        assert (streq (schalt_envelope_command (requests[index]), "thing.put"));
    }
    //  Nothing is sent twice while acknowledgements are not overdue
    assert (schalt_outbox_relay (outbox) == 0);

    //  Two acknowledged, one refused for now (503): one entry stays
    s_test_answer (peer, &routing[0], &requests[0], 201);
    s_test_answer (peer, &routing[1], &requests[1], 200);
    s_test_answer (peer, &routing[2], &requests[2], 503);
    assert (s_test_receive (outbox) == 2);
    const char *llen[] = {"LLEN", key};
    assert (s_test_integer (redis, 2, llen) == 1);

    //  After the pause the same message goes again, with the same id; a 403
    //  (our key or role refused: a setup being fixed) is no reason to bury it
    zclock_sleep (RETRY_AFTER + 100);
    assert (schalt_outbox_relay (outbox) == 1);
    zframe_t *again_routing;
    schalt_envelope_t *again = s_test_take (peer, &again_routing);
    assert (streq (schalt_envelope_id (again), "msg-3"));
    s_test_answer (peer, &again_routing, &again, 403);
    assert (s_test_receive (outbox) == 0);
    assert (s_test_integer (redis, 2, llen) == 1);
    zclock_sleep (RETRY_AFTER + 100);
    assert (schalt_outbox_relay (outbox) == 1);
    again = s_test_take (peer, &again_routing);
    assert (streq (schalt_envelope_id (again), "msg-3"));
    //  A duplicate acknowledgement is harmless
    zframe_t *copy = zframe_dup (again_routing);
    zmsg_t *duplicate = schalt_envelope_reply (200, "msg-3", "{}");
    zmsg_prepend (duplicate, &copy);
    zmsg_send (&duplicate, peer);
    s_test_answer (peer, &again_routing, &again, 200);
    assert (s_test_receive (outbox) == 1);
    assert (s_test_integer (redis, 2, llen) == 0);

    //  An entry written by other means than the prelude (keys in another
    //  order, spaces) is sent all the same, its body intact
    s_test_deliver (
        redis, outbox, peer, key,
        "{ \"command\": \"thing.put\", \"body\": {\"n\": [1, 2]}, \"id\": \"msg-odd\" }", "msg-odd",
        "{\"n\":[1,2]}");
    assert (s_test_integer (redis, 2, llen) == 0);

    //  A member after the body, and braces inside strings: the body intact
    s_test_deliver (redis, outbox, peer, key,
                    "{\"id\":\"msg-late\",\"command\":\"thing.put\",\"body\":"
                    "{\"t\":\"}{\\\"\"},\"x\":{}}",
                    "msg-late", "{\"t\":\"}{\\\"\"}");

    //  An entry that is no message at all goes to the dead letters at once
    const char *junk[] = {"RPUSH", key, "not a message"};
    s_test_integer (redis, 3, junk);
    schalt_outbox_touch (outbox, key);
    assert (schalt_outbox_relay (outbox) == 0);
    assert (s_test_integer (redis, 2, llen) == 0);

    //  A message the peer refuses for good goes to the dead letters
    const char *push[] = {"RPUSH", key, "{\"id\":\"msg-4\",\"command\":\"thing.put\",\"body\":{}}"};
    s_test_integer (redis, 3, push);
    schalt_outbox_touch (outbox, key);
    assert (schalt_outbox_relay (outbox) == 1);
    zframe_t *bad_routing;
    schalt_envelope_t *bad = s_test_take (peer, &bad_routing);
    s_test_answer (peer, &bad_routing, &bad, 400);
    assert (s_test_receive (outbox) == 0); //  buried, not delivered
    assert (s_test_integer (redis, 2, llen) == 0);
    const char *dead[] = {"LLEN", "test:{a}:dead:peer"};
    assert (s_test_integer (redis, 2, dead) == 2);

    //  Status: nothing waiting, five delivered, two dead
    json_t *status = json_object ();
    schalt_outbox_status (outbox, status);
    json_t *mine = json_object_get (status, "peer");
    assert (json_integer_value (json_object_get (mine, "depth")) == 0);
    assert (json_integer_value (json_object_get (mine, "delivered")) == 5);
    assert (json_integer_value (json_object_get (mine, "dead")) == 2);
    json_decref (status);

    //  An entry removed while in flight (its removal ran, the reply was lost)
    //  is forgotten at the next read of the whole window
    const char *push6[] = {"RPUSH", key,
                           "{\"id\":\"msg-6\",\"command\":\"thing.put\",\"body\":{}}"};
    s_test_integer (redis, 3, push6);
    schalt_outbox_touch (outbox, key);
    assert (schalt_outbox_relay (outbox) == 1);
    zframe_t *lost_routing;
    schalt_envelope_t *lost = s_test_take (peer, &lost_routing);
    const char *gone[] = {"LPOP", key};
    freeReplyObject (schalt_redis_command (redis, 2, gone, NULL));
    zclock_sleep (REREAD_INTERVAL + 50);
    schalt_outbox_relay (outbox);
    status = json_object ();
    schalt_outbox_status (outbox, status);
    assert (json_integer_value (json_object_get (json_object_get (status, "peer"), "in_flight")) ==
            0);
    json_decref (status);
    zframe_destroy (&lost_routing);
    schalt_envelope_destroy (&lost);

    //  A peer that is gone: the entry waits in Redis, nothing is lost
    zsock_destroy (&peer);
    const char *push5[] = {"RPUSH", key,
                           "{\"id\":\"msg-5\",\"command\":\"thing.put\",\"body\":{}}"};
    s_test_integer (redis, 3, push5);
    schalt_outbox_touch (outbox, key);
    zclock_sleep (200); //  let the DEALER notice the disconnection
    schalt_outbox_relay (outbox);
    assert (s_test_integer (redis, 2, llen) == 1);

    schalt_outbox_destroy (&outbox);
    schalt_outbox_destroy (&outbox);
    schalt_redis_destroy (&redis);
    schalt_test_redis_stop (server, SIGTERM);
    schalt_curve_destroy (&sender_curve);
    schalt_curve_destroy (&peer_curve);
    zstr_free (&sender_key);
    zstr_free (&peer_key);
    zstr_free (&keys);
    schalt_test_rmtree (dir);
    free (dir);
    printf ("OK\n");
}
