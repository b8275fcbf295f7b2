/*  schalt_text - text from outside made safe to store, log and put into JSON.
    See schalt_text.h. UTF-8 as RFC 3629 defines it: no overlong forms, no
    surrogates, nothing above U+10FFFF.
*/
#include "schalt_text.h"

#include <assert.h>
#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t
schalt_text_utf8_char (const char *text, size_t length)
{
    const unsigned char *octet = (const unsigned char *)text;
    if (length == 0)
        return 0;
    if (octet[0] < 0x80)
        return 1;
    //  The lead octet gives the length and the range of the second octet
    //  (which rules out overlong forms, surrogates and values past U+10FFFF)
    size_t size;
    unsigned char low = 0x80, high = 0xBF;
    if (octet[0] >= 0xC2 && octet[0] <= 0xDF)
        size = 2;
    else if (octet[0] >= 0xE0 && octet[0] <= 0xEF) {
        size = 3;
        if (octet[0] == 0xE0)
            low = 0xA0;
        else if (octet[0] == 0xED)
            high = 0x9F;
    } else if (octet[0] >= 0xF0 && octet[0] <= 0xF4) {
        size = 4;
        if (octet[0] == 0xF0)
            low = 0x90;
        else if (octet[0] == 0xF4)
            high = 0x8F;
    } else
        return 0;
    if (length < size || octet[1] < low || octet[1] > high)
        return 0;
    for (size_t index = 2; index < size; index++)
        if (octet[index] < 0x80 || octet[index] > 0xBF)
            return 0;
    return size;
}

bool
schalt_text_utf8_valid (const char *text, size_t length)
{
    for (size_t at = 0; at < length;) {
        size_t size = schalt_text_utf8_char (text + at, length - at);
        if (size == 0)
            return false;
        at += size;
    }
    return true;
}

//  True if the octets from text to its end are the start of a valid
//  character that was cut short.
static bool
s_cut_short (const char *text, size_t length)
{
    //  Complete it with continuation octets: if that makes a valid character,
    //  what is there is a prefix of one
    char padded[4] = {0};
    if (length == 0 || length >= 4)
        return false;
    memcpy (padded, text, length);
    for (size_t index = length; index < 4; index++)
        padded[index] = (char)0x80;
    //  The smallest continuation is not always allowed (E0 A0, F0 90): try the largest too
    if (schalt_text_utf8_char (padded, 4) > length)
        return true;
    for (size_t index = length; index < 4; index++)
        padded[index] = (char)0xBF;
    return schalt_text_utf8_char (padded, 4) > length;
}

char *
schalt_text_utf8_repair (char *text)
{
    size_t length = strlen (text);
    for (size_t at = 0; at < length;) {
        size_t size = schalt_text_utf8_char (text + at, length - at);
        if (size > 0) {
            at += size;
            continue;
        }
        if (s_cut_short (text + at, length - at)) {
            text[at] = 0;
            break;
        }
        text[at++] = '?';
    }
    return text;
}

//  True if the character of size octets at text is a control character
//  (C0, DEL, C1) or white space, which a one-line text shows as one space.
static bool
s_blank (const unsigned char *text, size_t size)
{
    if (size == 1)
        return text[0] <= ' ' || text[0] == 0x7F;
    return size == 2 && text[0] == 0xC2 && text[1] <= 0x9F; //  U+0080..U+009F
}

char *
schalt_text_line (char *target, size_t size, const char *text, size_t length)
{
    assert (size >= 1);
    size_t used = 0;
    const char *end = memchr (text, 0, length);
    if (end)
        length = (size_t)(end - text);
    for (size_t at = 0; at < length;) {
        size_t octets = schalt_text_utf8_char (text + at, length - at);
        char escaped[5];
        const char *piece = text + at;
        size_t piece_size = octets;
        if (octets == 0) {
            snprintf (escaped, sizeof (escaped), "\\x%02x", (unsigned char)text[at]);
            piece = escaped;
            piece_size = 4;
            octets = 1;
        } else if (s_blank ((const unsigned char *)piece, octets)) {
            piece = " ";
            piece_size = 1;
            if (used == 0 || target[used - 1] == ' ') {
                at += octets;
                continue;
            }
        }
        if (used + piece_size + 1 > size)
            break; //  whole characters only
        memcpy (target + used, piece, piece_size);
        used += piece_size;
        at += octets;
    }
    while (used > 0 && target[used - 1] == ' ')
        used--;
    target[used] = 0;
    return target;
}

//  --------------------------------------------------------------------------
//  Self test

