/*  schalt_log - logging for every program: zsys underneath, one lock around it.
    See schalt_log.h for why the lock exists.
*/
#include "schalt_log.h"

#include <czmq.h>
#include <pthread.h>
#include <stdarg.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_threshold = 3; //  index into s_levels: info

//  Levels from most to least severe, with zsys's letters.
static const struct {
    char letter;
    const char *name;
} s_levels[] = {{'E', "error"}, {'W', "warning"}, {'N', "notice"}, {'I', "info"}, {'D', "debug"}};

#define LEVEL_COUNT (int)(sizeof (s_levels) / sizeof (s_levels[0]))

//  Returns the index of a level letter, or -1.
static int
s_level_index (char letter)
{
    for (int index = 0; index < LEVEL_COUNT; index++)
        if (s_levels[index].letter == letter)
            return index;
    return -1;
}

void
schalt_log_start (const char *service)
{
    zsys_init ();
    pthread_mutex_lock (&s_lock);
    zsys_set_logident (service);
    zsys_set_logstream (stderr);
    pthread_mutex_unlock (&s_lock);
}

int
schalt_log_set_level (const char *level)
{
    for (int index = 0; index < LEVEL_COUNT; index++)
        if (streq (s_levels[index].name, level)) {
            pthread_mutex_lock (&s_lock);
            s_threshold = index;
            pthread_mutex_unlock (&s_lock);
            return 0;
        }
    return -1;
}

#define LOG_ENDPOINT "inproc://schalt-log"
static bool s_sender_bound = false;

const char *
schalt_log_endpoint (void)
{
    pthread_mutex_lock (&s_lock);
    if (!s_sender_bound) {
        //  zsys binds its log sender's PUB socket (it asserts on failure)
        zsys_set_logsender (LOG_ENDPOINT);
        s_sender_bound = true;
    }
    pthread_mutex_unlock (&s_lock);
    return LOG_ENDPOINT;
}

void
schalt_log_stop (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_sender_bound) {
        zsys_set_logsender (NULL);
        s_sender_bound = false;
    }
    pthread_mutex_unlock (&s_lock);
}

void
schalt_log (char level, const char *format, ...)
{
    int index = s_level_index (level);
    if (index < 0)
        index = s_level_index ('I');
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    if (!text)
        return;

    pthread_mutex_lock (&s_lock);
    if (index <= s_threshold) {
        switch (s_levels[index].letter) {
            case 'E':
                zsys_error ("%s", text);
                break;
            case 'W':
                zsys_warning ("%s", text);
                break;
            case 'N':
                zsys_notice ("%s", text);
                break;
            case 'D':
                zsys_debug ("%s", text);
                break;
            default:
                zsys_info ("%s", text);
                break;
        }
    }
    pthread_mutex_unlock (&s_lock);
    zstr_free (&text);
}

const char *
schalt_log_level_name (char level)
{
    int index = s_level_index (level);
    return index < 0 ? "info" : s_levels[index].name;
}

void
schalt_log_test (bool verbose)
{
    printf (" * schalt_log: ");
    if (verbose)
        printf ("\n");

    assert (schalt_log_set_level ("nonsense") == -1);
    assert (streq (schalt_log_level_name ('W'), "warning"));
    assert (streq (schalt_log_level_name ('?'), "info"));

    //  A line reaches an attached relay, one below the level does not
    zsock_t *relay = zsock_new_sub (schalt_log_endpoint (), "");
    assert (relay);
    zclock_sleep (50); //  let the subscription arrive at the sender
    assert (schalt_log_set_level ("warning") == 0);
    FILE *saved = stderr;
    zsys_set_logstream (NULL); //  keep the test's output clean
    schalt_log_info ("test: hidden");
    schalt_log_warning ("test: shown value=%d", 42);
    zsock_set_rcvtimeo (relay, 1000);
    char *line = zstr_recv (relay);
    assert (line);
    assert (line[0] == 'W');
    assert (strstr (line, "test: shown value=42"));
    zstr_free (&line);
    zsys_set_logstream (saved);
    assert (schalt_log_set_level ("info") == 0);
    zsock_destroy (&relay);
    printf ("OK\n");
}
