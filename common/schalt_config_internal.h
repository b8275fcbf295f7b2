/*  schalt_config_internal - what the config files share; private to them.

    Only schalt_config.c (loading, environment, reference, self test),
    schalt_config_check.c (checking one value) and schalt_config_scan.c (the
    ZPL line scanner) include this header. Everything else uses
    schalt_config.h, whose API this does not change.
*/
#ifndef SCHALT_CONFIG_INTERNAL_H_INCLUDED
#define SCHALT_CONFIG_INTERNAL_H_INCLUDED

#include "schalt_config.h"

#include <stddef.h>

//  -------------------------------------------------------------------------
//  Checking one value, in schalt_config_check.c

//  Checks value against a setting's type and bounds. Returns NULL if it is
//  valid (and stores an integer's value in *integer), else a message that
//  names the rule, possibly written into buffer.
const char *schalt_config_check (const schalt_setting_t *setting, const char *value, long *integer,
                                 char *buffer, size_t size);

//  Writes the choices "a|b|c" as "a, b, c", each between quote marks, into
//  buffer; returns buffer.
char *schalt_config_choices (const char *choices, const char *quote, char *buffer, size_t size);

//  -------------------------------------------------------------------------
//  The ZPL line scanner, in schalt_config_scan.c

//  Returns NULL if one line (without its newline) is valid ZPL, else why
//  not. Updates *depth, the level of the last name (-1 before the first),
//  and sets *named when the line holds a name (and so makes a node).
const char *schalt_config_scan_line (const char *line, size_t length, int *depth, bool *named);

//  -------------------------------------------------------------------------
//  Parts of schalt_config_test that live with the code they test

//  Checks each type of value as a setting of that type; asserts
void schalt_config_test_check (void);

#endif
