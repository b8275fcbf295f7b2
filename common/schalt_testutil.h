/*  schalt_testutil - helpers for self-tests that run against real servers.

    Tests start their own redis-server on a free loopback port in a fresh
    temporary folder, and stop it by the pid they were given (never by name).
    These helpers are for tests only; no daemon calls them.
*/
#ifndef SCHALT_TESTUTIL_H_INCLUDED
#define SCHALT_TESTUTIL_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

//  A TCP port on 127.0.0.1 between 20000 and 31999 that was free a moment
//  ago and was not handed out before by this process. Returns the port, or
//  -1 on failure.
int schalt_test_free_port (void);

//  Start a program (argv[0] a path, or a name looked up in PATH) with stdin
//  from /dev/null, stdout and stderr appended to log_path, no other open
//  files, the environment envp (NULL: ours), and SIGKILL if the forking
//  thread dies. Returns its pid, or -1 if it could not be forked (a failed
//  exec shows as exit status 127).
pid_t schalt_test_spawn (const char *const *argv, char *const *envp, const char *log_path);

//  Start redis-server (from PATH) on 127.0.0.1:port
//  with its data (AOF, fsync always, no RDB) in dir and its output in
//  dir/redis.log, and wait up to about 5 s until it answers PING (and INFO
//  names its pid, not another server's on that port). Returns the child's
//  pid, or -1 (the child killed and reaped) if it did not come up.
pid_t schalt_test_redis_start (int port, const char *dir);

//  Send signum to the pid (SIGTERM for a clean stop, SIGKILL for a crash) and
//  reap it. Returns 0, or -1 if pid is not a child that could be signalled.
int schalt_test_redis_stop (pid_t pid, int signum);

//  Create a fresh folder /tmp/<prefix>-XXXXXX. Returns its path, which the
//  caller frees, or NULL on failure.
char *schalt_test_tempdir (const char *prefix);

//  Write text to the file dir/name, making the folders name has below dir.
//  Asserts that it worked (for tests only).
void schalt_test_write (const char *dir, const char *name, const char *text);

//  Remove a folder and everything in it (does not follow symlinks).
void schalt_test_rmtree (const char *dir);

//  Makes the CURVE keys of a test under dir: for each "name:role" of the
//  NULL-ended list, dir/keys/NAME.cert (public) and dir/secret/NAME.key.
//  Returns the keys folder (the caller frees it).
char *schalt_test_keys (const char *dir, const char *const *names);

//  Self test: starts and stops a redis-server, checks the failure paths.
void schalt_testutil_test (bool verbose);

#endif
