/* mnpd.c - the Pd-side plumbing [melodynet] and [melodynet~] share: path resolution, the
 * background loader (and writer), parameter messages and status output. See mnpd.h for who
 * owns what. */
#include "mnpd.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "m_imp.h" /* t_class.c_externdir: where the loaded binary lives */

static void mnpd_warning(void *x, const char *cls, t_outlet *info, const char *text);

uint64_t mnpd_makeseed(void)
{
    /* the same generator as [random], so instances differ but a patch replays the same way */
    static unsigned int next = 1489853723;
    next = next * 435898247 + 938284287;
    return 1 + (next >> 8) % (MNPD_SEED_SPAN - 1);
}

/*=== paths ==================================================================================*/

static int mnpd_realpath(const char *path, char *out)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf)) return -1;
    if (strlen(buf) >= MNPD_PATH_LEN) return -1;
    strcpy(out, buf);
    return 0;
}

/* Resolves name against the canvas's folder and Pd's search path (canvas_open) into an absolute
 * real path. Returns 0, or -1 when no readable file is found. */
static int mnpd_resolve(t_canvas *canvas, const char *name, char *out)
{
    char dir[MAXPDSTRING], *base = NULL;
    int fd = canvas_open(canvas, name, "", dir, &base, MAXPDSTRING, 1);
    if (fd < 0) return -1;
    sys_close(fd);
    char full[2 * MAXPDSTRING + 2];
    snprintf(full, sizeof full, "%s/%s", dir, base ? base : name);
    return mnpd_realpath(full, out);
}

int mnpd_resolve_data(t_canvas *canvas, const char *name, char *out)
{
    if (!mnpd_resolve(canvas, name, out)) return 0;
    char full[2 * MAXPDSTRING + 2];
    if (name[0] == '/') snprintf(full, sizeof full, "%s", name);
    else snprintf(full, sizeof full, "%s/%s", canvas_getdir(canvas)->s_name, name);
    struct stat st;
    if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) return -1;
    return mnpd_realpath(full, out);
}

/* Path of the bundled model: <externdir>/models/default.mnet (or <externdir>/default.mnet).
 * Returns 0, or -1 when neither exists. */
static int mnpd_default_model(t_class *c, char *out)
{
    const char *dir = (c && c->c_externdir) ? c->c_externdir->s_name : ".";
    const char *tries[] = {"models/default.mnet", "default.mnet"};
    for (int i = 0; i < 2; i++) {
        char full[MNPD_PATH_LEN + 64];
        snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", tries[i]);
        if (!mnpd_realpath(full, out)) return 0;
    }
    return -1;
}

int mnpd_creation_args(void *x, const char *cls, t_canvas *canvas, t_class *c, int argc,
                       const t_atom *argv, uint64_t *seed, char *path)
{
    t_symbol *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (argv[i].a_type == A_SYMBOL && !strcmp(argv[i].a_w.w_symbol->s_name, "-seed")) {
            uint64_t v;
            if (!mnpd_parse_seed(x, cls, NULL, "-seed", i + 1 < argc, argv + i + 1, &v))
                *seed = v;
            i++;
        } else if (argv[i].a_type == A_SYMBOL && !file) {
            file = argv[i].a_w.w_symbol;
        } else {
            char got[MAXPDSTRING];
            atom_string(&argv[i], got, sizeof got);
            pd_error(x, "%s: unexpected argument '%s' (expected [FILE] [-seed N])", cls, got);
        }
    }
    if (file) {
        if (!mnpd_resolve(canvas, file->s_name, path)) return 0;
        pd_error(x, "%s: %s: no such file (searched the patch folder and path)", cls,
                 file->s_name);
        return -1;
    }
    if (!mnpd_default_model(c, path)) return 0;
    pd_error(x, "%s: no bundled model (models/default.mnet next to the external)", cls);
    return -1;
}

t_symbol *mnpd_file_arg(void *x, const char *cls, t_outlet *info, const char *sel, int argc,
                        const t_atom *argv)
{
    if (argc != 1 || argv[0].a_type != A_SYMBOL) {
        mnpd_errorf(x, cls, info, "%s expects a file name", sel);
        return NULL;
    }
    return argv[0].a_w.w_symbol;
}

int mnpd_find_file(void *x, const char *cls, t_outlet *info, t_canvas *canvas, t_class *dflt,
                   const char *sel, int argc, const t_atom *argv, char *path)
{
    if (argc == 0 && dflt) {
        if (!mnpd_default_model(dflt, path)) return 0;
        mnpd_error(x, cls, info, "no bundled model (models/default.mnet)");
        return -1;
    }
    t_symbol *f = mnpd_file_arg(x, cls, info, sel, argc, argv);
    if (!f) return -1;
    if (!mnpd_resolve(canvas, f->s_name, path)) return 0;
    char err[MAXPDSTRING + 64];
    snprintf(err, sizeof err, "%s: no such file (searched the patch folder and path)", f->s_name);
    mnpd_error(x, cls, info, err);
    return -1;
}

/*=== background loader ======================================================================*/

/* A request's life: queued (in the loader's list), running (the loader thread has it), done
 * (the result waits for the slot's clock). The state and the orphan flag change under the
 * loader's mutex; the result is written by the loader thread while running and read by Pd's
 * thread once done, the mutex ordering the two. */
enum { MNPD_REQ_QUEUED, MNPD_REQ_RUNNING, MNPD_REQ_DONE };

