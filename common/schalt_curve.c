/*  schalt_curve - CURVE on every socket, the process's authenticator (ZAP)
    and SIGHUP. See schalt_curve.h.
*/
#include "schalt_curve.h"
#include "schalt_log.h"
#include "schalt_testutil.h"

#include <pthread.h>
#include <signal.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01" //  where libzmq asks (RFC 27)
#define ZAP_DOMAIN "schaltstelle"
#define RELOAD_CHECK 200     //  ms between looks at the SIGHUP flag
#define REFUSAL_LOG_EVERY 60 //  s between log lines about one refused key
#define REFUSALS_KEPT 1024   //  refused keys remembered for that, at most

struct _schalt_curve_t {
    bool enabled;
    char *keys_dir;
    zcert_t *cert; //  the program's own key pair
    pthread_mutex_t lock;
    schalt_keys_t *keys; //  under lock: the authenticator reads it, reload swaps it
    zactor_t *authenticator;
    bool authenticator_ok;
    zhashx_t *refused; //  the authenticator's: public key -> time last logged
    uint64_t removals; //  under lock: reloads that removed a key
};

//  The process's one authenticator (libzmq asks one ZAP handler per context)
static schalt_curve_t *s_authenticating = NULL;
static volatile sig_atomic_t s_hangup = 0;

static void
s_on_hangup (int signum)
{
    (void)signum;
    s_hangup = 1;
}

schalt_curve_t *
schalt_curve_new (const char *keys_dir, const char *certificate, bool enabled, char *error,
                  size_t size)
{
    schalt_curve_t *self = (schalt_curve_t *)zmalloc (sizeof (schalt_curve_t));
    assert (self);
    self->enabled = enabled;
    self->keys_dir = strdup (keys_dir);
    pthread_mutex_init (&self->lock, NULL);
    if (!enabled)
        return self;
    self->keys = schalt_keys_load (keys_dir, error, size);
    if (self->keys)
        self->cert = schalt_keys_load_secret (certificate, error, size);
    if (!self->cert) {
        schalt_curve_destroy (&self);
        return NULL;
    }
    return self;
}

void
schalt_curve_destroy (schalt_curve_t **self_p)
{
    schalt_curve_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->authenticator);
    if (s_authenticating == self)
        s_authenticating = NULL;
    zhashx_destroy (&self->refused);
    schalt_keys_destroy (&self->keys);
    zcert_destroy (&self->cert);
    pthread_mutex_destroy (&self->lock);
    free (self->keys_dir);
    free (self);
    *self_p = NULL;
}

bool
schalt_curve_enabled (schalt_curve_t *self)
{
    return self->enabled;
}

const char *
schalt_curve_name (schalt_curve_t *self)
{
    return self->cert ? zcert_meta (self->cert, "name") : "anyone";
}

const char *
schalt_curve_role (schalt_curve_t *self)
{
    return self->cert ? zcert_meta (self->cert, "role") : "admin";
}

const char *
schalt_curve_public (schalt_curve_t *self)
{
    return self->cert ? zcert_public_txt (self->cert) : "";
}

int
schalt_curve_reload (schalt_curve_t *self, char *error, size_t size)
{
    if (!self->enabled)
        return 0;
    schalt_keys_t *keys = schalt_keys_load (self->keys_dir, error, size);
    if (!keys)
        return -1;
    bool removed = false;
    for (size_t index = 0; self->keys && index < schalt_keys_size (self->keys); index++)
        removed =
            removed || !schalt_keys_find (keys, schalt_keys_at (self->keys, index)->public_txt);
    pthread_mutex_lock (&self->lock);
    schalt_keys_t *old = self->keys;
    self->keys = keys;
    if (removed)
        self->removals++;
    pthread_mutex_unlock (&self->lock);
    schalt_keys_destroy (&old);
    return 0;
}

uint64_t
schalt_curve_removals (schalt_curve_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t removals = self->removals;
    pthread_mutex_unlock (&self->lock);
    return removals;
}

size_t
schalt_curve_keys (schalt_curve_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->keys ? schalt_keys_size (self->keys) : 0;
    pthread_mutex_unlock (&self->lock);
    return count;
}

