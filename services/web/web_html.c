/*  web_html - pages from templates, every value escaped. See web_html.h. */
#include "web_html.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { NODE_TEXT, NODE_VALUE, NODE_SECTION, NODE_INVERTED } node_kind_t;

typedef struct _node_t node_t;
struct _node_t {
    node_kind_t kind;
    char *text; //  NODE_TEXT: the text; else the name
    size_t length;
    char source[WEB_HTML_NAME_MAX + 1]; //  the template it came from, for errors
    int line;
    node_t *children; //  a section's
    size_t count, room;
};

struct _web_html_t {
    node_t root;
};

//  --------------------------------------------------------------------------
//  Parsing

typedef struct {
    web_html_loader_fn *load;
    void *arg;
    char *error;
    size_t size;
} parser_t;

static node_t *
s_add (node_t *parent, node_kind_t kind, const char *text, size_t length, const char *source,
       int line)
{
    if (parent->count == parent->room) {
        parent->room = parent->room ? parent->room * 2 : 8;
        parent->children = (node_t *)realloc (parent->children, parent->room * sizeof (node_t));
        assert (parent->children);
    }
    node_t *node = &parent->children[parent->count++];
    memset (node, 0, sizeof (*node));
    node->kind = kind;
    node->text = (char *)malloc (length + 1);
    assert (node->text);
    memcpy (node->text, text, length);
    node->text[length] = 0;
    node->length = length;
    snprintf (node->source, sizeof (node->source), "%s", source);
    node->line = line;
    return node;
}

static void
s_free_children (node_t *node)
{
    for (size_t index = 0; index < node->count; index++) {
        s_free_children (&node->children[index]);
        free (node->children[index].text);
    }
    free (node->children);
    node->children = NULL;
    node->count = node->room = 0;
}

//  True if name is "." or 1 to WEB_HTML_NAME_MAX of A-Z a-z 0-9 _ - . (no
//  empty part between dots).
static bool
s_name_valid (const char *name)
{
    size_t length = strlen (name);
    if (length == 1 && name[0] == '.')
        return true;
    if (length == 0 || length > WEB_HTML_NAME_MAX || name[0] == '.' || name[length - 1] == '.')
        return false;
    for (size_t index = 0; index < length; index++) {
        char c = name[index];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
        if (c == '.' && name[index + 1] == '.')
            return false;
    }
    return true;
}

static int s_parse (parser_t *parser, node_t *parent, const char **cursor, const char *source,
                    int *line, const char *closing, int depth, int partials);

//  Counts the newlines in text[0..length).
static int
s_lines (const char *text, size_t length)
{
    int lines = 0;
    for (size_t index = 0; index < length; index++)
        lines += text[index] == '\n';
    return lines;
}

//  Parses one template's text into parent (a partial's too).
static int
s_parse_text (parser_t *parser, node_t *parent, const char *text, const char *source, int depth,
              int partials)
{
    if (strlen (text) > WEB_HTML_TEMPLATE_MAX) {
        snprintf (parser->error, parser->size, "%s: larger than %d octets", source,
                  WEB_HTML_TEMPLATE_MAX);
        return -1;
    }
    const char *cursor = text;
    int line = 1;
    return s_parse (parser, parent, &cursor, source, &line, NULL, depth, partials);
}

