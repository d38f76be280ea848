/* mnpd.h - what [melodynet] and [melodynet~] share on Pd's side: path resolution, the
 * background loader (model files and MIDI files are read, models and MIDI files written, on
 * a loader thread and handed back through a polled state; `learn` runs go the same way from a
 * thread of their own; models are shared through core/rt/registry.h), the parameter messages
 * (the settings table of core/rt/settings.h over Pd's atoms), the writer of `write`, and the
 * status and info messages. Everything here runs on Pd's scheduler thread except the loader
 * and learn threads, which call only core functions. */
#ifndef MNPD_H
#define MNPD_H

#include <pthread.h>
#include <stdatomic.h>

#include "m_pd.h"
#include "atom.h"
#include "base.h"
#include "event.h"
#include "finetune.h"
#include "midi.h"
#include "model.h"
#include "registry.h"
#include "sampler.h"
#include "session.h"
#include "settings.h"

#define MNPD_VERSION "0.2"
#define MNPD_PATH_LEN 1024      /* longest resolved path we keep */
#define MNPD_PRIME_MAX MN_PRIME_MAX /* events of a MIDI file fed by `read` (its last ones) */
#define MNPD_POLL_MS 2          /* how often a pending load is polled, in logical ms */

/* A seed per instance as [random] makes them: distinct, deterministic per process, and below
 * 10^6 so that a Pd float holds it exactly and prints it with all its digits (feeding the
 * printed seed back with `seed N` replays the same notes). */
#define MNPD_SEED_SPAN 1000000
uint64_t mnpd_makeseed(void);

/*=== paths ==================================================================================*/

/* Resolves the data of `learn` into an absolute real path: a file on the canvas's search path,
 * else a folder, absolute or relative to the canvas's folder. Returns 0, or -1 when there is
 * neither. */
int mnpd_resolve_data(t_canvas *canvas, const char *name, char *out);

/* Parses creation arguments [FILE] [-seed N] (in any order; *seed is set only by a valid -seed)
 * and resolves the model to load: FILE on the canvas's search path, else the bundled model of
 * class c. Errors go to the Pd console; returns 0 with path set, or -1 when there is nothing to
 * load. */
int mnpd_creation_args(void *x, const char *cls, t_canvas *canvas, t_class *c, int argc,
                       const t_atom *argv, uint64_t *seed, char *path);

/* The one file name a `sel` message takes, or NULL after reporting a wrong argument. */
t_symbol *mnpd_file_arg(void *x, const char *cls, t_outlet *info, const char *sel, int argc,
                        const t_atom *argv);

/* Resolves the file of a `load` or `read` message into path: the named file on the canvas's
 * search path or, with no argument and dflt not NULL, the bundled model of class dflt.
 * Reports a failure with mnpd_error on info and returns -1; 0 on success. */
int mnpd_find_file(void *x, const char *cls, t_outlet *info, t_canvas *canvas, t_class *dflt,
                   const char *sel, int argc, const t_atom *argv, char *path);

/*=== background loader ======================================================================*/

/* One loader thread per external binary, started by the first request and joined at exit,
 * runs every object's requests in turn (first come, first served). Each object has one slot
 * per kind of request (model loads, MIDI reads, MIDI writes, ...). A slot has at most one
 * request out with the loader and one waiting: a request made while one is out waits, and a
 * later one replaces the waiting one (the latest wins). A request may come from anywhere, including the done function
 * of the same slot. The done function runs on Pd's thread from the slot's clock, with a result
 * that belongs to nobody else; it may make new requests, and the slot is not touched after it
 * returns. Deleting an object never waits for the loader: a load or read that has not started
 * is dropped, one under way is finished by the loader, which frees its result; a write is
 * always carried out (the file was asked for), its result freed by the loader. */

typedef enum {
    MNPD_JOB_LOAD = 1,  /* read a model file */
    MNPD_JOB_READ = 2,  /* read a MIDI file */
    MNPD_JOB_SAVE = 3,  /* write a model file (`write-model`) */
    MNPD_JOB_LEARN = 4, /* fine-tune a model (`learn`): on a thread of its own, see below */
    MNPD_JOB_WRITE = 5, /* write a MIDI file (`write`) */
} t_mnpd_jobkind;

typedef struct _mnpd_job t_mnpd_job;

