/*  registration-burst - how fast the registry takes a burst of registrations for one
    session, how late their e-mails reach an SMTP server, and whether every seat and
    waitlist place came out right.

    One run starts everything it needs on loopback, in a temporary folder: its own
    redis-server with the deployed configuration (deploy/redis.conf: AOF, fsync always,
    noeviction), an SMTP sink (postfix's smtp-sink if installed, keeping each message in
    a file under /dev/shm; else tests/bench/smtp_sink.py, python3-aiosmtpd), and the
    daemons found next to this binary (schalt-scheduler, schalt-registry and, if built,
    schalt-notifier). It creates an event and one session through the scheduler, waits
    until the registry has the session's facts, then fires K registrations from C
    client threads, each a closed loop over its own DEALER. It checks the outcome
    (registration.list), waits for the K e-mails, then runs two phases of a
    registration's later life: the first confirmed (up to the capacity) cancel at
    once, each promoting the first waiting (checked: exactly those), and K/2 people
    book three new sessions each in one request (checked: all booked, none over
    capacity). It measures Redis's own limit for the registration script, for one
    session and for three, with redis-benchmark, and prints the figures. Everything it started is
    stopped by pid at the end, also after a failure, and the folders are removed.

    Run it by hand (it is not part of ctest; figures depend on the machine), best
    through tests/bench/run, which installs postfix (unconfigured) and builds first:

        tests/bench/run -n 2000 -c 50
        build/bin/registration-burst -n 2000 -c 50 -s 100 --no-mail

    Exit status: 0 the run was correct, 1 the correctness check failed, 2 usage
    error, 3 the run could not be set up (a server did not start).
*/
#include "bench.h"

#include <sodium.h>

#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_WRONG 1 //  the correctness check failed
#define EXIT_USAGE 2
#define EXIT_SETUP 3          //  a server did not start, a request was refused
#define MAIL_TIMEOUT 120      //  seconds to wait for every e-mail
#define REQUEST_TIMEOUT 10000 //  milliseconds per attempt of one request
#define STOP_TIMEOUT 5000     //  milliseconds from SIGTERM to SIGKILL
#define PROBLEMS_SHOWN 10     //  problems the check prints
#define BENCHMARK_RUNS 3      //  runs of redis-benchmark, the median counts

//  The processes a run starts, in start order (stopped in reverse)
enum { P_REDIS, P_SINK, P_SCHEDULER, P_REGISTRY, P_NOTIFIER, P_COUNT };
static const char *s_names[P_COUNT] = {"redis", "sink", "scheduler", "registry", "notifier"};

//  One registration request: what the client saw
typedef struct {
    double sent, replied; //  monotonic seconds
    double acked;         //  wall-clock seconds of the reply (for the mail delay)
    double mailed;        //  wall-clock seconds the sink accepted its e-mail, or 0
    int status;           //  the reply's status; 0 not sent, -1 no reply
    int position;         //  waitlist position in the reply; 0 if confirmed
    bool confirmed;
    char id[48]; //  registration id
} result_t;

//  One run
typedef struct {
    int count, clients, capacity; //  the options
    bool mail;                    //  start the notifier and the sink
    bool smtp_sink;               //  the sink is postfix's smtp-sink
    char *mail_dir;               //  where it keeps each message: in memory if it can
    const char *no_mail;          //  why not, if not
    char *dir;                    //  temporary folder
    char bindir[PATH_MAX];        //  where this binary and the daemons are
    int port[P_COUNT];            //  TCP port: Redis, sink, daemons' ROUTERs
    int events_port[P_COUNT];     //  the daemons' PUB ports
    pid_t pid[P_COUNT];
    char endpoint[P_COUNT][64];
    bool curve_on;         //  --curve on (the default) or off (a test configuration)
    schalt_curve_t *curve; //  the benchmark's key and the daemons' (made in dir/keys)
    char session[48];
    char event[32];
    //  The burst
    result_t *results;
    pthread_barrier_t barrier;
    atomic_int next, started, client_failures;
    double rate;             //  registrations per second
    double cpu[P_COUNT + 1]; //  CPU seconds of each process (and ours) at the start
    FILE *report;            //  the figures, printed at the end
    char *report_text;
    size_t report_size;
    bool correct;
    int problems; //  found by the check
} burst_t;

//  Adds one line of figures: a label and printf-formatted text.
static void __attribute__ ((format (printf, 3, 4)))
s_figure (burst_t *self, const char *label, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (self->report, "  %-22s ", label);
    vfprintf (self->report, format, args);
    fprintf (self->report, "\n");
    va_end (args);
}

//  Progress and trouble go to stderr; the figures to stdout at the end.
#define say(...) fprintf (stderr, "registration-burst: " __VA_ARGS__)

//  --------------------------------------------------------------------------
//  Starting the servers

//  Returns true if path is a setting in this build (and value one of its
//  choices, for an enumeration): other settings would stop every daemon.
static bool
s_setting_known (const char *path, const char *value)
{
    for (int index = 0; schalt_settings[index].path; index++) {
        const schalt_setting_t *setting = &schalt_settings[index];
        if (!streq (setting->path, path))
            continue;
        if (setting->type != SCHALT_SETTING_ENUM)
            return true;
        //  "none|opportunistic|required": look for |value|
        char choices[256], wanted[96];
        snprintf (choices, sizeof (choices), "|%s|", setting->choices);
        snprintf (wanted, sizeof (wanted), "|%s|", value);
        return strstr (choices, wanted) != NULL;
    }
    return false;
}

//  Appends SCHALT_<PATH>=value to env (at *count) if the setting exists.
static void
s_env_add (char **env, int *count, const char *path, const char *value)
{
    if (!s_setting_known (path, value))
        return;
    char *entry = zsys_sprintf ("SCHALT_%s=%s", path, value);
    for (char *c = entry + 7; *c != '='; c++)
        *c = *c == '/' ? '_' : (char)toupper ((unsigned char)*c);
    env[(*count)++] = entry;
}

