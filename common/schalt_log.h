/*  schalt_log - logging for every program: zsys underneath, one lock around it.

    Lines go to stderr and, through zsys's log sender, to every running server
    actor, which republishes them on its PUB socket as `log.<level>` events.
    zsys's log sender is one PUB socket shared by the whole process and is not
    safe to use from two threads at once, so all logging goes through this
    wrapper, which serialises it and drops lines below the configured level.
    Log lines are lowercase key=value text with ids, never personal data.
*/
#ifndef SCHALT_LOG_H_INCLUDED
#define SCHALT_LOG_H_INCLUDED

#include <stdbool.h>

//  Set the process's log identity (the service name) and send log lines to
//  stderr. Call once from main before starting any thread.
void schalt_log_start (const char *service);

//  Set the lowest level that is logged: "error", "warning", "notice",
//  "info" or "debug". Returns 0, or -1 for an unknown name (level unchanged).
int schalt_log_set_level (const char *level);

//  The inproc endpoint where zsys's log sender publishes every line; binds
//  it on first use. A server actor's log relay connects a SUB socket here.
const char *schalt_log_endpoint (void);

//  Close the log sender; call once at the end of main (else czmq reports
//  it as a dangling socket and cannot terminate ZeroMQ cleanly).
void schalt_log_stop (void);

//  Log a line at level 'E', 'W', 'N', 'I' or 'D' (zsys's letters).
void schalt_log (char level, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  The level's name for a zsys letter ("warning" for 'W'); "info" if unknown.
const char *schalt_log_level_name (char level);

#define schalt_log_error(...) schalt_log ('E', __VA_ARGS__)
#define schalt_log_warning(...) schalt_log ('W', __VA_ARGS__)
#define schalt_log_notice(...) schalt_log ('N', __VA_ARGS__)
#define schalt_log_info(...) schalt_log ('I', __VA_ARGS__)
#define schalt_log_debug(...) schalt_log ('D', __VA_ARGS__)

//  Self test.
void schalt_log_test (bool verbose);

#endif
