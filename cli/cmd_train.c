/* cmd_train.c - `melodynet train`: parses the options, loads the corpora and runs the training
 * policy of train.h (mn_train_run: epochs, validation, early stop, checkpoints so that an
 * interrupted run resumes exactly), printing its progress bar and writing the best model
 * (MODEL, with its CSV log and learning curve beside it) from the run's callbacks. With --init
 * it fine-tunes a model: the parent's weights, sizes and duration table, a schedule chosen for
 * the corpus size, a held-out split when there is no valid set, and the parent recorded in the
 * metadata. Messages and progress go to stderr; the final figures to stdout. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "data.h"
#include "model.h"
#include "sbuf.h"
#include "sha256.h"
#include "svg.h"
#include "train.h"

#define CKPT_EVERY_S 300.0 /* checkpoint within an epoch at least this often */

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet train DATA... -o MODEL [options]\n\n"
        "Trains a model on MIDI files. DATA are MIDI files, folders (searched recursively) or\n"
        "list files (.txt, one path per line relative to the list). Every tune is used in each\n"
        "transposition of -6..+5 semitones that stays in MIDI range, shuffled anew each epoch.\n"
        "After each epoch the model is scored on --valid (bits/event) and MODEL is rewritten\n"
        "when it improves; MODEL.csv logs the run and MODEL.svg draws the learning curve.\n"
        "Ctrl-C (or SIGTERM) saves a checkpoint and stops; --resume continues exactly where\n"
        "it stopped. The outputs are checked before training starts.\n\n"
        "  -o, --output MODEL     model file to write (required)\n"
        "  --valid DATA...        validation files, folders or lists (without: keep the last)\n"
        "  --init MODEL           fine-tune MODEL ('default': the bundled model): start from its\n"
        "                         weights, sizes and duration table, with a schedule chosen for\n"
        "                         the corpus (printed; the options below override it) and, with\n"
        "                         no --valid, 10%% of the tunes held out (chosen by --seed)\n"
        "  --layers L             LSTM layers (default 2)\n"
        "  --hidden H             hidden size (default 256)\n"
        "  --embed E              embedding size (default 64)\n"
        "  --pos N                metric position classes, 0 = no position input (default 192)\n"
        "  --max-durations N      entries of the duration table (default 32)\n"
        "  --epochs N             epochs (default 10)\n"
        "  --batch B              streams per step (default 32)\n"
        "  --seq T                events per window of truncated BPTT (default 64)\n"
        "  --lr F                 peak learning rate (default 0.002)\n"
        "  --lr-decay F           learning-rate factor per epoch (default 0.7)\n"
        "  --warmup STEPS         linear warm-up steps (default 200)\n"
        "  --weight-decay F       AdamW weight decay on weight matrices (default 0.01)\n"
        "  --clip F               gradient-norm clip, 0 = off (default 1)\n"
        "  --dropout F            dropout between LSTM layers (default 0)\n"
        "  --no-augment           train in the original keys only\n"
        "  --seed S               seed of initialisation, shuffles and dropout (default 1)\n"
        "  --threads N            OpenBLAS threads (default 1; results depend on it)\n"
        "  --patience N           stop after N epochs without improvement (default 3, 0 = off)\n"
        "  --checkpoint FILE      checkpoint file (default MODEL.ckpt)\n"
        "  --resume FILE          continue the run saved in FILE with its model, batch and\n"
        "                         optimizer settings (--epochs, --patience, --threads apply)\n"
        "  --license TEXT         license of the training data, stored in the model\n"
        "  --track N, --channel N which track (0-based) / channel (1-16) of each file to read\n"
        "  --bench-steps N        only measure: run N steps, print tokens/s, write nothing\n");
}

static atomic_int interrupted; /* the signal that stops the run (lock-free: set by the handler) */