/* What a finished request hands to its done function. */
typedef struct _mnpd_result {
    t_mnpd_jobkind r_kind;
    char r_path[MNPD_PATH_LEN];  /* resolved file */
    char r_key[MN_REGISTRY_KEY_LEN]; /* registry key (loads) */
    mn_status r_status;
    char r_err[MN_ERR_LEN];      /* the error when r_status is not MN_OK */
    mn_model *r_model;           /* loads: the model; the done function may take it (and set
                                  * r_model to NULL), else it is freed after the call */
    mn_melody r_melody;          /* reads: the melody read; writes: the melody written; freed
                                  * after the call */
    mn_model *r_source;          /* saves: the model written to r_path; learns: the parent (a
                                  * reference each, released with the request) */
    int r_epochs;                /* learns: epochs asked for, 0 = the schedule's */
    uint64_t r_seed;             /* learns: the held-out split's and the shuffles' seed */
    mn_finetune_result r_learned; /* learns: the outcome; its model is r_model */
} t_mnpd_result;

/* Called on Pd's thread when a request of owner's slot has ended. */
typedef void (*t_mnpd_jobdone)(void *owner, t_mnpd_result *r);

/* Allocates a slot for an owner; fn is called with the owner when a request ends. */
t_mnpd_job *mnpd_job_new(void *owner, t_mnpd_jobdone fn);

/* A request is out or waiting. */
int mnpd_job_busy(const t_mnpd_job *j);

/* write-model: sends a request to the loader to write model m (the request takes a
 * reference) to path atomically, in the model's weight type with its metadata. As
 * the loader's other requests otherwise. */
int mnpd_job_save(t_mnpd_job *j, mn_model *m, const char *path, char *err);

/* Pd thread. Starts fn(arg) on an ordinary (SCHED_OTHER) thread rather than one inheriting
 * the scheduler's real-time policy under pd -rt; stack 0 = the default size. 0 or the pthread
 * error. The loader, generate and learn threads start here; [melodynet~]'s look-ahead worker,
 * which feeds the audio clock, keeps the scheduler's policy. */
int mnpd_thread_start(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack, int detached);

/* learn: fine-tunes parent (the request takes a reference) on the MIDI files, folder or list
 * at path (resolved on Pd's thread) with finetune.h's run, on a thread of its own at a lower
 * priority (nice +10) so the loader and the scheduler are not held up. The slot must not be
 * busy (-1 with err then). r_model is the learned model, r_learned says how it went. */
int mnpd_job_learn(t_mnpd_job *j, mn_model *parent, const char *path, int epochs,
                   uint64_t seed, char *err);

/* Called on Pd's thread, from the slot's clock, with the latest progress of a learn request
 * (at each tenth of an epoch and after each validation; several may fold into one call). */
typedef void (*t_mnpd_jobprogress)(void *owner, const mn_finetune_progress *p);
void mnpd_job_set_progress(t_mnpd_job *j, t_mnpd_jobprogress fn);

/* Asks the request under way to end soon: a learn keeps the best weights so far and ends as
 * usual through the done function. Other requests are not affected. */
void mnpd_job_stop(t_mnpd_job *j);

/* Frees the slot without waiting: a waiting or queued request other than a write is dropped,
 * one under way and every write are left to the loader (or its learn thread, which is told to
 * stop), which frees them when they end. NULL is a no-op. */
void mnpd_job_free(t_mnpd_job *j);

/* Installs a loaded model in an object: returns 0 when it took the model (one reference),
 * -1 after reporting why not (the reference is released). */
typedef int (*t_mnpd_use_model)(void *x, mn_model *m, const char *path);

/* Loads the model at path into object x through use: synchronously (async 0: creation), from
 * the shared registry when another object holds it, else from the file; or by the loader
 * through job (async 1: the load message, answered by mnpd_load_done, which keeps the
 * registered copy when there is one). Errors go to the console and the info outlet. */
void mnpd_load_path(void *x, const char *cls, t_outlet *info, t_mnpd_job *job,
                    t_mnpd_use_model use, const char *path, int async);

/* The read message: resolves the MIDI file on the canvas's path and reads it by the loader
 * through job (answered by the job's done function). A file that the object's write slot
 * (writes, may be NULL) is about to write is read from there, after the write: `write F, read
 * F` reads what was written. Errors go to the console and the info outlet. */
void mnpd_read(void *x, const char *cls, t_outlet *info, t_canvas *canvas, t_mnpd_job *job,
               const t_mnpd_job *writes, int argc, const t_atom *argv);

/* The end of an asynchronous load: installs the model (taking r_model) or reports the
 * error. */
void mnpd_load_done(void *x, const char *cls, t_outlet *info, t_mnpd_result *r,
                    t_mnpd_use_model use);

/*=== settings and parameter messages ========================================================*/

/* Handles the messages of the settings table (settings.h: temperature, topk, topp, scale,
 * range, rest, bpm, velocity, accent, motif, legato, novelty). Returns 1 when the settings
 * changed, -1 after reporting a bad message with mnpd_error (st is then unchanged). A change
 * that makes a setting act otherwise than asked (mn_setting_warning) is made and reported as
 * a warning. */