typedef struct _mnpd_req {
    t_mnpd_result q_res;
    int q_state;                 /* MNPD_REQ_* */
    int q_orphan;                /* its slot is gone while running: the loader frees it */
    struct _mnpd_req *q_next;    /* the loader's queue, or the list of running learns */
    atomic_int q_stop;           /* learn: end soon, keeping the best weights */
    mn_finetune_progress q_prog[2]; /* learn: the latest progress within an epoch and the
                                  * latest validation (under the loader's mutex) */
    int q_prog_seq[2];           /* learn: bumped with each of them (under the mutex) */
} t_mnpd_req;

struct _mnpd_job {
    t_mnpd_req *j_cur;           /* sent to the loader (queued, running or done), or NULL */
    t_mnpd_req *j_wait;          /* made while j_cur is out: sent when j_cur ends, or NULL */
    t_clock *j_poll;             /* polls j_cur while it is out */
    t_mnpd_jobdone j_fn;
    t_mnpd_jobprogress j_progress; /* learn progress, or NULL */
    int j_prog_seq[2];           /* the progress last delivered (q_prog_seq) */
    void *j_owner;
};

/* the loader of this binary (memory is malloc'd: the thread frees requests and must not call
 * Pd's freebytes). Learn requests run on threads of their own but share the mutex, which
 * orders their state and progress as for the loader's requests. */
static struct {
    pthread_mutex_t l_mutex;
    pthread_cond_t l_cond;       /* wakes the thread: a request was queued, or quit */
    pthread_t l_thread;
    int l_started, l_quit;
    t_mnpd_req *l_head, *l_tail; /* queued requests, oldest first */
    t_mnpd_req *l_learning;      /* learn requests running, on their own threads */
    int l_n_learning;
    int l_learn_atexit;          /* the exit handler for them is installed */
    pthread_cond_t l_learn_cond; /* signalled when a learn thread ends */
} mnpd_loader = {.l_mutex = PTHREAD_MUTEX_INITIALIZER, .l_cond = PTHREAD_COND_INITIALIZER,
                 .l_learn_cond = PTHREAD_COND_INITIALIZER};

static void mnpd_req_free(t_mnpd_req *q)
{
    if (!q) return;
    mn_model_free(q->q_res.r_model);
    mn_model_free(q->q_res.r_source);
    mn_model_free(q->q_res.r_learned.model);
    mn_melody_free(&q->q_res.r_melody);
    free(q);
}

/* Learn progress, on the learn thread: kept for the slot's clock. */
static void mnpd_learn_progress(void *ctx, const mn_finetune_progress *p)
{
    t_mnpd_req *q = (t_mnpd_req *)ctx;
    int k = p->validated != 0;
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    q->q_prog[k] = *p;
    q->q_prog_seq[k]++;
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
}

/* write-model: the model's weights in its own type, with its metadata. */
static mn_status mnpd_save_model(const mn_model *m, const char *path, char *err)
{
    static const char *const none[1][2] = {{"", ""}};
    size_t n = mn_model_meta_count(m);
    const char *(*meta)[2] = (const char *(*)[2])calloc(n ? n : 1, sizeof *meta);
    if (!meta) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) mn_model_meta_at(m, i, &meta[i][0], &meta[i][1]);
    mn_status st = mn_model_save_as(path, mn_model_cfg(m), mn_model_params(m), mn_model_wtype(m),
                                    n ? (const char *const (*)[2])meta : none, n, err);
    free(meta);
    return st;
}

/* The work itself: core calls only, as Pd's API is not thread-safe. */
static void mnpd_req_run(t_mnpd_req *q)
{
    t_mnpd_result *r = &q->q_res;
    r->r_err[0] = '\0';
    if (r->r_kind == MNPD_JOB_LOAD) {
        r->r_status = mn_model_load(r->r_path, &r->r_model, r->r_err);
    } else if (r->r_kind == MNPD_JOB_WRITE) {
        r->r_status = mn_midi_write_file(r->r_path, &r->r_melody, r->r_err);
    } else if (r->r_kind == MNPD_JOB_SAVE) {
        r->r_status = mnpd_save_model(r->r_source, r->r_path, r->r_err);
    } else if (r->r_kind == MNPD_JOB_LEARN) {
        const char *data[1] = {r->r_path};
        char name[MNPD_PATH_LEN + 16];
        snprintf(name, sizeof name, "learned:%s", r->r_path);
        mn_finetune_job fj = {data, 1, r->r_epochs, r->r_seed, "[melodynet] learn",
                              mnpd_learn_progress, q};
        r->r_status = mn_finetune_run(r->r_source, &fj, name, &q->q_stop, &r->r_learned,
                                      r->r_err);
        r->r_model = r->r_learned.model;
        r->r_learned.model = NULL;
    } else {
        mn_midi_options opt;
        mn_midi_options_default(&opt);
        r->r_status = mn_midi_read_file(r->r_path, &opt, &r->r_melody, r->r_err);
        if (r->r_status == MN_OK && r->r_melody.n == 0)
            r->r_status = mn_errf(r->r_err, MN_ERR_EMPTY, "%s: no notes", r->r_path);
    }
}

/* Marks a request that has run as done, or frees it when its slot is gone. Called with the
 * mutex held; returns with it held. */