//  Returns the daemons' environment: ours without SCHALT_ variables, no
//  configuration file, every endpoint and port on loopback. Free with
//  s_env_destroy.
static char **
s_env_new (burst_t *self)
{
    extern char **environ;
    int size = 0;
    while (environ[size])
        size++;
    char **env = (char **)zmalloc ((size_t)(size + 32) * sizeof (char *));
    int count = 0;
    for (int index = 0; index < size; index++)
        if (strncmp (environ[index], "SCHALT_", 7) != 0)
            env[count++] = strdup (environ[index]);
    env[count++] = strdup ("SCHALT_CONFIG=");
    s_env_add (env, &count, "schaltstelle/log_level", "warning");
    //  The keys that sign the links in e-mails: one of this run's, mode 600
    char *keys = zsys_sprintf ("%s/token.keys", self->dir);
    FILE *file = fopen (keys, "w");
    if (file) {
        unsigned char secret[32];
        randombytes_buf (secret, sizeof (secret));
        fprintf (file, "1 ");
        for (size_t index = 0; index < sizeof (secret); index++)
            fprintf (file, "%02x", secret[index]);
        fprintf (file, "\n");
        fclose (file);
        chmod (keys, 0600);
    }
    if (s_setting_known ("schaltstelle/token_keys", keys))
        s_env_add (env, &count, "schaltstelle/token_keys", keys);
    zstr_free (&keys);
    //  The CURVE keys: the daemons', and the benchmark's own (an admin's)
    char *folder = zsys_sprintf ("%s/keys", self->dir);
    s_env_add (env, &count, "schaltstelle/keys", folder);
    zstr_free (&folder);
    if (!self->curve_on) {
        s_env_add (env, &count, "schaltstelle/curve", "off");
        s_env_add (env, &count, "schaltstelle/test_clock", "settable");
    }
    //  Each daemon reads every section: all get the same settings
    for (int which = P_SCHEDULER; which <= P_NOTIFIER; which++) {
        char path[64], value[64];
        snprintf (path, sizeof (path), "%s/endpoint", s_names[which]);
        s_env_add (env, &count, path, self->endpoint[which]);
        snprintf (path, sizeof (path), "%s/events", s_names[which]);
        snprintf (value, sizeof (value), "tcp://127.0.0.1:%d", self->events_port[which]);
        s_env_add (env, &count, path, value);
        snprintf (path, sizeof (path), "%s/redis/port", s_names[which]);
        snprintf (value, sizeof (value), "%d", self->port[P_REDIS]);
        s_env_add (env, &count, path, value);
        char *certificate = zsys_sprintf ("%s/secret/%s.key", self->dir, s_names[which]);
        snprintf (path, sizeof (path), "%s/certificate", s_names[which]);
        s_env_add (env, &count, path, certificate);
        zstr_free (&certificate);
    }
    //  The notifier's SMTP relay is the sink, in plain text (if these exist)
    char sink[16];
    snprintf (sink, sizeof (sink), "%d", self->port[P_SINK]);
    if (self->mail) {
        s_env_add (env, &count, "notifier/smtp/host", "127.0.0.1");
        s_env_add (env, &count, "notifier/smtp/port", sink);
        s_env_add (env, &count, "notifier/smtp/starttls", "none");
    }
    return env;
}

//  A DEALER to one daemon, with the benchmark's key (CURVE unless --curve off).
static zsock_t *
s_dealer (burst_t *self, int which)
{
    char error[512] = "";
    zsock_t *dealer =
        schalt_curve_client (self->curve, ZMQ_DEALER, s_names[which], error, sizeof (error));
    if (!dealer) {
        say ("%s\n", error);
        return NULL;
    }
    zsock_connect (dealer, "%s", self->endpoint[which]);
    return dealer;
}

//  Frees what s_env_new returned.
static void
s_env_destroy (char ***env_p)
{
    for (char **entry = *env_p; entry && *entry; entry++)
        free (*entry);
    free (*env_p);
    *env_p = NULL;
}

//  Starts one daemon and waits until it answers `status`. Returns 0 or -1.
static int
s_start_daemon (burst_t *self, int which, char **env)
{
    char program[PATH_MAX + 32], log_path[PATH_MAX];
    snprintf (program, sizeof (program), "%s/schalt-%s", self->bindir, s_names[which]);
    snprintf (log_path, sizeof (log_path), "%s/%s.log", self->dir, s_names[which]);
    const char *argv[] = {program, NULL};
    self->pid[which] = schalt_test_spawn (argv, env, log_path);
    zsock_t *dealer = s_dealer (self, which);
    assert (dealer);
    zsock_set_linger (dealer, 0);
    //  Ask every 200 ms; a status reply means it runs and reaches Redis
    int status = -1;
    for (int attempt = 0; attempt < 75 && status != 200 && !zsys_interrupted; attempt++) {
        if (!bench_alive (self->pid[which]))
            break;
        char id[32];
        snprintf (id, sizeof (id), "ready-%d", attempt);
        status = bench_request (dealer, "status", id, "{}", 200, 1, NULL);
    }
    zsock_destroy (&dealer);
    if (status == 200)
        return 0;
    say ("%s did not answer status\n", s_names[which]);
    bench_tail (log_path, 15);
    return -1;
}

//  --------------------------------------------------------------------------
//  The SMTP sink: postfix's smtp-sink if installed (C, one process, little
//  CPU: the sink shares the two cores with everything measured), else
//  tests/bench/smtp_sink.py (python3-aiosmtpd). Either way the run ends
//  with <dir>/mail.txt, one line "<unix time> <Message-ID>" per message.

#define SMTP_SINK "/usr/sbin/smtp-sink"

//  The name of the user this runs as (smtp-sink's -u).
static const char *
s_user_name (void)
{
    struct passwd *user = getpwuid (geteuid ());
    return user ? user->pw_name : "nobody";
}