int mnpd_settings_message(void *x, const char *cls, t_outlet *info, mn_settings *st,
                          t_symbol *s, int argc, t_atom *argv);

/* Adds the method m for every setting of the table to class c. */
void mnpd_settings_methods(t_class *c, t_method m);

/* Parses a melody message (MIDI pitches, atom.h) into out [MN_LIST_MAX]. Returns the count,
 * or -1 after reporting the first bad atom. */
int mnpd_parse_pitches(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                       int *out);

/* Parses `listen p [dur_beats]` (mn_atoms_listen). Returns 0 or -1 after reporting. */
int mnpd_parse_listen(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                      mn_event *e);

/* Parses `note PITCH VELOCITY` (mn_atoms_note). Returns 0 or -1 after reporting. */
int mnpd_parse_note(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                    int *pitch, int *velocity);

/* Parses `generate N` (mn_atoms_generate). Returns 0 or -1 after reporting. */
int mnpd_parse_generate(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                        int *n);

/* Parses `answer BEATS [NOTES]` (mn_atoms_answer). Returns 0 or -1 after reporting. */
int mnpd_parse_answer(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                      double *beats, int *notes);

/* Parses a seed for `seed` / `-seed` (mn_atoms_seed). Returns 0 or -1 after reporting. */
int mnpd_parse_seed(void *x, const char *cls, t_outlet *info, const char *what, int argc,
                    const t_atom *argv, uint64_t *seed);

/* After `novelty K`: reverts to old and reports when the model has no copy index. */
int mnpd_novelty_check(void *x, const char *cls, t_outlet *info, const mn_model *m,
                       mn_settings *st, int old);

/*=== notes and writes =======================================================================*/

/* Sends a note as `pitch velocity duration_ms onset_ms`: onset_ms is the note's inter-onset
 * time (its duration at bpm, when the next note starts), duration_ms is legato times that, so
 * that [makenote] ends a note before the next one of the same pitch begins. A rest comes out
 * with velocity 0 and the previous note's pitch (so [makenote] stays silent and [mtof] holds),
 * last_pitch if none. */
void mnpd_outlet_note(t_outlet *o, const mn_event *e, int last_pitch, double bpm,
                      double legato);

/* The write message: writes the n notes of ev (the generated notes of the melody so far, from
 * the session's history) as a MIDI file at bpm, file relative to the canvas's folder. The file
 * is written (atomically, fsynced: mn_midi_write_file) on the loader thread through job, whose
 * done function calls mnpd_write_done; a bad argument, no notes or a write that a later one
 * replaced before it started are reported at once with mnpd_error. */
void mnpd_write(void *x, const char *cls, t_canvas *canvas, t_outlet *info, t_mnpd_job *job,
                const mn_event *ev, size_t n, double bpm, t_symbol *file);

/* The end of a write: `wrote PATH N` on the info outlet, or the error (naming its cause). */
void mnpd_write_done(void *x, const char *cls, t_outlet *info, const t_mnpd_result *r);

/*=== status and info ========================================================================*/

/* Sends `sel PATH [N]`: the path as one symbol whatever it holds, N when n >= 0. */
void mnpd_status_path(t_outlet *o, const char *sel, const char *path, long n);

/* Reports an error: pd_error(x, "cls: text") and `error text` on the info outlet (if any). */
void mnpd_error(void *x, const char *cls, t_outlet *info, const char *text);
void mnpd_errorf(void *x, const char *cls, t_outlet *info, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* An integer as an atom: a float when a float holds it exactly (|n| < 2^24), else a symbol of
 * its digits. */
void mnpd_setcount(t_atom *a, long long n);

/* Where an `info [post] [KEY]` answer goes: the outlet (default) or, with `post`, the console
 * only; with KEY only the lines of that key. */
typedef struct {
    const char *i_cls;
    t_outlet *i_out;
    int i_post;
    t_symbol *i_key;   /* NULL: every line */
} t_mnpd_info;

/* Parses the arguments of `info`. Returns 0, or -1 after reporting. */
int mnpd_info_args(void *x, const char *cls, t_outlet *out, int argc, const t_atom *argv,
                   t_mnpd_info *ic);

/* One line `info KEY atoms...`: sent, or posted as "cls: KEY atoms...". */
void mnpd_info_atoms(const t_mnpd_info *ic, const char *key, int n, t_atom *at);
void mnpd_info_count(const t_mnpd_info *ic, const char *key, long long n);
void mnpd_info_symbol(const t_mnpd_info *ic, const char *key, const char *s);

/* The model, settings and counters every object reports. */
void mnpd_info(const t_mnpd_info *ic, const mn_model *m, const char *path,
               const mn_settings *st, uint64_t seed, long notes);

#endif
