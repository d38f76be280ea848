/* cmd_generate.c - `melodynet generate`: primes a session with seed notes or a MIDI file, samples
 * N events and prints them one per line (`pitch duration_beats velocity`, pitch a MIDI number or
 * `rest`), optionally writing a MIDI file. stdout holds only the events; messages go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atom.h"
#include "cli.h"
#include "midi.h"
#include "model.h"
#include "session.h"
#include "settings.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet generate [options]\n\n"
        "Generates a melody and prints one event per line: `pitch duration_beats velocity`\n"
        "(pitch a MIDI number or `rest`, velocity 0 for a rest). Messages go to stderr.\n\n"
        "  -m, --model FILE      model file (default: the bundled model)\n"
        "  --seed-notes \"LIST\"   prime with notes: MIDI numbers or `rest`, each one beat long,\n"
        "                        or NOTE:BEATS (e.g. \"60:0.5 62:0.5 64 rest:1 67:2\")\n"
        "  --seed-midi FILE      prime with the melody of a MIDI file, its last %d events\n"
        "                        (after --seed-notes)\n"
        "  --track N, --channel N  which track (0-based) / channel (1-16) of the seed file\n"
        "  -n N                  events to generate (default 32)\n"
        "  -t, --temperature T   sampling temperature, 0 < T <= 100 (default 1.0)\n"
        "  --top-k K             sample among the K most likely pitches, 0..129 (0 = all)\n"
        "  --top-p P             sample from the smallest set with probability mass P,\n"
        "                        0 < P <= 1 (1 = all)\n"
        "  --scale NAME          keep pitches in a scale (major, minor, dorian, pentatonic, ...),\n"
        "                        or in pitch classes (\"0 4 7\"); off = any pitch\n"
        "  --root PC             root of the scale: 0-11 or a note name, a letter with # or s\n"
        "                        (sharp) or b (flat): C, F#, Fs, Bb, Cb (default C)\n"
        "  --range LO HI         keep pitches in LO..HI (MIDI numbers 0..127)\n"
        "  --no-rests            never generate a rest\n"
        "  --motif F             how much the melody repeats its own motifs: 0 = never,\n"
        "                        1 = as much as real folk tunes (default 1)\n"
        "  --downbeat            unprimed: start on the first beat of a 4/4 bar (default: a bar\n"
        "                        length and first-note position drawn from the model's tunes)\n"
        "  --max-copy K          copy guard: never extend a run of intervals found verbatim in\n"
        "                        one training tune beyond K (0..%d, 0 = off; needs the model's\n"
        "                        copy index, see copy-index); holds under every other setting\n"
        "  --velocity V | LO:HI  note velocity 1..127, fixed or drawn from a range (default %d)\n"
        "  --random-seed S       seed of the sampler (default: from the clock, printed)\n"
        "  --bpm B               tempo of the written MIDI file, 1..1000 (default %g, or the seed\n"
        "                        file's)\n"
        "  -o FILE.mid           also write the generated events as a MIDI file\n"
        "  --json                print one JSON object instead of lines\n"
        "\nThe settings take the values, and are refused with the words, of the messages of the\n"
        "same names in Pd ([melodynet]: temperature, topk, topp, scale, range, velocity, motif,\n"
        "novelty, bpm).\n", MN_PRIME_MAX,
           MN_SAMPLER_MAX_COPY, MN_DEFAULT_VELOCITY, MN_BPM_DEFAULT);
}

/* Sets the setting `name` of the settings table from the words of option opt (each read as
 * Pd reads a typed word). Returns 0, or -1 after printing the table's error. */
static int setting(mn_settings *st, const char *name, const char *opt, int n,
                   const char *const *words)
{
    mn_atom a[MN_LIST_MAX];
    char err[MN_ERR_LEN];
    if (n > MN_LIST_MAX) n = MN_LIST_MAX;
    for (int i = 0; i < n; i++) mn_atom_from_word(&a[i], words[i]);
    if (mn_setting_parse(mn_setting_find(name), opt, n, a, st, err) == MN_OK) return 0;
    fprintf(stderr, "melodynet generate: %s\n", err);
    return -1;
}

