/*  notifier_smtp - the mailer and the one wrapper around libesmtp.
    See notifier_smtp.h for the outcomes and the actor's messages.
*/
#include "notifier_smtp.h"
#include "schalt.h"

#include <auth-client.h>
#include <dlfcn.h>
#include <libesmtp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>

//  libesmtp writes a message in buffers of a few KiB and leaves Nagle's
//  algorithm on: each buffer after the first then waits for the relay's
//  delayed acknowledgement (40 ms on Linux), and a message of 6 KiB (one
//  with its calendar entry) took a tenth of a second. libesmtp has no way
//  to set socket options, so this process's connect(2) sets TCP_NODELAY on
//  every TCP socket it connects (libzmq and hiredis set it themselves
//  anyway); it calls the C library's connect for the rest. (The
//  sanitizers' runtime defines connect too, as a weak symbol: this one
//  takes its place, and the C library's does the work as ever.)
int
connect (int fd, const struct sockaddr *address, socklen_t length)
{
    static int (*libc_connect) (int, const struct sockaddr *, socklen_t);
    if (!libc_connect)
        *(void **)&libc_connect = dlsym (RTLD_NEXT, "connect");
    int rc = libc_connect (fd, address, length);
    int saved = errno;
    if (address && (address->sa_family == AF_INET || address->sa_family == AF_INET6)) {
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one)); //  a UDP socket refuses it
    }
    errno = saved;
    return rc;
}

//  The SASL plugins are loaded once per process.
static pthread_once_t s_auth_once = PTHREAD_ONCE_INIT;

static void
s_auth_init (void)
{
    auth_client_init ();
}

//  What a session's callbacks see.
typedef struct {
    const notifier_smtp_config_t *config;
    char note[256]; //  why libesmtp gave up, when no SMTP reply says it
    //  The messages, to report each one the relay accepted at once
    notifier_smtp_message_t *messages;
    smtp_message_t *handles;
    smtp_recipient_t *recipients;
    size_t count;
    notifier_smtp_sent_fn *sent;
    void *argument;
} session_t;

//  --------------------------------------------------------------------------
//  Outcomes

notifier_outcome_t
notifier_smtp_outcome (int code)
{
    if (code >= 200 && code < 300)
        return NOTIFIER_SENT;
    if (code >= 500 && code < 600)
        return NOTIFIER_FAILED;
    return NOTIFIER_DEFERRED; //  4xx, no reply, or nonsense: try again later
}

const char *
notifier_smtp_outcome_name (notifier_outcome_t outcome)
{
    return outcome == NOTIFIER_SENT ? "sent" : outcome == NOTIFIER_FAILED ? "failed" : "deferred";
}

//  Copies a relay's text as one line of valid UTF-8 (schalt_text_line): a
//  relay may answer in Latin-1 or send any octet, and the text is stored
//  as JSON, shown and logged.
static void
s_copy_reply (char *target, size_t size, const char *text)
{
    text = text ? text : "";
    schalt_text_line (target, size, text, strlen (text));
}

//  Reads one message's outcome from libesmtp: the first step of MAIL FROM,
//  RCPT TO and the data whose reply was not 2xx decides it; a step without
//  a reply (code 0) means the session never got there.
static void
s_read_outcome (smtp_message_t message, smtp_recipient_t recipient, const char *why,
                notifier_smtp_message_t *result)
{
    const smtp_status_t *steps[] = {smtp_reverse_path_status (message),
                                    recipient ? smtp_recipient_status (recipient) : NULL,
                                    smtp_message_transfer_status (message)};
    for (size_t index = 0; index < 3; index++) {
        const smtp_status_t *status = steps[index];
        if (!status || status->code == 0) {
            result->outcome = NOTIFIER_DEFERRED;
            result->code = 0;
            s_copy_reply (result->reply, sizeof (result->reply), why);
            return;
        }
        if (status->code / 100 != 2 || index == 2) {
            result->outcome = notifier_smtp_outcome (status->code);
            result->code = status->code;
            s_copy_reply (result->reply, sizeof (result->reply), status->text);
            return;
        }
    }
}

//  --------------------------------------------------------------------------
//  Callbacks

//  libesmtp asks for the AUTH user name and password.
static int
s_interact (auth_client_request_t request, char **result, int fields, void *argument)
{
    const notifier_smtp_config_t *config = (const notifier_smtp_config_t *)argument;
    for (int index = 0; index < fields; index++) {
        if (request[index].flags & AUTH_USER)
            result[index] = (char *)config->user;
        else if (request[index].flags & AUTH_PASS)
            result[index] = (char *)config->password;
        else
            return 0; //  a realm, say: not something we have
    }
    return 1;
}