//  Starts the sink. Returns 0 or -1.
static int
s_sink_start (burst_t *self)
{
    char port[16], listen[32], out[PATH_MAX], log_path[PATH_MAX];
    snprintf (port, sizeof (port), "%d", self->port[P_SINK]);
    snprintf (log_path, sizeof (log_path), "%s/sink.log", self->dir);
    self->smtp_sink = access (SMTP_SINK, X_OK) == 0;
    if (self->smtp_sink) {
        //  A file per message costs the sink less CPU in memory (tmpfs) than on disk
        self->mail_dir = strdup ("/dev/shm/registration-burst-mail-XXXXXX");
        if (!mkdtemp (self->mail_dir)) {
            free (self->mail_dir);
            self->mail_dir = zsys_sprintf ("%s/mail", self->dir);
        }
        //  Each message to its own file, mail/m.<random>, whose last change is
        //  the moment the sink took the final dot; -u is required as root
        snprintf (listen, sizeof (listen), "127.0.0.1:%d", self->port[P_SINK]);
        snprintf (out, sizeof (out), "%s/m.", self->mail_dir);
        const char *argv[] = {SMTP_SINK, "-u",        geteuid () == 0 ? "root" : s_user_name (),
                              "-h",      "localhost", "-d",
                              out,       listen,      "256",
                              NULL};
        self->pid[P_SINK] = schalt_test_spawn (argv, NULL, log_path);
    } else {
        char script[PATH_MAX];
        snprintf (script, sizeof (script), "%s/tests/bench/smtp_sink.py", BENCH_SOURCE_DIR);
        snprintf (out, sizeof (out), "%s/mail.txt", self->dir);
        const char *argv[] = {"/usr/bin/python3", script, port, out, NULL};
        self->pid[P_SINK] = schalt_test_spawn (argv, NULL, log_path);
    }
    if (bench_wait_port (self->port[P_SINK], self->pid[P_SINK], 15000) != 0) {
        say ("the SMTP sink did not start\n");
        bench_tail (log_path, 15);
        return -1;
    }
    return 0;
}

//  The number of messages the sink has taken so far.
static int
s_sink_count (burst_t *self)
{
    char path[PATH_MAX];
    if (!self->smtp_sink) {
        snprintf (path, sizeof (path), "%s/mail.txt", self->dir);
        return bench_count_lines (path);
    }
    return bench_count_files (self->mail_dir);
}

//  The Message-ID of a message file (its token, unfolded), or "<none>".
static void
s_message_id (const char *path, char *token, size_t size)
{
    snprintf (token, size, "<none>");
    FILE *file = fopen (path, "r");
    char line[1024];
    bool found = false;
    while (file && fgets (line, sizeof (line), file)) {
        if (line[0] == '\r' || line[0] == '\n')
            break; //  the end of the header
        char value[256];
        if (strncasecmp (line, "Message-ID:", 11) == 0)
            found = true;
        else if (!found || (line[0] != ' ' && line[0] != '\t'))
            continue;
        if (sscanf (line + (line[0] == ' ' || line[0] == '\t' ? 0 : 11), "%255s", value) == 1) {
            snprintf (token, size, "%s", value);
            break;
        }
    }
    if (file)
        fclose (file);
}

//  Turns smtp-sink's message files into mail.txt lines. Returns 0 or -1.
static int
s_sink_collect (burst_t *self)
{
    if (!self->smtp_sink)
        return 0;
    char path[PATH_MAX * 2], token[256];
    const char *folder = self->mail_dir;
    snprintf (path, sizeof (path), "%s/mail.txt", self->dir);
    FILE *out = fopen (path, "w");
    DIR *dir = opendir (folder);
    if (!out || !dir) {
        if (out)
            fclose (out);
        if (dir)
            closedir (dir);
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf (path, sizeof (path), "%s/%s", folder, entry->d_name);
        struct stat info;
        if (stat (path, &info) != 0)
            continue;
        s_message_id (path, token, sizeof (token));
        fprintf (out, "%.6f %s\n", info.st_mtim.tv_sec + info.st_mtim.tv_nsec / 1e9, token);
    }
    closedir (dir);
    fclose (out);
    return 0;
}

//  Starts Redis, the sink and the daemons. Returns 0, or -1 (what started
//  is stopped later by s_stop_all).
static int
s_start_all (burst_t *self)
{
    for (int which = 0; which < P_COUNT; which++) {
        self->port[which] = schalt_test_free_port ();
        self->events_port[which] = schalt_test_free_port ();
        snprintf (self->endpoint[which], sizeof (self->endpoint[which]), "tcp://127.0.0.1:%d",
                  self->port[which]);
    }
    self->pid[P_REDIS] = bench_redis_start (self->port[P_REDIS], self->dir);
    if (self->pid[P_REDIS] < 0) {
        say ("redis-server did not start\n");
        return -1;
    }
    if (self->mail && s_sink_start (self) != 0)
        return -1;
    char **env = s_env_new (self);
    int rc = 0;
    for (int which = P_SCHEDULER; which <= P_NOTIFIER && rc == 0; which++)
        if (which != P_NOTIFIER || self->mail)
            rc = s_start_daemon (self, which, env);
    s_env_destroy (&env);
    return rc;
}

//  Stops everything that was started, the last first, by pid.
static void
s_stop_all (burst_t *self)
{
    for (int which = P_COUNT - 1; which >= 0; which--)
        if (self->pid[which] > 0) {
            bench_stop (self->pid[which], STOP_TIMEOUT);
            self->pid[which] = 0;
        }
}

//  --------------------------------------------------------------------------
//  The event and its session

//  Sends one request to a daemon on a fresh DEALER; returns the status and
//  the reply body (caller's) in *body_p.
static int
s_ask (burst_t *self, int which, const char *command, const char *json, json_t **body_p)
{
    zsock_t *dealer = s_dealer (self, which);
    assert (dealer);
    zsock_set_linger (dealer, 0);
    char id[32];
    schalt_id_make ("rb", id, sizeof (id));
    int status = bench_request (dealer, command, id, json, REQUEST_TIMEOUT, 3, body_p);
    zsock_destroy (&dealer);
    return status;
}

//  Creates an event and one session, then waits until the registry has the
//  session's facts (the scheduler's outbox delivers them). Returns 0 or -1.
static int
s_create_session (burst_t *self)
{
    json_t *body = NULL;
    int status = s_ask (self, P_SCHEDULER, "event.create",
                        "{\"kind\":\"day-of-education\",\"title\":\"Tag der Bildung 2027\","
                        "\"place\":\"Gymnasium Pulheim\",\"start\":\"2027-03-13T09:00:00+01:00\","
                        "\"end\":\"2027-03-13T16:00:00+01:00\"}",
                        &body);
    const char *event = json_string_value (json_object_get (json_object_get (body, "event"), "id"));
    snprintf (self->event, sizeof (self->event), "%s", event ? event : "");
    char request[512];
    snprintf (request, sizeof (request),
              "{\"event\":\"%s\",\"title\":\"Burst\",\"room\":\"A101\","
              "\"start\":\"2027-03-13T10:00:00+01:00\",\"end\":\"2027-03-13T11:30:00+01:00\","
              "\"capacity\":%d}",
              event ? event : "", self->capacity);
    json_decref (body);
    body = NULL;
    if (status != 201 || !event) {
        say ("event.create answered %d\n", status);
        return -1;
    }
    status = s_ask (self, P_SCHEDULER, "session.create", request, &body);
    const char *session =
        json_string_value (json_object_get (json_object_get (body, "session"), "id"));
    snprintf (self->session, sizeof (self->session), "%s", session ? session : "");
    json_decref (body);
    if (status != 201 || !session) {
        say ("session.create answered %d\n", status);
        return -1;
    }
    //  The registry answers 404 until the facts have arrived
    snprintf (request, sizeof (request), "{\"session\":\"%s\"}", self->session);
    for (int attempt = 0; attempt < 150 && !zsys_interrupted; attempt++) {
        if (s_ask (self, P_REGISTRY, "registration.list", request, NULL) == 200)
            return 0;
        zclock_sleep (100);
    }
    say ("the registry never learnt of session %s\n", self->session);
    return -1;
}

