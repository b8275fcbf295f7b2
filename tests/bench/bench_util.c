/*  bench_util - processes, Redis, requests and figures for the benchmarks.
    See bench.h. Everything here runs in the benchmark, never in a daemon.
*/
#include "bench.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Where the build says the source tree is (for deploy/redis.conf)
#ifndef BENCH_SOURCE_DIR
#define BENCH_SOURCE_DIR "."
#endif

//  How often waits look again, in milliseconds
#define POLL_MS 20

//  The Lua sources the daemons run, linked in from the common and registry builds
extern const char schalt_lua_prelude[], registry_lua_common[], registry_lua_registration_create[];

//  --------------------------------------------------------------------------
//  Time and figures

//  Returns seconds of the monotonic clock.
double
bench_mono (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

//  Returns seconds since the epoch (the clock the SMTP sink stamps with).
double
bench_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

//  qsort comparison of two doubles; returns <0, 0 or >0.
static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void
bench_sort (double *values, size_t n)
{
    qsort (values, n, sizeof (double), s_compare);
}

//  Returns the nearest-rank percentile q of sorted values, 0 if none.
double
bench_percentile (const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil (q * (double)n);
    return sorted[rank > 0 ? rank - 1 : 0];
}

//  Sleeps msecs milliseconds.
static void
s_sleep_ms (int msecs)
{
    struct timespec ts = {msecs / 1000, (long)(msecs % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR && !zsys_interrupted)
        ;
}

//  --------------------------------------------------------------------------
//  Child processes

int
bench_count_lines (const char *path)
{
    FILE *file = fopen (path, "r");
    int lines = 0, c;
    while (file && (c = getc (file)) != EOF)
        lines += c == '\n';
    if (file)
        fclose (file);
    return lines;
}

int
bench_count_files (const char *path)
{
    DIR *dir = opendir (path);
    int files = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir)))
        files += entry->d_name[0] != '.';
    if (dir)
        closedir (dir);
    return files;
}

bool
bench_alive (pid_t pid)
{
    int status;
    return pid > 0 && waitpid (pid, &status, WNOHANG) == 0;
}

int
bench_wait (pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    double deadline = bench_mono () + timeout_ms / 1000.0;
    int status;
    while (bench_mono () < deadline) {
        pid_t rc = waitpid (pid, &status, WNOHANG);
        if (rc == pid)
            return status;
        if (rc == -1 && errno != EINTR)
            return -1;
        s_sleep_ms (POLL_MS);
    }
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    return -1;
}

int
bench_stop (pid_t pid, int timeout_ms)
{
    if (pid <= 0 || kill (pid, SIGTERM) == -1)
        return -1;
    return bench_wait (pid, timeout_ms);
}

//  Reads a small /proc file into buffer; returns buffer or NULL.
static char *
s_read_file (const char *path, char *buffer, size_t size)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return NULL;
    size_t length = fread (buffer, 1, size - 1, file);
    fclose (file);
    buffer[length] = 0;
    return buffer;
}

double
bench_peak_rss_mib (pid_t pid)
{
    char path[64], text[4096];
    snprintf (path, sizeof (path), "/proc/%d/status", (int)pid);
    char *line = s_read_file (path, text, sizeof (text)) ? strstr (text, "\nVmHWM:") : NULL;
    long kib;
    if (!line || sscanf (line + 7, "%ld", &kib) != 1)
        return -1;
    return kib / 1024.0;
}