//  libesmtp reports events; those about TLS ask whether to go on (*ok).
//  Opportunistic STARTTLS takes any certificate: it is there to hide the
//  mail from a passive listener, not to prove who the relay is.
static void
s_event (smtp_session_t session, int event, void *argument, ...)
{
    (void)session;
    session_t *self = (session_t *)argument;
    va_list args;
    va_start (args, argument);
    int *ok = NULL;
    const char *note = NULL;
    switch (event) {
        case SMTP_EV_MESSAGESENT: {
            //  The relay took the message (2xx to its data): say so now, not
            //  after the session, so that a crash meanwhile resends less
            smtp_message_t message = va_arg (args, smtp_message_t);
            for (size_t index = 0; self->sent && index < self->count; index++)
                if (self->handles[index] == message) {
                    s_read_outcome (message, self->recipients[index], "", &self->messages[index]);
                    if (self->messages[index].outcome == NOTIFIER_SENT)
                        self->sent (index, &self->messages[index], self->argument);
                    break;
                }
            break;
        }
        case SMTP_EV_INVALID_PEER_CERTIFICATE:
            (void)va_arg (args, long);
            ok = va_arg (args, int *);
            note = "the relay's TLS certificate is not trusted";
            break;
        case SMTP_EV_NO_PEER_CERTIFICATE:
            ok = va_arg (args, int *);
            note = "the relay showed no TLS certificate";
            break;
        case SMTP_EV_WRONG_PEER_CERTIFICATE:
            ok = va_arg (args, int *);
            note = "the relay's TLS certificate is for another host";
            break;
        case SMTP_EV_WEAK_CIPHER:
            (void)va_arg (args, int);
            ok = va_arg (args, int *);
            note = "the relay offered only a weak TLS cipher";
            break;
        case SMTP_EV_EXTNA_STARTTLS:
            note = "the relay does not offer STARTTLS, which notifier/smtp/starttls requires";
            break;
        default:
            break;
    }
    if (ok)
        *ok = self->config->starttls == NOTIFIER_STARTTLS_OPPORTUNISTIC;
    if (note && !(ok && *ok))
        snprintf (self->note, sizeof (self->note), "%s", note);
    va_end (args);
}

//  --------------------------------------------------------------------------
//  A session

//  Sets up a session with everything but the messages. Returns NULL if
//  libesmtp refused a setting (out of memory, say).
static smtp_session_t
s_session_new (session_t *self, auth_context_t *auth_p)
{
    const notifier_smtp_config_t *config = self->config;
    smtp_session_t session = smtp_create_session ();
    if (!session)
        return NULL;
    char server[300];
    snprintf (server, sizeof (server), "%s:%d", config->host, config->port);
    enum starttls_option starttls =
        config->starttls == NOTIFIER_STARTTLS_REQUIRED        ? Starttls_REQUIRED
        : config->starttls == NOTIFIER_STARTTLS_OPPORTUNISTIC ? Starttls_ENABLED
                                                              : Starttls_DISABLED;
    //  libesmtp's calls return non-zero on success
    bool ok = smtp_set_server (session, server) && smtp_starttls_enable (session, starttls) &&
              smtp_set_eventcb (session, s_event, self);
    int steps[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA, Timeout_TRANSFER,
                   Timeout_DATA2};
    for (size_t index = 0; ok && index < sizeof (steps) / sizeof (steps[0]); index++)
        smtp_set_timeout (session, steps[index] | Timeout_OVERRIDE_RFC2822_MINIMUM,
                          config->timeout);
    if (ok && config->user[0]) {
        *auth_p = auth_create_context ();
        ok = *auth_p && auth_set_mechanism_flags (*auth_p, AUTH_PLUGIN_PLAIN, 0) &&
             auth_set_interact_cb (*auth_p, s_interact, (void *)config) &&
             smtp_auth_set_context (session, *auth_p);
    }
    if (!ok) {
        smtp_destroy_session (session);
        return NULL;
    }
    return session;
}

void
notifier_smtp_send (const notifier_smtp_config_t *config, notifier_smtp_message_t *messages,
                    size_t count)
{
    notifier_smtp_send_reporting (config, messages, count, NULL, NULL);
}

