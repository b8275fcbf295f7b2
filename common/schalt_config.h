/*  schalt_config - the installation's configuration: one ZPL file (zconfig).

    Every setting of every program is one row of one table (schalt_settings.c):
    its path, type, bounds, default and meaning. Loading a file checks every
    key in it against that table: an unknown key, a value of the wrong type or
    out of bounds is an error reported with its path (and, when the file
    says, its line), and all errors are reported before loading fails. An
    environment variable overrides a file value: SCHALT_ + the path in upper
    case with '/' as '_' (scheduler/redis/port -> SCHALT_SCHEDULER_REDIS_PORT),
    and is checked the same way. A setting in neither place has its default.
*/
#ifndef SCHALT_CONFIG_H_INCLUDED
#define SCHALT_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    SCHALT_SETTING_STRING,   //  any non-empty string up to max characters
    SCHALT_SETTING_INTEGER,  //  decimal integer within [min, max]
    SCHALT_SETTING_ENUM,     //  one of the '|'-separated words in choices
    SCHALT_SETTING_ENDPOINT, //  a ZeroMQ endpoint: tcp://host:port or ipc://path
    SCHALT_SETTING_TIMEZONE, //  an IANA zone name known to libical ("Europe/Berlin")
    SCHALT_SETTING_PATH,     //  a file or folder name (not checked for existence)
    SCHALT_SETTING_OFFSETS   //  reminder offsets ("7d 1d", "2h", "none"), as schalt_offsets reads
} schalt_setting_type_t;

typedef struct {
    const char *path; //  "scheduler/redis/port"
    schalt_setting_type_t type;
    const char *fallback; //  default value, as text
    long min, max;        //  bounds for integers; max length for strings
    const char *choices;  //  for enums: "none|opportunistic|required"
    const char *help;     //  one line for the reference and --help
} schalt_setting_t;

//  The table of every setting; ends with a row whose path is NULL.
extern const schalt_setting_t schalt_settings[];

typedef struct _schalt_config_t schalt_config_t;

//  Load the configuration. filename may be NULL: then only the environment
//  and the defaults count. Every error is written to errors (one line each:
//  "schaltstelle.cfg: scheduler/redis/port: must be between 1 and 65535")
//  and NULL is returned if there was any.
schalt_config_t *schalt_config_new (const char *filename, FILE *errors);

//  Destroy; safe to call twice, clears the caller's pointer.
void schalt_config_destroy (schalt_config_t **self_p);

//  The value of a setting, borrowed. Asserts that the path is in the table
//  (asking for a setting that does not exist is a programming error).
const char *schalt_config_string (schalt_config_t *self, const char *path);

//  The value of an integer setting.
long schalt_config_integer (schalt_config_t *self, const char *path);

//  The file that was loaded, or NULL if none; borrowed.
const char *schalt_config_filename (schalt_config_t *self);

//  The default configuration file: $SCHALT_CONFIG if set, else
//  /etc/schaltstelle/schaltstelle.cfg if it exists, else NULL.
const char *schalt_config_default_file (void);

//  Write the reference of every setting (path, type, bounds, default, help)
//  as a Markdown table to out.
void schalt_config_print_reference (FILE *out);

//  Self test.
void schalt_config_test (bool verbose);

#endif
