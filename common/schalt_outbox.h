/*  schalt_outbox - the sending half of reliable delivery between daemons (rule 4).

    A script that must tell another daemon something appends a message to an
    outbox list in the same atomic step as the change (schalt.outbox in the Lua
    prelude). An outbox is a Redis list per hash tag, named
    `<sender>:{tag}:outbox:<peer>`, each entry
    {"id": message id, "command": "notice.send", "body": {...}}.

    The relay sends entries to the peer's ROUTER as ordinary requests, the
    message id as the request id, over one DEALER; it removes an entry only when
    the peer acknowledges it with a 2xx reply, which the peer sends only after
    storing it. The peer's request-id replay makes a repeated delivery harmless:
    at-least-once delivery, exactly-once effect. An entry the peer refuses as
    invalid (4xx) would block its outbox forever, so it moves to the dead-letter
    list `<sender>:{tag}:dead:<peer>` and is logged as an error.

    Entries are sent in list order, at most `window` of one outbox in flight at
    a time; window 1 means strictly one after the other. The relay runs right
    after a script wrote to an outbox (schalt_outbox_touch), on a timer, and
    after a restart it finds every non-empty outbox with SCAN.
*/
#ifndef SCHALT_OUTBOX_H_INCLUDED
#define SCHALT_OUTBOX_H_INCLUDED

#include "schalt_curve.h"
#include "schalt_redis.h"
#include <czmq.h>
#include <jansson.h>

typedef struct _schalt_outbox_t schalt_outbox_t;

//  Create the relay for one peer. sender is the daemon's key prefix
//  ("registry"), peer the receiver's name ("notifier"), endpoint its ROUTER.
//  The redis connection and curve (the sender's keys, schalt_curve.h) are
//  borrowed. Returns NULL if the endpoint is bad or the peer's key unknown.
schalt_outbox_t *schalt_outbox_new (schalt_redis_t *redis, schalt_curve_t *curve,
                                    const char *sender, const char *peer, const char *endpoint,
                                    size_t window);

//  Destroy; safe to call twice. Entries stay in Redis for the next start.
void schalt_outbox_destroy (schalt_outbox_t **self_p);

//  The DEALER socket on which acknowledgements arrive; the owner's loop
//  calls schalt_outbox_receive when it is readable.
zsock_t *schalt_outbox_socket (schalt_outbox_t *self);

//  True if key is one of this outbox's lists (`...:outbox:<peer>`).
bool schalt_outbox_owns (schalt_outbox_t *self, const char *key);

//  A script appended to this outbox list: send from it at the next relay.
void schalt_outbox_touch (schalt_outbox_t *self, const char *key);

//  Send what is due: entries not yet in flight (up to the window), entries
//  whose acknowledgement is overdue (same id again), and every few seconds a
//  SCAN for outboxes this process does not know of yet. Needs Redis up;
//  returns the number of messages sent.
size_t schalt_outbox_relay (schalt_outbox_t *self);

//  Read the replies waiting on the socket; remove what they acknowledge
//  (one script call per outbox list) and bury what the peer refuses.
//  Returns the number of entries delivered.
size_t schalt_outbox_receive (schalt_outbox_t *self);

//  Adds {"depth", "in_flight", "delivered", "dead"} for this outbox to
//  object under the peer's name (depth counted in Redis now).
void schalt_outbox_status (schalt_outbox_t *self, json_t *object);

//  For tests (tests/fuzz): splits a stored entry the relay's fast way, without
//  parsing its body. Returns true and fills id and command (copied, at least
//  65 octets each) and body (pointing into raw, body_size octets) if raw is
//  exactly {"id":"..","command":"..","body":{..}}; else false.
bool schalt_outbox_split_entry (const char *raw, char *id, char *command, const char **body,
                                size_t *body_size);

//  Self test: a relay against a real Redis and a small ROUTER peer.
void schalt_outbox_test (bool verbose);

#endif
