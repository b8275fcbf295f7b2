/*  schalt_testutil - helpers for self-tests that run against real servers.

    A test asks for a free port and a temporary folder, starts redis-server
    there with schalt_test_redis_start, and stops it with the pid it got back.
    The server is started with AOF and fsync always, so a test can kill it
    with SIGKILL, start it again on the same folder and find its data.
*/
#include "schalt_testutil.h"
#include "schalt_keys.h"
#include "schalt_log.h"
#include <sys/stat.h>

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  How long schalt_test_redis_start waits for PONG, and how often it asks.
#define S_START_TIMEOUT_MS 5000
#define S_START_POLL_MS 20

//  --------------------------------------------------------------------------
//  Local helpers

//  Sleep for msecs milliseconds (restarted when a signal interrupts it).
static void
s_sleep_ms (int msecs)
{
    struct timespec ts = {msecs / 1000, (long)(msecs % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

//  Milliseconds of a monotonic clock, for deadlines.
static long long
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Returns true if the redis-server with process id pid answers on
//  127.0.0.1:port: PING gets +PONG (a server still loading its AOF answers
//  -LOADING) and INFO names pid (not another server that holds the port).
//  pid 0 accepts any server.
static bool
s_redis_answers (int port, pid_t pid)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return false;
    //  Short timeouts: the caller polls, so one slow try costs little
    struct timeval tv = {0, 200000};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    const char *request = "PING\r\nINFO server\r\n";
    char expect[32];
    snprintf (expect, sizeof expect, "\nprocess_id:%d\r", (int)pid);
    bool ready = false;
    if (connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        write (fd, request, strlen (request)) == (ssize_t)strlen (request)) {
        //  Read until the process_id line is complete (or timeout/EOF)
        char buffer[4096];
        size_t size = 0;
        while (size < sizeof buffer - 1) {
            ssize_t rc = read (fd, buffer + size, sizeof buffer - 1 - size);
            if (rc <= 0)
                break;
            size += (size_t)rc;
            buffer[size] = 0;
            char *line = strstr (buffer, "\nprocess_id:");
            if (line && strchr (line + 1, '\n'))
                break;
        }
        buffer[size] = 0;
        ready = strncmp (buffer, "+PONG\r\n", 7) == 0 &&
                (pid == 0 ? strstr (buffer, "\nprocess_id:") : strstr (buffer, expect));
    }
    close (fd);
    return ready;
}

//  nftw callback for schalt_test_rmtree: remove one entry, children first.
//  Returns 0 so that the walk goes on after a failure.
static int
s_remove_entry (const char *path, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
    (void)sb;
    (void)typeflag;
    (void)ftwbuf;
    if (remove (path) == -1)
        fprintf (stderr, "testutil: cannot remove path=%s error=%s\n", path, strerror (errno));
    return 0;
}

//  --------------------------------------------------------------------------
//  Returns a TCP port on 127.0.0.1 that was free a moment ago, or -1.

int
schalt_test_free_port (void)
{
    //  Below the kernel's ephemeral range (32768 and up), so that no outgoing
    //  connection of another process takes the port before our server binds;
    //  never one handed out before by this process, whose server may not
    //  have bound it yet (a run picks the ports of all its servers first)
    static unsigned seed = 0;
    static unsigned char given[12000 / 8];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock (&lock);
    if (!seed)
        seed = (unsigned)getpid () ^ (unsigned)time (NULL);
    int found = -1;
    for (int attempt = 0; attempt < 1000 && found == -1; attempt++) {
        int slot = (int)(rand_r (&seed) % 12000);
        if (given[slot / 8] & (1 << (slot % 8)))
            continue;
        int port = 20000 + slot;
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd == -1)
            break;
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = bind (fd, (struct sockaddr *)&addr, sizeof addr);
        close (fd);
        if (rc == 0) {
            given[slot / 8] |= (unsigned char)(1 << (slot % 8));
            found = port;
        }
    }
    pthread_mutex_unlock (&lock);
    return found;
}

//  --------------------------------------------------------------------------
//  Start a program with its output in a log file; see the header.

pid_t
schalt_test_spawn (const char *const *argv, char *const *envp, const char *log_path)
{
    //  Everything the child needs is ready before fork: between fork and
    //  exec it may only make system calls (other threads may hold locks)
    int logfd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd == -1)
        return -1;
    int nullfd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    char *const *env = envp ? envp : environ;
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0) {
        //  If the test dies (a failed assert), the child dies with it rather
        //  than holding its port. Linux ties this to the thread that forked:
        //  start servers from the test's main thread.
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        if (nullfd >= 0)
            dup2 (nullfd, STDIN_FILENO);
        dup2 (logfd, STDOUT_FILENO);
        dup2 (logfd, STDERR_FILENO);
        if (close_range (3, ~0U, 0) == -1)
            for (int fd = 3; fd < 1024; fd++)
                close (fd);
        if (strchr (argv[0], '/'))
            execve (argv[0], (char *const *)argv, env);
        else
            execvpe (argv[0], (char *const *)argv, env);
        _exit (127);
    }
    close (logfd);
    if (nullfd >= 0)
        close (nullfd);
    return pid;
}