void
notifier_smtp_send_reporting (const notifier_smtp_config_t *config,
                              notifier_smtp_message_t *messages, size_t count,
                              notifier_smtp_sent_fn *sent, void *argument)
{
    assert (config && (messages || count == 0));
    if (count == 0)
        return;
    pthread_once (&s_auth_once, s_auth_init);
    smtp_message_t *handles = (smtp_message_t *)zmalloc (count * sizeof (smtp_message_t));
    smtp_recipient_t *recipients = (smtp_recipient_t *)zmalloc (count * sizeof (smtp_recipient_t));
    assert (handles && recipients);
    session_t self = {config, "", messages, handles, recipients, count, sent, argument};
    auth_context_t auth = NULL;
    smtp_session_t session = s_session_new (&self, &auth);
    bool ok = session != NULL;
    for (size_t index = 0; ok && index < count; index++) {
        handles[index] = smtp_add_message (session);
        ok = handles[index] && smtp_set_reverse_path (handles[index], config->sender) &&
             smtp_set_message_str (handles[index], (void *)messages[index].text);
        if (ok)
            recipients[index] = smtp_add_recipient (handles[index], messages[index].recipient);
        ok = ok && recipients[index];
    }
    //  Success here only means the session ran; each message says how it went
    char why[sizeof (messages->reply)] = "";
    if (ok && smtp_start_session (session) == 0) {
        char error[200];
        snprintf (why, sizeof (why), "no SMTP session with %s:%d: %s", config->host, config->port,
                  smtp_strerror (smtp_errno (), error, sizeof (error)));
    } else if (!ok)
        snprintf (why, sizeof (why), "libesmtp could not set up the session");
    if (self.note[0])
        snprintf (why, sizeof (why), "%s", self.note);
    else if (!why[0])
        snprintf (why, sizeof (why), "the relay ended the session before this message");
    for (size_t index = 0; index < count; index++) {
        if (handles[index])
            s_read_outcome (handles[index], recipients[index], why, &messages[index]);
        else {
            messages[index].outcome = NOTIFIER_DEFERRED;
            messages[index].code = 0;
            s_copy_reply (messages[index].reply, sizeof (messages[index].reply), why);
        }
    }
    if (session)
        smtp_destroy_session (session);
    if (auth)
        auth_destroy_context (auth);
    free (handles);
    free (recipients);
}

int
notifier_smtp_read_auth (const char *path, notifier_smtp_config_t *config, char *error, size_t size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, size, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    char user[sizeof (config->user) + 2] = "", password[sizeof (config->password) + 2] = "";
    bool read = fgets (user, sizeof (user), file) && fgets (password, sizeof (password), file);
    fclose (file);
    user[strcspn (user, "\r\n")] = 0;
    password[strcspn (password, "\r\n")] = 0;
    int rc = 0;
    if (!read || !user[0] || !password[0] || strlen (user) >= sizeof (config->user) ||
        strlen (password) >= sizeof (config->password)) {
        snprintf (error, size,
                  "%s must hold the user name on its first line and the password "
                  "on its second (each at most 255 characters)",
                  path);
        rc = -1;
    } else {
        memcpy (config->user, user, strlen (user) + 1); //  lengths checked above
        memcpy (config->password, password, strlen (password) + 1);
    }
    explicit_bzero (password, sizeof (password));
    return rc;
}

//  --------------------------------------------------------------------------
//  The mailer actor

//  What the mailer's callback needs to report a message.
typedef struct {
    zsock_t *pipe;
    char **ids;
    bool *reported;
} mailer_t;

//  Adds one result (id, outcome, code, reply) to msg.
static void
s_add_result (zmsg_t *msg, const char *id, const notifier_smtp_message_t *message)
{
    zmsg_addstr (msg, id);
    zmsg_addstr (msg, notifier_smtp_outcome_name (message->outcome));
    zmsg_addstrf (msg, "%d", message->code);
    zmsg_addstr (msg, message->reply);
}

//  The relay accepted a message: report it as ["RESULT", id, outcome, code, reply].
static void
s_report_sent (size_t index, const notifier_smtp_message_t *message, void *argument)
{
    mailer_t *self = (mailer_t *)argument;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "RESULT");
    s_add_result (msg, self->ids[index], message);
    zmsg_send (&msg, self->pipe);
    self->reported[index] = true;
}

