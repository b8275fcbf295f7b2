/*  schalt_client - a client's requests to one daemon, as every client of
    Schaltstelle sends them: over a CURVE DEALER (schalt_curve.h), with the
    same request id on every attempt (architecture rule 5), a reply matched
    by its id (a late reply to an earlier attempt is as good), a 503 asked
    again after a pause, and the handshake watched, so that a daemon that
    refuses the client's key is said at once instead of after every timeout.

    `schalt` makes one for each request; a program that asks often (the web
    front) keeps one per thread and daemon: the DEALER reconnects by itself.
*/
#ifndef SCHALT_CLIENT_H_INCLUDED
#define SCHALT_CLIENT_H_INCLUDED

#include "schalt_curve.h"
#include "schalt_envelope.h"
#include <czmq.h>

//  Milliseconds before asking again after a 503.
#define SCHALT_CLIENT_PAUSE 300

typedef enum {
    SCHALT_CLIENT_ANSWERED,         //  a reply came (of any status)
    SCHALT_CLIENT_NO_ANSWER,        //  none, after every attempt
    SCHALT_CLIENT_KEY_REFUSED,      //  the daemon refused this client's key
    SCHALT_CLIENT_HANDSHAKE_FAILED, //  the daemon has another key, or CURVE is off at one end
    SCHALT_CLIENT_INTERRUPTED       //  SIGINT or SIGTERM
} schalt_client_outcome_t;

typedef struct _schalt_client_t schalt_client_t;

//  A client of the daemon service at endpoint, with curve's key (borrowed;
//  it must outlive the client). max_reply: the largest reply it takes, in
//  octets. Returns NULL with error if the daemon's key is unknown.
schalt_client_t *schalt_client_new (schalt_curve_t *curve, const char *service,
                                    const char *endpoint, size_t max_reply, char *error,
                                    size_t size);

void schalt_client_destroy (schalt_client_t **self_p);

//  Told before each attempt after the first: its number, of how many, and
//  why (the status of the reply that asks for it, 503, or 0 for none).
typedef void (schalt_client_retry_fn) (void *arg, long attempt, long attempts, int status);

//  Sends command with id and json (on behalf of user and user_role, a
//  fifth frame, if user is not NULL) and waits up to timeout_ms for each of
//  attempts. Returns the reply (the caller destroys it), or NULL; outcome
//  says why. retry may be NULL.
schalt_envelope_t *schalt_client_request (schalt_client_t *self, const char *command,
                                          const char *id, const char *json, const char *user,
                                          const char *user_role, long timeout_ms, long attempts,
                                          schalt_client_retry_fn *retry, void *arg,
                                          schalt_client_outcome_t *outcome);

//  Self test.
void schalt_client_test (bool verbose);

#endif