static int
s_parse (parser_t *parser, node_t *parent, const char **cursor, const char *source, int *line,
         const char *closing, int depth, int partials)
{
    while (**cursor) {
        const char *open = strstr (*cursor, "{{");
        size_t plain = open ? (size_t)(open - *cursor) : strlen (*cursor);
        if (plain > 0) {
            s_add (parent, NODE_TEXT, *cursor, plain, source, *line);
            *line += s_lines (*cursor, plain);
            *cursor += plain;
        }
        if (!open)
            break;
        const char *close = strstr (open + 2, "}}");
        if (!close) {
            snprintf (parser->error, parser->size, "%s:%d: a {{ without its }}", source, *line);
            return -1;
        }
        //  The tag: a sigil, then the name, spaces around it allowed
        const char *inside = open + 2;
        char sigil = 0;
        if (*inside == '#' || *inside == '^' || *inside == '/' || *inside == '>')
            sigil = *inside++;
        while (inside < close && *inside == ' ')
            inside++;
        const char *end = close;
        while (end > inside && end[-1] == ' ')
            end--;
        char name[WEB_HTML_NAME_MAX + 2];
        size_t length = (size_t)(end - inside);
        if (length > WEB_HTML_NAME_MAX)
            length = WEB_HTML_NAME_MAX + 1; //  (refused below)
        memcpy (name, inside, length);
        name[length] = 0;
        int tag_line = *line;
        *line += s_lines (open, (size_t)(close + 2 - open));
        *cursor = close + 2;
        if (!s_name_valid (name) || (sigil == '>' && strchr (name, '.'))) {
            snprintf (parser->error, parser->size,
                      "%s:%d: '%.*s' is not a name: 1 to %d of A-Z a-z 0-9 _ - and dots between",
                      source, tag_line, (int)(close - open - 2), open + 2, WEB_HTML_NAME_MAX);
            return -1;
        }
        if (sigil == '/') {
            if (!closing || strcmp (closing, name) != 0) {
                snprintf (parser->error, parser->size, "%s:%d: {{/%s}} closes %s%s%s", source,
                          tag_line, name, closing ? "{{#" : "no section", closing ? closing : "",
                          closing ? "}}" : "");
                return -1;
            }
            return 0;
        }
        if (sigil == '#' || sigil == '^') {
            if (depth >= WEB_HTML_DEPTH_MAX) {
                snprintf (parser->error, parser->size, "%s:%d: sections nested deeper than %d",
                          source, tag_line, WEB_HTML_DEPTH_MAX);
                return -1;
            }
            //  (the parent does not grow while its section is parsed)
            node_t *section = s_add (parent, sigil == '#' ? NODE_SECTION : NODE_INVERTED, name,
                                     strlen (name), source, tag_line);
            if (s_parse (parser, section, cursor, source, line, name, depth + 1, partials) != 0)
                return -1;
            continue;
        }
        if (sigil == '>') {
            char loaded_error[256] = "";
            char *text = NULL;
            if (partials >= WEB_HTML_PARTIAL_DEPTH)
                snprintf (loaded_error, sizeof (loaded_error), "templates included deeper than %d",
                          WEB_HTML_PARTIAL_DEPTH);
            else if (!parser->load)
                snprintf (loaded_error, sizeof (loaded_error), "no template can be included here");
            else
                text = parser->load (parser->arg, name, loaded_error, sizeof (loaded_error));
            if (!text) {
                snprintf (parser->error, parser->size, "%s:%d: {{>%s}}: %s", source, tag_line, name,
                          loaded_error);
                return -1;
            }
            int rc = s_parse_text (parser, parent, text, name, depth, partials + 1);
            free (text);
            if (rc != 0)
                return -1;
            continue;
        }
        s_add (parent, NODE_VALUE, name, strlen (name), source, tag_line);
    }
    if (closing) {
        snprintf (parser->error, parser->size, "%s:%d: {{#%s}} is never closed", source, *line,
                  closing);
        return -1;
    }
    return 0;
}

web_html_t *
web_html_parse (const char *text, const char *name, web_html_loader_fn *load, void *arg,
                char *error, size_t size)
{
    web_html_t *self = (web_html_t *)calloc (1, sizeof (web_html_t));
    assert (self);
    parser_t parser = {load, arg, error, size};
    if (s_parse_text (&parser, &self->root, text, name, 0, 0) != 0)
        web_html_destroy (&self);
    return self;
}

