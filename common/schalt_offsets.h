/*  schalt_offsets - when before a date its reminders go out.

    A list of offsets is written as words: a whole number and a unit, "d"
    (days), "h" (hours) or "m" (minutes), as in "7d 1d" or "1d 2h", or the
    word "none". An offset in days keeps the local wall-clock time: "1d"
    before a 10:00 session is 10:00 the day before, across a change of
    daylight-saving time; one in hours or minutes is that many seconds
    before. Each offset is more than 0 and at most 60 days; no offset twice
    (1d and 24h are the same); at most SCHALT_OFFSETS_MAX. The list is kept
    from the earliest reminder to the latest ("7d 1d 2h").
*/
#ifndef SCHALT_OFFSETS_H_INCLUDED
#define SCHALT_OFFSETS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SCHALT_OFFSETS_MAX 8

typedef struct {
    int amount;   //  1..
    char unit;    //  'd', 'h' or 'm'
    char text[8]; //  "7d": also the offset's name in reminder ids
} schalt_offset_t;

typedef struct {
    size_t count; //  0 for "none"
    schalt_offset_t offsets[SCHALT_OFFSETS_MAX];
} schalt_offsets_t;

//  Parses text into offsets. Returns 0, or -1 with the reason in
//  error[size] ("'3x' is not a number with d, h or m").
int schalt_offsets_parse (const char *text, schalt_offsets_t *offsets, char *error, size_t size);

//  Writes offsets as text ("7d 1d", or "none") into buffer[size].
char *schalt_offsets_format (const schalt_offsets_t *offsets, char *buffer, size_t size);

//  The offset's length in seconds (days as 86400 each).
long schalt_offset_seconds (const schalt_offset_t *offset);

//  The instant offset before start in zone: days keep the wall-clock time.
//  Returns 0, or -1 for an unknown zone.
int schalt_offset_before (const schalt_offset_t *offset, time_t start, const char *zone,
                          time_t *due);

//  Self test.
void schalt_offsets_test (bool verbose);

#endif