static void mnpd_req_finish(t_mnpd_req *q)
{
    if (q->q_orphan) {
        /* nobody else knows q any more */
        pthread_mutex_unlock(&mnpd_loader.l_mutex);
        mnpd_req_free(q);
        pthread_mutex_lock(&mnpd_loader.l_mutex);
    } else {
        q->q_state = MNPD_REQ_DONE;
    }
}

static void *mnpd_loader_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    for (;;) {
        while (!mnpd_loader.l_quit && !mnpd_loader.l_head)
            pthread_cond_wait(&mnpd_loader.l_cond, &mnpd_loader.l_mutex);
        if (mnpd_loader.l_quit) break;
        t_mnpd_req *q = mnpd_loader.l_head;
        mnpd_loader.l_head = q->q_next;
        if (!mnpd_loader.l_head) mnpd_loader.l_tail = NULL;
        q->q_next = NULL;
        q->q_state = MNPD_REQ_RUNNING;
        pthread_mutex_unlock(&mnpd_loader.l_mutex);
        mnpd_req_run(q);
        pthread_mutex_lock(&mnpd_loader.l_mutex);
        mnpd_req_finish(q);
    }
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
    return NULL;
}

/* Pd exits without freeing objects: stop the loader after the request it is running, so it
 * does not run on while the process tears down its libraries. Requests still queued stay in
 * memory, reachable from their slots. */
static void mnpd_loader_atexit(void)
{
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    mnpd_loader.l_quit = 1;
    pthread_cond_signal(&mnpd_loader.l_cond);
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
    pthread_join(mnpd_loader.l_thread, NULL);
}

/* Starts fn(arg) on an ordinary thread (SCHED_OTHER), not one that inherits the scheduler
 * thread's real-time policy (Pd's is SCHED_FIFO when it runs with -rt): file reads, model
 * checks, training and batches of notes must not compete with audio at its priority. A stack
 * size of 0 keeps the default. 0, or the pthread error. */