//  --------------------------------------------------------------------------
//  The burst: C clients, each a closed loop over its own DEALER

//  Keeps what a registration.create reply says about the registration.
static void
s_take_reply (result_t *result, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    const char *id = json_string_value (json_object_get (registration, "id"));
    const char *status = json_string_value (json_object_get (registration, "status"));
    snprintf (result->id, sizeof (result->id), "%s", id ? id : "");
    result->confirmed = status && streq (status, "confirmed");
    result->position = (int)json_integer_value (json_object_get (registration, "position"));
}

//  One client thread. Returns NULL.
static void *
s_client (void *args)
{
    burst_t *self = (burst_t *)args;
    int index = atomic_fetch_add (&self->started, 1);
    zsock_t *dealer = s_dealer (self, P_REGISTRY);
    //  A status request first, so the connection is up before the clock runs
    char id[32], json[256];
    snprintf (id, sizeof (id), "warm-%d", index);
    bool ready = dealer && bench_request (dealer, "status", id, "{}", 5000, 2, NULL) == 200;
    if (!ready)
        atomic_fetch_add (&self->client_failures, 1);
    pthread_barrier_wait (&self->barrier);

    for (int n;
         ready && !zsys_interrupted && (n = atomic_fetch_add (&self->next, 1)) < self->count;) {
        result_t *result = &self->results[n];
        snprintf (id, sizeof (id), "rb-%d", n);
        snprintf (json, sizeof (json),
                  "{\"session\":\"%s\",\"name\":\"Person %d\",\"email\":\"person-%d@example.org\"}",
                  self->session, n, n);
        json_t *body = NULL;
        result->sent = bench_mono ();
        result->status =
            bench_request (dealer, "registration.create", id, json, REQUEST_TIMEOUT, 3, &body);
        result->replied = bench_mono ();
        result->acked = bench_wall ();
        s_take_reply (result, body);
        json_decref (body);
    }
    zsock_destroy (&dealer);
    return NULL;
}

//  Notes each process's CPU seconds so far in cpu (index P_COUNT: this
//  program); -1 for a process that does not run.
static void
s_cpu_note (burst_t *self, double *cpu)
{
    for (int which = 0; which <= P_COUNT; which++) {
        pid_t pid = which < P_COUNT ? self->pid[which] : getpid ();
        cpu[which] = pid > 0 ? bench_cpu_seconds (pid) : -1;
    }
}

//  Runs the burst and adds its figures. Returns 0, or -1 if no client could
//  connect.
static int
s_burst (burst_t *self)
{
    self->results = (result_t *)zmalloc ((size_t)self->count * sizeof (result_t));
    pthread_t *threads = (pthread_t *)zmalloc ((size_t)self->clients * sizeof (pthread_t));
    pthread_barrier_init (&self->barrier, NULL, (unsigned)self->clients + 1);
    for (int index = 0; index < self->clients; index++) {
        int rc = pthread_create (&threads[index], NULL, s_client, self);
        assert (rc == 0);
    }
    //  Every client is connected: note the CPU used so far, then let them go
    pthread_barrier_wait (&self->barrier);
    s_cpu_note (self, self->cpu);
    for (int index = 0; index < self->clients; index++)
        pthread_join (threads[index], NULL);
    pthread_barrier_destroy (&self->barrier);
    free (threads);
    if (self->client_failures == self->clients)
        return -1;

    //  Wall time from the first send to the last reply; latencies; statuses
    double first = 0, last = 0,
           *latency = (double *)zmalloc ((size_t)self->count * sizeof (double));
    int answered = 0, counts[600] = {0}, unanswered = 0;
    for (int n = 0; n < self->count; n++) {
        result_t *result = &self->results[n];
        if (result->status <= 0) {
            unanswered++;
            continue;
        }
        first = answered == 0 || result->sent < first ? result->sent : first;
        last = result->replied > last ? result->replied : last;
        latency[answered++] = (result->replied - result->sent) * 1000;
        counts[result->status < 600 ? result->status : 0]++;
    }
    bench_sort (latency, (size_t)answered);
    double wall = last - first;
    self->rate = wall > 0 ? answered / wall : 0;
    s_figure (self, "registrations/s", "%.0f   (%d in %.3f s)", self->rate, answered, wall);
    s_figure (self, "latency ms", "p50 %.2f  p99 %.2f  max %.2f",
              bench_percentile (latency, (size_t)answered, 0.50),
              bench_percentile (latency, (size_t)answered, 0.99),
              answered ? latency[answered - 1] : 0.0);
    //  Replies by status, e.g. "2000 x 201"
    char statuses[256] = "";
    for (int status = 0; status < 600; status++)
        if (counts[status])
            snprintf (statuses + strlen (statuses), sizeof (statuses) - strlen (statuses),
                      "%d x %d, ", counts[status], status);
    s_figure (self, "replies", "%s%d without reply", statuses, unanswered);
    //  CPU used during the burst, to see who was busy ("clients": this program)
    double used[P_COUNT + 1];
    s_cpu_note (self, used);
    char cpu[256] = "";
    for (int which = 0; which <= P_COUNT; which++)
        if (used[which] >= 0 && self->cpu[which] >= 0)
            snprintf (cpu + strlen (cpu), sizeof (cpu) - strlen (cpu), "%s %.2f  ",
                      which < P_COUNT ? s_names[which] : "clients", used[which] - self->cpu[which]);
    s_figure (self, "cpu s during burst", "%s(of %.2f s wall x %ld cores)", cpu, wall,
              sysconf (_SC_NPROCESSORS_ONLN));
    free (latency);
    return 0;
}