int mn_cmd_generate(int argc, char **argv)
{
    const char *model_path = NULL, *seed_notes = NULL, *seed_midi = NULL, *out_path = NULL;
    long n = 32;
    mn_settings st;
    mn_settings_default(&st);
    const char *scale = NULL, *scale_opt = NULL, *root = NULL;
    int json = 0, have_seed = 0, have_bpm = 0, downbeat = 0;
    unsigned long long rseed = 0;
    mn_midi_options mopt;
    mn_midi_options_default(&mopt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
#define NEED_ARG                                                                   \
    do {                                                                           \
        if (!v) {                                                                  \
            fprintf(stderr, "melodynet generate: %s needs a value\n", a);          \
            return 2;                                                              \
        }                                                                          \
        i++;                                                                       \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_ARG;
            model_path = v;
        } else if (!strcmp(a, "--seed-notes")) {
            NEED_ARG;
            seed_notes = v;
        } else if (!strcmp(a, "--seed-midi")) {
            NEED_ARG;
            seed_midi = v;
        } else if (!strcmp(a, "--track")) {
            NEED_ARG;
            if (mn_cli_int("generate", a, v, 0, MN_MIDI_MAX_TRACKS - 1, &l)) return 2;
            mopt.track = (int)l;
        } else if (!strcmp(a, "--channel")) {
            NEED_ARG;
            if (mn_cli_int("generate", a, v, 1, 16, &l)) return 2;
            mopt.channel = (int)l - 1;
        } else if (!strcmp(a, "-n")) {
            NEED_ARG;
            if (mn_cli_int("generate", a, v, 0, 1000000, &n)) return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--temperature")) {
            NEED_ARG;
            if (setting(&st, "temperature", a, 1, &v)) return 2;
        } else if (!strcmp(a, "--top-k")) {
            NEED_ARG;
            if (setting(&st, "topk", a, 1, &v)) return 2;
        } else if (!strcmp(a, "--top-p")) {
            NEED_ARG;
            if (setting(&st, "topp", a, 1, &v)) return 2;
        } else if (!strcmp(a, "--scale")) {
            NEED_ARG;
            scale = v;
            scale_opt = a;
        } else if (!strcmp(a, "--root")) {
            NEED_ARG;
            mn_atom r;
            int pc;
            char err[MN_ERR_LEN];
            mn_atom_from_word(&r, v);
            if (mn_settings_root(a, &r, &pc, err)) {
                fprintf(stderr, "melodynet generate: %s\n", err);
                return 2;
            }
            root = v;
        } else if (!strcmp(a, "--range")) {
            if (i + 2 >= argc) {
                fprintf(stderr, "melodynet generate: --range needs LO and HI\n");
                return 2;
            }
            if (setting(&st, "range", a, 2, (const char *const *)argv + i + 1)) return 2;
            i += 2;
        } else if (!strcmp(a, "--motif")) {
            NEED_ARG;
            if (setting(&st, "motif", a, 1, &v)) return 2;
        } else if (!strcmp(a, "--max-copy")) {
            NEED_ARG;
            if (setting(&st, "novelty", a, 1, &v)) return 2;
        } else if (!strcmp(a, "--downbeat")) {
            downbeat = 1;
        } else if (!strcmp(a, "--no-rests")) {
            st.sampler.allow_rest = 0;
        } else if (!strcmp(a, "--velocity")) {
            NEED_ARG;
            /* V or LO:HI, the two words of Pd's velocity LO HI */
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%s", v);
            char *colon = strchr(tmp, ':');
            if (colon) *colon = 0;
            const char *w[2] = {tmp, colon ? colon + 1 : NULL};
            if (setting(&st, "velocity", a, colon ? 2 : 1, w)) return 2;
        } else if (!strcmp(a, "--random-seed")) {
            NEED_ARG;
            char *end;
            rseed = strtoull(v, &end, 10);
            if (!*v || *end || *v == '-') {
                fprintf(stderr, "melodynet generate: --random-seed expects a non-negative integer, "
                                "got '%s'\n", v);
                return 2;
            }
            have_seed = 1;
        } else if (!strcmp(a, "--bpm")) {
            NEED_ARG;
            if (setting(&st, "bpm", a, 1, &v)) return 2;
            have_bpm = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED_ARG;
            out_path = v;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            fprintf(stderr, "melodynet generate: unknown option '%s' (see --help)\n", a);
            return 2;
        }
#undef NEED_ARG
    }

    char err[MN_ERR_LEN];
    if (scale) {
        /* Pd's scale NAME [ROOT], scale PC PC ... and scale off: the words of --scale (split
         * at blanks and commas) and, after a name, --root */
        char words[256];
        const char *w[MN_LIST_MAX + 1];
        int nw = 0;
        snprintf(words, sizeof words, "%s", scale);
        for (char *save = NULL, *t = strtok_r(words, " ,\t", &save); t && nw < MN_LIST_MAX;
             t = strtok_r(NULL, " ,\t", &save))
            w[nw++] = t;
        mn_atom first;
        mn_atom_from_word(&first, nw ? w[0] : "");
        int named = first.type == MN_ATOM_SYMBOL && strcasecmp(first.s, "off")
                    && strcasecmp(first.s, "none");
        if (root && first.type == MN_ATOM_FLOAT) {
            fprintf(stderr, "melodynet generate: --root takes a scale name, got --scale '%s'\n",
                    scale);
            return 2;
        }
        if (root && named && nw == 1) w[nw++] = root;
        if (setting(&st, "scale", scale_opt, nw, w)) return 2;
    }

    mn_melody seed;
    mn_melody_init(&seed);
    if (seed_notes && mn_parse_notes(seed_notes, &seed, err)) {
        fprintf(stderr, "melodynet generate: --seed-notes: %s\n", err);
        mn_melody_free(&seed);
        return 2;
    }
    mn_melody file_seed;
    mn_melody_init(&file_seed);
    if (seed_midi) {
        if (mn_midi_read_file(seed_midi, &mopt, &file_seed, err)) {
            fprintf(stderr, "melodynet generate: %s\n", err);
            mn_melody_free(&seed);
            return 1;
        }
        if (file_seed.n == 0)
            fprintf(stderr, "melodynet generate: %s holds no notes; generating without a seed "
                            "melody\n", seed_midi);
    }

    char buf[4096];
    if (!model_path && !(model_path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet generate: no model given (-m) and no bundled model found\n");
        mn_melody_free(&seed);
        mn_melody_free(&file_seed);
        return 1;
    }
    mn_model *model;
    if (mn_model_load(model_path, &model, err)) {
        fprintf(stderr, "melodynet generate: %s\n", err);
        mn_melody_free(&seed);
        mn_melody_free(&file_seed);
        return 1;
    }
    const char *why;
    if (st.sampler.max_copy && !mn_model_copyidx(model, &why)) {
        fprintf(stderr, "melodynet generate: --max-copy needs a copy index: %s\n", why);
        mn_model_free(model);
        mn_melody_free(&seed);
        mn_melody_free(&file_seed);
        return 1;
    }
    if (!have_seed) {
        rseed = (unsigned long long)time(NULL) ^ ((unsigned long long)clock() << 32);
        fprintf(stderr, "melodynet generate: random seed %llu (--random-seed repeats it)\n", rseed);
    }
    mn_session *s;
    if (mn_session_new(model, rseed, &s, err)) {
        fprintf(stderr, "melodynet generate: %s\n", err);
        mn_model_free(model);
        mn_melody_free(&seed);
        mn_melody_free(&file_seed);
        return 1;
    }
    mn_model_free(model); /* the session holds its own reference */
    *mn_session_sampler(s) = st.sampler;

    /* Seed notes are placed on the session's clock (from the start of a 4/4 bar); a seed file
     * brings its own positions and metre, and the clock continues from its last event. */
    for (size_t i = 0; i < seed.n; i++) {
        mn_event e = seed.ev[i];
        mn_session_clock(s, &e.pos_ticks, &e.bar_ticks);
        mn_session_feed(s, &e);
    }
    size_t first = file_seed.n > MN_PRIME_MAX ? file_seed.n - MN_PRIME_MAX : 0;
    if (first)
        fprintf(stderr, "melodynet generate: %s holds %zu events; priming with its last %d\n",
                seed_midi, file_seed.n, MN_PRIME_MAX);
    for (size_t i = first; i < file_seed.n; i++) mn_session_feed(s, &file_seed.ev[i]);
    if (seed_midi && !file_seed.n && file_seed.ts_den > 0) /* no notes: still its metre */
        mn_session_set_clock(s, 0, file_seed.ts_num * 4 * MN_TPQ / file_seed.ts_den);
    else if (!seed.n && !file_seed.n && !downbeat) /* unprimed: begin as the model's tunes do */
        mn_session_draw_start(s);

    mn_melody out;
    mn_melody_init(&out);
    out.bpm = have_bpm ? st.bpm : (seed_midi ? file_seed.bpm : MN_BPM_DEFAULT);
    if (seed_midi) {
        out.ts_num = file_seed.ts_num;
        out.ts_den = file_seed.ts_den;
    }
    int bar;
    mn_session_clock(s, NULL, &bar);
    if (!seed_midi || !file_seed.n) { /* the metre the melody is generated in */
        out.ts_num = bar % MN_TPQ == 0 ? bar / MN_TPQ : bar / (MN_TPQ / 2);
        out.ts_den = bar % MN_TPQ == 0 ? 4 : 8;
    }
    snprintf(out.name, sizeof out.name, "melodynet");
    int rc = 0;
    if (json) printf("{\"random_seed\":%llu,\"events\":[", rseed);
    for (long i = 0; i < n; i++) {
        mn_event e;
        if (mn_session_sample(s, &e) == MN_ERR_LIMIT)
            fprintf(stderr, "melodynet generate: event %ld: no pitch the range, scale and rest "
                            "settings allow passes --max-copy %d; a rest instead\n", i + 1,
                    st.sampler.max_copy);
        if (mn_melody_push(&out, &e, err)) {
            fprintf(stderr, "melodynet generate: %s\n", err);
            rc = 1;
            break;
        }
        double beats = (double)e.dur_ticks / MN_TPQ;
        if (json) {
            printf("%s{\"pitch\":", i ? "," : "");
            if (e.pitch == MN_REST) printf("null");
            else printf("%d", e.pitch);
            printf(",\"rest\":%s,\"duration_beats\":%.6g,\"velocity\":%d,\"position_beats\":%.6g,"
                   "\"bar_beats\":%.6g}", e.pitch == MN_REST ? "true" : "false", beats, e.velocity,
                   (double)e.pos_ticks / MN_TPQ, (double)e.bar_ticks / MN_TPQ);
        } else if (e.pitch == MN_REST) {
            printf("rest %.6g 0\n", beats);
        } else {
            printf("%d %.6g %d\n", e.pitch, beats, e.velocity);
        }
    }
    if (json) printf("]}\n");
    fflush(stdout);
    if (!rc && out_path) {
        if (mn_midi_write_file(out_path, &out, err)) {
            fprintf(stderr, "melodynet generate: %s\n", err);
            rc = 1;
        } else {
            fprintf(stderr, "melodynet generate: wrote %s (%zu events at %g bpm)\n", out_path, out.n,
                    out.bpm);
        }
    }
    mn_melody_free(&out);
    mn_melody_free(&seed);
    mn_melody_free(&file_seed);
    mn_session_free(s);
    return rc;
}
