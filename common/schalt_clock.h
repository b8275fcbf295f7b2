/*  schalt_clock - the time a daemon decides by.

    Every decision that depends on the time of day (has a session begun, has
    an offer run out, is a cancellation late) asks this clock, not time(2),
    so that a test can move it: a test makes an offer expire or a session
    begin without waiting hours. In an installation the clock is the
    system's; it can be moved only when the configuration was made for tests
    (`schaltstelle/test_clock = settable`), which deploy/up refuses, and then
    only by the daemon's `clock.set` command (schalt_server). Logs, replay
    records' lifetimes and the notifier's retry timers stay on real time.
*/
#ifndef SCHALT_CLOCK_H_INCLUDED
#define SCHALT_CLOCK_H_INCLUDED

#include <stdint.h>
#include <time.h>

//  The time now, in UTC seconds: the system's, plus the test offset.
time_t schalt_clock_now (void);

//  The offset in seconds that a test set (0 unless one did).
int64_t schalt_clock_offset (void);

//  Sets the offset, so that the clock reads now + offset (for clock.set).
void schalt_clock_set_offset (int64_t offset);

#endif