bool
schalt_curve_caller (schalt_curve_t *self, const char *user_id, schalt_key_t *key)
{
    if (!self->enabled || !user_id)
        return false;
    pthread_mutex_lock (&self->lock);
    const schalt_key_t *found = schalt_keys_find (self->keys, user_id);
    if (found)
        *key = *found;
    pthread_mutex_unlock (&self->lock);
    return found != NULL;
}

//  --------------------------------------------------------------------------
//  The authenticator

//  Logs a refused key at most once a minute (a refused client reconnects
//  every few tenths of a second).
static void
s_log_refusal (schalt_curve_t *self, const char *address, const char *public_txt, const char *why)
{
    if (!self->refused)
        self->refused = zhashx_new ();
    int64_t now = zclock_time () / 1000;
    int64_t last = (int64_t)(intptr_t)zhashx_lookup (self->refused, public_txt);
    if (last && now - last < REFUSAL_LOG_EVERY)
        return;
    if (zhashx_size (self->refused) >= REFUSALS_KEPT)
        zhashx_purge (self->refused);
    zhashx_update (self->refused, public_txt, (void *)(intptr_t)now);
    schalt_log_warning ("auth: refused address=%s key=%.8s... why=\"%s\" (once a minute per key)",
                        address, public_txt, why);
}

//  Answers one ZAP request: 200 with the public key as User-Id if the key
//  is in the directory, else 400.
static void
s_authenticate (schalt_curve_t *self, zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request), *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request), *address = zmsg_popstr (request);
    zframe_t *identity = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credentials = zmsg_pop (request);
    char public_txt[SCHALT_KEY_TEXT + 1] = "";
    const char *status = "400", *text = "no such key";
    if (!version || !streq (version, "1.0") || !mechanism || !streq (mechanism, "CURVE") ||
        !credentials || zframe_size (credentials) != 32)
        text = "not a CURVE handshake";
    else {
        zmq_z85_encode (public_txt, zframe_data (credentials), 32);
        pthread_mutex_lock (&self->lock);
        if (schalt_keys_find (self->keys, public_txt)) {
            status = "200";
            text = "OK";
        }
        pthread_mutex_unlock (&self->lock);
        if (streq (status, "400"))
            s_log_refusal (self, address ? address : "?", public_txt,
                           "the key is not in the keys directory");
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, sequence ? sequence : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, streq (status, "200") ? public_txt : "");
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, handler);
    zstr_free (&version);
    zstr_free (&sequence);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&identity);
    zframe_destroy (&credentials);
    zmsg_destroy (&request);
}

//  Re-reads the directory after SIGHUP, and says how it went.
static void
s_reload_after_hangup (schalt_curve_t *self)
{
    s_hangup = 0;
    char error[512] = "";
    if (schalt_curve_reload (self, error, sizeof (error)) == 0) {
        schalt_log_notice ("auth: keys reloaded dir=%s keys=%zu", self->keys_dir,
                           schalt_curve_keys (self));
        zhashx_purge (self->refused);
    } else
        schalt_log_error ("auth: keys not reloaded, the %zu read before stay: %s",
                          schalt_curve_keys (self), error);
}