//  --------------------------------------------------------------------------
//  Start redis-server on 127.0.0.1:port with its data in dir. Returns the pid
//  once it answers PING, or -1 (child killed and reaped) if it does not.

pid_t
schalt_test_redis_start (int port, const char *dir)
{
    if (port <= 0 || port > 65535 || !dir)
        return -1;
    char portstr[16];
    snprintf (portstr, sizeof portstr, "%d", port);
    char logpath[PATH_MAX];
    if (snprintf (logpath, sizeof logpath, "%s/redis.log", dir) >= (int)sizeof logpath)
        return -1;

    //  --logfile "" sends the log to stdout, which goes to redis.log.
    const char *argv[] = {"redis-server",
                          "--port",
                          portstr,
                          "--bind",
                          "127.0.0.1",
                          "--save",
                          "",
                          "--appendonly",
                          "yes",
                          "--appendfsync",
                          "always",
                          "--dir",
                          dir,
                          "--daemonize",
                          "no",
                          "--logfile",
                          "",
                          "--protected-mode",
                          "no",
                          NULL};
    pid_t pid = schalt_test_spawn (argv, NULL, logpath);
    if (pid == -1)
        return -1;

    //  Poll until it answers PONG, it exits, or the deadline passes
    long long deadline = s_now_ms () + S_START_TIMEOUT_MS;
    while (s_now_ms () < deadline) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            fprintf (stderr, "testutil: redis-server exited early port=%d log=%s\n", port, logpath);
            return -1;
        }
        if (s_redis_answers (port, pid))
            return pid;
        s_sleep_ms (S_START_POLL_MS);
    }
    fprintf (stderr, "testutil: redis-server did not answer port=%d log=%s\n", port, logpath);
    schalt_test_redis_stop (pid, SIGKILL);
    return -1;
}

//  --------------------------------------------------------------------------
//  Signal the server we started and reap it. Returns 0, or -1 if the pid
//  could not be signalled or reaped.

int
schalt_test_redis_stop (pid_t pid, int signum)
{
    if (pid <= 0)
        return -1;
    if (kill (pid, signum) == -1)
        return -1;
    int status;
    pid_t rc;
    do
        rc = waitpid (pid, &status, 0);
    while (rc == -1 && errno == EINTR);
    return rc == pid ? 0 : -1;
}

//  --------------------------------------------------------------------------
//  Create /tmp/<prefix>-XXXXXX. Returns its path (caller frees) or NULL.

char *
schalt_test_tempdir (const char *prefix)
{
    char *path = NULL;
    if (asprintf (&path, "/tmp/%s-XXXXXX", prefix ? prefix : "schalt") == -1)
        return NULL;
    if (!mkdtemp (path)) {
        free (path);
        return NULL;
    }
    return path;
}

//  --------------------------------------------------------------------------
//  Write text to dir/name, making the folders in name; asserts it worked.

void
schalt_test_write (const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    int rc = asprintf (&path, "%s/%s", dir, name);
    assert (rc != -1);
    for (char *slash = strchr (path + strlen (dir) + 1, '/'); slash;
         slash = strchr (slash + 1, '/')) {
        *slash = 0;
        mkdir (path, 0700);
        *slash = '/';
    }
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
    free (path);
}

//  --------------------------------------------------------------------------
//  Remove dir and everything below it; symlinks are removed, not followed.