//  Sends one batch [id, recipient, message]... Reports each message the
//  relay accepts as it does (RESULT), then the rest and the end (RESULTS).
static void
s_mail_batch (zsock_t *pipe, const notifier_smtp_config_t *config, zmsg_t *batch)
{
    size_t count = zmsg_size (batch) / 3;
    notifier_smtp_message_t *messages =
        (notifier_smtp_message_t *)zmalloc ((count ? count : 1) * sizeof (notifier_smtp_message_t));
    char **ids = (char **)zmalloc ((count ? count : 1) * sizeof (char *));
    bool *reported = (bool *)zmalloc ((count ? count : 1) * sizeof (bool));
    assert (messages && ids && reported);
    for (size_t index = 0; index < count; index++) {
        ids[index] = zmsg_popstr (batch);
        messages[index].recipient = zmsg_popstr (batch);
        messages[index].text = zmsg_popstr (batch);
    }
    mailer_t mailer = {pipe, ids, reported};
    notifier_smtp_send_reporting (config, messages, count, s_report_sent, &mailer);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "RESULTS");
    size_t outcomes[3] = {0, 0, 0};
    for (size_t index = 0; index < count; index++) {
        if (!reported[index])
            s_add_result (reply, ids[index], &messages[index]);
        outcomes[messages[index].outcome]++;
        zstr_free (&ids[index]);
        free ((char *)messages[index].recipient);
        free ((char *)messages[index].text);
    }
    schalt_log_debug ("smtp: session done messages=%zu sent=%zu deferred=%zu failed=%zu", count,
                      outcomes[NOTIFIER_SENT], outcomes[NOTIFIER_DEFERRED],
                      outcomes[NOTIFIER_FAILED]);
    zmsg_send (&reply, pipe);
    free (messages);
    free (ids);
    free (reported);
}

void
notifier_smtp_actor (zsock_t *pipe, void *config)
{
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg) {
            //  A signal (SIGTERM to the daemon) is not a reason to stop: $TERM is
            if (errno == EINTR)
                continue;
            break;
        }
        char *command = zmsg_popstr (msg);
        bool stop = !command || streq (command, "$TERM");
        if (command && streq (command, "SEND"))
            s_mail_batch (pipe, (const notifier_smtp_config_t *)config, msg);
        zstr_free (&command);
        zmsg_destroy (&msg);
        if (stop)
            break;
    }
}

//  --------------------------------------------------------------------------
//  Self test: a scripted SMTP server in a thread. RCPT TO an address with
//  "refuse" in it gets 550, with "later" 451; the data is answered with
//  data_code. With auth set, it offers AUTH PLAIN and wants "\0user\0secret".

typedef struct {
    int listener;
    int port;
    int data_code;
    bool auth;
    int sessions, messages;
    char last[4096]; //  the last message as received, dots unstuffed
    pthread_t thread;
    volatile bool stop;
} fake_t;

//  Reads one line (without CRLF) into line; returns false when the peer is gone.
static bool
s_fake_line (int peer, char *line, size_t size)
{
    size_t length = 0;
    char c;
    while (recv (peer, &c, 1, 0) == 1) {
        if (c == '\n') {
            if (length > 0 && line[length - 1] == '\r')
                length--;
            line[length] = 0;
            return true;
        }
        if (length + 1 < size)
            line[length++] = c;
    }
    return false;
}

static void
s_fake_say (int peer, const char *text)
{
    ssize_t sent = send (peer, text, strlen (text), MSG_NOSIGNAL);
    (void)sent;
}