static void
s_authenticator (zsock_t *pipe, void *args)
{
    schalt_curve_t *self = (schalt_curve_t *)args;
    self->refused = zhashx_new ();
    zsock_t *handler = zsock_new (ZMQ_REP);
    assert (handler);
    self->authenticator_ok = zsock_bind (handler, ZAP_ENDPOINT) == 0;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    //  Stop on $TERM only: the server answers what it has in hand first
    zpoller_set_nonstop (poller, true);
    while (true) {
        void *which = zpoller_wait (poller, RELOAD_CHECK);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        } else if (which == handler && self->authenticator_ok)
            s_authenticate (self, handler);
        if (s_hangup)
            s_reload_after_hangup (self);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

zsock_t *
schalt_curve_server (schalt_curve_t *self, int type, char *error, size_t size)
{
    assert (type == ZMQ_ROUTER || type == ZMQ_PUB);
    zsock_t *socket = zsock_new (type);
    assert (socket);
    if (!self->enabled)
        return socket;
    if (!self->authenticator) {
        if (s_authenticating) {
            snprintf (error, size, "a process has one authenticator, and it runs already");
            zsock_destroy (&socket);
            return NULL;
        }
        self->authenticator = zactor_new (s_authenticator, self);
        assert (self->authenticator);
        if (!self->authenticator_ok) {
            snprintf (error, size, "cannot bind the authenticator at %s", ZAP_ENDPOINT);
            zactor_destroy (&self->authenticator);
            zsock_destroy (&socket);
            return NULL;
        }
        s_authenticating = self;
        struct sigaction action;
        memset (&action, 0, sizeof (action));
        action.sa_handler = s_on_hangup;
        action.sa_flags = SA_RESTART;
        sigemptyset (&action.sa_mask);
        sigaction (SIGHUP, &action, NULL);
    }
    zsock_set_zap_domain (socket, ZAP_DOMAIN);
    zcert_apply (self->cert, socket);
    zsock_set_curve_server (socket, 1);
    return socket;
}

zsock_t *
schalt_curve_client (schalt_curve_t *self, int type, const char *server, char *error, size_t size)
{
    assert (type == ZMQ_DEALER || type == ZMQ_SUB);
    char public_txt[SCHALT_KEY_TEXT + 1] = "";
    if (self->enabled) {
        pthread_mutex_lock (&self->lock);
        const schalt_key_t *key = schalt_keys_named (self->keys, server);
        if (key)
            snprintf (public_txt, sizeof (public_txt), "%s", key->public_txt);
        pthread_mutex_unlock (&self->lock);
        if (!public_txt[0]) {
            snprintf (error, size,
                      "the keys directory %s has no %s.cert, the public key of the %s daemon",
                      self->keys_dir, server, server);
            return NULL;
        }
    }
    zsock_t *socket = zsock_new (type);
    assert (socket);
    if (self->enabled) {
        zcert_apply (self->cert, socket);
        zsock_set_curve_serverkey (socket, public_txt);
    }
    return socket;
}

//  --------------------------------------------------------------------------
//  Self test: a ROUTER that takes only known keys, and a reload.

//  Echoes one message back, checking who sent it; returns the caller's name.
static bool
s_test_echo (schalt_curve_t *curve, zsock_t *router, char *name)
{
    zpoller_t *poller = zpoller_new (router, NULL);
    bool ready = zpoller_wait (poller, 2000) == router;
    zpoller_destroy (&poller);
    if (!ready)
        return false;
    zmsg_t *msg = zmsg_recv (router);
    zframe_t *body = zmsg_last (msg);
    schalt_key_t key;
    bool known = schalt_curve_caller (curve, zframe_meta (body, "User-Id"), &key);
    if (known)
        strcpy (name, key.name);
    zmsg_send (&msg, router);
    return known;
}

void
schalt_curve_test (bool verbose)
{
    printf (" * schalt_curve: ");
    if (verbose)
        printf ("\n");
    char error[512] = "";
    char *dir = schalt_test_tempdir ("schalt-curve");
    char *keys = zsys_sprintf ("%s/keys", dir);
    zsys_dir_create (keys);
    chmod (keys, 0755);
    const char *names[][2] = {{"registry", "registry"}, {"erika", "organiser"}};
    for (int index = 0; index < 2; index++) {
        char *public_path = zsys_sprintf ("%s/%s.cert", keys, names[index][0]);
        char *secret_path = zsys_sprintf ("%s/%s.key", dir, names[index][0]);
        assert (schalt_keys_create (names[index][0], names[index][1], public_path, secret_path,
                                    error, sizeof (error)) == 0);
        zstr_free (&public_path);
        zstr_free (&secret_path);
    }
    //  A key pair whose public half is not in the directory
    char *stranger_public = zsys_sprintf ("%s/stranger.cert", dir);
    char *stranger_secret = zsys_sprintf ("%s/stranger.key", dir);
    assert (schalt_keys_create ("stranger", "admin", stranger_public, stranger_secret, error,
                                sizeof (error)) == 0);

    char *server_key = zsys_sprintf ("%s/registry.key", dir);
    schalt_curve_t *daemon = schalt_curve_new (keys, server_key, true, error, sizeof (error));
    assert (daemon);
    assert (streq (schalt_curve_name (daemon), "registry"));
    assert (schalt_curve_keys (daemon) == 2);
    zsock_t *router = schalt_curve_server (daemon, ZMQ_ROUTER, error, sizeof (error));
    assert (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);

    //  A known key is served and named
    char *erika_key = zsys_sprintf ("%s/erika.key", dir);
    schalt_curve_t *erika = schalt_curve_new (keys, erika_key, true, error, sizeof (error));
    assert (erika);
    zsock_t *client = schalt_curve_client (erika, ZMQ_DEALER, "registry", error, sizeof (error));
    assert (client);
    assert (!schalt_curve_client (erika, ZMQ_DEALER, "notifier", error, sizeof (error)));
    assert (strstr (error, "notifier.cert"));
    zsock_connect (client, "%s", endpoint);
    zstr_send (client, "ping");
    char name[SCHALT_KEY_NAME_MAX + 1] = "";
    assert (s_test_echo (daemon, router, name) && streq (name, "erika"));
    char *echo = zstr_recv (client);
    assert (echo && streq (echo, "ping"));
    zstr_free (&echo);

    //  An unknown key, and a plain socket, get nothing
    schalt_curve_t *stranger =
        schalt_curve_new (keys, stranger_secret, true, error, sizeof (error));
    assert (stranger);
    zsock_t *unknown =
        schalt_curve_client (stranger, ZMQ_DEALER, "registry", error, sizeof (error));
    zsock_connect (unknown, "%s", endpoint);
    zsock_t *plain = zsock_new_dealer (endpoint);
    zsock_set_sndtimeo (unknown, 0);
    zsock_set_sndtimeo (plain, 0);
    zstr_send (unknown, "ping");
    zstr_send (plain, "ping");
    zpoller_t *poller = zpoller_new (router, NULL);
    assert (zpoller_wait (poller, 500) == NULL);
    zpoller_destroy (&poller);

    //  Erika removed, the directory re-read: her next message is not hers
    //  any more (the connection stays, the key does not)
    char *erika_public = zsys_sprintf ("%s/erika.cert", keys);
    remove (erika_public);
    assert (schalt_curve_reload (daemon, error, sizeof (error)) == 0);
    assert (schalt_curve_keys (daemon) == 1);
    zstr_send (client, "ping");
    assert (!s_test_echo (daemon, router, name));
    zstr_free (&echo);
    echo = zstr_recv (client);
    zstr_free (&echo);

    //  A broken directory keeps the keys read before
    schalt_test_write (keys, "broken.cert", "metadata\n    name = \"broken\"\n");
    assert (schalt_curve_reload (daemon, error, sizeof (error)) == -1);
    assert (strstr (error, "broken.cert"));
    assert (schalt_curve_keys (daemon) == 1);

    //  A second authenticator in one process is refused
    assert (!schalt_curve_server (erika, ZMQ_PUB, error, sizeof (error)));

    //  Plain sockets when CURVE is off (test configurations)
    schalt_curve_t *off = schalt_curve_new (keys, "/nonexistent", false, error, sizeof (error));
    assert (off && !schalt_curve_enabled (off));
    zsock_t *open_pub = schalt_curve_server (off, ZMQ_PUB, error, sizeof (error));
    assert (open_pub);
    zsock_destroy (&open_pub);
    schalt_curve_destroy (&off);

    zsock_destroy (&plain);
    zsock_destroy (&unknown);
    zsock_destroy (&client);
    zsock_destroy (&router);
    schalt_curve_destroy (&stranger);
    schalt_curve_destroy (&erika);
    schalt_curve_destroy (&daemon);
    schalt_test_rmtree (dir);
    zstr_free (&erika_public);
    zstr_free (&erika_key);
    zstr_free (&server_key);
    zstr_free (&stranger_public);
    zstr_free (&stranger_secret);
    zstr_free (&keys);
    zstr_free (&dir);
    printf ("OK\n");
}
