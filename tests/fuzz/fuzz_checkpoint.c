/* fuzz_checkpoint.c - libFuzzer harness for training checkpoints (mn_train_checkpoint_config,
 * mn_trainer_checkpoint_load). The input is a checkpoint without its magic and checksum: the
 * harness frames it ("MNTRAIN\0", the input, the FNV-1a hash of both) so that mutations reach
 * the parser instead of the checksum test; an input that starts with the magic is written as
 * it is, for the framing checks. When the configuration reads, a trainer of that configuration
 * (if small) is built over a fixed corpus and the checkpoint loaded into it. Checks: a failure
 * says why and leaves the trainer as it was; a load that succeeds saves back to the same bytes
 * and the trainer then takes a training step.
 * MN_FUZZ_WRITE_SEEDS=DIR: writes checkpoints of that corpus into DIR, framed as inputs, and
 * exits (tools/fuzz.sh makes its seeds so). */
#include "train.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"

#define MAGIC "MNTRAIN"

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The fixed corpus: four short tunes with rests and three durations. */
static mn_melody mels[4];

static void make_corpus(void)
{
    static const int p[4][6] = {{60, 62, MN_REST, 64, 65, 67}, {70, 67, 65, 64, 62, 60},
                                {55, MN_REST, 57, 59, 60, 62}, {72, 71, 69, 67, 0, 0}};
    static const int d[4][6] = {{12, 12, 24, 24, 12, 48}, {24, 12, 12, 48, 24, 24},
                                {48, 12, 12, 24, 24, 12}, {12, 24, 12, 48, 0, 0}};
    static const size_t n[4] = {6, 6, 6, 4};
    for (int t = 0; t < 4; t++) {
        mn_melody_init(&mels[t]);
        int pos = 0;
        for (size_t i = 0; i < n[t]; i++) {
            mn_event e = {p[t][i], p[t][i] == MN_REST ? 0 : 90, d[t][i], pos, 48};
            FUZZ_CHECK(mn_melody_push(&mels[t], &e, NULL) == MN_OK, "corpus");
            pos = mn_event_next_pos(&e);
        }
    }
}

static void tiny_config(mn_train_config *c, int variant)
{
    mn_train_config_default(c);
    c->model.n_layers = variant ? 2 : 1;
    c->model.n_hidden = 4;
    c->model.n_embed = 2;
    c->model.n_pos = variant ? 4 : 0;
    c->max_durations = 3;
    c->batch = 2;
    c->seq = 3;
    c->warmup = 1;
    c->dropout = variant ? 0.25f : 0.0f;
    c->seed = 5;
}

/* A configuration small enough to build a trainer for on every input. */
static int small_enough(const mn_train_config *c)
{
    const mn_model_config *m = &c->model;
    return m->n_layers <= 3 && m->n_hidden <= 16 && m->n_embed <= 8 && m->n_pos <= 64 &&
           c->batch <= 8 && c->seq <= 16;
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = mn_malloc((size_t)sz + 1);
    FUZZ_CHECK(b && fread(b, 1, (size_t)sz, f) == (size_t)sz, "cannot read %s", path);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static void write_seeds(const char *dir)
{
    for (int variant = 0; variant < 2; variant++)
        for (int steps = 0; steps < 6; steps += 5) {
            mn_train_config cfg;
            tiny_config(&cfg, variant);
            mn_trainer *t;
            char err[MN_ERR_LEN], path[PATH_MAX];
            FUZZ_CHECK(mn_trainer_new(&cfg, mels, 4, &t, err) == MN_OK, "trainer: %s", err);
            for (int i = 0; i < steps; i++) {
                double loss;
                mn_trainer_step(t, &loss);
            }
            fuzz_tmp_path(path, "seed.ckpt");
            FUZZ_CHECK(mn_trainer_checkpoint_save(t, path, err) == MN_OK, "save: %s", err);
            mn_trainer_free(t);
            size_t n;
            uint8_t *b = read_all(path, &n);
            char out[PATH_MAX];
            snprintf(out, sizeof out, "%s/ckpt_L%d_step%d", dir, variant + 1, steps);
            FILE *f = fopen(out, "wb");
            FUZZ_CHECK(f && fwrite(b + 8, 1, n - 16, f) == n - 16 && fclose(f) == 0,
                       "cannot write %s", out);
            mn_free(b);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_corpus();
    const char *dir = getenv("MN_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[PATH_MAX];
    fuzz_tmp_path(path, "fuzz.ckpt");
    int raw = size >= 8 && !memcmp(data, MAGIC, 8);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    if (raw) {
        FUZZ_CHECK(fwrite(data, 1, size, f) == size, "write");
    } else {
        uint64_t h = fnv1a(0xcbf29ce484222325ull, (const uint8_t *)MAGIC, 8);
        h = fnv1a(h, data, size);
        uint8_t tail[8];
        for (int i = 0; i < 8; i++) tail[i] = (uint8_t)(h >> (8 * i));
        FUZZ_CHECK(fwrite(MAGIC, 1, 8, f) == 8 && fwrite(data, 1, size, f) == size &&
                   fwrite(tail, 1, 8, f) == 8, "write");
    }
    FUZZ_CHECK(fclose(f) == 0, "write");

    mn_train_config cfg;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_train_checkpoint_config(path, &cfg, err);
    if (st != MN_OK) {
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(st == MN_ERR_FORMAT || st == MN_ERR_LIMIT, "status %s: %s",
                   mn_status_name(st), err);
        return 0;
    }
    FUZZ_CHECK(mn_train_config_validate(&cfg, err) == MN_OK, "accepted a bad config: %s", err);
    if (!small_enough(&cfg)) tiny_config(&cfg, 0);

    mn_trainer *t;
    st = mn_trainer_new(&cfg, mels, 4, &t, err);
    FUZZ_CHECK(st == MN_OK, "a trainer of the checkpoint's configuration: %s", err);
    size_t np = mn_trainer_n_params(t);
    float *before = mn_malloc(np * sizeof *before);
    FUZZ_CHECK(before != NULL, "out of memory");
    memcpy(before, mn_trainer_params(t), np * sizeof *before);
    mn_train_progress prog = *mn_trainer_progress(t);

    st = mn_trainer_checkpoint_load(t, path, err);
    if (st != MN_OK) {
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(!memcmp(before, mn_trainer_params(t), np * sizeof *before),
                   "a failed load changed the parameters (%s)", err);
        FUZZ_CHECK(!memcmp(&prog, mn_trainer_progress(t), sizeof prog),
                   "a failed load changed the progress (%s)", err);
    } else {
        /* what was loaded is what is saved */
        char back[PATH_MAX];
        fuzz_tmp_path(back, "back.ckpt");
        FUZZ_CHECK(mn_trainer_checkpoint_save(t, back, err) == MN_OK, "save: %s", err);
        size_t n1, n2;
        uint8_t *a = read_all(path, &n1), *b = read_all(back, &n2);
        FUZZ_CHECK(n1 == n2 && !memcmp(a, b, n1), "saved back as %zu bytes that differ from "
                   "the %zu loaded", n2, n1);
        mn_free(a);
        mn_free(b);
        unlink(back);
        uint64_t step = mn_trainer_progress(t)->step;
        double loss;
        mn_trainer_step(t, &loss);
        FUZZ_CHECK(mn_trainer_progress(t)->step == step + 1, "no step taken");
    }
    mn_free(before);
    mn_trainer_free(t);
    unlink(path);
    return 0;
}