//  --------------------------------------------------------------------------
//  Phases after the burst: cancellations that promote, several sessions at once

static void s_wrong (burst_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  One phase: count requests of one command, bodies made beforehand, sent
//  by the burst's number of clients, each a closed loop over its own DEALER.
typedef struct {
    burst_t *burst;
    const char *command, *prefix; //  "registration.cancel", request ids "pc-<n>"
    char **bodies;
    int count;
    int *statuses;
    json_t **replies;
    double *sent, *replied;
    atomic_int next;
} phase_t;

static void *
s_phase_client (void *args)
{
    phase_t *phase = (phase_t *)args;
    zsock_t *dealer = s_dealer (phase->burst, P_REGISTRY);
    for (int n;
         dealer && !zsys_interrupted && (n = atomic_fetch_add (&phase->next, 1)) < phase->count;) {
        char id[32];
        snprintf (id, sizeof (id), "%s-%d", phase->prefix, n);
        phase->sent[n] = bench_mono ();
        phase->statuses[n] = bench_request (dealer, phase->command, id, phase->bodies[n],
                                            REQUEST_TIMEOUT, 3, &phase->replies[n]);
        phase->replied[n] = bench_mono ();
    }
    zsock_destroy (&dealer);
    return NULL;
}

//  Runs the phase; returns its requests per second (and how many got
//  expected as their status in *right).
static double
s_phase_run (phase_t *phase, int expected, int *right)
{
    phase->statuses = (int *)zmalloc ((size_t)phase->count * sizeof (int));
    phase->replies = (json_t **)zmalloc ((size_t)phase->count * sizeof (json_t *));
    phase->sent = (double *)zmalloc ((size_t)phase->count * sizeof (double));
    phase->replied = (double *)zmalloc ((size_t)phase->count * sizeof (double));
    int clients = phase->burst->clients;
    pthread_t *threads = (pthread_t *)zmalloc ((size_t)clients * sizeof (pthread_t));
    for (int index = 0; index < clients; index++) {
        int rc = pthread_create (&threads[index], NULL, s_phase_client, phase);
        assert (rc == 0);
    }
    for (int index = 0; index < clients; index++)
        pthread_join (threads[index], NULL);
    free (threads);
    double first = 0, last = 0;
    *right = 0;
    for (int n = 0; n < phase->count; n++) {
        first = n == 0 || phase->sent[n] < first ? phase->sent[n] : first;
        last = phase->replied[n] > last ? phase->replied[n] : last;
        *right += phase->statuses[n] == expected;
    }
    return last > first ? phase->count / (last - first) : 0;
}

static void
s_phase_destroy (phase_t *phase)
{
    for (int n = 0; n < phase->count; n++) {
        free (phase->bodies[n]);
        json_decref (phase->replies[n]);
    }
    free (phase->bodies);
    free (phase->statuses);
    free (phase->replies);
    free (phase->sent);
    free (phase->replied);
}

//  The first confirmed registrations cancel, from every client at once: each
//  frees a seat that goes to the first waiting in the same step. Checks that
//  the promoted are exactly the first waiting, in order, and that the seats
//  are all taken again.
static void
s_phase_cancel (burst_t *self)
{
    int waiting = 0;
    for (int n = 0; n < self->count; n++)
        waiting += self->results[n].status == 201 && !self->results[n].confirmed;
    phase_t phase = {.burst = self, .command = "registration.cancel", .prefix = "pc"};
    phase.bodies = (char **)zmalloc ((size_t)self->capacity * sizeof (char *));
    for (int n = 0; n < self->count && phase.count < self->capacity && phase.count < waiting; n++)
        if (self->results[n].confirmed)
            phase.bodies[phase.count++] = zsys_sprintf ("{\"id\":\"%s\"}", self->results[n].id);
    if (phase.count == 0) {
        s_figure (self, "cancellations/s", "not measured (nobody waits to be promoted)");
        free (phase.bodies);
        return;
    }
    int right = 0;
    double rate = s_phase_run (&phase, 200, &right);
    //  Who was promoted: exactly the first count waiting, by position
    zhashx_t *promoted = zhashx_new ();
    for (int n = 0; n < phase.count; n++) {
        size_t index;
        json_t *id;
        json_array_foreach (json_object_get (phase.replies[n], "promoted"), index, id)
            zhashx_insert (promoted, json_string_value (id), (void *)1);
    }
    int expected = 0;
    for (int n = 0; n < self->count; n++)
        if (self->results[n].position >= 1 && self->results[n].position <= phase.count) {
            expected++;
            if (!zhashx_lookup (promoted, self->results[n].id))
                s_wrong (self, "%s (waiting at %d) was not promoted", self->results[n].id,
                         self->results[n].position);
        }
    if ((int)zhashx_size (promoted) != phase.count || expected != phase.count)
        s_wrong (self, "%zu promoted for %d cancellations", zhashx_size (promoted), phase.count);
    if (right != phase.count)
        s_wrong (self, "%d of %d cancellations answered 200", right, phase.count);
    zhashx_destroy (&promoted);
    s_figure (self, "cancellations/s", "%.0f   (%d, each promoting the first waiting)", rate,
              phase.count);
    s_phase_destroy (&phase);
}

//  Three more sessions in the event, one after the other; half as many
//  people as in the burst book all three in one request each. Checks that
//  each got 201 and no session is over its capacity. Returns the rate, or 0.
static double
s_phase_multi (burst_t *self, char sessions[3][48])
{
    for (int index = 0; index < 3; index++) {
        char request[512];
        json_t *body = NULL;
        snprintf (
            request, sizeof (request),
            "{\"event\":\"%s\",\"title\":\"Forum %d\",\"room\":\"F%d\","
            "\"start\":\"2027-03-13T%02d:00:00+01:00\",\"end\":\"2027-03-13T%02d:50:00+01:00\","
            "\"capacity\":%d}",
            self->event, index + 1, index + 1, 12 + index, 12 + index, self->capacity);
        int status = s_ask (self, P_SCHEDULER, "session.create", request, &body);
        const char *id =
            json_string_value (json_object_get (json_object_get (body, "session"), "id"));
        snprintf (sessions[index], 48, "%s", id ? id : "");
        json_decref (body);
        if (status != 201 || !id) {
            s_figure (self, "3-session requests/s", "not measured (session.create %d)", status);
            return 0;
        }
        snprintf (request, sizeof (request), "{\"session\":\"%s\"}", sessions[index]);
        int attempt = 0;
        while (s_ask (self, P_REGISTRY, "registration.list", request, NULL) != 200 &&
               attempt++ < 150)
            zclock_sleep (100);
    }
    phase_t phase = {.burst = self, .command = "registration.create", .prefix = "pm"};
    phase.count = self->count / 2 > 0 ? self->count / 2 : 1;
    phase.bodies = (char **)zmalloc ((size_t)phase.count * sizeof (char *));
    for (int n = 0; n < phase.count; n++)
        phase.bodies[n] =
            zsys_sprintf ("{\"sessions\":[\"%s\",\"%s\",\"%s\"],\"name\":\"Gast %d\",\"email\":"
                          "\"gast-%d@example.org\"}",
                          sessions[0], sessions[1], sessions[2], n, n);
    int right = 0;
    double rate = s_phase_run (&phase, 201, &right);
    if (right != phase.count)
        s_wrong (self, "%d of %d 3-session requests answered 201", right, phase.count);
    for (int index = 0; index < 3; index++) {
        char request[128];
        json_t *list = NULL;
        snprintf (request, sizeof (request), "{\"session\":\"%.47s\"}", sessions[index]);
        s_ask (self, P_REGISTRY, "registration.list", request, &list);
        size_t confirmed = json_array_size (json_object_get (list, "confirmed"));
        size_t waiting = json_array_size (json_object_get (list, "waitlist"));
        if ((int)confirmed != (phase.count < self->capacity ? phase.count : self->capacity) ||
            (int)(confirmed + waiting) != phase.count)
            s_wrong (self, "session %s: %zu confirmed, %zu waiting after %d requests",
                     sessions[index], confirmed, waiting, phase.count);
        json_decref (list);
    }
    s_figure (self, "3-session requests/s", "%.0f   (%d people, 3 sessions each)", rate,
              phase.count);
    s_phase_destroy (&phase);
    return rate;
}

//  --------------------------------------------------------------------------
//  The check: seats, waitlist, duplicates (registration.list)

//  Notes one problem found by the check (printf-formatted); prints the first
//  few, since one lost entry can shift every position after it.
static void __attribute__ ((format (printf, 2, 3))) s_wrong (burst_t *self, const char *format, ...)
{
    if (self->correct)
        say ("correctness check failed:\n");
    self->correct = false;
    if (++self->problems > PROBLEMS_SHOWN)
        return;
    va_list args;
    va_start (args, format);
    fprintf (stderr, "    ");
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
}

//  Checks one list of registration.list (confirmed or waitlist) against the
//  replies; ids and addresses go into the sets. Returns the duplicates.
static int
s_check_list (burst_t *self, json_t *list, bool waitlist, zhashx_t *ids, zhashx_t *emails,
              zhashx_t *acks)
{
    int duplicates = 0;
    size_t index;
    json_t *entry;
    json_array_foreach (list, index, entry)
    {
        const char *id = json_string_value (json_object_get (entry, "id"));
        const char *email = json_string_value (json_object_get (entry, "email"));
        const char *status = json_string_value (json_object_get (entry, "status"));
        int position = (int)json_integer_value (json_object_get (entry, "position"));
        if (!id || !email || !status) {
            s_wrong (self, "a listed registration lacks id, email or status");
            continue;
        }
        duplicates += zhashx_insert (ids, id, (void *)id) != 0;
        duplicates += zhashx_insert (emails, email, (void *)email) != 0;
        //  Positions on the waitlist run 1, 2, 3... without gaps
        if (!streq (status, waitlist ? "waitlisted" : "confirmed") ||
            (waitlist && position != (int)index + 1)) {
            s_wrong (self, "%s is listed as %s at position %d (index %zu)", id, status, position,
                     index);
        }
        //  The client was told the same when it registered
        result_t *result = (result_t *)zhashx_lookup (acks, id);
        if (!result)
            s_wrong (self, "%s is listed but was never acknowledged", id);
        else if (result->confirmed == waitlist || (waitlist && result->position != position))
            s_wrong (self, "%s is listed as %s at position %d, its reply said %s at %d", id, status,
                     position, result->confirmed ? "confirmed" : "waitlisted", result->position);
    }
    return duplicates;
}

//  Checks the run against registration.list and adds the result.
static void
s_check (burst_t *self)
{
    char request[96];
    snprintf (request, sizeof (request), "{\"session\":\"%s\"}", self->session);
    json_t *body = NULL;
    int status = s_ask (self, P_REGISTRY, "registration.list", request, &body);
    if (status != 200) {
        s_wrong (self, "registration.list answered %d", status);
        s_figure (self, "checked", "FAILED (no list)");
        json_decref (body);
        return;
    }
    //  Every request must have been answered 201 with an id
    zhashx_t *acks = zhashx_new (), *ids = zhashx_new (), *emails = zhashx_new ();
    int created = 0, duplicates = 0;
    for (int n = 0; n < self->count; n++)
        if (self->results[n].status == 201 && *self->results[n].id) {
            created++;
            if (zhashx_insert (acks, self->results[n].id, &self->results[n]) != 0) {
                result_t *first = (result_t *)zhashx_lookup (acks, self->results[n].id);
                s_wrong (self, "two people were given the same registration id %s (%s, %s)",
                         self->results[n].id, first->confirmed ? "confirmed" : "waitlisted",
                         self->results[n].confirmed ? "confirmed" : "waitlisted");
                duplicates++;
            }
        }
    if (created != self->count)
        s_wrong (self, "%d of %d requests were answered 201", created, self->count);
    json_t *confirmed = json_object_get (body, "confirmed");
    json_t *waitlist = json_object_get (body, "waitlist");
    int seats = self->count < self->capacity ? self->count : self->capacity;
    int waiting = self->count - seats;
    if ((int)json_array_size (confirmed) != seats || (int)json_array_size (waitlist) != waiting) {
        s_wrong (self, "%zu confirmed and %zu waitlisted, expected %d and %d",
                 json_array_size (confirmed), json_array_size (waitlist), seats, waiting);
    }
    int listed = s_check_list (self, confirmed, false, ids, emails, acks);
    listed += s_check_list (self, waitlist, true, ids, emails, acks);
    if (listed)
        s_wrong (self, "%d registrations or addresses are listed twice", listed);
    duplicates += listed;
    if (self->problems > PROBLEMS_SHOWN)
        fprintf (stderr, "    ... %d problems in all\n", self->problems);
    s_figure (self, "checked",
              "%zu confirmed, %zu waitlisted (positions 1..%zu), %d duplicates: %s",
              json_array_size (confirmed), json_array_size (waitlist), json_array_size (waitlist),
              duplicates, self->correct ? "correct" : "WRONG");
    zhashx_destroy (&acks);
    zhashx_destroy (&ids);
    zhashx_destroy (&emails);
    json_decref (body);
}

//  --------------------------------------------------------------------------
//  Mail: from each acknowledgement to the SMTP server's acceptance

//  Waits for the e-mails, joins the sink's lines with the replies and adds
//  the figures. Missing or duplicate e-mails make the run incorrect.
static void
s_mail (burst_t *self)
{
    char path[PATH_MAX], notice[96];
    snprintf (path, sizeof (path), "%s/mail.txt", self->dir);
    //  The notice id of reg-X-Y is ntc-X-Y-registered; its Message-ID <ntc-...@domain>
    zhashx_t *notices = zhashx_new ();
    int expected = 0;
    for (int n = 0; n < self->count; n++)
        if (self->results[n].status == 201 && strncmp (self->results[n].id, "reg-", 4) == 0) {
            snprintf (notice, sizeof (notice), "ntc-%s-registered", self->results[n].id + 4);
            zhashx_insert (notices, notice, &self->results[n]);
            expected++;
        }
    double deadline = bench_mono () + MAIL_TIMEOUT;
    while (s_sink_count (self) < expected && bench_mono () < deadline && !zsys_interrupted &&
           bench_alive (self->pid[P_NOTIFIER]))
        zclock_sleep (100);
    //  smtp-sink makes a message's file when the message begins: let the
    //  last ones end (and any duplicate arrive) before reading them
    zclock_sleep (500);
    if (s_sink_collect (self) != 0)
        s_wrong (self, "mail: the sink's messages could not be read");

    //  Each line: "<unix time> <Message-ID>"
    int received = 0, duplicates = 0, unknown = 0;
    double last = 0, token_time;
    char token[256];
    FILE *file = fopen (path, "r");
    while (file && fscanf (file, "%lf %255s", &token_time, token) == 2) {
        char *at = strchr (token, '@');
        if (at)
            *at = 0;
        result_t *result = (result_t *)zhashx_lookup (notices, token + (*token == '<'));
        if (!result)
            unknown++;
        else if (result->mailed > 0)
            duplicates++;
        else {
            result->mailed = token_time;
            received++;
        }
        last = token_time > last ? token_time : last;
    }
    if (file)
        fclose (file);

    //  Delays from the reply to the sink's acceptance
    double *delay = (double *)zmalloc ((size_t)self->count * sizeof (double)), first = 0;
    size_t count = 0;
    for (int n = 0; n < self->count; n++) {
        if (self->results[n].acked > 0 && (first == 0 || self->results[n].acked < first))
            first = self->results[n].acked;
        if (self->results[n].mailed > 0)
            delay[count++] = (self->results[n].mailed - self->results[n].acked) * 1000;
    }
    bench_sort (delay, count);
    s_figure (self, "mail ack->SMTP ms",
              "p50 %.1f  p99 %.1f  max %.1f   (%d received, %d duplicates, %d unknown; "
              "last %.2f s after the first reply)",
              bench_percentile (delay, count, 0.50), bench_percentile (delay, count, 0.99),
              count ? delay[count - 1] : 0.0, received, duplicates, unknown,
              last > first && first > 0 ? last - first : 0.0);
    s_figure (self, "smtp sink", "%s",
              self->smtp_sink ? "postfix smtp-sink"
                              : "python3-aiosmtpd (tests/bench/smtp_sink.py)");
    if (received != expected || duplicates || unknown)
        s_wrong (self, "mail: %d of %d e-mails within %d s, %d duplicates, %d unknown", received,
                 expected, MAIL_TIMEOUT, duplicates, unknown);
    free (delay);
    zhashx_destroy (&notices);
}

//  --------------------------------------------------------------------------
//  Options and the run

//  Prints the usage to out.
static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: registration-burst [-n K] [-c C] [-s CAPACITY] [--no-mail] [--curve on|off]\n"
             "  -n K         registrations to send (default 2000)\n"
             "  -c C         concurrent clients, each its own DEALER (default 50, at most 1000)\n"
             "  -s CAPACITY  seats of the session (default 100)\n"
             "  --no-mail    without the notifier and the SMTP sink\n"
             "  --curve off  plain sockets instead of CURVE (a test configuration), to see\n"
             "               what encryption costs; default on, as installations run\n"
             "exit: 0 correct, 1 check failed, 2 usage, 3 could not set up\n");
}

