/* cmd_roll.c - `melodynet roll`: reads the melody of a MIDI file (the line the event reader
 * keeps: by default the highest sounding note over all tracks) and draws it as an SVG piano
 * roll. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "midi.h"
#include "svg.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet roll IN.mid -o ROLL.svg [options]\n\n"
        "Draws the melody of a MIDI file as a piano roll: beats across with a line at every bar,\n"
        "pitch up with names at each C, notes as boxes (darker = louder), rests as gaps.\n"
        "Polyphonic input is reduced to its highest sounding note.\n\n"
        "  -o, --output FILE     the SVG file to write (required)\n"
        "  --track N             read only track N (0-based, in file order)\n"
        "  --channel N           read only MIDI channel N (1-16)\n"
        "  --title TEXT          title of the picture (default: the tune's name or file name)\n");
}

int mn_cmd_roll(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *title = NULL;
    mn_midi_options opt;
    mn_midi_options_default(&opt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        int takes_value = !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--track") ||
                          !strcmp(a, "--channel") || !strcmp(a, "--title");
        if (takes_value && !v) {
            fprintf(stderr, "melodynet roll: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            out = argv[++i];
        } else if (!strcmp(a, "--track")) {
            if (mn_cli_int("roll", a, argv[++i], 0, MN_MIDI_MAX_TRACKS - 1, &l)) return 2;
            opt.track = (int)l;
        } else if (!strcmp(a, "--channel")) {
            if (mn_cli_int("roll", a, argv[++i], 1, 16, &l)) return 2;
            opt.channel = (int)l - 1;
        } else if (!strcmp(a, "--title")) {
            title = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "melodynet roll: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "melodynet roll: one input file only, got '%s' and '%s'\n", in, a);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "melodynet roll: %s\n"
                        "usage: melodynet roll IN.mid -o ROLL.svg [--track N] [--channel N] "
                        "[--title T]\n", !in ? "no input MIDI file given" : "no output given (-o)");
        return 2;
    }

    char err[MN_ERR_LEN];
    mn_melody m;
    if (mn_midi_read_file(in, &opt, &m, err)) {
        fprintf(stderr, "melodynet roll: %s\n", err);
        return 1;
    }
    if (m.n == 0) {
        fprintf(stderr, "melodynet roll: %s: no notes%s\n", in,
                opt.track >= 0 || opt.channel >= 0 ? " in the chosen track/channel" : "");
        mn_melody_free(&m);
        return 1;
    }
    if (!title && !m.name[0]) {
        const char *base = strrchr(in, '/');
        title = base ? base + 1 : in;
    }
    int rc = 0;
    if (mn_svg_piano_roll(&m, title, out, err)) {
        fprintf(stderr, "melodynet roll: %s\n", err);
        rc = 1;
    } else {
        size_t notes = 0;
        for (size_t i = 0; i < m.n; i++) notes += m.ev[i].pitch != MN_REST;
        fprintf(stderr, "melodynet roll: wrote %s (%zu notes)\n", out, notes);
    }
    mn_melody_free(&m);
    return rc;
}
