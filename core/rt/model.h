/* model.h - the .mnet model file: a safetensors-layout file (8-byte little-endian header length,
 * a JSON header, raw little-endian f32 tensors) holding the architecture sizes, the duration
 * table, training metadata and the weights. Owns loading (read into memory, full validation
 * against the file size and limits), saving, and the canonical flat parameter layout shared with
 * the trainer.
 * A loaded model is read-only and reference counted, so many sessions and threads can share it. */
#ifndef MN_MODEL_H
#define MN_MODEL_H

#include "base.h"
#include "event.h"
#include "matvec.h"

#define MN_MODEL_FORMAT "melodynet"
#define MN_MODEL_VERSION 1
#define MN_MAX_LAYERS 8
#define MN_MAX_HIDDEN 4096
#define MN_MAX_EMBED 1024
#define MN_MAX_POS 1024
#define MN_MAX_META 64              /* metadata entries kept */
#define MN_MAX_HEADER_BYTES (1u << 20) /* JSON header size limit */
/* Metadata key of the checksum mn_model_save writes: FNV-1a 64 of the data section (the
 * tensor bytes as stored), 16 lowercase hex digits. Checked at load when present. */
#define MN_MODEL_CHECKSUM_KEY "data_fnv1a64"
#define MN_MODEL_PROBE_STEPS 8      /* network steps run at load to check the model plays */
#define MN_MODEL_MAX_LOGIT 1e6      /* largest logit magnitude those steps may give */

typedef struct {
    int n_layers;  /* L, 1..MN_MAX_LAYERS */
    int n_hidden;  /* H, 1..MN_MAX_HIDDEN */
    int n_embed;   /* E, size of each embedding (pitch, duration, position), 1..MN_MAX_EMBED */
    int n_pos;     /* position classes (pos_ticks clamped to n_pos-1); 0 = no position input */
    mn_durtable dur; /* duration tokens; n_dur = dur.n */
} mn_model_config;

/* Pointers into one flat f32 block, in this canonical order (the order of the fields below;
 * for each layer l: w_ih, w_hh, b_ih, b_hh). Gate order of LSTM rows is PyTorch's (i, f, g, o).
 * Input of layer 0 is [pitch emb | dur emb | pos emb (if n_pos > 0)], of layer l>0 the hidden
 * state of layer l-1. Tensor names in the file are given after each field. */
typedef struct {
    const float *emb_pitch;  /* [MN_N_PITCH_IN, E]  "emb.pitch" (rows 0..127 pitch, 128 rest, 129 BOS) */
    const float *emb_dur;    /* [n_dur + 1, E]      "emb.dur"   (row n_dur is BOS) */
    const float *emb_pos;    /* [n_pos, E]          "emb.pos"   (NULL when n_pos == 0) */
    struct {
        const float *w_ih;   /* [4H, in_l]          "lstm.<l>.w_ih" */
        const float *w_hh;   /* [4H, H]             "lstm.<l>.w_hh" */
        const float *b_ih;   /* [4H]                "lstm.<l>.b_ih" */
        const float *b_hh;   /* [4H]                "lstm.<l>.b_hh" */
    } lstm[MN_MAX_LAYERS];
    const float *head_pitch_w; /* [MN_N_PITCH, H]  "head.pitch.w" */
    const float *head_pitch_b; /* [MN_N_PITCH]     "head.pitch.b" */
    const float *head_dur_w;   /* [n_dur, H + E]   "head.dur.w": input [h_top | emb_pitch[chosen pitch]] */
    const float *head_dur_b;   /* [n_dur]          "head.dur.b" */
} mn_weights;

/* The matrices one step streams, in the type the file stores them in (f32, bf16 or int8 with a
 * scale per row); for f32 files they point into the canonical block. */
typedef struct {
    struct {
        mn_mat w_ih;         /* [4H, in_l] */
        mn_mat w_hh;         /* [4H, H] */
    } lstm[MN_MAX_LAYERS];
    mn_mat head_pitch_w;     /* [MN_N_PITCH, H] */
    mn_mat head_dur_w;       /* [n_dur, H + E] */
} mn_step_mats;

/* Input width of layer 0: 2E, or 3E with position. */
int mn_model_input_size(const mn_model_config *cfg);

/* Checks sizes against the limits above. */
mn_status mn_model_config_validate(const mn_model_config *cfg, char *err);