//  Reads a positive integer option; returns it, or -1.
static int
s_positive (const char *text)
{
    char *end;
    long value = strtol (text, &end, 10);
    return *text && !*end && value > 0 && value <= 10000000 ? (int)value : -1;
}

//  Returns how many batches the registry has sent to Redis (its status), or 0.
static long
s_batches (burst_t *self)
{
    json_t *body = NULL;
    s_ask (self, P_REGISTRY, "status", "{}", &body);
    long batches =
        (long)json_integer_value (json_object_get (json_object_get (body, "requests"), "batches"));
    json_decref (body);
    return batches;
}

//  The steps after the servers run, with a connection to their Redis.
//  Returns the exit status.
static int
s_run (burst_t *self, redisContext *redis)
{
    if (s_create_session (self) != 0)
        return EXIT_SETUP;
    char text[256] = "?";
    s_figure (self, "redis", "%s", bench_redis_settings (redis, text, sizeof (text)));
    say ("session %s; %d registrations from %d clients\n", self->session, self->count,
         self->clients);
    //  Redis's command statistics and the registry's batches count from here
    freeReplyObject (redisCommand (redis, "CONFIG RESETSTAT"));
    long batches = s_batches (self);
    if (s_burst (self) != 0 || zsys_interrupted) {
        say ("%s\n", zsys_interrupted ? "interrupted" : "no client could reach the registry");
        return EXIT_SETUP;
    }
    batches = s_batches (self) - batches;
    s_figure (self, "registry batches", "%ld, %.1f requests each", batches,
              batches > 0 ? (double)self->count / (double)batches : 0.0);
    char stats[512];
    s_figure (self, "redis commands", "%s",
              bench_redis_commandstats (redis, stats, sizeof (stats)));
    s_check (self);

    if (self->mail)
        s_mail (self);
    else
        s_figure (self, "mail ack->SMTP ms", "not measured (%s)", self->no_mail);

    //  The lifecycle: cancellations with promotion, then several sessions at once
    s_phase_cancel (self);
    char sessions[3][48];
    double multi = s_phase_multi (self, sessions);

    //  Redis's memory peak from our run, then its own limit on the same server
    char peak[32] = "?";
    bench_redis_info (redis, "used_memory_peak_human", peak, sizeof (peak));
    say ("redis-benchmark against the same Redis\n");
    //  Three runs, the median counts: one short run of redis-benchmark varies
    //  by half on a small machine (the time of an fsync varies that much)
    double rates[BENCHMARK_RUNS];
    for (int run = 0; run < BENCHMARK_RUNS; run++)
        rates[run] = bench_redis_script_rate (redis, self->port[P_REDIS], self->session, 1,
                                              self->clients, self->count, self->dir);
    bench_sort (rates, BENCHMARK_RUNS);
    double rate = rates[BENCHMARK_RUNS / 2];
    if (rates[0] > 0) //  all of them worked
        s_figure (self, "redis-benchmark",
                  "EVALSHA same script: %.0f req/s (median of %.0f, %.0f, %.0f)   ratio ours/redis "
                  "%.2f",
                  rate, rates[0], rates[1], rates[2], self->rate / rate);
    else
        s_figure (self, "redis-benchmark", "failed");
    if (multi > 0) {
        for (int run = 0; run < BENCHMARK_RUNS; run++)
            rates[run] = bench_redis_script_rate (redis, self->port[P_REDIS], sessions[0], 3,
                                                  self->clients, self->count / 2, self->dir);
        bench_sort (rates, BENCHMARK_RUNS);
        rate = rates[BENCHMARK_RUNS / 2];
        if (rates[0] > 0)
            s_figure (self, "redis-benchmark 3",
                      "EVALSHA same script, 3 sessions: %.0f req/s (median of %.0f, %.0f, %.0f)"
                      "   ratio ours/redis %.2f",
                      rate, rates[0], rates[1], rates[2], multi / rate);
        else
            s_figure (self, "redis-benchmark 3", "failed");
    }
    //  Peak memory of each daemon over the whole run
    char rss[256] = "";
    for (int which = P_SCHEDULER; which < P_COUNT; which++)
        if (self->pid[which] > 0)
            snprintf (rss + strlen (rss), sizeof (rss) - strlen (rss), "%s %.1f  ", s_names[which],
                      bench_peak_rss_mib (self->pid[which]));
    s_figure (self, "peak RSS MiB", "%s redis used_memory_peak %s (before redis-benchmark)", rss,
              peak);
    return self->correct ? 0 : EXIT_WRONG;
}