char *
schalt_test_keys (const char *dir, const char *const *names)
{
    char *keys = zsys_sprintf ("%s/keys", dir);
    char *secret = zsys_sprintf ("%s/secret", dir);
    zsys_dir_create (keys);
    zsys_dir_create (secret);
    chmod (keys, 0755);
    chmod (secret, 0700);
    for (const char *const *entry = names; *entry; entry++) {
        char name[SCHALT_KEY_NAME_MAX + 1];
        const char *colon = strchr (*entry, ':');
        assert (colon && (size_t)(colon - *entry) <= SCHALT_KEY_NAME_MAX);
        snprintf (name, sizeof (name), "%.*s", (int)(colon - *entry), *entry);
        char *public_path = zsys_sprintf ("%s/%s.cert", keys, name);
        char *secret_path = zsys_sprintf ("%s/%s.key", secret, name);
        char error[512];
        int rc =
            schalt_keys_create (name, colon + 1, public_path, secret_path, error, sizeof (error));
        if (rc != 0)
            fprintf (stderr, "schalt_test_keys: %s\n", error);
        assert (rc == 0);
        zstr_free (&public_path);
        zstr_free (&secret_path);
    }
    zstr_free (&secret);
    return keys;
}

void
schalt_test_rmtree (const char *dir)
{
    if (dir && *dir)
        nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  --------------------------------------------------------------------------
//  Self test

void
schalt_testutil_test (bool verbose)
{
    printf (" * schalt_testutil: ");
    if (verbose)
        printf ("\n");

    //  A fresh folder, empty at first
    char *dir = schalt_test_tempdir ("schalt-testutil-test");
    assert (dir && strncmp (dir, "/tmp/schalt-testutil-test-", 26) == 0);
    struct stat info;
    assert (stat (dir, &info) == 0 && S_ISDIR (info.st_mode));

    //  Free ports are never handed out twice (by chance alone, 200 picks
    //  among 12000 would repeat one four times out of five)
    int ports[200];
    for (int index = 0; index < 200; index++) {
        ports[index] = schalt_test_free_port ();
        assert (ports[index] >= 20000 && ports[index] < 32000);
        for (int earlier = 0; earlier < index; earlier++)
            assert (ports[earlier] != ports[index]);
    }

    //  A server comes up on a free port and answers; a second one on the
    //  same port cannot bind, exits, and start reports -1
    int port = schalt_test_free_port ();
    assert (port > 0 && port <= 65535);
    pid_t pid = schalt_test_redis_start (port, dir);
    assert (pid > 0);
    assert (s_redis_answers (port, pid));
    char other[PATH_MAX];
    snprintf (other, sizeof other, "%s/other", dir);
    assert (mkdir (other, 0700) == 0);
    assert (schalt_test_redis_start (port, other) == -1);
    assert (schalt_test_redis_start (port, "/nonexistent/folder") == -1);
    assert (schalt_test_redis_stop (pid, SIGTERM) == 0);
    assert (!s_redis_answers (port, 0));
    assert (schalt_test_redis_stop (pid, SIGTERM) == -1); //  already reaped

    //  A program gets the environment given, and its output lands in its log
    char log[PATH_MAX];
    snprintf (log, sizeof log, "%s/spawn.log", dir);
    const char *echo[] = {"sh", "-c", "echo out:$SCHALT_SPAWN_TEST; echo err >&2; exit 3", NULL};
    char *const env[] = {"SCHALT_SPAWN_TEST=given", NULL};
    pid_t child = schalt_test_spawn (echo, env, log);
    assert (child > 0);
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status) &&
            WEXITSTATUS (status) == 3);
    FILE *file = fopen (log, "r");
    char text[64] = "";
    size_t length = file ? fread (text, 1, sizeof text - 1, file) : 0;
    if (file)
        fclose (file);
    text[length] = 0;
    assert (strcmp (text, "out:given\nerr\n") == 0);
    assert (schalt_test_spawn (echo, NULL, "/nonexistent/folder/log") == -1);

    //  Its log and AOF folder are in dir, with the other server's log in a
    //  subfolder; rmtree removes them all
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/redis.log", dir);
    assert (stat (path, &info) == 0 && info.st_size > 0);
    schalt_test_rmtree (dir);
    assert (stat (dir, &info) == -1 && errno == ENOENT);
    free (dir);
    printf ("OK\n");
}
