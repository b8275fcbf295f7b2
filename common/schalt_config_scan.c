/*  schalt_config_scan - the ZPL line scanner, run before zconfig parses.

    Checks each line of a configuration file with the rules of czmq's ZPL
    parser, so that the loader can give each syntax error its line (zconfig
    only prints those to stdout, which would corrupt the CLI's output) and
    each node its line for later messages. It also refuses what zconfig
    mishandles: lines over 1024 bytes (silently truncated), NUL bytes, and
    `name = # comment` (zconfig takes "# comment" as the value).
*/

#include "schalt_config_internal.h"

#include <czmq.h>

#include <ctype.h>

//  The longest line zconfig parses correctly
#define SCHALT_CONFIG_LINE_MAX 1024

//  Returns true if the size bytes at text are blank or blank then a comment.
static bool
s_is_blank (const char *text, size_t size)
{
    size_t index = 0;
    while (index < size && isspace ((unsigned char)text[index]))
        index++;
    return index == size || text[index] == '#';
}

//  Returns true if c may appear in a ZPL name (zconfig's rule).
static bool
s_is_namechar (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr ("$-_@.&+/", c));
}

//  Returns NULL if one line (without its newline) is valid ZPL, else why
//  not. Updates *depth, the level of the last name (-1 before the first),
//  and sets *named when the line holds a name (and so makes a node).
const char *
schalt_config_scan_line (const char *line, size_t length, int *depth, bool *named)
{
    *named = false;
    if (length > SCHALT_CONFIG_LINE_MAX)
        return "line is longer than 1024 characters";
    if (memchr (line, '\0', length))
        return "line contains a NUL byte";
    while (length && isspace ((unsigned char)line[length - 1]))
        length--;
    size_t at = 0;
    while (at < length && line[at] == ' ')
        at++;
    if (at % 4)
        return "indent by a multiple of 4 spaces";
    int level = (int)at / 4;
    size_t name = at;
    while (at < length && s_is_namechar (line[at]))
        at++;
    if (at == name)
        return s_is_blank (line + at, length - at)
                   ? NULL
                   : "expected 'name = value', a section name or a comment";
    if (line[name] == '/' || line[at - 1] == '/')
        return "a name cannot start or end with '/'";

    //  The value: nothing, "= unquoted", or "= 'quoted'" then a comment
    while (at < length && isspace ((unsigned char)line[at]))
        at++;
    if (at < length && line[at] == '=') {
        at++;
        while (at < length && isspace ((unsigned char)line[at]))
            at++;
        if (at < length && (line[at] == '"' || line[at] == '\'')) {
            const char *close = memchr (line + at + 1, line[at], length - at - 1);
            if (!close)
                return line[at] == '"' ? "missing closing \"" : "missing closing '";
            if (!s_is_blank (close + 1, (size_t)(line + length - close - 1)))
                return "unexpected text after the closing quote";
        } else if (at < length && line[at] == '#')
            return "value missing ('#' starts a comment; quote a value that starts with '#')";
    } else if (!s_is_blank (line + at, length - at))
        return "expected '=' after the name";
    if (level > *depth + 1)
        return "indented more than one level below its section";
    *depth = level;
    *named = true;
    return NULL;
}