int
main (int argc, char **argv)
{
    burst_t burst = {.count = 2000,
                     .clients = 50,
                     .capacity = 100,
                     .mail = true,
                     .correct = true,
                     .curve_on = true};
    burst_t *self = &burst;
    static const struct option options[] = {{"no-mail", no_argument, NULL, 'm'},
                                            {"curve", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int option;
    while ((option = getopt_long (argc, argv, "n:c:s:h", options, NULL)) != -1) {
        int value = optarg ? s_positive (optarg) : 0;
        if (option == 'h') {
            s_usage (stdout);
            return 0;
        }
        if (option == 'k' && (streq (optarg, "on") || streq (optarg, "off")))
            self->curve_on = streq (optarg, "on");
        else if (option == 'm') {
            self->mail = false;
            self->no_mail = "--no-mail";
        } else if (value > 0 && option == 'n')
            self->count = value;
        else if (value > 0 && value <= 1000 && option == 'c')
            self->clients = value;
        else if (value > 0 && option == 's')
            self->capacity = value;
        else {
            s_usage (stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        s_usage (stderr);
        return EXIT_USAGE;
    }
    //  The daemons are next to this binary
    ssize_t length = readlink ("/proc/self/exe", self->bindir, sizeof (self->bindir) - 1);
    assert (length > 0);
    self->bindir[length] = 0;
    *strrchr (self->bindir, '/') = 0;
    char *notifier = zsys_sprintf ("%s/schalt-notifier", self->bindir);
    if (self->mail && access (notifier, X_OK) != 0) {
        say ("no %s yet: running without mail figures\n", notifier);
        self->mail = false;
        self->no_mail = "no schalt-notifier built";
    }
    zstr_free (&notifier);

    self->report = open_memstream (&self->report_text, &self->report_size);
    fprintf (self->report, "registration-burst: K=%d C=%d capacity=%d%s, CURVE %s\n", self->count,
             self->clients, self->capacity, self->mail ? "" : " (no mail)",
             self->curve_on ? "on" : "OFF (a test configuration)");
    self->dir = schalt_test_tempdir ("registration-burst");
    assert (self->dir);
    //  Keys for the daemons and for the benchmark (an admin's), as deploy/up makes them
    const char *names[] = {"scheduler:scheduler", "registry:registry", "notifier:notifier",
                           "bench:admin", NULL};
    char *keys = schalt_test_keys (self->dir, names);
    char *own = zsys_sprintf ("%s/secret/bench.key", self->dir);
    char error[512] = "";
    self->curve = schalt_curve_new (keys, own, self->curve_on, error, sizeof (error));
    zstr_free (&keys);
    zstr_free (&own);
    if (!self->curve) {
        say ("%s\n", error);
        return EXIT_SETUP;
    }
    int rc = EXIT_SETUP;
    redisContext *redis =
        s_start_all (self) == 0 ? bench_redis_connect (self->port[P_REDIS]) : NULL;
    if (redis) {
        rc = s_run (self, redis);
        redisFree (redis);
    }
    //  Whatever happened: stop what we started, remove the folder, print
    s_stop_all (self);
    schalt_test_rmtree (self->mail_dir);
    free (self->mail_dir);
    schalt_test_rmtree (self->dir);
    zstr_free (&self->dir);
    schalt_curve_destroy (&self->curve);
    fclose (self->report);
    fputs (self->report_text, stdout);
    free (self->report_text);
    free (self->results);
    if (rc == EXIT_WRONG)
        say ("the run was NOT correct (see above)\n");
    return rc;
}