void
web_html_destroy (web_html_t **self_p)
{
    web_html_t *self = *self_p;
    if (self) {
        s_free_children (&self->root);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Rendering

static void
s_append (char **out, size_t *used, size_t *size, const char *text, size_t length)
{
    if (*used + length + 1 > *size) {
        while (*used + length + 1 > *size)
            *size = *size ? *size * 2 : 1024;
        *out = (char *)realloc (*out, *size);
        assert (*out);
    }
    memcpy (*out + *used, text, length);
    *used += length;
    (*out)[*used] = 0;
}

void
web_html_escape (char **out, size_t *used, size_t *size, const char *text, size_t length)
{
    size_t from = 0;
    for (size_t index = 0; index < length; index++) {
        const char *entity = NULL;
        switch (text[index]) {
            case '&':
                entity = "&amp;";
                break;
            case '<':
                entity = "&lt;";
                break;
            case '>':
                entity = "&gt;";
                break;
            case '"':
                entity = "&quot;";
                break;
            case '\'':
                entity = "&#39;";
                break;
            default:
                break;
        }
        if (entity) {
            s_append (out, used, size, text + from, index - from);
            s_append (out, used, size, entity, strlen (entity));
            from = index + 1;
        }
    }
    s_append (out, used, size, text + from, length - from);
}

typedef struct {
    json_t *stack[WEB_HTML_DEPTH_MAX + 2];
    int depth;
    char *out;
    size_t used, size;
    char *error;
    size_t error_size;
} render_t;

//  The value of name: "." the current item; else its first part in the
//  innermost item that has it, then the rest member by member. NULL if none.
static json_t *
s_lookup (render_t *render, const char *name)
{
    if (strcmp (name, ".") == 0)
        return render->stack[render->depth - 1];
    char first[WEB_HTML_NAME_MAX + 1];
    size_t length = strcspn (name, ".");
    memcpy (first, name, length);
    first[length] = 0;
    json_t *value = NULL;
    for (int index = render->depth - 1; index >= 0 && !value; index--)
        if (json_is_object (render->stack[index]))
            value = json_object_get (render->stack[index], first);
    for (const char *rest = name + length; value && *rest == '.'; rest += length) {
        rest++;
        length = strcspn (rest, ".");
        memcpy (first, rest, length);
        first[length] = 0;
        value = json_object_get (value, first);
    }
    return value;
}

//  True if a section's value counts as there.
static bool
s_truthy (json_t *value)
{
    if (!value || json_is_null (value) || json_is_false (value))
        return false;
    if (json_is_array (value))
        return json_array_size (value) > 0;
    if (json_is_string (value))
        return json_string_length (value) > 0;
    if (json_is_integer (value))
        return json_integer_value (value) != 0;
    if (json_is_real (value))
        return json_real_value (value) != 0.0;
    return true; //  true, an object
}

static int s_render_nodes (render_t *render, node_t *parent);

//  Renders a section's children with item as the innermost context.
static int
s_render_with (render_t *render, node_t *section, json_t *item)
{
    render->stack[render->depth++] = item;
    int rc = s_render_nodes (render, section);
    render->depth--;
    return rc;
}

static int
s_render_nodes (render_t *render, node_t *parent)
{
    for (size_t index = 0; index < parent->count; index++) {
        node_t *node = &parent->children[index];
        if (node->kind == NODE_TEXT) {
            s_append (&render->out, &render->used, &render->size, node->text, node->length);
            continue;
        }
        json_t *value = s_lookup (render, node->text);
        if (node->kind == NODE_VALUE) {
            char number[48];
            const char *text = NULL;
            size_t length = 0;
            if (json_is_string (value)) {
                text = json_string_value (value);
                length = json_string_length (value);
            } else if (json_is_integer (value)) {
                snprintf (number, sizeof (number), "%lld", (long long)json_integer_value (value));
                text = number;
                length = strlen (number);
            } else if (json_is_real (value)) {
                snprintf (number, sizeof (number), "%g", json_real_value (value));
                text = number;
                length = strlen (number);
            }
            if (!text) {
                snprintf (render->error, render->error_size, "%s:%d: {{%s}} %s", node->source,
                          node->line, node->text,
                          value ? "is a list or an object, not a text" : "has no value here");
                return -1;
            }
            web_html_escape (&render->out, &render->used, &render->size, text, length);
        } else if (node->kind == NODE_INVERTED) {
            if (!s_truthy (value) && s_render_nodes (render, node) != 0)
                return -1;
        } else if (json_is_array (value)) {
            size_t item_index;
            json_t *item;
            json_array_foreach (value, item_index, item)
            {
                if (s_render_with (render, node, item) != 0)
                    return -1;
            }
        } else if (json_is_object (value)) {
            if (s_render_with (render, node, value) != 0)
                return -1;
        } else if (s_truthy (value) && s_render_nodes (render, node) != 0)
            return -1;
    }
    return 0;
}

char *
web_html_render (web_html_t *self, json_t *context, char *error, size_t size)
{
    render_t render = {{context}, 1, NULL, 0, 0, error, size};
    s_append (&render.out, &render.used, &render.size, "", 0);
    if (s_render_nodes (&render, &self->root) != 0) {
        free (render.out);
        return NULL;
    }
    return render.out;
}

//  --------------------------------------------------------------------------
//  Self test

//  Partials for the test: "layout" includes "nav"; "loop" includes itself.
static char *
s_test_load (void *arg, const char *name, char *error, size_t size)
{
    (void)arg;
    if (strcmp (name, "nav") == 0)
        return strdup ("<nav>{{site}}</nav>");
    if (strcmp (name, "loop") == 0)
        return strdup ("x{{>loop}}");
    if (strcmp (name, "broken") == 0)
        return strdup ("{{#open}}");
    snprintf (error, size, "no template %s", name);
    return NULL;
}

//  Renders text with the JSON context; returns the page or the error (in
//  a static buffer for the asserts).
static const char *
s_test (const char *text, const char *json)
{
    static char result[4096];
    char error[512] = "";
    json_t *context = json_loads (json, 0, NULL);
    assert (context);
    web_html_t *page = web_html_parse (text, "page.html", s_test_load, NULL, error, sizeof (error));
    char *html = page ? web_html_render (page, context, error, sizeof (error)) : NULL;
    snprintf (result, sizeof (result), "%s%s", html ? "" : "ERROR ", html ? html : error);
    free (html);
    web_html_destroy (&page);
    json_decref (context);
    return result;
}

void
web_html_test (bool verbose)
{
    printf (" * web_html: ");
    if (verbose)
        printf ("\n");
    //  Every value escaped, in text and in attributes
    assert (strcmp (s_test ("<p title=\"{{t}}\">{{t}}</p>",
                            "{\"t\":\"<script>&\\\" onmouseover='x'\"}"),
                    "<p title=\"&lt;script&gt;&amp;&quot; onmouseover=&#39;x&#39;\">"
                    "&lt;script&gt;&amp;&quot; onmouseover=&#39;x&#39;</p>") == 0);
    assert (strcmp (s_test ("{{ n }} {{r}}", "{\"n\":42,\"r\":0.5}"), "42 0.5") == 0);
    //  Lists, objects, parents, dotted names, the current item
    assert (strcmp (s_test ("{{#events}}[{{title}} {{site}} {{place.room}}]{{/events}}",
                            "{\"site\":\"S\",\"events\":[{\"title\":\"A\",\"place\":{\"room\":"
                            "\"1\"}},{\"title\":\"B\",\"place\":{\"room\":\"2\"}}]}"),
                    "[A S 1][B S 2]") == 0);
    assert (strcmp (s_test ("{{#tags}}<{{.}}>{{/tags}}", "{\"tags\":[\"a\",\"b&c\"]}"),
                    "<a><b&amp;c>") == 0);
    assert (strcmp (s_test ("{{#e}}{{x}}{{/e}}|{{^e}}none{{/e}}|{{^f}}no f{{/f}}",
                            "{\"e\":{\"x\":\"in\"},\"f\":[]}"),
                    "in||no f") == 0);
    assert (strcmp (s_test ("{{#t}}yes{{/t}}{{#z}}zero{{/z}}{{#s}}empty{{/s}}",
                            "{\"t\":true,\"z\":0,\"s\":\"\"}"),
                    "yes") == 0);
    //  Included templates
    assert (strcmp (s_test ("{{>nav}}<main></main>", "{\"site\":\"<Pulheim>\"}"),
                    "<nav>&lt;Pulheim&gt;</nav><main></main>") == 0);
    //  Failures name the template, the line and what is wrong
    const char *missing = s_test ("line 1\n{{#e}}\n{{nope}}{{/e}}", "{\"e\":[{}]}");
    if (verbose)
        printf ("   %s\n", missing);
    assert (strstr (missing, "ERROR page.html:3: {{nope}} has no value here"));
    assert (strstr (s_test ("{{e}}", "{\"e\":[1]}"), "is a list or an object"));
    assert (strstr (s_test ("a\n{{#e}}b", "{}"), "ERROR page.html:2: {{#e}} is never closed"));
    assert (strstr (s_test ("{{#e}}{{/f}}", "{}"), "{{/f}} closes {{#e}}"));
    assert (strstr (s_test ("{{/f}}", "{}"), "closes no section"));
    assert (strstr (s_test ("{{a b}}", "{}"), "is not a name"));
    assert (strstr (s_test ("{{a..b}}", "{}"), "is not a name"));
    assert (strstr (s_test ("{{{raw}}}", "{}"), "is not a name"));
    assert (strstr (s_test ("{{unclosed", "{}"), "a {{ without its }}"));
    assert (strstr (s_test ("{{>loop}}", "{}"), "included deeper than 8"));
    assert (strstr (s_test ("{{>broken}}", "{}"), "broken:1: {{#open}} is never closed"));
    assert (strstr (s_test ("{{>absent}}", "{}"), "{{>absent}}: no template absent"));
    //  Deep nesting is refused
    char deep[4096] = "";
    for (int index = 0; index < WEB_HTML_DEPTH_MAX + 1; index++)
        strcat (deep, "{{#a}}");
    assert (strstr (s_test (deep, "{}"), "nested deeper than 32"));
    //  A template too large
    char *large = (char *)malloc (WEB_HTML_TEMPLATE_MAX + 2);
    memset (large, 'x', WEB_HTML_TEMPLATE_MAX + 1);
    large[WEB_HTML_TEMPLATE_MAX + 1] = 0;
    assert (strstr (s_test (large, "{}"), "larger than"));
    free (large);
    printf ("OK\n");
}
