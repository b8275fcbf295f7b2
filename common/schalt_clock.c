/*  schalt_clock - the time a daemon decides by. See schalt_clock.h. */
#include "schalt_clock.h"

#include <stdatomic.h>

//  Seconds added to the system's clock; set only by the clock.set command of
//  a server whose configuration allows it (and read by every actor)
static _Atomic int64_t s_offset = 0;

time_t
schalt_clock_now (void)
{
    return time (NULL) + (time_t)atomic_load (&s_offset);
}

int64_t
schalt_clock_offset (void)
{
    return atomic_load (&s_offset);
}

void
schalt_clock_set_offset (int64_t offset)
{
    atomic_store (&s_offset, offset);
}