void
schalt_text_test (bool verbose)
{
    printf (" * schalt_text: ");
    if (verbose)
        printf ("\n");

    //  Characters: valid ones and the classic invalid forms
    assert (schalt_text_utf8_char ("a", 1) == 1);
    assert (schalt_text_utf8_char ("\xc3\xa4", 2) == 2);         //  ä
    assert (schalt_text_utf8_char ("\xe2\x82\xac", 3) == 3);     //  €
    assert (schalt_text_utf8_char ("\xf0\x9f\x8e\x93", 4) == 4); //  🎓
    assert (schalt_text_utf8_char ("\xf4\x8f\xbf\xbf", 4) == 4); //  U+10FFFF
    assert (schalt_text_utf8_char ("\xe4", 1) == 0);             //  Latin-1 ä
    assert (schalt_text_utf8_char ("\xc3\xa4", 1) == 0);         //  cut short
    assert (schalt_text_utf8_char ("\xc0\x80", 2) == 0);         //  overlong NUL
    assert (schalt_text_utf8_char ("\xe0\x80\xaf", 3) == 0);     //  overlong /
    assert (schalt_text_utf8_char ("\xed\xa0\x80", 3) == 0);     //  surrogate
    assert (schalt_text_utf8_char ("\xf4\x90\x80\x80", 4) == 0); //  past U+10FFFF
    assert (schalt_text_utf8_char ("\xf5\x80\x80\x80", 4) == 0); //  no such lead
    assert (schalt_text_utf8_char ("\x80", 1) == 0);             //  lone continuation
    assert (schalt_text_utf8_char ("\xe2\x82\x41", 3) == 0);     //  broken continuation
    assert (schalt_text_utf8_valid ("Empf\xc3\xa4nger", 10));
    assert (!schalt_text_utf8_valid ("Empf\xe4nger", 9));

    //  Repair in place: a cut character is dropped, a stray octet becomes ?
    char text[64];
    snprintf (text, sizeof (text), "Empf\xe4nger");
    assert (streq (schalt_text_utf8_repair (text), "Empf?nger"));
    snprintf (text, sizeof (text), "M\xc3\xbcller \xe2\x82");
    assert (streq (schalt_text_utf8_repair (text), "M\xc3\xbcller "));
    snprintf (text, sizeof (text), "\xf0\x9f\x8e");
    assert (streq (schalt_text_utf8_repair (text), ""));
    snprintf (text, sizeof (text), "a\xe0\x80"); //  no character starts E0 80
    assert (streq (schalt_text_utf8_repair (text), "a??"));
    snprintf (text, sizeof (text), "\xed\xa0"); //  a surrogate's start is not a prefix
    assert (streq (schalt_text_utf8_repair (text), "??"));
    snprintf (text, sizeof (text), "\xe0\xa0"); //  E0 A0 is (U+0800...)
    assert (streq (schalt_text_utf8_repair (text), ""));
    //  snprintf into a small buffer cuts a character: repair makes it valid
    char small[6];
    memcpy (small, "abcd\xc3", 5); //  what snprintf leaves of "abcdä" in six octets
    small[5] = 0;
    assert (!schalt_text_utf8_valid (small, strlen (small)));
    assert (streq (schalt_text_utf8_repair (small), "abcd"));

    //  One line: Latin-1 escaped, controls as spaces, cut on a boundary
    char line[64];
    const char latin1[] = "550 5.1.1 Empf\xe4nger unbekannt";
    schalt_text_line (line, sizeof (line), latin1, strlen (latin1));
    assert (streq (line, "550 5.1.1 Empf\\xe4nger unbekannt"));
    assert (schalt_text_utf8_valid (line, strlen (line)));
    const char controls[] = "  a\r\n\tb\x7f\xc2\x85 c  ";
    schalt_text_line (line, sizeof (line), controls, strlen (controls));
    assert (streq (line, "a b c"));
    const char with_nul[] = "451 x\0hidden";
    schalt_text_line (line, sizeof (line), with_nul, sizeof (with_nul) - 1);
    assert (streq (line, "451 x"));
    schalt_text_line (line, 7, "ab\xc3\xa4\xc3\xa4", 6); //  all six octets and the NUL fit
    assert (streq (line, "ab\xc3\xa4\xc3\xa4"));
    schalt_text_line (line, 6, "ab\xc3\xa4\xc3\xa4", 6);
    assert (streq (line, "ab\xc3\xa4"));
    schalt_text_line (line, 6, "ab\xff\xfe", 4); //  an escape is not cut either
    assert (streq (line, "ab"));
    schalt_text_line (line, 1, "abc", 3);
    assert (streq (line, ""));
    //  Every octet 0x80..0xff alone comes out valid
    char every[128 * 4 + 1];
    char octets[128];
    for (int index = 0; index < 128; index++)
        octets[index] = (char)(0x80 + index);
    schalt_text_line (every, sizeof (every), octets, sizeof (octets));
    assert (strlen (every) == 128 * 4 && schalt_text_utf8_valid (every, strlen (every)));
    printf ("OK\n");
}
