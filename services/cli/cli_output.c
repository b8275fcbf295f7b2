/*  cli_output - tables and records as the schalt client prints them for people. */
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
