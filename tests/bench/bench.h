/*  bench - helpers of the benchmark programs in tests/bench (not part of any daemon).

    Child processes are started with fork/exec from the main thread, with
    their output in a log file and SIGKILL as their death signal, so a
    benchmark that dies leaves nothing running; they are stopped by the pid
    they were given (SIGTERM, then SIGKILL). Requests go over a DEALER in
    the wire format of schalt_envelope.
*/
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include "schalt.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

//  Children are started with schalt_test_spawn (schalt_testutil.h).

//  True while the child pid runs (it is reaped if it has ended).
bool bench_alive (pid_t pid);

//  Stop a child: SIGTERM, then SIGKILL after timeout_ms; reap it. Returns its
//  wait status, or -1 if it had to be killed or was not a child of ours.
//  Safe for pid <= 0.
int bench_stop (pid_t pid, int timeout_ms);

//  Wait for a child to end by itself for up to timeout_ms; returns its wait
//  status, or -1 if it still ran (it is then killed and reaped).
int bench_wait (pid_t pid, int timeout_ms);

//  Start redis-server with the deployed configuration (deploy/redis.conf,
//  else the same settings on the command line) on 127.0.0.1:port, data and
//  log in dir; wait until it answers PING with its own pid. Returns the pid,
//  or -1 (child stopped) if it did not come up.
pid_t bench_redis_start (int port, const char *dir);

//  A hiredis connection to 127.0.0.1:port, or NULL.
redisContext *bench_redis_connect (int port);

//  The value of one field of INFO (e.g. "used_memory_peak_human") in buffer;
//  returns buffer, or NULL if it could not be read.
char *bench_redis_info (redisContext *redis, const char *field, char *buffer, size_t size);

//  The Redis version and the settings that matter to the figures (appendonly,
//  appendfsync, maxmemory-policy) as Redis reports them, in buffer; returns buffer.
char *bench_redis_settings (redisContext *redis, char *buffer, size_t size);

//  Redis's command statistics since the last CONFIG RESETSTAT, as
//  "evalsha 2000 x 60 us, lrange 310 x 12 us" in buffer; returns buffer.
char *bench_redis_commandstats (redisContext *redis, char *buffer, size_t size);

#define BENCH_SESSIONS_MAX 10 //  sessions one redis-benchmark request books

//  Redis's own limit for registration.create: loads the script the registry
//  runs for it (prelude, common, script, joined as the server joins them),
//  copies the facts of session under another hash tag, sessions times (each
//  two hours after the last, so that none overlaps), and runs
//  redis-benchmark with clients connections and count calls, each on new
//  keys (__rand_int__) and booking all the copies at once, its output in
//  dir. Returns requests per second, or -1.
double bench_redis_script_rate (redisContext *redis, int port, const char *session, int sessions,
                                int clients, int count, const char *dir);

//  Wait until something accepts TCP connections on 127.0.0.1:port while the
//  child pid runs. Returns 0, or -1 on timeout or if the child ended.
int bench_wait_port (int port, pid_t pid, int timeout_ms);

//  Send one request [SCHALT/1, command, id, json] and wait up to timeout_ms
//  for the reply with that id, asking again (same id) up to attempts times.
//  Returns the reply's status and gives *body_p the reply body (the
//  caller's) if body_p is not NULL; returns -1 if no reply came.
int bench_request (zsock_t *dealer, const char *command, const char *id, const char *json,
                   int timeout_ms, int attempts, json_t **body_p);

//  The number of lines in a file (0 if it cannot be read).
int bench_count_lines (const char *path);

//  The number of files in a folder (not counting dot files); 0 if none.
int bench_count_files (const char *path);

//  Peak resident set size of a process (VmHWM) in MiB, or -1.
double bench_peak_rss_mib (pid_t pid);

//  CPU seconds (user + system) a process has used so far, or -1.
double bench_cpu_seconds (pid_t pid);

//  Monotonic and wall-clock time in seconds.
double bench_mono (void);
double bench_wall (void);

//  The value at fraction q (0..1) of n sorted values (nearest rank), or 0.
double bench_percentile (const double *sorted, size_t n, double q);

//  Sort n doubles ascending.
void bench_sort (double *values, size_t n);

//  Print the last lines of a log file to stderr, indented, for failures.
void bench_tail (const char *path, int lines);

#endif
