/*  schalt_curve - every socket that leaves the process is made here, with
    CURVE: ROUTER and PUB sockets are CURVE servers, DEALER and SUB sockets
    CURVE clients. There is no unencrypted or unauthenticated path, and no
    PLAIN or NULL mechanism.

    A program has its own certificate (a daemon's <service>/certificate,
    the client's cli/key) and reads the keys directory (schaltstelle/keys,
    schalt_keys.h). A client finds the public key of the daemon it talks to
    there, as <service>.cert. A daemon's server sockets take a connection
    only from a key in the directory: the process's authenticator (one ZAP
    handler, RFC 27, in an actor of its own) asks the directory at every
    handshake, and a message then names its sender's public key as its
    User-Id, which schalt_curve_caller turns into the key's name and role,
    asked anew for every request. So a key removed from the directory and
    the daemon told with SIGHUP is refused from then on, also on a
    connection it made before.

    SIGHUP re-reads the directory. If the new one is bad (a broken
    certificate, say), the old keys stay and the error is logged.

    For the benchmark's side-by-side figures only, a test configuration
    (schaltstelle/test_clock = settable) may set schaltstelle/curve = off:
    then the sockets are plain and every caller may call every command.
*/
#ifndef SCHALT_CURVE_H_INCLUDED
#define SCHALT_CURVE_H_INCLUDED

#include "schalt_keys.h"
#include <czmq.h>

typedef struct _schalt_curve_t schalt_curve_t;

//  Loads the program's own secret certificate and the keys directory.
//  enabled false makes plain sockets (test configurations only; the
//  caller checks that). Returns NULL with error naming the path and what is
//  wrong.
schalt_curve_t *schalt_curve_new (const char *keys_dir, const char *certificate, bool enabled,
                                  char *error, size_t size);

void schalt_curve_destroy (schalt_curve_t **self_p);

//  True unless made with enabled false.
bool schalt_curve_enabled (schalt_curve_t *self);

//  The name and role of the program's own key (borrowed).
const char *schalt_curve_name (schalt_curve_t *self);
const char *schalt_curve_role (schalt_curve_t *self);

//  The program's own public key (Z85), or "" with CURVE off.
const char *schalt_curve_public (schalt_curve_t *self);

//  Makes a server socket (ZMQ_ROUTER or ZMQ_PUB) that takes connections
//  only from keys in the directory. The first one starts the process's
//  authenticator and its SIGHUP handling; only one schalt_curve_t of a
//  process may make server sockets. Returns NULL (with error) if the
//  authenticator cannot start.
zsock_t *schalt_curve_server (schalt_curve_t *self, int type, char *error, size_t size);

//  Makes a client socket (ZMQ_DEALER or ZMQ_SUB) for the daemon named
//  server, whose public key is <keys>/<server>.cert. Returns NULL with
//  error if that key is not there.
zsock_t *schalt_curve_client (schalt_curve_t *self, int type, const char *server, char *error,
                              size_t size);

//  Who sent a message: user_id is its User-Id property (zframe_meta; the
//  sender's public key). Copies the key's name and role into key and
//  returns true if that key is in the directory now.
bool schalt_curve_caller (schalt_curve_t *self, const char *user_id, schalt_key_t *key);

//  Re-reads the keys directory (what SIGHUP does). Returns 0, or -1 if the
//  directory is bad now: then the keys read before stay, and error says why.
int schalt_curve_reload (schalt_curve_t *self, char *error, size_t size);

//  How many reloads removed a key: when it grows, a daemon drops the
//  connections of its PUB socket (unbind, bind again), which has no
//  per-message check; subscribers whose key stays reconnect at once.
uint64_t schalt_curve_removals (schalt_curve_t *self);

//  How many keys are allowed now.
size_t schalt_curve_keys (schalt_curve_t *self);

//  Self test.
void schalt_curve_test (bool verbose);

#endif