int mnpd_thread_start(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack, int detached)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc) return rc;
    if (stack) pthread_attr_setstacksize(&attr, stack);
    if (detached) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    struct sched_param sp = {0};
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
    pthread_attr_setschedparam(&attr, &sp);
    rc = pthread_create(th, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

/* Pd thread. Starts the loader thread the first time; 0, or -1 with err filled. */
static int mnpd_loader_start(char *err)
{
    if (mnpd_loader.l_started) return 0;
    int rc = mnpd_thread_start(&mnpd_loader.l_thread, mnpd_loader_thread, NULL, 0, 0);
    if (rc) {
        mn_errf(err, MN_ERR_IO, "cannot start the loader thread (%s)", strerror(rc));
        return -1;
    }
    mnpd_loader.l_started = 1;
    atexit(mnpd_loader_atexit);
    return 0;
}

/* Pd thread: hands q to the loader as j's current request. */
/* Puts q at the end of the loader's queue and wakes the loader. */
static void mnpd_loader_enqueue(t_mnpd_req *q)
{
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    q->q_state = MNPD_REQ_QUEUED;
    if (mnpd_loader.l_tail) mnpd_loader.l_tail->q_next = q;
    else mnpd_loader.l_head = q;
    mnpd_loader.l_tail = q;
    pthread_cond_signal(&mnpd_loader.l_cond);
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
}

static void mnpd_job_send(t_mnpd_job *j, t_mnpd_req *q)
{
    mnpd_loader_enqueue(q);
    j->j_cur = q;
    clock_delay(j->j_poll, MNPD_POLL_MS);
}

static void mnpd_job_poll(t_mnpd_job *j)
{
    t_mnpd_req *q = j->j_cur;
    if (!q) return;
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    int done = q->q_state == MNPD_REQ_DONE, report[2];
    mn_finetune_progress prog[2] = {q->q_prog[0], q->q_prog[1]};
    for (int k = 0; k < 2; k++) {
        report[k] = q->q_prog_seq[k] != j->j_prog_seq[k] && j->j_progress;
        j->j_prog_seq[k] = q->q_prog_seq[k];
    }
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
    /* within an epoch first, then its validation, unless the latter is the newer epoch */
    int first = report[0] && report[1] && prog[1].epoch < prog[0].epoch ? 1 : 0;
    t_mnpd_jobprogress pf = j->j_progress;
    void *owner = j->j_owner;
    if (!done) {
        /* rescheduled first: the slot is not touched after the progress function */
        clock_delay(j->j_poll, MNPD_POLL_MS);
        if (report[first]) pf(owner, &prog[first]);
        if (report[!first]) pf(owner, &prog[!first]);
        return;
    }
    /* the last ones, before the end (the done function may not delete the owner either) */
    if (report[first]) pf(owner, &prog[first]);
    if (report[!first]) pf(owner, &prog[!first]);
    /* q is ours alone now. The slot is settled before the done function runs (requests it
     * makes wait behind the one sent here) and not touched after it. */
    j->j_cur = NULL;
    if (j->j_wait) {
        t_mnpd_req *w = j->j_wait;
        j->j_wait = NULL;
        mnpd_job_send(j, w);
    }
    j->j_fn(j->j_owner, &q->q_res);
    mnpd_req_free(q);
}

t_mnpd_job *mnpd_job_new(void *owner, t_mnpd_jobdone fn)
{
    t_mnpd_job *j = (t_mnpd_job *)getbytes(sizeof *j);
    j->j_cur = j->j_wait = NULL;
    j->j_poll = clock_new(j, (t_method)mnpd_job_poll);
    j->j_fn = fn;
    j->j_progress = NULL;
    j->j_prog_seq[0] = j->j_prog_seq[1] = 0;
    j->j_owner = owner;
    return j;
}

/* A new request of kind for path, or NULL with err filled. */
static t_mnpd_req *mnpd_req_new(t_mnpd_jobkind kind, const char *path, const char *key,
                                char *err)
{
    t_mnpd_req *q = (t_mnpd_req *)calloc(1, sizeof *q);
    if (!q) {
        mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for a loader request", path);
        return NULL;
    }
    q->q_res.r_kind = kind;
    snprintf(q->q_res.r_path, sizeof q->q_res.r_path, "%s", path);
    snprintf(q->q_res.r_key, sizeof q->q_res.r_key, "%s", key ? key : "");
    mn_melody_init(&q->q_res.r_melody);
    atomic_init(&q->q_stop, 0);
    return q;
}

/* Sends q (or makes it the waiting one, the latest winning). */
static void mnpd_job_put(t_mnpd_job *j, t_mnpd_req *q)
{
    if (j->j_cur) {
        mnpd_req_free(j->j_wait);
        j->j_wait = q;
    } else {
        mnpd_job_send(j, q);
    }
}

/* A request for the loader, which is started the first time; NULL with err filled when the
 * thread cannot be started or memory runs out. */
static t_mnpd_req *mnpd_loader_req(t_mnpd_jobkind kind, const char *path, const char *key,
                                   char *err)
{
    return mnpd_loader_start(err) ? NULL : mnpd_req_new(kind, path, key, err);
}

int mnpd_job_save(t_mnpd_job *j, mn_model *m, const char *path, char *err)
{
    t_mnpd_req *q = mnpd_loader_req(MNPD_JOB_SAVE, path, NULL, err);
    if (!q) return -1;
    q->q_res.r_source = mn_model_retain(m);
    mnpd_job_put(j, q);
    return 0;
}

/* Sends a request to the loader, or makes it the slot's waiting one when a request is out
 * (replacing an older waiting one). Returns 0, or -1 with err filled when the loader thread
 * cannot be started or memory runs out (nothing is then requested). */
static int mnpd_job_start(t_mnpd_job *j, t_mnpd_jobkind kind, const char *path,
                          const char *key, char *err)
{
    t_mnpd_req *q = mnpd_loader_req(kind, path, key, err);
    if (!q) return -1;
    mnpd_job_put(j, q);
    return 0;
}

/* Sends a write of melody m (taken over: m is left empty) to path, as mnpd_job_start does.
 * Returns 0, or -1 with err filled (m is then freed). */
static int mnpd_job_start_write(t_mnpd_job *j, const char *path, mn_melody *m, char *err)
{
    t_mnpd_req *q = mnpd_loader_req(MNPD_JOB_WRITE, path, NULL, err);
    if (!q) {
        mn_melody_free(m);
        return -1;
    }
    q->q_res.r_melody = *m; /* the request owns the events now */
    mn_melody_init(m);
    mnpd_job_put(j, q);
    return 0;
}

/* The path of the slot's waiting request, or NULL when none waits. */
static const char *mnpd_job_waiting(const t_mnpd_job *j)
{
    return j->j_wait ? j->j_wait->q_res.r_path : NULL;
}

int mnpd_job_busy(const t_mnpd_job *j)
{
    return j->j_cur || j->j_wait;
}

void mnpd_job_free(t_mnpd_job *j)
{
    if (!j) return;
    t_mnpd_req *w = j->j_wait;
    if (w && w->q_res.r_kind == MNPD_JOB_WRITE) {
        /* a file asked for is written all the same: the loader runs it and frees it */
        w->q_orphan = 1;
        mnpd_loader_enqueue(w);
    } else {
        mnpd_req_free(w);
    }
    t_mnpd_req *q = j->j_cur;
    if (q) {
        pthread_mutex_lock(&mnpd_loader.l_mutex);
        if (q->q_state == MNPD_REQ_RUNNING ||
            (q->q_state == MNPD_REQ_QUEUED && q->q_res.r_kind == MNPD_JOB_WRITE)) {
            q->q_orphan = 1; /* the loader (or its learn thread) frees it; a queued write runs */
            atomic_store(&q->q_stop, 1);
            q = NULL;
        } else if (q->q_state == MNPD_REQ_QUEUED) {
            t_mnpd_req **pq = &mnpd_loader.l_head, *prev = NULL;
            while (*pq != q) {
                prev = *pq;
                pq = &(*pq)->q_next;
            }
            *pq = q->q_next;
            if (mnpd_loader.l_tail == q) mnpd_loader.l_tail = prev;
        }
        pthread_mutex_unlock(&mnpd_loader.l_mutex);
        mnpd_req_free(q); /* never ran, or done and not delivered */
    }
    clock_free(j->j_poll);
    freebytes(j, sizeof *j);
}

/* A learn request's thread: the run at a lower priority, then done (or freed when its slot is
 * gone). On Linux setpriority(PRIO_PROCESS, 0) sets the calling thread's nice value only. */
static void *mnpd_learn_thread(void *arg)
{
    t_mnpd_req *q = (t_mnpd_req *)arg;
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    if (errno == 0) (void)setpriority(PRIO_PROCESS, 0, prio + 10 > 19 ? 19 : prio + 10);
    mnpd_req_run(q);
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    for (t_mnpd_req **pq = &mnpd_loader.l_learning; *pq; pq = &(*pq)->q_next)
        if (*pq == q) {
            *pq = q->q_next;
            break;
        }
    q->q_next = NULL;
    mnpd_loader.l_n_learning--;
    pthread_cond_broadcast(&mnpd_loader.l_learn_cond);
    mnpd_req_finish(q);
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
    return NULL;
}

/* Pd exits without freeing objects: learn threads are told to stop and waited for (a stop
 * is seen after the corpus is read, between training steps), so that none runs on while the
 * process tears down. */
static void mnpd_learn_atexit(void)
{
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    for (t_mnpd_req *q = mnpd_loader.l_learning; q; q = q->q_next) atomic_store(&q->q_stop, 1);
    while (mnpd_loader.l_n_learning > 0)
        pthread_cond_wait(&mnpd_loader.l_learn_cond, &mnpd_loader.l_mutex);
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
}

int mnpd_job_learn(t_mnpd_job *j, mn_model *parent, const char *path, int epochs,
                   uint64_t seed, char *err)
{
    if (j->j_cur || j->j_wait) {
        mn_errf(err, MN_ERR_ARG, "already learning (learn stop ends it)");
        return -1;
    }
    t_mnpd_req *q = mnpd_req_new(MNPD_JOB_LEARN, path, NULL, err);
    if (!q) return -1;
    q->q_res.r_source = mn_model_retain(parent);
    q->q_res.r_epochs = epochs;
    q->q_res.r_seed = seed;
    pthread_t th;
    pthread_mutex_lock(&mnpd_loader.l_mutex);
    if (!mnpd_loader.l_learn_atexit) {
        atexit(mnpd_learn_atexit);
        mnpd_loader.l_learn_atexit = 1;
    }
    q->q_state = MNPD_REQ_RUNNING;
    /* an ordinary thread, whose nice value then applies; the trainer's matrix products keep
     * their blocks on the stack */
    int rc = mnpd_thread_start(&th, mnpd_learn_thread, q, (size_t)8 << 20, 1);
    if (!rc) {
        q->q_next = mnpd_loader.l_learning;
        mnpd_loader.l_learning = q;
        mnpd_loader.l_n_learning++;
    }
    pthread_mutex_unlock(&mnpd_loader.l_mutex);
    if (rc) {
        mn_errf(err, MN_ERR_IO, "cannot start the learning thread (%s)", strerror(rc));
        mnpd_req_free(q);
        return -1;
    }
    j->j_cur = q;
    j->j_prog_seq[0] = j->j_prog_seq[1] = 0;
    clock_delay(j->j_poll, MNPD_POLL_MS);
    return 0;
}

void mnpd_job_set_progress(t_mnpd_job *j, t_mnpd_jobprogress fn)
{
    j->j_progress = fn;
}

void mnpd_job_stop(t_mnpd_job *j)
{
    if (j->j_cur) atomic_store(&j->j_cur->q_stop, 1);
}

void mnpd_load_path(void *x, const char *cls, t_outlet *info, t_mnpd_job *job,
                    t_mnpd_use_model use, const char *path, int async)
{
    char key[MN_REGISTRY_KEY_LEN], err[MN_ERR_LEN];
    if (mn_registry_key(path, key, err) != MN_OK) {
        mnpd_error(x, cls, info, err);
        return;
    }
    if (async) {
        /* through the slot even when the registry holds the file, so that the latest request
         * wins and `loaded` never comes back inside the load message (the loaded copy is
         * dropped for the registered one in mnpd_load_done) */
        if (mnpd_job_start(job, MNPD_JOB_LOAD, path, key, err)) mnpd_error(x, cls, info, err);
        return;
    }
    mn_model *m = mn_registry_acquire(key);
    if (m) {
        use(x, m, path);
        return;
    }
    if (mn_model_load(path, &m, err) != MN_OK || mn_registry_adopt(key, m, &m, err) != MN_OK) {
        mnpd_error(x, cls, info, err);
        return;
    }
    use(x, m, path);
}

/* Whether slot w has a write of path out or waiting (it runs before any request made now). */
static int mnpd_job_writes(const t_mnpd_job *w, const char *path)
{
    return w && ((w->j_cur && w->j_cur->q_res.r_kind == MNPD_JOB_WRITE &&
                  !strcmp(w->j_cur->q_res.r_path, path)) ||
                 (w->j_wait && !strcmp(w->j_wait->q_res.r_path, path)));
}

void mnpd_read(void *x, const char *cls, t_outlet *info, t_canvas *canvas, t_mnpd_job *job,
               const t_mnpd_job *writes, int argc, const t_atom *argv)
{
    char path[MNPD_PATH_LEN], err[MN_ERR_LEN + MAXPDSTRING];
    if (argc == 1 && argv[0].a_type == A_SYMBOL && *argv[0].a_w.w_symbol->s_name) {
        /* `write F, read F`: F may not exist yet, but the loader writes it first */
        char made[MAXPDSTRING];
        canvas_makefilename(canvas, argv[0].a_w.w_symbol->s_name, made, MAXPDSTRING);
        if (strlen(made) < sizeof path && mnpd_job_writes(writes, made)) {
            if (mnpd_job_start(job, MNPD_JOB_READ, made, NULL, err)) mnpd_error(x, cls, info, err);
            return;
        }
    }
    if (mnpd_find_file(x, cls, info, canvas, NULL, "read", argc, argv, path)) return;
    if (mnpd_job_start(job, MNPD_JOB_READ, path, NULL, err)) mnpd_error(x, cls, info, err);
}

void mnpd_load_done(void *x, const char *cls, t_outlet *info, t_mnpd_result *r,
                    t_mnpd_use_model use)
{
    if (r->r_status != MN_OK) {
        mnpd_error(x, cls, info, r->r_err);
        return;
    }
    mn_model *m;
    mn_status st = mn_registry_adopt(r->r_key, r->r_model, &m, r->r_err);
    r->r_model = NULL;
    if (st != MN_OK) {
        mnpd_error(x, cls, info, r->r_err);
        return;
    }
    if (!use(x, m, r->r_path)) mnpd_status_path(info, "loaded", r->r_path, -1);
}

/*=== settings and parameter messages ========================================================*/

/* Pd's atoms as core atoms (atom.h): in a buffer when they fit, else in memory from getbytes,
 * freed by mnpd_atoms_free. A symbol atom borrows the symbol's name, which Pd never frees. */
typedef struct {
    mn_atom *a_v;         /* [a_n] */
    int a_n;
    mn_atom a_buf[32];
} t_mnpd_atoms;

static void mnpd_atoms(t_mnpd_atoms *v, int argc, const t_atom *argv)
{
    v->a_n = argc > 0 ? argc : 0;
    v->a_v = v->a_n <= (int)(sizeof v->a_buf / sizeof v->a_buf[0])
                 ? v->a_buf : (mn_atom *)getbytes((size_t)v->a_n * sizeof *v->a_v);
    for (int i = 0; i < v->a_n; i++) {
        if (argv[i].a_type == A_FLOAT) mn_atom_set_float(&v->a_v[i], argv[i].a_w.w_float);
        else if (argv[i].a_type == A_SYMBOL)
            mn_atom_set_symbol(&v->a_v[i], argv[i].a_w.w_symbol->s_name);
        else mn_atom_set_symbol(&v->a_v[i], "(pointer)"); /* as atom_string shows it */
    }
}

static void mnpd_atoms_free(t_mnpd_atoms *v)
{
    if (v->a_v != v->a_buf) freebytes(v->a_v, (size_t)v->a_n * sizeof *v->a_v);
    v->a_v = v->a_buf;
    v->a_n = 0;
}

int mnpd_settings_message(void *x, const char *cls, t_outlet *info, mn_settings *st,
                          t_symbol *s, int argc, t_atom *argv)
{
    const mn_setting *set = mn_setting_find(s->s_name);
    if (!set) {
        mnpd_errorf(x, cls, info, "no method for '%s'", s->s_name);
        return -1;
    }
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_setting_parse(set, s->s_name, v.a_n, v.a_v, st, err);
    mnpd_atoms_free(&v);
    if (rc != MN_OK) {
        mnpd_error(x, cls, info, err);
        return -1;
    }
    if (mn_setting_warning(set, st, err)) mnpd_warning(x, cls, info, err);
    return 1;
}

void mnpd_settings_methods(t_class *c, t_method m)
{
    size_t n;
    const mn_setting *t = mn_settings_table(&n);
    for (size_t i = 0; i < n; i++) class_addmethod(c, m, gensym(t[i].name), A_GIMME, 0);
}

int mnpd_parse_pitches(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                       int *out)
{
    char err[MN_ERR_LEN];
    int n = 0;
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_pitches(v.a_n, v.a_v, out, &n, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return n;
    mnpd_error(x, cls, info, err);
    return -1;
}

int mnpd_parse_listen(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                      mn_event *e)
{
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_listen(v.a_n, v.a_v, e, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return 0;
    mnpd_error(x, cls, info, err);
    return -1;
}

int mnpd_parse_note(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                    int *pitch, int *velocity)
{
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_note(v.a_n, v.a_v, pitch, velocity, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return 0;
    mnpd_error(x, cls, info, err);
    return -1;
}

int mnpd_parse_generate(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                        int *n)
{
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_generate(v.a_n, v.a_v, n, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return 0;
    mnpd_error(x, cls, info, err);
    return -1;
}

int mnpd_parse_answer(void *x, const char *cls, t_outlet *info, int argc, const t_atom *argv,
                      double *beats, int *notes)
{
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_answer(v.a_n, v.a_v, beats, notes, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return 0;
    mnpd_error(x, cls, info, err);
    return -1;
}

int mnpd_parse_seed(void *x, const char *cls, t_outlet *info, const char *what, int argc,
                    const t_atom *argv, uint64_t *seed)
{
    char err[MN_ERR_LEN];
    t_mnpd_atoms v;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_seed(what, v.a_n, v.a_v, seed, err);
    mnpd_atoms_free(&v);
    if (rc == MN_OK) return 0;
    mnpd_error(x, cls, info, err);
    return -1;
}

/* After a `novelty K` with K > 0: the copy guard needs the model's copy index. Without one,
 * the setting goes back to old and the message says why (the guard would otherwise leave no
 * pitch legal and play only rests). Returns 0 when the setting stands. */
int mnpd_novelty_check(void *x, const char *cls, t_outlet *info, const mn_model *m,
                       mn_settings *st, int old)
{
    const char *why = NULL;
    if (st->sampler.max_copy <= 0 || !m || mn_model_copyidx(m, &why)) return 0;
    mnpd_errorf(x, cls, info, "novelty %d needs the model's copy index (%s); novelty stays %d",
                st->sampler.max_copy, why ? why : "none", old);
    st->sampler.max_copy = old;
    return -1;
}

/*=== notes and writes =======================================================================*/

void mnpd_outlet_note(t_outlet *o, const mn_event *e, int last_pitch, double bpm, double legato)
{
    t_atom at[4];
    int rest = !mn_is_pitch(e->pitch);
    double ioi = mn_event_ticks_ms(e->dur_ticks, bpm);
    SETFLOAT(&at[0], rest ? last_pitch : e->pitch);
    SETFLOAT(&at[1], rest ? 0 : e->velocity);
    SETFLOAT(&at[2], (t_float)(legato * ioi));
    SETFLOAT(&at[3], (t_float)ioi);
    outlet_list(o, &s_list, 4, at);
}

void mnpd_write(void *x, const char *cls, t_canvas *canvas, t_outlet *info, t_mnpd_job *job,
                const mn_event *ev, size_t n, double bpm, t_symbol *file)
{
    char path[MAXPDSTRING], err[MN_ERR_LEN];
    if (!file || !*file->s_name) {
        mnpd_error(x, cls, info, "write expects a file name");
        return;
    }
    if (n == 0) {
        mnpd_error(x, cls, info, "write: no notes generated yet");
        return;
    }
    canvas_makefilename(canvas, file->s_name, path, MAXPDSTRING);
    mn_melody m;
    mn_melody_init(&m);
    m.bpm = bpm;
    mn_status st = MN_OK;
    for (size_t i = 0; i < n && st == MN_OK; i++) st = mn_melody_push(&m, &ev[i], err);
    if (st != MN_OK) {
        mn_melody_free(&m);
        mnpd_error(x, cls, info, err);
        return;
    }
    const char *waiting = mnpd_job_waiting(job);
    if (waiting)
        mnpd_errorf(x, cls, info, "write: %s not written: a later write replaced it before it "
                    "started", waiting);
    if (mnpd_job_start_write(job, path, &m, err)) mnpd_error(x, cls, info, err);
}

void mnpd_write_done(void *x, const char *cls, t_outlet *info, const t_mnpd_result *r)
{
    if (r->r_status != MN_OK) mnpd_error(x, cls, info, r->r_err);
    else mnpd_status_path(info, "wrote", r->r_path, (long)r->r_melody.n);
}

/*=== status and info ========================================================================*/

/* Sends `sel word word ...` on outlet o: text is split at spaces (commas and semicolons go),
 * numbers become floats. For messages made of words (error and warning texts). */
static void mnpd_status(t_outlet *o, const char *sel, const char *text)
{
    t_atom at[64];
    int n = 0;
    char buf[MAXPDSTRING];
    snprintf(buf, sizeof buf, "%s", text ? text : "");
    char *save = NULL;
    /* commas and semicolons would end the message in a box: the words go without them */
    for (char *c = buf; *c; c++)
        if (*c == ',' || *c == ';') *c = ' ';
    for (char *w = strtok_r(buf, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save)) {
        char *end;
        double f = strtod(w, &end);
        if (*end == '\0' && end != w && isfinite(f)) SETFLOAT(&at[n], (t_float)f);
        else SETSYMBOL(&at[n], gensym(w));
        n++;
    }
    outlet_anything(o, gensym(sel), n, at);
}

void mnpd_status_path(t_outlet *o, const char *sel, const char *path, long n)
{
    t_atom at[2];
    SETSYMBOL(&at[0], gensym(path));
    if (n >= 0) mnpd_setcount(&at[1], n);
    if (o) outlet_anything(o, gensym(sel), n >= 0 ? 2 : 1, at);
}

void mnpd_error(void *x, const char *cls, t_outlet *info, const char *text)
{
    pd_error(x, "%s: %s", cls, text);
    if (info) mnpd_status(info, "error", text);
}

void mnpd_errorf(void *x, const char *cls, t_outlet *info, const char *fmt, ...)
{
    char buf[MAXPDSTRING];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mnpd_error(x, cls, info, buf);
}

/* Reports a setting that was taken but does not act as asked: "cls: warning: text" on the
 * console and `warning text` on the info outlet. */
static void mnpd_warning(void *x, const char *cls, t_outlet *info, const char *text)
{
    (void)x;
    post("%s: warning: %s", cls, text);
    if (info) mnpd_status(info, "warning", text);
}

void mnpd_setcount(t_atom *a, long long n)
{
    if (n > -16777216LL && n < 16777216LL) {
        SETFLOAT(a, (t_float)n);
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", n);
        SETSYMBOL(a, gensym(buf));
    }
}

int mnpd_info_args(void *x, const char *cls, t_outlet *out, int argc, const t_atom *argv,
                   t_mnpd_info *ic)
{
    char err[MN_ERR_LEN];
    const char *key = NULL;
    t_mnpd_atoms v;
    ic->i_cls = cls;
    ic->i_out = out;
    ic->i_post = 0;
    ic->i_key = NULL;
    mnpd_atoms(&v, argc, argv);
    mn_status rc = mn_atoms_info(v.a_n, v.a_v, &ic->i_post, &key, err);
    mnpd_atoms_free(&v);
    if (rc != MN_OK) {
        mnpd_error(x, cls, out, err);
        return -1;
    }
    if (key) ic->i_key = gensym(key);
    return 0;
}

void mnpd_info_atoms(const t_mnpd_info *ic, const char *key, int n, t_atom *at)
{
    if (ic->i_key && strcmp(ic->i_key->s_name, key)) return;
    if (!ic->i_post) {
        t_atom all[64];
        if (n > 63) n = 63;
        SETSYMBOL(&all[0], gensym(key));
        for (int i = 0; i < n; i++) all[i + 1] = at[i];
        outlet_anything(ic->i_out, gensym("info"), n + 1, all);
        return;
    }
    char line[MAXPDSTRING];
    size_t len = (size_t)snprintf(line, sizeof line, "%s", key);
    for (int i = 0; i < n && len < sizeof line - 1; i++) {
        char w[MAXPDSTRING];
        if (at[i].a_type == A_SYMBOL) snprintf(w, sizeof w, "%s", at[i].a_w.w_symbol->s_name);
        else if (at[i].a_type == A_FLOAT && at[i].a_w.w_float == floor(at[i].a_w.w_float))
            snprintf(w, sizeof w, "%.0f", (double)at[i].a_w.w_float); /* all the digits */
        else atom_string(&at[i], w, sizeof w);
        len += (size_t)snprintf(line + len, sizeof line - len, " %s", w);
    }
    post("%s: %s", ic->i_cls, line);
}

static void mnpd_info_float(const t_mnpd_info *ic, const char *key, double f)
{
    t_atom a;
    SETFLOAT(&a, (t_float)f);
    mnpd_info_atoms(ic, key, 1, &a);
}

void mnpd_info_count(const t_mnpd_info *ic, const char *key, long long n)
{
    t_atom a;
    mnpd_setcount(&a, n);
    mnpd_info_atoms(ic, key, 1, &a);
}

void mnpd_info_symbol(const t_mnpd_info *ic, const char *key, const char *s)
{
    t_atom a;
    SETSYMBOL(&a, gensym(s ? s : ""));
    mnpd_info_atoms(ic, key, 1, &a);
}

/* A metadata value: a number when it is one and a float holds it as written (an integer of
 * fewer than 7 digits or a decimal), else one symbol, spaces and all. */
static void mnpd_meta_atom(t_atom *a, const char *v)
{
    char *end;
    double f = strtod(v, &end);
    int integer = strspn(v, "-0123456789") == strlen(v);
    if (*v && *end == '\0' && isfinite(f) && (!integer || fabs(f) < 1e6)) SETFLOAT(a, (t_float)f);
    else SETSYMBOL(a, gensym(v));
}

void mnpd_info(const t_mnpd_info *ic, const mn_model *m, const char *path,
               const mn_settings *st, uint64_t seed, long notes)
{
    const mn_sampler *s = &st->sampler;
    t_atom at[12];
    if (m) {
        const mn_model_config *c = mn_model_cfg(m);
        mnpd_info_symbol(ic, "model", path);
        mnpd_info_count(ic, "layers", c->n_layers);
        mnpd_info_count(ic, "hidden", c->n_hidden);
        mnpd_info_count(ic, "embed", c->n_embed);
        mnpd_info_count(ic, "positions", c->n_pos);
        mnpd_info_count(ic, "durations", c->dur.n);
        mnpd_info_count(ic, "params", (long long)mn_model_n_params(m));
        mnpd_info_count(ic, "bytes", (long long)mn_model_file_size(m));
        mn_wtype wt = mn_model_wtype(m);
        mnpd_info_symbol(ic, "weights", wt == MN_WEIGHTS_BF16 ? "bf16"
                                        : wt == MN_WEIGHTS_I8 ? "int8" : "f32");
        for (size_t i = 0; i < mn_model_meta_count(m); i++) {
            const char *k = NULL, *v = NULL;
            mn_model_meta_at(m, i, &k, &v);
            SETSYMBOL(&at[0], gensym(k ? k : "?"));
            mnpd_meta_atom(&at[1], v ? v : "");
            mnpd_info_atoms(ic, "meta", 2, at);
        }
    } else {
        mnpd_info_symbol(ic, "model", "none");
    }
    mnpd_info_float(ic, "temperature", s->temperature);
    mnpd_info_count(ic, "topk", s->top_k);
    mnpd_info_float(ic, "topp", s->top_p);
    if (s->scale_on) {
        int n = 0;
        for (int k = 0; k < 12; k++)
            if (s->scale_mask & (1u << k)) {
                SETFLOAT(&at[n], k); /* SETFLOAT names its atom twice */
                n++;
            }
        mnpd_info_atoms(ic, "scale", n, at);
    } else {
        mnpd_info_symbol(ic, "scale", "off");
    }
    SETFLOAT(&at[0], s->pitch_lo);
    SETFLOAT(&at[1], s->pitch_hi);
    mnpd_info_atoms(ic, "range", 2, at);
    mnpd_info_count(ic, "rest", s->allow_rest);
    SETFLOAT(&at[0], s->velocity_lo);
    SETFLOAT(&at[1], s->velocity_hi);
    mnpd_info_atoms(ic, "velocity", 2, at);
    mnpd_info_count(ic, "accent", s->accent);
    mnpd_info_float(ic, "motif", s->motif);
    mnpd_info_float(ic, "bpm", st->bpm);
    mnpd_info_float(ic, "legato", st->legato);
    mnpd_info_count(ic, "seed", (long long)seed);
    mnpd_info_count(ic, "notes", notes);
}