/* Number of f32 parameters of the canonical layout (0 if cfg is invalid). */
size_t mn_model_param_count(const mn_model_config *cfg);

/* Points w into params (which holds mn_model_param_count floats) in canonical order.
 * Works for a mutable block too: the trainer casts the pointers back. */
void mn_weights_point(const mn_model_config *cfg, const float *params, mn_weights *w);

/* Name and shape of tensor i (0 <= i < count) of the canonical layout, for writers and
 * loaders. Returns the number of tensors when called with i < 0 (shape/name untouched). */
int mn_model_tensor_info(const mn_model_config *cfg, int i, char name[48], int shape[2], int *ndim,
                         size_t *offset_floats);

typedef struct mn_model mn_model;

/* Loads and validates a model file. On success *out is a model with one reference, which the
 * caller releases with mn_model_free. On failure *out is NULL, err says what is wrong
 * ("x.mnet: tensor lstm.0.w_ih has 3 dims, expected 2") and nothing leaks.
 * Refused, among the rest: a header that is not UTF-8 JSON, metadata integers with a leading
 * zero, tensors that do not tile the data section exactly (a gap, or bytes after the last
 * one), a checksum (MN_MODEL_CHECKSUM_KEY) that does not match, a non-finite weight, and
 * weights whose first MN_MODEL_PROBE_STEPS steps give a logit beyond MN_MODEL_MAX_LOGIT or
 * pitch logits all equal at every step (a model that would not play music). */
mn_status mn_model_load(const char *path, mn_model **out, char *err);

/* Same, from bytes in memory (copied; name is used in messages). */
mn_status mn_model_load_memory(const void *buf, size_t len, const char *name, mn_model **out,
                               char *err);

/* Reference counting (atomic; any thread). mn_model_free drops one reference and frees the
 * model at zero; NULL is a no-op. */
mn_model *mn_model_retain(mn_model *m);
void mn_model_free(mn_model *m);

const mn_model_config *mn_model_cfg(const mn_model *m);
const mn_weights *mn_model_weights(const mn_model *m);
const float *mn_model_params(const mn_model *m); /* the flat block, canonical order (bf16 and
                                                  * int8 matrices as their exact float values) */
const mn_step_mats *mn_model_step_mats(const mn_model *m);
mn_wtype mn_model_wtype(const mn_model *m);     /* F32, or the reduced type of its matrices */
size_t mn_model_n_params(const mn_model *m);
const char *mn_model_path(const mn_model *m);    /* as given to load */
size_t mn_model_file_size(const mn_model *m);

/* Metadata ("__metadata__" strings). Returns NULL when the key is absent. */
const char *mn_model_meta(const mn_model *m, const char *key);
size_t mn_model_meta_count(const mn_model *m);
void mn_model_meta_at(const mn_model *m, size_t i, const char **key, const char **value);

/* The copy guard's index (copyidx.h) that mn_model_load read from the file the "copy_index"
 * metadata names, beside the model; NULL when there is none, with *why (if non-NULL) saying
 * why in one line. */
struct mn_copyidx;
const struct mn_copyidx *mn_model_copyidx(const mn_model *m, const char **why);

/* Writes a model file atomically (temp file + rename). params holds mn_model_param_count(cfg)
 * floats in canonical order; meta holds n_meta key/value pairs (keys and values are copied
 * into the header as JSON strings; the architecture keys and the checksum are written by this
 * function). */
mn_status mn_model_save(const char *path, const mn_model_config *cfg, const float *params,
                        const char *const (*meta)[2], size_t n_meta, char *err);

/* Same, with the step matrices (LSTM and head weights) stored as wtype: BF16 (rounded to
 * nearest even) or I8 (a scale per row, max|w|/127, in a "<name>.scale" F32 tensor after
 * the matrix); embeddings and biases stay F32. */
mn_status mn_model_save_as(const char *path, const mn_model_config *cfg, const float *params,
                           mn_wtype wtype, const char *const (*meta)[2], size_t n_meta,
                           char *err);

/* The bytes mn_model_save_as writes (path names the model in messages), in one block the
 * caller frees with mn_free: for a model made in memory (mn_model_load_memory reads it). */
mn_status mn_model_encode(const char *path, const mn_model_config *cfg, const float *params,
                          mn_wtype wtype, const char *const (*meta)[2], size_t n_meta,
                          uint8_t **out, size_t *out_len, char *err);

#endif
