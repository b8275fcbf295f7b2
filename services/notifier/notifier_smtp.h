/*  notifier_smtp - the mailer: hands messages to the SMTP relay with libesmtp.

    libesmtp's quirks are absorbed here and nowhere else. smtp_start_session
    returns non-zero on success, and a session "succeeds" even when the relay
    refused the sender, a recipient or the message: the outcome of each
    message is read from its reverse-path status (MAIL FROM), its recipient's
    status (RCPT TO) and its transfer status (the reply to the data), in that
    order. A reply code of 0 means the step was never reached (no connection,
    no STARTTLS, the session broke off); the reason is then libesmtp's error.

    Outcomes: 2xx sent; 5xx failed (permanent); 4xx, and any failure to
    talk to the relay, deferred (try again later).

    The mailer actor does the blocking work in its own thread, so the
    daemon's loops keep answering: it takes
        ["SEND", id, recipient, message, id, recipient, message, ...]
    and sends them in one SMTP session. Each message the relay accepts is
    reported at once, so that the daemon can record it before the session
    ends (a crash then resends fewer messages):
        ["RESULT", id, "sent", code, reply]
    and when the session is over, every message not reported yet, which
    also ends the batch:
        ["RESULTS", id, outcome, code, reply, id, outcome, code, reply, ...]
    with outcome "sent", "deferred" or "failed", code the SMTP reply code as
    decimal text ("0" if none) and reply the relay's text.
*/
#ifndef NOTIFIER_SMTP_H_INCLUDED
#define NOTIFIER_SMTP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef enum {
    NOTIFIER_STARTTLS_NONE,          //  never, even if offered
    NOTIFIER_STARTTLS_OPPORTUNISTIC, //  if offered; any certificate
    NOTIFIER_STARTTLS_REQUIRED       //  always, with a certificate the system trusts
} notifier_starttls_t;

//  How to reach the relay.
typedef struct {
    char host[256];
    int port;
    notifier_starttls_t starttls;
    char user[256];     //  empty: no SMTP AUTH
    char password[256]; //  with user
    long timeout;       //  milliseconds for each reply
    char sender[256];   //  the envelope sender (MAIL FROM)
} notifier_smtp_config_t;

typedef enum { NOTIFIER_SENT, NOTIFIER_DEFERRED, NOTIFIER_FAILED } notifier_outcome_t;

//  One message of a session, and afterwards its result.
typedef struct {
    const char *recipient; //  envelope recipient (RCPT TO)
    const char *text;      //  the whole message, CRLF line ends
    notifier_outcome_t outcome;
    int code;        //  the deciding SMTP reply code, 0 if none came
    char reply[512]; //  the relay's text, or why there was no reply
} notifier_smtp_message_t;

//  Sends count messages in one SMTP session and fills in each result.
//  Blocks for as long as the relay takes (each reply bounded by the timeout).
void notifier_smtp_send (const notifier_smtp_config_t *config, notifier_smtp_message_t *messages,
                         size_t count);

//  Called during notifier_smtp_send_reporting for each message the relay
//  has accepted, with its index and its result (filled in already).
typedef void (notifier_smtp_sent_fn) (size_t index, const notifier_smtp_message_t *message,
                                      void *argument);

//  The same, and calls sent for each message as soon as the relay accepts it.
void notifier_smtp_send_reporting (const notifier_smtp_config_t *config,
                                   notifier_smtp_message_t *messages, size_t count,
                                   notifier_smtp_sent_fn *sent, void *argument);

//  The outcome a reply code means.
notifier_outcome_t notifier_smtp_outcome (int code);

//  The outcome's name: "sent", "deferred" or "failed".
const char *notifier_smtp_outcome_name (notifier_outcome_t outcome);

//  Reads an AUTH file: the user name on the first line, the password on the
//  second. Returns 0, or -1 with why in error[size] (never the contents).
int notifier_smtp_read_auth (const char *path, notifier_smtp_config_t *config, char *error,
                             size_t size);

//  The mailer actor: zactor_new (notifier_smtp_actor, config); config is
//  borrowed and must outlive the actor.
void notifier_smtp_actor (zsock_t *pipe, void *config);

//  Self test against a scripted SMTP server in a thread of its own.
void notifier_smtp_test (bool verbose);

#endif