double
bench_cpu_seconds (pid_t pid)
{
    char path[64], text[4096];
    snprintf (path, sizeof (path), "/proc/%d/stat", (int)pid);
    //  Fields 14 and 15 (utime, stime) follow the command name in parentheses
    char *after = s_read_file (path, text, sizeof (text)) ? strrchr (text, ')') : NULL;
    unsigned long utime, stime;
    if (!after || sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                          &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

void
bench_tail (const char *path, int lines)
{
    char text[8192];
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    //  The last few kilobytes hold the last lines
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, size > (long)sizeof (text) - 1 ? size - (long)sizeof (text) + 1 : 0, SEEK_SET);
    size_t length = fread (text, 1, sizeof (text) - 1, file);
    fclose (file);
    text[length] = 0;
    char *start = text + length;
    for (int count = 0; start > text && count <= lines; start--)
        count += start[-1] == '\n';
    fprintf (stderr, "    --- %s\n%s\n", path, start);
}

int
bench_wait_port (int port, pid_t pid, int timeout_ms)
{
    double deadline = bench_mono () + timeout_ms / 1000.0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    while (bench_mono () < deadline && bench_alive (pid) && !zsys_interrupted) {
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = fd >= 0 ? connect (fd, (struct sockaddr *)&addr, sizeof (addr)) : -1;
        if (fd >= 0)
            close (fd);
        if (rc == 0)
            return 0;
        s_sleep_ms (POLL_MS);
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Redis

redisContext *
bench_redis_connect (int port)
{
    struct timeval timeout = {2, 0};
    redisContext *redis = redisConnectWithTimeout ("127.0.0.1", port, timeout);
    if (redis && redis->err) {
        redisFree (redis);
        return NULL;
    }
    if (redis)
        redisSetTimeout (redis, (struct timeval){30, 0});
    return redis;
}

char *
bench_redis_info (redisContext *redis, const char *field, char *buffer, size_t size)
{
    redisReply *reply = redisCommand (redis, "INFO");
    char *result = NULL;
    if (reply && reply->type == REDIS_REPLY_STRING) {
        //  Lines are "field:value\r\n"
        char pattern[96];
        snprintf (pattern, sizeof (pattern), "\n%s:", field);
        char *line = strstr (reply->str, pattern);
        if (line) {
            line += strlen (pattern);
            snprintf (buffer, size, "%.*s", (int)strcspn (line, "\r\n"), line);
            result = buffer;
        }
    }
    freeReplyObject (reply);
    return result;
}

char *
bench_redis_settings (redisContext *redis, char *buffer, size_t size)
{
    char version[32] = "?";
    bench_redis_info (redis, "redis_version", version, sizeof (version));
    snprintf (buffer, size, "%s:", version);
    //  The reply is a flat list: name, value, name, value...
    redisReply *reply = redisCommand (redis, "CONFIG GET appendonly appendfsync maxmemory-policy");
    for (size_t index = 0; reply && reply->type == REDIS_REPLY_ARRAY && index + 1 < reply->elements;
         index += 2)
        snprintf (buffer + strlen (buffer), size - strlen (buffer), " %s %s%s",
                  reply->element[index]->str, reply->element[index + 1]->str,
                  index + 3 < reply->elements ? "," : "");
    freeReplyObject (reply);
    return buffer;
}

char *
bench_redis_commandstats (redisContext *redis, char *buffer, size_t size)
{
    *buffer = 0;
    redisReply *reply = redisCommand (redis, "INFO commandstats");
    //  Lines are "cmdstat_NAME:calls=N,usec=U,usec_per_call=X,..."
    for (char *line = reply && reply->type == REDIS_REPLY_STRING ? reply->str : NULL;
         line && (line = strstr (line, "cmdstat_")); line++) {
        char name[64];
        long calls;
        double per_call;
        if (sscanf (line, "cmdstat_%63[^:]:calls=%ld,usec=%*d,usec_per_call=%lf", name, &calls,
                    &per_call) == 3)
            snprintf (buffer + strlen (buffer), size - strlen (buffer), "%s%s %ld x %.0f us",
                      *buffer ? ", " : "", name, calls, per_call);
    }
    freeReplyObject (reply);
    return buffer;
}

//  Returns true if the Redis on port answers PING and is the process pid.
static bool
s_redis_is (int port, pid_t pid)
{
    redisContext *redis = bench_redis_connect (port);
    if (!redis)
        return false;
    char value[32], expect[32];
    snprintf (expect, sizeof (expect), "%d", (int)pid);
    redisReply *reply = redisCommand (redis, "PING");
    bool ready = reply && reply->type == REDIS_REPLY_STATUS && streq (reply->str, "PONG") &&
                 bench_redis_info (redis, "process_id", value, sizeof (value)) &&
                 streq (value, expect);
    freeReplyObject (reply);
    redisFree (redis);
    return ready;
}

pid_t
bench_redis_start (int port, const char *dir)
{
    char portstr[16], log_path[PATH_MAX], conf[PATH_MAX];
    snprintf (portstr, sizeof (portstr), "%d", port);
    snprintf (log_path, sizeof (log_path), "%s/redis.log", dir);
    snprintf (conf, sizeof (conf), "%s/deploy/redis.conf", BENCH_SOURCE_DIR);
    //  The deployed file, with the port and the paths only the caller knows;
    //  without the file, the settings it makes on the command line
    const char *with_file[] = {"redis-server", conf,     "--port", portstr, "--dir", dir,
                               "--logfile",    log_path, NULL};
    const char *without[] = {
        "redis-server", "--port",        portstr,  "--bind",    "127.0.0.1", "--appendonly",
        "yes",          "--appendfsync", "always", "--save",    "",          "--maxmemory-policy",
        "noeviction",   "--dir",         dir,      "--logfile", log_path,    NULL};
    bool have_file = access (conf, R_OK) == 0;
    if (!have_file)
        fprintf (stderr, "registration-burst: no %s, using the same settings inline\n", conf);
    pid_t pid = schalt_test_spawn (have_file ? with_file : without, NULL, log_path);
    if (pid < 0)
        return -1;
    //  Up when it answers PING and INFO names our child, not another server
    double deadline = bench_mono () + 10;
    while (bench_mono () < deadline && bench_alive (pid) && !zsys_interrupted) {
        if (s_redis_is (port, pid))
            return pid;
        s_sleep_ms (POLL_MS);
    }
    bench_tail (log_path, 10);
    bench_stop (pid, 2000);
    return -1;
}

//  --------------------------------------------------------------------------
//  Requests

int
bench_request (zsock_t *dealer, const char *command, const char *id, const char *json,
               int timeout_ms, int attempts, json_t **body_p)
{
    for (int attempt = 0; attempt < attempts && !zsys_interrupted; attempt++) {
        zmsg_t *msg = schalt_envelope_request (command, id, json);
        assert (msg);
        if (zmsg_send (&msg, dealer) != 0) {
            zmsg_destroy (&msg);
            return -1;
        }
        //  Replies to an earlier attempt carry the same id: any of them will do
        int64_t deadline = zclock_mono () + timeout_ms;
        while (zclock_mono () < deadline) {
            zsock_set_rcvtimeo (dealer, (int)(deadline - zclock_mono ()));
            msg = zmsg_recv (dealer);
            if (!msg)
                break;
            schalt_error_t error;
            schalt_envelope_t *reply = schalt_envelope_decode_reply (&msg, &error);
            if (reply && streq (schalt_envelope_id (reply), id)) {
                int status = schalt_envelope_status (reply);
                if (body_p)
                    *body_p = json_incref (schalt_envelope_body (reply));
                schalt_envelope_destroy (&reply);
                return status;
            }
            schalt_envelope_destroy (&reply);
        }
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Redis's own limit: redis-benchmark with the registry's own script

//  Returns the "requests per second" figure in redis-benchmark's output
//  (-q: "EVALSHA ...: 12345.67 requests per second, p50=..."), or -1.
static double
s_parse_benchmark (const char *path)
{
    char text[65536];
    FILE *file = fopen (path, "r");
    size_t length = file ? fread (text, 1, sizeof (text) - 1, file) : 0;
    if (file)
        fclose (file);
    text[length] = 0;
    //  The last figure counts: -q rewrites a progress line before it
    char *found = NULL;
    for (char *at = strstr (text, " requests per second"); at;
         at = strstr (at + 1, " requests per second"))
        found = at;
    if (!found)
        return -1;
    char *start = found;
    while (start > text && (isdigit ((unsigned char)start[-1]) || start[-1] == '.'))
        start--;
    return start < found ? strtod (start, NULL) : -1;
}

//  The number of registrations (seats and waitlist) of the session, in the
//  event tag.
static long long
s_registered (redisContext *redis, const char *tag, const char *session)
{
    long long total = 0;
    const char *lists[] = {"confirmed", "waitlist"};
    for (size_t index = 0; index < 2; index++) {
        redisReply *reply =
            redisCommand (redis, "ZCARD registry:{%s}:session:%s:%s", tag, session, lists[index]);
        if (reply && reply->type == REDIS_REPLY_INTEGER)
            total += reply->integer;
        if (reply)
            freeReplyObject (reply);
    }
    return total;
}

double
bench_redis_script_rate (redisContext *redis, int port, const char *session, int sessions,
                         int clients, int count, const char *dir)
{
    //  Sessions of their own, in an event tag of their own, each two hours
    //  after the one before (so that a request for all of them overlaps none)
    const char *tag = "evt-rbench0000";
    char copies[BENCH_SESSIONS_MAX][40];
    assert (sessions >= 1 && sessions <= BENCH_SESSIONS_MAX);
    for (int index = 0; index < sessions; index++)
        snprintf (copies[index], sizeof (copies[index]), "ses-rbench0000-%010d", index);
    const char *copy = copies[0];
    char *source = zsys_sprintf ("%s\n%s\n%s", schalt_lua_prelude, registry_lua_common,
                                 registry_lua_registration_create);
    redisReply *reply = redisCommand (redis, "SCRIPT LOAD %s", source);
    zstr_free (&source);
    char sha[48] = "";
    if (reply && reply->type == REDIS_REPLY_STRING)
        snprintf (sha, sizeof (sha), "%s", reply->str);
    freeReplyObject (reply);

    //  The session's facts as the registry stores them, copied under the new tag
    char key[128], session_key[512], event[16];
    snprintf (key, sizeof (key), "registry:{%s}:session:%s",
              schalt_id_event_of (session, event, sizeof (event)), session);
    reply = redisCommand (redis, "HGETALL %s", key);
    for (int index = 0;
         index < sessions && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0;
         index++) {
        snprintf (session_key, sizeof (session_key), "registry:{%s}:session:%s", tag,
                  copies[index]);
        const char **argv = (const char **)zmalloc ((reply->elements + 2) * sizeof (char *));
        char shifted[2][24];
        argv[0] = "HSET";
        argv[1] = session_key;
        for (size_t field = 0; field < reply->elements; field++)
            argv[field + 2] = reply->element[field]->str;
        for (size_t field = 0; field + 1 < reply->elements; field += 2) {
            const char *name = reply->element[field]->str;
            if (streq (name, "id"))
                argv[field + 3] = copies[index];
            int which = streq (name, "start_ts") ? 0 : streq (name, "end_ts") ? 1 : -1;
            if (which >= 0) {
                snprintf (shifted[which], sizeof (shifted[which]), "%lld",
                          atoll (reply->element[field + 1]->str) + 7200LL * index);
                argv[field + 3] = shifted[which];
            }
        }
        freeReplyObject (redisCommandArgv (redis, (int)reply->elements + 2, argv, NULL));
        free (argv);
    }
    freeReplyObject (reply);

    //  The arguments the registry passes; __rand_int__ makes each call's keys
    //  new. redis-benchmark seeds its random numbers with time(NULL) ^ getpid(),
    //  so a run started a second and a pid after the last often draws the very
    //  same numbers: every call would then be a replay of the last run's and
    //  register nobody. So each run's keys carry the run's number too.
    static unsigned run = 0;
    run++;
    char now[24], created[32], request_key[128], notice[64];
    snprintf (now, sizeof (now), "%lld", (long long)time (NULL));
    schalt_time_format_instant (time (NULL), created);
    snprintf (request_key, sizeof (request_key), "registry:{%s}:request:rb%u-__rand_int__", tag,
              run);
    //  ARGV[5]: one registration for each session, as the prepare function makes them
    zchunk_t *list = zchunk_new ("[", 1);
    zchunk_t *names = zchunk_new ("", 0);
    for (int index = 0; index < sessions; index++) {
        char *item = zsys_sprintf (
            "%s{\"id\":\"reg-rbench0000-%u-%d-__rand_int__\",\"session\":\"%s\",\"name\":"
            "\"Person __rand_int__\",\"email\":\"person-%u-__rand_int__@example.org\","
            "\"institution\":\"\",\"language\":\"de\",\"created\":\"%s\",\"code\":"
            "\"B%02d-__rand_int__\"}",
            index ? "," : "", run, index, copies[index], run, created, index);
        zchunk_extend (list, item, strlen (item));
        zstr_free (&item);
        item = zsys_sprintf ("%s\"%s\"", index ? "," : "", copies[index]);
        zchunk_extend (names, item, strlen (item));
        zstr_free (&item);
    }
    zchunk_extend (list, "]", 1);
    char *registration = strndup ((char *)zchunk_data (list), zchunk_size (list));
    char *session_names = strndup ((char *)zchunk_data (names), zchunk_size (names));
    zchunk_destroy (&list);
    zchunk_destroy (&names);
    //  The body as the server passes it (canonical: keys sorted), then what
    //  the registration's prepare function adds
    char *body = sessions == 1
                     ? zsys_sprintf ("{\"email\":\"person-%u-__rand_int__@example.org\",\"name\":"
                                     "\"Person __rand_int__\",\"session\":\"%s\"}",
                                     run, copy)
                     : zsys_sprintf ("{\"email\":\"person-%u-__rand_int__@example.org\",\"name\":"
                                     "\"Person __rand_int__\",\"sessions\":[%s]}",
                                     run, session_names);
    free (session_names);
    const char *digest = "0123456789abcdef0123456789abcdef01234567";
    snprintf (notice, sizeof (notice), "ntc-rbench0000-%u-__rand_int__-registered", run);

    //  One call by hand first: the script must do all its work (201), not stop early
    reply = redisCommand (redis, "EVALSHA %s 1 %s %s 604800 %s %s %s %s", sha, request_key, digest,
                          now, body, registration, notice);
    bool works = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 1 &&
                 reply->element[0]->type == REDIS_REPLY_INTEGER &&
                 reply->element[0]->integer == 201;
    if (!works)
        fprintf (
            stderr,
            "registration-burst: the script does not answer 201 on redis-benchmark's keys: %s\n",
            reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 1
                ? reply->element[1]->str
                : (reply && reply->str ? reply->str : "no reply"));
    freeReplyObject (reply);

    double rate = -1;
    if (works) {
        char port_text[16], clients_text[16], count_text[16], out[PATH_MAX];
        snprintf (port_text, sizeof (port_text), "%d", port);
        snprintf (clients_text, sizeof (clients_text), "%d", clients);
        snprintf (count_text, sizeof (count_text), "%d", count);
        snprintf (out, sizeof (out), "%s/redis-benchmark.out", dir);
        const char *argv[] = {"redis-benchmark",
                              "-h",
                              "127.0.0.1",
                              "-p",
                              port_text,
                              "-c",
                              clients_text,
                              "-n",
                              count_text,
                              "-r",
                              "100000000",
                              "-q",
                              "EVALSHA",
                              sha,
                              "1",
                              request_key,
                              digest,
                              "604800",
                              now,
                              body,
                              registration,
                              notice,
                              NULL};
        long long before = s_registered (redis, tag, copy);
        unlink (out); //  each run's figure from its own output
        pid_t pid = schalt_test_spawn (argv, NULL, out);
        int status = pid > 0 ? bench_wait (pid, 300000) : -1;
        rate = status == 0 ? s_parse_benchmark (out) : -1;
        if (rate < 0) {
            fprintf (stderr, "registration-burst: redis-benchmark failed (status %d)\n", status);
            bench_tail (out, 10);
        }
        //  Its figure counts only if the calls did the whole work: an error
        //  reply is fast, and would flatter Redis's limit. (Its random
        //  addresses may meet now and then: a few calls find one registered.)
        long long registered = s_registered (redis, tag, copy) - before;
        if (rate > 0 && registered < count - count / 100) {
            fprintf (stderr,
                     "registration-burst: redis-benchmark made %lld registrations in %d calls; "
                     "its figure is not used\n",
                     registered, count);
            char errors[64] = "?";
            bench_redis_info (redis, "total_error_replies", errors, sizeof (errors));
            fprintf (stderr, "    redis error replies so far: %s; redis-benchmark said:\n", errors);
            bench_tail (out, 3);
            rate = -1;
        }
    }
    free (registration);
    zstr_free (&body);
    return rate;
}