static void on_signal(int sig)
{
    atomic_store(&interrupted, sig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

/* Joins strings with spaces into a new malloc'd string. */
static char *join(char **v, int n, const char *prefix)
{
    size_t len = strlen(prefix) + 1;
    for (int i = 0; i < n; i++) len += strlen(v[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    strcpy(s, prefix);
    for (int i = 0; i < n; i++) {
        if (*s) strcat(s, " ");
        strcat(s, v[i]);
    }
    return s;
}

static int load_corpus(mn_corpus *c, char **args, int n, const mn_midi_options *mo,
                       const char *what)
{
    char err[MN_ERR_LEN];
    mn_status st = mn_corpus_load(c, (const char *const *)args, (size_t)n, mo, NULL, NULL, err);
    for (size_t i = 0; i < c->n_skipped && i < 10; i++)
        fprintf(stderr, "melodynet train: skipped %s: %s\n", c->skipped[i].path,
                c->skipped[i].reason);
    if (c->n_skipped > 10)
        fprintf(stderr, "melodynet train: ... and %zu more skipped files\n", c->n_skipped - 10);
    /* polyphonic files trained on as their top voice: every one, with what it lost */
    size_t in = 0, kept = 0;
    for (size_t i = 0; i < c->n_reduced; i++) {
        const mn_reduced *r = &c->reduced[i];
        fprintf(stderr, "melodynet train: %s: polyphonic, its top voice keeps %zu of %zu notes "
                        "(%zu dropped)\n", r->path, r->notes_kept, r->notes_in,
                r->notes_in - r->notes_kept);
        in += r->notes_in;
        kept += r->notes_kept;
    }
    if (c->n_reduced)
        fprintf(stderr, "melodynet train: %s data: %zu polyphonic files reduced to their top "
                        "voice, %zu of %zu notes dropped; files keeping less than %.0f%% are "
                        "skipped\n", what, c->n_reduced, in - kept, in, 100 * MN_DATA_MIN_KEPT);
    if (st) {
        fprintf(stderr, "melodynet train: %s data: %s\n", what, err);
        return -1;
    }
    fprintf(stderr, "melodynet train: %s data: %zu tunes, %zu events (%zu files skipped)\n", what,
            c->n, c->n_events, c->n_skipped);
    return 0;
}

typedef struct {
    int tty;
    double last_draw;
    int last_decile;
} progress_bar;

static void progress_draw(progress_bar *pb, int epoch, int epochs, uint64_t done, uint64_t total,
                          double eta_s, double tok_s, double loss_nats)
{
    double frac = total ? (double)done / (double)total : 1.0;
    char eta[32];
    fmt_duration(eta, sizeof eta, eta_s);
    if (pb->tty) {
        double t = now_s();
        if (t - pb->last_draw < 0.25 && done < total) return;
        pb->last_draw = t;
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\repoch %d/%d [%s] %5.1f%%  ETA %s  %.0f tok/s  loss %.3f bits ", epoch,
                epochs, bar, 100 * frac, eta, tok_s, loss_nats / M_LN2);
        if (done >= total) fputc('\n', stderr);
    } else {
        int dec = (int)(frac * 10);
        if (dec <= pb->last_decile) return;
        pb->last_decile = dec;
        fprintf(stderr, "epoch %d/%d %5.1f%%  ETA %s  %.0f tok/s  loss %.3f bits\n", epoch,
                epochs, 100 * frac, eta, tok_s, loss_nats / M_LN2);
    }
}

static void iso_date(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct {
    const char *model;
    char *train_data, *valid_data, *command;
    const char *license;
    const char *parent;       /* --init: the parent's path, else NULL */
    char parent_sha256[65];   /* of the parent's file */
    char *parent_train_data;  /* the corpora the parent learned from (with its own parents') */
    const char *parent_license;
} run_info;

static int save_model(mn_trainer *t, const run_info *ri, double bp, double bd, int have_valid)
{
    char date[32], epochs[32], sp[32], sd[32], st_[32], params[32];
    iso_date(date, sizeof date);
    snprintf(epochs, sizeof epochs, "%d", mn_trainer_progress(t)->epoch);
    snprintf(sp, sizeof sp, "%.4f", bp);
    snprintf(sd, sizeof sd, "%.4f", bd);
    snprintf(st_, sizeof st_, "%.4f", bp + bd);
    snprintf(params, sizeof params, "%zu", mn_trainer_n_params(t));
    const char *meta[14][2] = {{"train_data", ri->train_data},
                               {"train_command", ri->command},
                               {"train_date", date},
                               {"epochs", epochs},
                               {"params", params},
                               {"license", ri->license ? ri->license : "unspecified"},
                               {"valid_data", ri->valid_data ? ri->valid_data : ""},
                               {"valid_bits_pitch", sp},
                               {"valid_bits_duration", sd},
                               {"valid_bits_total", st_}};
    size_t n_meta = have_valid ? 10 : 6;
    if (ri->parent) {
        meta[n_meta][0] = "parent_model", meta[n_meta++][1] = ri->parent;
        meta[n_meta][0] = "parent_sha256", meta[n_meta++][1] = ri->parent_sha256;
        meta[n_meta][0] = "parent_train_data";
        meta[n_meta++][1] = ri->parent_train_data ? ri->parent_train_data : "";
        meta[n_meta][0] = "parent_license";
        meta[n_meta++][1] = ri->parent_license ? ri->parent_license : "unspecified";
    }
    char err[MN_ERR_LEN];
    if (mn_trainer_export(t, ri->model, meta, n_meta, err)) {
        fprintf(stderr, "melodynet train: %s\n", err);
        return -1;
    }
    return 0;
}

/* The CSV log is kept in memory and written whole (atomically) after each epoch, with each
 * checkpoint and at the end, so that a run that fails never leaves a cut or emptied log. A
 * resumed run starts from the log its earlier part wrote. */
typedef struct {
    mn_sbuf b;
    const char *path;
} csv_log;

#define CSV_HEADER "epoch,step,train_loss,valid_bits_pitch,valid_bits_duration," \
                   "valid_bits_total,lr,tokens_per_s,elapsed_s\n"
#define CSV_MAX_BYTES (64u << 20)

static int csv_open(csv_log *c, const char *path, int resume)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    if (resume) {
        char err[MN_ERR_LEN];
        uint8_t *text;
        size_t n;
        mn_status st = mn_read_file(path, CSV_MAX_BYTES, 0, &text, &n, err);
        if (st == MN_OK) {
            mn_sbuf_put(&c->b, (const char *)text, n);
            mn_free(text);
        } else if (st != MN_ERR_IO || errno != ENOENT) { /* no log yet: this run starts it */
            fprintf(stderr, "melodynet train: %s\n", err);
            return -1;
        }
        if (c->b.n && c->b.buf[c->b.n - 1] != '\n') mn_sbuf_putc(&c->b, '\n');
    }
    if (!c->b.n) mn_sbuf_puts(&c->b, CSV_HEADER);
    return 0;
}

static void csv_row(csv_log *c, double epoch, const mn_train_progress *p, double train_loss,
                    const double *valid, float lr, double tok_s)
{
    mn_sbuf_printf(&c->b, "%.4f,%llu,%.5f,", epoch, (unsigned long long)p->step, train_loss);
    if (valid) mn_sbuf_printf(&c->b, "%.5f,%.5f,%.5f,", valid[0], valid[1], valid[0] + valid[1]);
    else mn_sbuf_puts(&c->b, ",,,");
    mn_sbuf_printf(&c->b, "%.6g,%.1f,%.1f\n", lr, tok_s, p->elapsed_s);
}

static int csv_write(csv_log *c)
{
    char err[MN_ERR_LEN], *tmp;
    if (c->b.failed) {
        fprintf(stderr, "melodynet train: %s: out of memory for the log\n", c->path);
        return -1;
    }
    FILE *f = mn_atomic_open(c->path, &tmp, err);
    if (f && mn_atomic_close(f, tmp, c->path, fwrite(c->b.buf, 1, c->b.n, f) == c->b.n, err) ==
                 MN_OK)
        return 0;
    fprintf(stderr, "melodynet train: %s\n", err);
    return -1;
}

/* Every file the run will write must be writable before any work is done. */
static int check_outputs(const char *const *paths, int n)
{
    char err[MN_ERR_LEN];
    for (int i = 0; i < n; i++)
        if (mn_atomic_check(paths[i], err)) {
            fprintf(stderr, "melodynet train: %s\n", err);
            return -1;
        }
    return 0;
}

/*=== fine-tuning (--init) ===================================================================*/

/* Whether the option name is among the options given. */
static int given(char **seen, int n_seen, const char *name)
{
    for (int i = 0; i < n_seen; i++)
        if (!strcmp(seen[i], name)) return 1;
    return 0;
}

/* Loads the --init parent (a path, or "default" for the bundled model) into *out, takes its
 * sizes and duration table into cfg, and fills the parent fields of ri (path points into
 * path_buf or arg). A size option given that disagrees with the parent is refused. Returns 0,
 * 1 (failure) or 2 (usage error) after one message. */
static int parent_load(const char *arg, char **seen, int n_seen, mn_train_config *cfg,
                       run_info *ri, mn_model **out, char *path_buf, size_t n)
{
    const char *path = arg;
    if (!strcmp(arg, "default") && !(path = mn_cli_default_model(path_buf, n))) {
        fprintf(stderr, "melodynet train: --init default: no bundled model found\n");
        return 1;
    }
    char err[MN_ERR_LEN];
    mn_model *m;
    if (mn_model_load(path, &m, err)) {
        fprintf(stderr, "melodynet train: --init: %s\n", err);
        return 1;
    }
    const mn_model_config *mc = mn_model_cfg(m);
    const struct {
        const char *opt, *what;
        int asked, parent;
    } arch[] = {{"--layers", "layers", cfg->model.n_layers, mc->n_layers},
                {"--hidden", "hidden size", cfg->model.n_hidden, mc->n_hidden},
                {"--embed", "embedding size", cfg->model.n_embed, mc->n_embed},
                {"--pos", "position classes", cfg->model.n_pos, mc->n_pos},
                {"--max-durations", "durations", cfg->max_durations, mc->dur.n}};
    for (size_t i = 0; i < sizeof arch / sizeof *arch; i++)
        if (given(seen, n_seen, arch[i].opt) && arch[i].asked != arch[i].parent) {
            fprintf(stderr, "melodynet train: %s %d conflicts with --init %s (%s %d): a "
                    "fine-tuned model keeps its parent's architecture\n", arch[i].opt,
                    arch[i].asked, path, arch[i].what, arch[i].parent);
            mn_model_free(m);
            return 2;
        }
    if (mn_sha256_file(path, ri->parent_sha256, err)) {
        fprintf(stderr, "melodynet train: --init: %s\n", err);
        mn_model_free(m);
        return 1;
    }
    cfg->model = *mc;
    cfg->max_durations = mc->dur.n;
    /* the corpora behind the parent: its own parents' and its training data */
    const char *pp = mn_model_meta(m, "parent_train_data"), *pt = mn_model_meta(m, "train_data");
    if (!pp) pp = "";
    if (!pt) pt = "";
    size_t len = strlen(pp) + strlen(pt) + 2;
    if (!(ri->parent_train_data = malloc(len))) {
        mn_model_free(m);
        return 1;
    }
    snprintf(ri->parent_train_data, len, "%s%s%s", pp, *pp && *pt ? " " : "", pt);
    ri->parent = path;
    ri->parent_license = mn_model_meta(m, "license"); /* lives as long as m */
    *out = m;
    return 0;
}

/* Splits tc into views of its training tunes (*tm) and n_held tunes held out for validation
 * (*vm), chosen by seed, and writes the valid_data text that names them. Returns 0 or -1. */
static int fine_tune_split(const mn_corpus *tc, size_t n_held, uint64_t seed, mn_melody **tm,
                           mn_melody **vm, char **valid_data)
{
    char err[MN_ERR_LEN];
    size_t *idx = malloc(n_held * sizeof *idx), len = 64;
    for (size_t i = 0; i < tc->n; i++) len += strlen(tc->paths[i]) + 1;
    *valid_data = malloc(len);
    if (!idx || !*valid_data ||
        mn_train_holdout_split(tc->mels, tc->n, n_held, seed, tm, vm, idx, err)) {
        free(idx), free(*valid_data);
        *tm = *vm = NULL, *valid_data = NULL;
        fprintf(stderr, "melodynet train: out of memory\n");
        return -1;
    }
    size_t k = (size_t)snprintf(*valid_data, len, "held out (seed %llu):",
                                (unsigned long long)seed);
    for (size_t i = 0; i < n_held; i++)
        k += (size_t)snprintf(*valid_data + k, len - k, " %s", tc->paths[idx[i]]);
    free(idx);
    return 0;
}

/* Chooses the fine-tuning schedule for the n_tm training tunes (mn_train_finetune_schedule),
 * applies what the options given do not set (lr, decay and warm-up only for a new run: a
 * resumed one keeps its checkpoint's), and prints one line saying what it chose. */
static void fine_tune_schedule(mn_train_config *cfg, const mn_melody *tm, size_t n_tm,
                               size_t n_held, size_t n_tunes, int n_valid, char **seen,
                               int n_seen, int resumed, long *epochs, long *patience)
{
    mn_train_schedule fs;
    int ge = given(seen, n_seen, "--epochs");
    mn_train_finetune_schedule(n_tm, mn_train_steps_per_epoch(cfg, tm, n_tm),
                               ge && *epochs > 0 ? (int)*epochs : 0, &fs);
    static const char *opts[] = {"--lr", "--lr-decay", "--warmup", "--epochs", "--patience"};
    char over[96] = "";
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        if (given(seen, n_seen, opts[i]))
            snprintf(over + strlen(over), sizeof over - strlen(over), " %s", opts[i]);
    if (!resumed) {
        if (!given(seen, n_seen, "--lr")) cfg->lr = fs.lr;
        if (!given(seen, n_seen, "--lr-decay")) cfg->lr_decay = fs.lr_decay;
        if (!given(seen, n_seen, "--warmup")) cfg->warmup = fs.warmup;
    }
    if (!ge) *epochs = fs.epochs;
    if (!given(seen, n_seen, "--patience")) *patience = fs.patience;
    char split[96];
    if (n_valid) snprintf(split, sizeof split, "valid on --valid");
    else if (n_held)
        snprintf(split, sizeof split, "valid on %zu of the %zu tunes held out (seed %llu)", n_held,
                 n_tunes, (unsigned long long)cfg->seed);
    else snprintf(split, sizeof split, "no valid set (1 tune: none to hold out)");
    fprintf(stderr, "melodynet train: fine-tuning: lr %g, decay %g per epoch, warm-up %d step%s, "
            "%ld epochs, patience %ld, %s; %s%s%s%s\n", cfg->lr, cfg->lr_decay, cfg->warmup,
            cfg->warmup == 1 ? "" : "s", *epochs, *patience, split,
            resumed ? "resumed with the checkpoint's lr and warm-up; " : "", fs.reason,
            *over ? "; given:" : "", over);
}

/*=== the run's output: mn_train_run's callbacks =============================================*/

typedef struct {
    progress_bar pb;
    int pb_epoch;           /* the epoch the bar draws */
    int epochs;
    csv_log *csv;
    const char *csv_path, *svg_path;
    const run_info *ri;
} run_out;

static void run_step(void *ctx, mn_trainer *t, const mn_train_step_info *s)
{
    run_out *o = ctx;
    if (s->epoch != o->pb_epoch) { /* a new epoch, or the first steps of a resumed one */
        o->pb_epoch = s->epoch;
        o->pb.last_decile = (int)((s->done - 1) * 10 / s->steps_per_epoch);
    }
    progress_draw(&o->pb, s->epoch, o->epochs, s->done, s->steps_per_epoch, s->eta_s, s->tok_s,
                  s->loss_ema);
    mn_train_progress *p = mn_trainer_progress(t);
    if (s->log_point)
        csv_row(o->csv, (double)p->step / (double)s->steps_per_epoch, p, s->loss_mean, NULL,
                s->lr, s->tok_s);
}

static mn_status run_epoch(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    run_out *o = ctx;
    double vb[2] = {e->bits_pitch, e->bits_dur};
    if (e->epoch == 0) { /* the parent, scored before any step */
        fprintf(stderr, "epoch 0 (the parent): valid bits/event pitch %.4f  duration %.4f  "
                "total %.4f\n", vb[0], vb[1], vb[0] + vb[1]);
        return MN_OK;
    }
    if (e->have_valid)
        fprintf(stderr, "epoch %d: valid bits/event pitch %.4f  duration %.4f  total %.4f%s\n",
                e->epoch, vb[0], vb[1], vb[0] + vb[1], e->improved ? "  (best)" : "");
    mn_train_progress *p = mn_trainer_progress(t);
    csv_row(o->csv, e->epoch, p, e->train_loss, e->have_valid ? vb : NULL, e->lr, e->tok_s);
    if (csv_write(o->csv)) return mn_errf(err, MN_ERR_IO, "%s", ""); /* reported */
    if (mn_svg_learning_curve(o->csv_path, o->svg_path, err))
        fprintf(stderr, "melodynet train: learning curve: %s\n", err);
    return MN_OK;
}

static mn_status run_best(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    run_out *o = ctx;
    if (save_model(t, o->ri, e->bits_pitch, e->bits_dur, e->have_valid))
        return mn_errf(err, MN_ERR_IO, "%s", ""); /* reported */
    return MN_OK;
}

static mn_status run_checkpointed(void *ctx, mn_trainer *t, mn_train_ckpt_why why, char *err)
{
    (void)t;
    run_out *o = ctx;
    if (why != MN_TRAIN_CKPT_EPOCH && csv_write(o->csv)) /* the epoch's row is written already */
        return mn_errf(err, MN_ERR_IO, "%s", "");
    return MN_OK;
}

int mn_cmd_train(int argc, char **argv)
{
    const char *V = "train";
    mn_train_config cfg;
    mn_train_config_default(&cfg);
    char **data = calloc((size_t)argc + 1, sizeof *data), **valid = calloc((size_t)argc + 1,
                                                                           sizeof *valid);
    char **seen = calloc((size_t)argc + 1, sizeof *seen); /* options given */
    int n_data = 0, n_valid = 0, n_seen = 0, rc = 1;
    const char *opt = "";
    const char *out = NULL, *resume = NULL, *ckpt_arg = NULL, *license = NULL, *init = NULL;
    long epochs = 10, patience = 3, threads = 1, bench = 0, v;
    double f;
    mn_midi_options mo;
    mn_midi_options_default(&mo);
    if (!data || !valid || !seen) {
        free(data), free(valid), free(seen);
        return 1;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        opt = a;
        if (a[0] == '-') seen[n_seen++] = argv[i];
#define INT_OPT(name, lo, hi, dst) \
        if (!strcmp(a, name)) { \
            if (mn_cli_int(V, name, next, lo, hi, &v)) goto usage; \
            dst = v; i++; continue; \
        }
#define FLT_OPT(name, lo, hi, dst) \
        if (!strcmp(a, name)) { \
            if (mn_cli_float(V, name, next, lo, hi, &f)) goto usage; \
            dst = (float)f; i++; continue; \
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            rc = 0;
            goto done;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!next) goto missing;
            out = next, i++;
            continue;
        }
        if (!strcmp(a, "--valid")) {
            while (i + 1 < argc && argv[i + 1][0] != '-') valid[n_valid++] = argv[++i];
            if (!n_valid) goto missing;
            continue;
        }
        if (!strcmp(a, "--resume") || !strcmp(a, "--checkpoint") || !strcmp(a, "--license") ||
            !strcmp(a, "--init")) {
            if (!next) goto missing;
            if (a[2] == 'r') resume = next;
            else if (a[2] == 'c') ckpt_arg = next;
            else if (a[2] == 'i') init = next;
            else license = next;
            i++;
            continue;
        }
        if (!strcmp(a, "--no-augment")) {
            cfg.augment = 0;
            continue;
        }
        INT_OPT("--layers", 1, MN_MAX_LAYERS, cfg.model.n_layers)
        INT_OPT("--hidden", 1, MN_MAX_HIDDEN, cfg.model.n_hidden)
        INT_OPT("--embed", 1, MN_MAX_EMBED, cfg.model.n_embed)
        INT_OPT("--pos", 0, MN_MAX_POS, cfg.model.n_pos)
        INT_OPT("--max-durations", 1, MN_MAX_DUR, cfg.max_durations)
        INT_OPT("--epochs", 0, 100000, epochs)
        INT_OPT("--batch", 1, MN_TRAIN_MAX_BATCH, cfg.batch)
        INT_OPT("--seq", 1, MN_TRAIN_MAX_SEQ, cfg.seq)
        INT_OPT("--warmup", 0, 100000000, cfg.warmup)
        INT_OPT("--threads", 1, 256, threads)
        INT_OPT("--patience", 0, 100000, patience)
        INT_OPT("--bench-steps", 1, 100000000, bench)
        INT_OPT("--track", 0, 1023, mo.track)
        FLT_OPT("--lr", 1e-7, 1.0, cfg.lr)
        FLT_OPT("--lr-decay", 1e-3, 1.0, cfg.lr_decay)
        FLT_OPT("--weight-decay", 0, 0.99, cfg.weight_decay)
        FLT_OPT("--clip", 0, 1e6, cfg.clip)
        FLT_OPT("--dropout", 0, 0.9, cfg.dropout)
        if (!strcmp(a, "--channel")) {
            if (mn_cli_int(V, a, next, 1, 16, &v)) goto usage;
            mo.channel = (int)v - 1, i++;
            continue;
        }
        if (!strcmp(a, "--seed")) {
            char *end;
            unsigned long long s = next ? strtoull(next, &end, 10) : 0;
            if (!next || !*next || *end) {
                fprintf(stderr, "melodynet train: --seed expects a non-negative integer\n");
                goto usage;
            }
            cfg.seed = s, i++;
            continue;
        }
#undef INT_OPT
#undef FLT_OPT
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet train: unknown option '%s'\n", a);
            goto usage;
        }
        data[n_data++] = argv[i];
    }
    if (!n_data) {
        fprintf(stderr, "melodynet train: no training data given\n");
        goto usage;
    }
    if (!out && !bench) {
        fprintf(stderr, "melodynet train: -o MODEL is required\n");
        goto usage;
    }

    openblas_set_num_threads((int)threads);
    char err[MN_ERR_LEN];
    if (resume) {
        if (mn_train_checkpoint_config(resume, &cfg, err)) {
            fprintf(stderr, "melodynet train: %s\n", err);
            goto done;
        }
        fprintf(stderr, "melodynet train: resuming %s with its settings\n", resume);
    }

    mn_corpus tc, vc;
    memset(&tc, 0, sizeof tc);
    memset(&vc, 0, sizeof vc);
    mn_trainer *t = NULL;
    csv_log csv;
    memset(&csv, 0, sizeof csv);
    char *ckpt = NULL, *csv_path = NULL, *svg_path = NULL;
    run_info ri = {out, join(data, n_data, ""), n_valid ? join(valid, n_valid, "") : NULL,
                   join(argv, argc, "melodynet"), license, NULL, "", NULL, NULL};
    mn_model *parent = NULL;
    char parent_buf[4096];
    mn_melody *tm = NULL, *vm = NULL; /* with a held-out split: views of tc's melodies */
    size_t n_tm = 0, n_vm = 0, n_held = 0;
    double parent_valid = 0;
    if (!bench) {
        size_t ol = strlen(out);
        ckpt = ckpt_arg ? strdup(ckpt_arg) : malloc(ol + 8);
        csv_path = malloc(ol + 8), svg_path = malloc(ol + 8);
        if (!ckpt || !csv_path || !svg_path || !ri.train_data || !ri.command) goto cleanup;
        if (!ckpt_arg) snprintf(ckpt, ol + 8, "%s.ckpt", out);
        snprintf(csv_path, ol + 8, "%s.csv", out);
        snprintf(svg_path, ol + 8, "%s.svg", out);
        const char *outs[4] = {out, ckpt, csv_path, svg_path};
        if (check_outputs(outs, 4)) goto cleanup;
    }
    if (init && (rc = parent_load(init, seen, n_seen, &cfg, &ri, &parent, parent_buf,
                                  sizeof parent_buf)) != 0)
        goto cleanup;
    rc = 1;
    if (load_corpus(&tc, data, n_data, &mo, "training")) goto cleanup;
    if (n_valid && load_corpus(&vc, valid, n_valid, &mo, "validation")) goto cleanup;
    tm = tc.mels, n_tm = tc.n, vm = vc.mels, n_vm = vc.n;
    if (parent && !n_valid && (n_held = mn_train_holdout_count(tc.n)) > 0) {
        if (fine_tune_split(&tc, n_held, cfg.seed, &tm, &vm, &ri.valid_data)) goto cleanup;
        n_tm = tc.n - n_held, n_vm = n_held;
    }
    if (parent) fine_tune_schedule(&cfg, tm, n_tm, n_held, tc.n, n_valid, seen, n_seen,
                                   resume != NULL, &epochs, &patience);
    if (parent) {
        size_t n_ev = 0, n_off = 0;
        for (size_t i = 0; i < n_tm; i++)
            for (size_t j = 0; j < tm[i].n; j++, n_ev++) {
                int d = tm[i].ev[j].dur_ticks;
                n_off += cfg.model.dur.ticks[mn_durtable_index(&cfg.model.dur, d)] != d;
            }
        if (n_off)
            fprintf(stderr, "melodynet train: %zu of %zu events (%.1f%%) have a duration that is "
                    "not in the parent's table; they train as its nearest entry\n", n_off, n_ev,
                    100.0 * (double)n_off / (double)n_ev);
    }
    if (mn_trainer_new(&cfg, tm, n_tm, &t, err) ||
        (parent && mn_trainer_init_from_model(t, parent, err))) {
        fprintf(stderr, "melodynet train: %s\n", err);
        goto cleanup;
    }
    if (resume && mn_trainer_checkpoint_load(t, resume, err)) {
        fprintf(stderr, "melodynet train: %s\n", err);
        goto cleanup;
    }
    if (!n_held) mn_corpus_free(&tc); /* the trainer holds its own tokens */
    int have_valid = n_vm > 0;

    const mn_train_config *c = mn_trainer_config(t);
    const mn_model_config *mc = &c->model;
    mn_train_progress *prog = mn_trainer_progress(t);
    uint64_t spe = mn_trainer_steps_per_epoch(t), tb = (uint64_t)c->batch * c->seq;
    fprintf(stderr,
            "melodynet train: L=%d H=%d E=%d pos=%d durations=%d, %zu parameters; batch %d x %d, "
            "%llu events (%llu steps) per epoch, %ld thread%s\n",
            mc->n_layers, mc->n_hidden, mc->n_embed, mc->n_pos, mc->dur.n, mn_trainer_n_params(t),
            c->batch, c->seq, (unsigned long long)mn_trainer_epoch_events(t),
            (unsigned long long)spe, threads, threads == 1 ? "" : "s");
    char warn[MN_TRAIN_REASON_LEN];
    if (!bench && mn_train_schedule_warning(c, spe, (int)epochs, warn))
        fprintf(stderr, "melodynet train: %s\n", warn);

    if (bench) {
        double loss;
        mn_trainer_step(t, &loss); /* warm caches and OpenBLAS buffers */
        double t0 = now_s();
        clock_t c0 = clock();
        for (long i = 0; i < bench; i++) mn_trainer_step(t, &loss);
        double dt = now_s() - t0, ct = (double)(clock() - c0) / CLOCKS_PER_SEC;
        double tokens = (double)bench * (double)tb;
        printf("train: %ld steps of %llu events in %.3f s: %.0f tokens/s (%.0f per CPU second; "
               "loss %.4f nats)\n", bench, (unsigned long long)tb, dt, tokens / dt, tokens / ct,
               loss);
        rc = 0;
        goto cleanup;
    }

    if (csv_open(&csv, csv_path, resume != NULL)) goto cleanup;
    if (prog->epoch >= epochs) {
        /* a finished run: its model is there, or is written now from the checkpoint */
        if (access(out, F_OK) == 0) {
            fprintf(stderr, "melodynet train: %s has all %d epochs already; %s is its model\n",
                    resume, prog->epoch, out);
            rc = 0;
            goto cleanup;
        }
        double vb[2] = {0, 0};
        size_t ne;
        if (n_valid && mn_trainer_evaluate(t, vc.mels, vc.n, &vb[0], &vb[1], &ne, err)) {
            fprintf(stderr, "melodynet train: validation: %s\n", err);
            goto cleanup;
        }
        if (save_model(t, &ri, vb[0], vb[1], n_valid > 0)) goto cleanup;
        fprintf(stderr, "melodynet train: %s has all %d epochs already; wrote %s from it%s\n",
                resume, prog->epoch, out, prog->bad_epochs > 0 ? " (the weights of its last "
                "epoch: the best epoch's are not kept in a checkpoint)" : "");
        rc = 0;
        goto cleanup;
    }
    if (!have_valid)
        fprintf(stderr, "melodynet train: no --valid data: %s will hold the last epoch's model\n",
                out);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C stops at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run_out ro = {{isatty(2), 0, -1}, 0, (int)epochs, &csv, csv_path, svg_path, &ri};
    mn_train_callbacks cb = {&ro, run_step, run_epoch, run_best, run_checkpointed};
    mn_train_run_config rcfg = {(int)epochs, have_valid ? (int)patience : 0, CKPT_EVERY_S, ckpt,
                                parent != NULL};
    mn_train_result res;
    if (mn_train_run(t, &rcfg, vm, n_vm, &cb, &interrupted, &res, err)) {
        if (res.end == MN_TRAIN_END_STOPPED && ro.pb.tty) fputc('\n', stderr);
        if (*err) fprintf(stderr, "melodynet train: %s\n", err); /* else reported already */
        goto cleanup;
    }
    parent_valid = res.start_valid;
    rc = 0;
    if (res.end == MN_TRAIN_END_PATIENCE) {
        fprintf(stderr, "melodynet train: no improvement for %d epochs, stopping\n",
                prog->bad_epochs);
    } else if (res.end == MN_TRAIN_END_STOPPED) {
        int sig = atomic_load(&interrupted);
        if (ro.pb.tty) fputc('\n', stderr);
        fprintf(stderr, "melodynet train: %s at step %llu; checkpoint saved to %s "
                "(continue with --resume %s)\n", sig == SIGTERM ? "terminated" : "interrupted",
                (unsigned long long)prog->step, ckpt, ckpt);
        rc = 1;
    }
    if (rc == 0) {
        if (parent_valid > 0 && prog->best_valid >= parent_valid)
            printf("%s: no epoch beat the parent (valid bits/event %.4f after %d epochs, %llu "
                   "steps): it holds the parent's weights\n", out, parent_valid, prog->epoch,
                   (unsigned long long)prog->step);
        else if (parent_valid > 0)
            printf("%s: best valid bits/event %.4f after %d epochs, %llu steps (the parent: "
                   "%.4f)\n", out, prog->best_valid, prog->epoch,
                   (unsigned long long)prog->step, parent_valid);
        else if (have_valid)
            printf("%s: best valid bits/event %.4f after %d epochs, %llu steps\n", out,
                   prog->best_valid, prog->epoch, (unsigned long long)prog->step);
        else
            printf("%s: %d epochs, %llu steps, train loss %.4f bits/event\n", out, prog->epoch,
                   (unsigned long long)prog->step, prog->last_loss / M_LN2);
    }
cleanup:
    mn_sbuf_free(&csv.b);
    free(ckpt), free(csv_path), free(svg_path);
    free(ri.train_data), free(ri.valid_data), free(ri.command), free(ri.parent_train_data);
    if (n_held) mn_free(tm), mn_free(vm);
    mn_model_free(parent);
    mn_trainer_free(t);
    mn_corpus_free(&tc);
    mn_corpus_free(&vc);
    goto done;
missing:
    fprintf(stderr, "melodynet train: %s expects a value\n", opt);
usage:
    fprintf(stderr, "see: melodynet train --help\n");
    rc = 2;
done:
    free(data);
    free(valid);
    free(seen);
    return rc;
}