//  Serves one SMTP connection.
static void
s_fake_session (fake_t *self, int peer)
{
    char line[1024];
    bool authenticated = !self->auth;
    int accepted = 0; //  recipients of the transaction in hand
    self->sessions++;
    s_fake_say (peer, "220 fake.example ESMTP\r\n");
    while (s_fake_line (peer, line, sizeof (line))) {
        if (!strncasecmp (line, "EHLO", 4))
            s_fake_say (peer, self->auth ? "250-fake.example\r\n250 AUTH PLAIN\r\n"
                                         : "250-fake.example\r\n250 HELP\r\n");
        else if (!strncasecmp (line, "AUTH PLAIN", 10)) {
            //  "\0user\0secret" in base64, as initial response or after 334
            if (strlen (line) <= 11) {
                s_fake_say (peer, "334 \r\n");
                if (!s_fake_line (peer, line + 11, sizeof (line) - 11))
                    break;
            }
            authenticated = streq (line + 11, "AHVzZXIAc2VjcmV0");
            s_fake_say (peer, authenticated ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad credentials\r\n");
        } else if (!strncasecmp (line, "MAIL FROM:", 10)) {
            accepted = 0;
            s_fake_say (peer,
                        authenticated ? "250 2.1.0 ok\r\n" : "530 5.7.0 authenticate first\r\n");
        } else if (!strncasecmp (line, "RCPT TO:", 8)) {
            bool refuse = strstr (line, "refuse"), later = strstr (line, "later");
            accepted += !refuse && !later;
            s_fake_say (peer, refuse  ? "550 5.1.1 <x>: no such user\r\n"
                              : later ? "451 4.3.0 try again later\r\n"
                                      : "250 2.1.5 ok\r\n");
        } else if (!strncasecmp (line, "DATA", 4) && accepted == 0)
            s_fake_say (peer, "554 5.5.1 no valid recipients\r\n");
        else if (!strncasecmp (line, "DATA", 4)) {
            s_fake_say (peer, "354 go ahead\r\n");
            size_t length = 0;
            while (s_fake_line (peer, line, sizeof (line)) && !streq (line, ".")) {
                const char *text = line[0] == '.' ? line + 1 : line; //  unstuff
                length += (size_t)snprintf (self->last + length, sizeof (self->last) - length,
                                            "%s\r\n", text);
                if (length >= sizeof (self->last))
                    length = sizeof (self->last) - 1;
            }
            self->messages++;
            accepted = 0;
            s_fake_say (peer, self->data_code == 250 ? "250 2.0.0 queued as 42\r\n"
                                                     : "451 4.7.1 greylisted, come back later\r\n");
        } else if (!strncasecmp (line, "QUIT", 4)) {
            s_fake_say (peer, "221 bye\r\n");
            break;
        } else {
            accepted = 0; //  RSET (and NOOP, which resets nothing in a real server)
            s_fake_say (peer, "250 ok\r\n");
        }
    }
}

static void *
s_fake_thread (void *argument)
{
    fake_t *self = (fake_t *)argument;
    while (!self->stop) {
        struct pollfd ready = {self->listener, POLLIN, 0};
        if (poll (&ready, 1, 50) <= 0)
            continue;
        int peer = accept (self->listener, NULL, NULL);
        if (peer >= 0) {
            s_fake_session (self, peer);
            close (peer);
        }
    }
    return NULL;
}

static void
s_fake_start (fake_t *self, int data_code, bool auth)
{
    memset (self, 0, sizeof (*self));
    self->data_code = data_code;
    self->auth = auth;
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    assert (self->listener >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t size = sizeof (address);
    int rc = bind (self->listener, (struct sockaddr *)&address, size);
    assert (rc == 0);
    rc = listen (self->listener, 4);
    assert (rc == 0);
    getsockname (self->listener, (struct sockaddr *)&address, &size);
    self->port = ntohs (address.sin_port);
    rc = pthread_create (&self->thread, NULL, s_fake_thread, self);
    assert (rc == 0);
}

static void
s_fake_stop (fake_t *self)
{
    self->stop = true;
    pthread_join (self->thread, NULL);
    close (self->listener);
}

void
notifier_smtp_test (bool verbose)
{
    printf (" * notifier_smtp: ");
    if (verbose)
        printf ("\n");
    assert (notifier_smtp_outcome (250) == NOTIFIER_SENT);
    assert (notifier_smtp_outcome (451) == NOTIFIER_DEFERRED);
    assert (notifier_smtp_outcome (0) == NOTIFIER_DEFERRED);
    assert (notifier_smtp_outcome (554) == NOTIFIER_FAILED);
    const char *text = "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n"
                       "Message-ID: <ntc-1@example.org>\r\nDate: Sat, 13 Mar 2027 10:00:00 +0100"
                       "\r\n\r\nline one\r\n.hidden dot\r\n";
    notifier_smtp_config_t config = {.host = "127.0.0.1",
                                     .starttls = NOTIFIER_STARTTLS_OPPORTUNISTIC,
                                     .timeout = 5000,
                                     .sender = "bildungsbuero@example.org"};

    //  Nobody listening: deferred, code 0, and why
    config.port = schalt_test_free_port ();
    notifier_smtp_message_t one = {"anna@example.org", text, NOTIFIER_SENT, 0, ""};
    notifier_smtp_send (&config, &one, 1);
    assert (one.outcome == NOTIFIER_DEFERRED && one.code == 0);
    assert (strstr (one.reply, "no SMTP session"));

    //  One session, three messages: accepted, refused (550), deferred (451)
    fake_t fake;
    s_fake_start (&fake, 250, false);
    config.port = fake.port;
    notifier_smtp_message_t three[] = {{"anna@example.org", text, NOTIFIER_FAILED, 0, ""},
                                       {"refuse@example.org", text, NOTIFIER_SENT, 0, ""},
                                       {"later@example.org", text, NOTIFIER_SENT, 0, ""}};
    notifier_smtp_send (&config, three, 3);
    assert (three[0].outcome == NOTIFIER_SENT && three[0].code == 250);
    assert (streq (three[0].reply, "2.0.0 queued as 42"));
    assert (three[1].outcome == NOTIFIER_FAILED && three[1].code == 550);
    assert (streq (three[1].reply, "5.1.1 <x>: no such user"));
    assert (three[2].outcome == NOTIFIER_DEFERRED && three[2].code == 451);
    assert (fake.sessions == 1 && fake.messages == 1);
    //  libesmtp added no header of its own (we give them all), and stuffed the dot
    assert (strstr (fake.last, "\r\n.hidden dot\r\n"));
    assert (strstr (fake.last, "Message-ID: <ntc-1@example.org>"));
    assert (!strstr (fake.last, "Message-Id:") &&
            !strstr (strstr (fake.last, "Message-ID") + 1, "Message-ID"));

    //  STARTTLS required, not offered: deferred with the reason
    config.starttls = NOTIFIER_STARTTLS_REQUIRED;
    notifier_smtp_send (&config, &one, 1);
    assert (one.outcome == NOTIFIER_DEFERRED && one.code == 0);
    assert (strstr (one.reply, "STARTTLS"));
    config.starttls = NOTIFIER_STARTTLS_NONE;
    s_fake_stop (&fake);

    //  The relay defers the data (greylisting): deferred with its text
    s_fake_start (&fake, 451, false);
    config.port = fake.port;
    notifier_smtp_send (&config, &one, 1);
    assert (one.outcome == NOTIFIER_DEFERRED && one.code == 451);
    assert (strstr (one.reply, "greylisted"));
    s_fake_stop (&fake);

    //  AUTH PLAIN from an auth file; without it the relay refuses the sender
    s_fake_start (&fake, 250, true);
    config.port = fake.port;
    notifier_smtp_send (&config, &one, 1);
    assert (one.outcome == NOTIFIER_FAILED && one.code == 530);
    char *dir = schalt_test_tempdir ("notifier-smtp");
    char *path = zsys_sprintf ("%s/auth", dir);
    char error[256];
    assert (notifier_smtp_read_auth (path, &config, error, sizeof (error)) == -1);
    FILE *file = fopen (path, "w");
    fputs ("user\n", file);
    fclose (file);
    assert (notifier_smtp_read_auth (path, &config, error, sizeof (error)) == -1);
    assert (!strstr (error, "user\n"));
    file = fopen (path, "w");
    fputs ("user\nsecret\n", file);
    fclose (file);
    assert (notifier_smtp_read_auth (path, &config, error, sizeof (error)) == 0);
    assert (streq (config.user, "user") && streq (config.password, "secret"));
    notifier_smtp_send (&config, &one, 1);
    assert (one.outcome == NOTIFIER_SENT && one.code == 250);

    //  The actor: a batch in, its results out
    zactor_t *mailer = zactor_new (notifier_smtp_actor, &config);
    zmsg_t *batch = zmsg_new ();
    zmsg_addstr (batch, "SEND");
    zmsg_addstr (batch, "ntc-1");
    zmsg_addstr (batch, "anna@example.org");
    zmsg_addstr (batch, text);
    zmsg_addstr (batch, "ntc-2");
    zmsg_addstr (batch, "refuse@example.org");
    zmsg_addstr (batch, text);
    zmsg_send (&batch, mailer);
    //  The accepted message is reported as the relay takes it, the refused
    //  one at the end of the session, which the RESULTS mark
    const char *expect[][5] = {{"RESULT", "ntc-1", "sent", "250", NULL},
                               {"RESULTS", "ntc-2", "failed", "550", NULL}};
    for (size_t message = 0; message < 2; message++) {
        zmsg_t *results = zmsg_recv (mailer);
        assert (results && zmsg_size (results) == 5);
        for (size_t index = 0; index < 4; index++) {
            char *frame = zmsg_popstr (results);
            assert (streq (frame, expect[message][index]));
            zstr_free (&frame);
        }
        zmsg_destroy (&results);
    }
    zactor_destroy (&mailer);
    s_fake_stop (&fake);
    zstr_free (&path);
    schalt_test_rmtree (dir);
    zstr_free (&dir);
    printf ("OK\n");
}
