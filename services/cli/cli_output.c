/*  cli_output - how the schalt client prints: tables and records for people,
    JSON and ids for scripts, CSV cells for spreadsheets.
*/
#include "cli.h"

struct _cli_table_t {
    int columns;
    zlist_t *rows; //  of char ** (columns cells each)
};

size_t
cli_text_width (const char *text)
{
    size_t width = 0;
    for (; *text; text++)
        if (((unsigned char)*text & 0xC0) != 0x80) //  count lead bytes only
            width++;
    return width;
}

cli_table_t *
cli_table_new (int columns)
{
    cli_table_t *self = (cli_table_t *)zmalloc (sizeof (cli_table_t));
    assert (self);
    self->columns = columns;
    self->rows = zlist_new ();
    return self;
}

void
cli_table_destroy (cli_table_t **self_p)
{
    cli_table_t *self = *self_p;
    if (!self)
        return;
    char **row;
    while ((row = (char **)zlist_pop (self->rows))) {
        for (int column = 0; column < self->columns; column++)
            free (row[column]);
        free (row);
    }
    zlist_destroy (&self->rows);
    free (self);
    *self_p = NULL;
}

void
cli_table_row (cli_table_t *self, const char **cells)
{
    char **row = (char **)zmalloc (sizeof (char *) * (size_t)self->columns);
    assert (row);
    for (int column = 0; column < self->columns; column++)
        row[column] = strdup (cells[column] ? cells[column] : "");
    zlist_append (self->rows, row);
}

void
cli_table_print (cli_table_t *self, FILE *out)
{
    size_t widths[16] = {0};
    assert (self->columns <= 16);
    for (char **row = (char **)zlist_first (self->rows); row;
         row = (char **)zlist_next (self->rows))
        for (int column = 0; column < self->columns; column++) {
            size_t width = cli_text_width (row[column]);
            if (width > widths[column])
                widths[column] = width;
        }
    for (char **row = (char **)zlist_first (self->rows); row;
         row = (char **)zlist_next (self->rows)) {
        for (int column = 0; column < self->columns; column++) {
            bool last = column == self->columns - 1;
            fputs (row[column], out);
            if (!last)
                for (size_t pad = cli_text_width (row[column]); pad < widths[column] + 2; pad++)
                    fputc (' ', out);
        }
        fputc ('\n', out);
    }
}

const char *
cli_local_time (const char *instant, const char *zone, char buffer[32])
{
    time_t utc;
    if (instant && schalt_time_parse_instant (instant, &utc) == 0 &&
        schalt_time_format_local (utc, zone, buffer))
        return buffer;
    snprintf (buffer, 32, "%s", instant ? instant : "");
    return buffer;
}

void
cli_print_field (FILE *out, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    fprintf (out, "  %-12s ", label);
    //  Keep the lines of a multi-line text under its label
    for (const char *cursor = value; *cursor; cursor++) {
        fputc (*cursor, out);
        if (*cursor == '\n' && cursor[1])
            fprintf (out, "  %-12s ", "");
    }
    fputc ('\n', out);
}

//  --------------------------------------------------------------------------
//  Replies, for scripts and spreadsheets

//  --json prints the object itself (or the list); people get text.
int
cli_print_json (json_t *value)
{
    char *text = json_dumps (value, JSON_INDENT (2));
    printf ("%s\n", text);
    free (text);
    return CLI_DONE;
}

//  --id prints only the id, for scripts: EVENT=$(schalt --id event create ...)
int
cli_print_id (json_t *object)
{
    printf ("%s\n", json_string_value (json_object_get (object, "id")));
    return CLI_DONE;
}

//  --id on a list prints one id a line, in the list's order.
int
cli_print_ids (json_t *list)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) cli_print_id (item);
    return CLI_DONE;
}

//  Joins the strings of an array with ", " into buffer.
const char *
cli_join (json_t *array, char *buffer, size_t size)
{
    buffer[0] = 0;
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item)
    {
        size_t used = strlen (buffer);
        snprintf (buffer + used, size - used, "%s%s", index ? ", " : "", json_string_value (item));
    }
    return buffer;
}

//  Writes one CSV cell: quoted if it holds ; " or a line break; a leading
//  = + - @ is defused with ' so that a spreadsheet never runs it as a formula.
void
cli_csv_cell (FILE *out, const char *text, bool last)
{
    text = text ? text : "";
    bool formula = strchr ("=+-@", text[0]) && text[0];
    bool quote = formula || strpbrk (text, ";\"\r\n");
    if (quote)
        fputc ('"', out);
    if (formula)
        fputc ('\'', out);
    for (const char *cursor = text; *cursor; cursor++) {
        if (*cursor == '"')
            fputc ('"', out);
        fputc (*cursor, out);
    }
    if (quote)
        fputc ('"', out);
    fputs (last ? "\r\n" : ";", out);
}

bool
cli_print_for_scripts (cli_t *cli, json_t *value)
{
    if (cli->id_only && json_is_array (value))
        cli_print_ids (value);
    else if (cli->id_only)
        cli_print_id (value);
    else if (cli->json)
        cli_print_json (value);
    return cli->id_only || cli->json;
}
