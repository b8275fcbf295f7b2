/*  schalt_client - a client's requests to one daemon. See schalt_client.h. */
#include "schalt_client.h"
#include "schalt_testutil.h"

#include <stdatomic.h>

struct _schalt_client_t {
    zsock_t *dealer;
    zsock_t *monitor; //  the DEALER's handshake events, or NULL
    zpoller_t *poller;
};

//  Each monitor its own endpoint (an old one may still be bound a moment)
static atomic_uint s_monitors;

schalt_client_t *
schalt_client_new (schalt_curve_t *curve, const char *service, const char *endpoint,
                   size_t max_reply, char *error, size_t size)
{
    zsock_t *dealer = schalt_curve_client (curve, ZMQ_DEALER, service, error, size);
    if (!dealer)
        return NULL;
    schalt_client_t *self = (schalt_client_t *)zmalloc (sizeof (schalt_client_t));
    assert (self);
    self->dealer = dealer;
    zsock_set_linger (dealer, 0);
    zsock_set_maxmsgsize (dealer, (int)max_reply);
    char monitor[80];
    snprintf (monitor, sizeof (monitor), "inproc://schalt-client-monitor-%d-%u", (int)getpid (),
              atomic_fetch_add (&s_monitors, 1));
    if (zmq_socket_monitor (zsock_resolve (dealer), monitor,
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        self->monitor = zsock_new (ZMQ_PAIR);
        if (zsock_connect (self->monitor, "%s", monitor) != 0)
            zsock_destroy (&self->monitor);
    }
    if (zsock_connect (dealer, "%s", endpoint) != 0) {
        snprintf (error, size, "cannot connect to %s", endpoint);
        schalt_client_destroy (&self);
        return NULL;
    }
    self->poller = zpoller_new (dealer, self->monitor, NULL);
    return self;
}

void
schalt_client_destroy (schalt_client_t **self_p)
{
    schalt_client_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    if (self->monitor)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

//  Reads one monitor event: the outcome it means, or SCHALT_CLIENT_ANSWERED
//  for none that matters.
static schalt_client_outcome_t
s_handshake (schalt_client_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    zframe_t *head = event ? zmsg_first (event) : NULL;
    schalt_client_outcome_t outcome = SCHALT_CLIENT_ANSWERED;
    if (head && zframe_size (head) >= 2) {
        uint16_t kind;
        memcpy (&kind, zframe_data (head), 2);
        if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            outcome = SCHALT_CLIENT_KEY_REFUSED;
        else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            outcome = SCHALT_CLIENT_HANDSHAKE_FAILED;
    }
    zmsg_destroy (&event);
    return outcome;
}

schalt_envelope_t *
schalt_client_request (schalt_client_t *self, const char *command, const char *id, const char *json,
                       const char *user, const char *user_role, long timeout_ms, long attempts,
                       schalt_client_retry_fn *retry, void *arg, schalt_client_outcome_t *outcome)
{
    //  What earlier handshakes said is no news about this request
    while (self->monitor && (zsock_events (self->monitor) & ZMQ_POLLIN)) {
        zmsg_t *old = zmsg_recv (self->monitor);
        zmsg_destroy (&old);
    }
    schalt_envelope_t *reply = NULL;
    bool mismatch = false;
    *outcome = SCHALT_CLIENT_NO_ANSWER;
    int why = 0;
    for (long attempt = 1; attempt <= attempts && !reply; attempt++) {
        if (zsys_interrupted) {
            *outcome = SCHALT_CLIENT_INTERRUPTED;
            break;
        }
        if (attempt > 1 && retry)
            retry (arg, attempt, attempts, why);
        zmsg_t *msg = user ? schalt_envelope_request_for (command, id, json, user, user_role)
                           : schalt_envelope_request (command, id, json);
        assert (msg);
        zmsg_send (&msg, self->dealer);
        int64_t deadline = zclock_mono () + timeout_ms;
        bool refused = false;
        while (!reply && !refused && zclock_mono () < deadline) {
            int64_t left = deadline - zclock_mono ();
            void *which = zpoller_wait (self->poller, left > 0 ? (int)left : 0);
            if (which && which == self->monitor) {
                schalt_client_outcome_t said = s_handshake (self);
                refused = said == SCHALT_CLIENT_KEY_REFUSED;
                mismatch = mismatch || said == SCHALT_CLIENT_HANDSHAKE_FAILED;
            } else if (!which || which != self->dealer)
                break;
            else if ((msg = zmsg_recv (self->dealer))) {
                schalt_error_t error;
                reply = schalt_envelope_decode_reply (&msg, &error);
                //  Replies to an earlier attempt carry the same id, so any will do
                if (reply && !streq (schalt_envelope_id (reply), id))
                    schalt_envelope_destroy (&reply);
            }
        }
        if (refused) {
            *outcome = SCHALT_CLIENT_KEY_REFUSED;
            break;
        }
        why = 0;
        //  503: the daemon could not reach its database just now; the same
        //  request again is safe, after a pause
        if (reply && schalt_envelope_status (reply) == 503 && attempt < attempts) {
            why = 503;
            schalt_envelope_destroy (&reply);
            zclock_sleep (SCHALT_CLIENT_PAUSE);
        }
    }
    if (reply)
        *outcome = SCHALT_CLIENT_ANSWERED;
    else if (*outcome == SCHALT_CLIENT_NO_ANSWER && mismatch)
        *outcome = SCHALT_CLIENT_HANDSHAKE_FAILED;
    return reply;
}

//  --------------------------------------------------------------------------
//  Self test: a daemon of sorts (a CURVE ROUTER in a thread) that answers
//  503 once, then 200; a key it refuses; no daemon at all.

static void
s_test_daemon (zsock_t *pipe, void *args)
{
    zsock_t *router = (zsock_t *)args;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    int seen = 0;
    while (zpoller_wait (poller, -1) == router) {
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *routing = zmsg_pop (msg);
        schalt_error_t error;
        char reply_id[SCHALT_ID_MAX + 1];
        schalt_envelope_t *request = schalt_envelope_decode_request (&msg, &error, reply_id);
        const char *user = request ? schalt_envelope_user (request) : NULL;
        char body[96];
        snprintf (body, sizeof (body), "{\"seen\":%d,\"user\":\"%s\"}", ++seen, user ? user : "");
        zmsg_t *reply = schalt_envelope_reply (seen == 1 ? 503 : 200, reply_id, body);
        zmsg_prepend (reply, &routing);
        zmsg_send (&reply, router);
        schalt_envelope_destroy (&request);
    }
    zpoller_destroy (&poller);
}

static void
s_test_retry (void *arg, long attempt, long attempts, int status)
{
    (void)attempts;
    int *seen = (int *)arg;
    assert (attempt == 2 && status == 503);
    (*seen)++;
}

void
schalt_client_test (bool verbose)
{
    printf (" * schalt_client: ");
    if (verbose)
        printf ("\n");
    char error[512] = "";
    char *dir = schalt_test_tempdir ("schalt-client");
    const char *names[] = {"registry:registry", "admin:admin", NULL};
    char *keys = schalt_test_keys (dir, names);
    char *daemon_key = zsys_sprintf ("%s/secret/registry.key", dir);
    char *admin_key = zsys_sprintf ("%s/secret/admin.key", dir);
    schalt_curve_t *daemon = schalt_curve_new (keys, daemon_key, true, error, sizeof (error));
    schalt_curve_t *admin = schalt_curve_new (keys, admin_key, true, error, sizeof (error));
    assert (daemon && admin);
    zsock_t *router = schalt_curve_server (daemon, ZMQ_ROUTER, error, sizeof (error));
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);
    zactor_t *server = zactor_new (s_test_daemon, router);

    //  A 503 is asked again, with the same id; the answer names the user
    assert (!schalt_client_new (admin, "notifier", endpoint, 65536, error, sizeof (error)));
    schalt_client_t *client =
        schalt_client_new (admin, "registry", endpoint, 65536, error, sizeof (error));
    assert (client);
    int retries = 0;
    schalt_client_outcome_t outcome;
    schalt_envelope_t *reply =
        schalt_client_request (client, "thing.get", "c1", "{}", "erika", "organiser", 2000, 3,
                               s_test_retry, &retries, &outcome);
    assert (reply && outcome == SCHALT_CLIENT_ANSWERED && retries == 1);
    assert (schalt_envelope_status (reply) == 200 && streq (schalt_envelope_id (reply), "c1"));
    assert (strstr (schalt_envelope_text (reply), "\"user\":\"erika\""));
    schalt_envelope_destroy (&reply);

    //  The key removed: said at once, long before the timeouts
    char *admin_public = zsys_sprintf ("%s/admin.cert", keys);
    remove (admin_public);
    assert (schalt_curve_reload (daemon, error, sizeof (error)) == 0);
    schalt_client_t *refused =
        schalt_client_new (admin, "registry", endpoint, 65536, error, sizeof (error));
    int64_t started = zclock_mono ();
    reply = schalt_client_request (refused, "thing.get", "c2", "{}", NULL, NULL, 5000, 3, NULL,
                                   NULL, &outcome);
    assert (!reply && outcome == SCHALT_CLIENT_KEY_REFUSED);
    assert (zclock_mono () - started < 4000);
    schalt_client_destroy (&refused);

    //  No daemon: no answer after every attempt (on a port where none ever
    //  listened: libzmq closes a listener in the background)
    zactor_destroy (&server);
    zsock_destroy (&router);
    char nowhere[64];
    snprintf (nowhere, sizeof (nowhere), "tcp://127.0.0.1:%d", schalt_test_free_port ());
    schalt_client_t *alone =
        schalt_client_new (admin, "registry", nowhere, 65536, error, sizeof (error));
    reply = schalt_client_request (alone, "thing.get", "c3", "{}", NULL, NULL, 100, 2, NULL, NULL,
                                   &outcome);
    assert (!reply && outcome == SCHALT_CLIENT_NO_ANSWER);
    schalt_client_destroy (&alone);
    schalt_client_destroy (&client);

    schalt_curve_destroy (&admin);
    schalt_curve_destroy (&daemon);
    schalt_test_rmtree (dir);
    zstr_free (&admin_public);
    zstr_free (&daemon_key);
    zstr_free (&admin_key);
    zstr_free (&keys);
    zstr_free (&dir);
    printf ("OK\n");
}
