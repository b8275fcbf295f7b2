/*  notifier_delivery - the notifier's delivery loop.

    A job of the common worker (schalt_worker): its own thread, zloop and
    Redis connection, so that the server's loop only answers requests; its
    counters reach status as the worker's figures. Every tick (200 ms) it renews the
    delivery lock and, unless a batch is still at the mailer, claims up to
    notifier/batch due notices (a script makes them 'sending'), renders each
    (notifier_template, notifier_mail) and hands the batch to the mailer
    actor (notifier_smtp), which sends it in one SMTP session and reports
    each message the relay accepts at once. Results are recorded as they
    come, all that have come with one script call: sent; failed (5xx, or a notice that cannot be
    rendered: no attempt, a reason); deferred (4xx, no connection), due again
    after notifier/retry/first seconds, doubling up to an hour, until
    notifier/retry/give_up seconds after the notice was made: then failed.
    A result that cannot be recorded (Redis down) is kept and recorded at
    the next tick.

    The window for a duplicate e-mail: a notifier that dies after the relay
    accepted a message and before its result is recorded (a Redis round trip
    later) leaves the notice 'sending'. The next notifier takes the lock over once it expires (10 s)
    and sends the notice again, with the same Message-ID. A clean stop
    (SIGTERM) waits for the batch at the mailer and records it first.
*/
#ifndef NOTIFIER_DELIVERY_H_INCLUDED
#define NOTIFIER_DELIVERY_H_INCLUDED

#include "notifier_smtp.h"
#include "schalt.h"

//  Everything the delivery needs from the configuration, copied, so that
//  its threads share nothing with the server's.
typedef struct {
    char templates[4096];
    char timezone[64];
    char from_address[256];
    char from_name[1024];      //  200 characters of UTF-8
    char office_contact[2048]; //  500 characters of UTF-8
    int batch;
    long retry_first; //  seconds
    long give_up;     //  seconds
    notifier_smtp_config_t smtp;
} notifier_settings_t;

//  Starts the delivery loop and its mailer as a worker of server (which
//  stops it after the batch at the mailer is recorded, and shows "notices",
//  how many in each state at the last tick, and "delivery", its state and
//  counters since start, in status). settings is copied. Returns 0, or -1
//  if the loop could not start (it has logged why).
int notifier_delivery_start (schalt_server_t *server, const notifier_settings_t *settings);

//  Seconds to wait after the n-th deferral in a row (n >= 1): first,
//  doubling each time, at most an hour.
long notifier_delivery_backoff (long first, int deferrals);

//  Self test of what can be tested without servers (the backoff).
void notifier_delivery_test (bool verbose);

#endif
