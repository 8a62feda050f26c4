/*
** runtime.h — the trainer runtime's internal interface (SPEC 3), one
** section per file. The public entry points (nnc_main, nnc_uniform) are in
** nnc_abi.h; everything here is prefixed rt_ / Rt.
**
** The runtime is built as libnncrt.a and also pasted, this header first,
** into every generated C file, which users compile with
** `cc -std=c99 -pedantic -Wall -Wextra -Werror ... -lm`. Hence: C99, only
** libc and libm (pthreads from libc; -DNNC_NO_THREADS drops them), no
** file-local macros, every static name unique across the runtime's files.
*/
#ifndef NNC_RUNTIME_H
#define NNC_RUNTIME_H

/* fsync, isatty, clock_gettime, pthreads: POSIX, hidden by -std=c99 unless
** asked for before the first system header; and on Linux madvise, which
** POSIX alone hides too (rt_alloc_big). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnc_abi.h"

#if defined(__GNUC__) || defined(__clang__)
#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* Into the outer caches (prefetcht2 on x86): a gathered row fetched to L1
** ahead of time takes a line-fill buffer per line and stalls the copy. */
#define RT_PREFETCH(p) __builtin_prefetch(p, 0, 1)
#else
#define RT_PRINTF(f, a)
#define RT_PREFETCH(p) ((void)(p))
#endif

/* Rows per gradient chunk. A batch is cut into chunks of this many rows
** whatever --threads says, and chunk gradients are summed in chunk order, so
** the weights are bit-identical for every thread count (SPEC 3 Determinism).
** Each chunk writes a whole gradient, then added: models of at least
** RT_BIG_PARAMS parameters take chunks of RT_BIG_CHUNK_ROWS rows, so that
** cost stays small beside the chunk's matrix products. */
#define RT_CHUNK_ROWS 32
#define RT_BIG_PARAMS 65536
#define RT_BIG_CHUNK_ROWS 64
#define RT_MAX_THREADS 256
/* Work over fewer parameters than this stays on one thread: handing it to
** the pool costs more than it saves. */
#define RT_THREAD_MIN_FLOATS 65536
#define RT_MAX_METRICS 16
#define RT_MAX_LOGS (2 + 2 * RT_MAX_METRICS)
#define RT_MAX_CALLBACKS 16
#define RT_NAME_MAX 64
#define RT_PATH_MAX 4096
#define RT_MAX_META 96

/* Exit statuses (SPEC 3 Failures). */
enum { RT_EXIT_OK = 0, RT_EXIT_ERROR = 1, RT_EXIT_USAGE = 2, RT_EXIT_DIVERGED = 3 };

/* ---- util.c: messages, clock, files ---- */

/* Errors and warnings go to stderr, one line each, as SPEC 3 shows them:
** `data.csv:17: expected 31 columns, found 30`. */
void rt_error(const char *fmt, ...) RT_PRINTF(1, 2);
void rt_warning(const char *fmt, ...) RT_PRINTF(1, 2);
/* Every heap allocation the runtime makes (--profile counts those inside
** training steps). */
extern long rt_heap_allocs;
void *rt_alloc(size_t bytes, const char *what);   /* zeroed; NULL + message */
/* The same, for the buffers the steps read all over: the data's rows and
** the trainer's block; freed with free(). */
void *rt_alloc_big(size_t bytes, const char *what);
double rt_now(void);                                /* monotonic seconds */
/* Reads a whole file, NUL-terminated; NULL + message naming the file. */
char *rt_read_file(const char *path, size_t *size);
/* Keras' number format in logs: %.4f, or %.4e when |v| <= 1e-3. */
void rt_format_value(char *buf, size_t size, double v);
/* "1,234,567", as Keras prints parameter counts. */
void rt_format_count(char *buf, size_t size, long long n);
int rt_parse_double(const char *s, double *out);   /* whole string, finite */
int rt_parse_long(const char *s, long *out);       /* whole string, decimal */

/* A file being written. Files are written atomically (SPEC 3 Failures):
** a temporary file beside the target, fsync, rename; on any failure the
** temporary is removed and the target left as it was. A sink opened with
** rt_file_count only counts bytes (two-pass writers size headers with it).
** Writes are buffered here, so writing allocates nothing. */
typedef struct RtFile {
    int fd;                /* -1 for a counting sink */
    int err;               /* errno of the first failure, 0 if none */
    int atomic;            /* tmp must be renamed onto path */
    size_t len;            /* bytes waiting in buf */
    uint64_t total;        /* bytes written (or counted) so far */
    const char *path;      /* as the user gave it, for messages */
    char target[RT_PATH_MAX + 1]; /* path with symlinks resolved: what is replaced */
    char tmp[RT_PATH_MAX + 64];
    unsigned char buf[8192];
} RtFile;
int rt_file_open(RtFile *f, const char *path);     /* 0, or -1 + message */
void rt_file_stdout(RtFile *f);
void rt_file_count(RtFile *f);
void rt_file_write(RtFile *f, const void *data, size_t n);
void rt_file_puts(RtFile *f, const char *s);
void rt_file_printf(RtFile *f, const char *fmt, ...) RT_PRINTF(2, 3);
int rt_file_commit(RtFile *f);                     /* 0, or -1 + message */
void rt_file_abort(RtFile *f);

/* ---- rng.c: the counter-based generator and initializers (SPEC 1.4) ---- */

/* Purposes, each its own family of streams so that no two uses of the seed
** draw the same numbers. */
enum { RT_STREAM_INIT = 1, RT_STREAM_SHUFFLE = 2, RT_STREAM_DROPOUT = 3 };
uint64_t rt_hash3(uint64_t a, uint64_t b, uint64_t c);
uint64_t rt_subseed(uint64_t seed, uint64_t purpose, uint64_t k);
double rt_normal(uint64_t seed, uint64_t stream, uint64_t counter);
double rt_truncated_normal(uint64_t seed, uint64_t stream, uint64_t counter);
/* Fills p's slice of params by its initializer; index is p's row in the table. */
void rt_init_param(const NncParam *p, int index, uint64_t seed, nnc_real *params);
/* idx = a permutation of 0..n-1 for this epoch (Fisher-Yates), or identity. */
void rt_permutation(long *idx, long n, uint64_t seed, int epoch, int shuffle);

/* ---- csv.c: data files (SPEC 3 Data, Data domain checks) ---- */

typedef struct RtData {
    const char *path;
    long rows, n_x, n_t;   /* n_t = model->target_width, 0 for features only */
    nnc_real *x;           /* rows × n_x */
    nnc_real *t;           /* rows × n_t (inside the x allocation) */
} RtData;
/* Loads path for model m: features, and targets when need_targets. label is
** --label (a header name or 0-based index) or NULL. 0, or -1 + message. */
int rt_data_load(RtData *d, const char *path, const NncModel *m, const char *label,
                 int need_targets);
void rt_data_free(RtData *d);
const char *rt_loss_name(int loss);
long rt_classes(const NncModel *m);   /* units on the output's last axis */

/* ---- metrics.c (SPEC 1.10) ---- */

typedef struct RtMetrics {
    int n;
    int kind[RT_MAX_METRICS];
    double num[RT_MAX_METRICS], den[RT_MAX_METRICS];
} RtMetrics;
int rt_metric_resolve(const NncModel *m, int kind);
const char *rt_metric_name(const NncModel *m, int i);   /* as shown in logs */
int rt_metric_higher_is_better(const char *log_name);
void rt_metrics_init(RtMetrics *mt, const NncModel *m);
void rt_metrics_reset(RtMetrics *mt);
void rt_metrics_add(RtMetrics *mt, const NncModel *m, const nnc_real *y, const nnc_real *t,
                    long rows);
double rt_metrics_value(const RtMetrics *mt, int i);

/* ---- pool.c: worker threads ---- */

typedef struct RtPool RtPool;
typedef void (*RtTask)(void *arg, int worker);
/* n workers, the caller being worker 0. NULL + message on failure. */
RtPool *rt_pool_new(int n);
/* Runs task(arg, w) for every worker w and waits for all. */
void rt_pool_run(RtPool *p, RtTask task, void *arg);
void rt_pool_free(RtPool *p);

/* ---- options: the command line (cli.c) ---- */

enum { RT_CMD_TRAIN, RT_CMD_EVAL, RT_CMD_PREDICT, RT_CMD_SUMMARY, RT_CMD_GRADCHECK };
/* Which values the command line set, so they override a checkpoint's. */
enum { RT_SET_EPOCHS = 1, RT_SET_BATCH = 2, RT_SET_LR = 4, RT_SET_SEED = 8,
       RT_SET_SPLIT = 16 };
typedef struct RtOptions {
    const char *prog;
    int command;
    const char *data, *val, *weights, *load, *save, *checkpoint, *resume;
    const char *history, *plot, *output, *label;
    int epochs;
    long batch_size;        /* 0 = all rows */
    double learning_rate;
    double validation_split;
    uint64_t seed;
    int threads, verbose, shuffle;
    int no_save;            /* --no-save: train keeps its weights unsaved */
    unsigned set;           /* RT_SET_* */
} RtOptions;

/* ---- plan.c: the one allocation ---- */

/* What one worker thread owns: its chunk's rows, gradients and activations. */
typedef struct RtWorker {
    nnc_real *grads;        /* param_floats, or NULL when never needed */
    nnc_real *scratch;      /* scratch_fixed + chunk × scratch_per_row */
    nnc_real *x, *t, *y;    /* chunk × n_inputs, target_width, n_outputs */
} RtWorker;

/* Byte sizes of every region of the trainer's single allocation: what
** `summary` reports (SPEC 3 summary) is what train allocates. */
typedef struct RtPlan {
    long chunk_rows;        /* rows per chunk: min(RT_CHUNK_ROWS, batch rows) */
    int workers;
    int worker_grads;       /* 1 when a batch has more than one chunk */
    int n_best;             /* early_stopping(restore_best_weights) copies */
    size_t params, grads, opt, best, scratch, io, total;
} RtPlan;
/* batch_rows: the largest batch (0 = unknown: take RT_CHUNK_ROWS). */
void rt_plan(RtPlan *plan, const NncModel *m, long batch_rows, int workers, int training);
void rt_plan_real(RtPlan *plan, const NncModel *m, long batch_rows, int workers, int training,
                  size_t real);
typedef struct RtBlock {
    void *base;
    nnc_real *params, *grads, *opt;
    nnc_real *best[RT_MAX_CALLBACKS];
    RtWorker workers[RT_MAX_THREADS];
} RtBlock;
int rt_block_alloc(RtBlock *b, const RtPlan *plan, const NncModel *m);
void rt_block_free(RtBlock *b);
long rt_data_bytes_per_row(const NncModel *m);

/* ---- batch.c: kernels over chunks ---- */

typedef struct RtRows {
    const nnc_real *x, *t;
    long rows, n_x, n_t;
} RtRows;
/* Chunk gradients not yet added to block->grads: the update adds them,
** in chunk order, a block of elements at a time just before it reads the
** sums (update.c), so the sums are not written out and read back. */
typedef struct RtPending {
    const nnc_real *const *g; /* the chunks' gradients, in chunk order */
    long n;                   /* how many; 0: block->grads holds the sums */
    int start;                /* g[0] starts the sum, else it adds to block->grads */
    const nnc_real *own[RT_MAX_THREADS]; /* batch.c's list of its workers' buffers */
} RtPending;
typedef struct RtExec {
    const NncModel *m;
    const RtPlan *plan;
    RtBlock *block;
    RtPool *pool;
    int fold_late;            /* the trainer's update follows every batch's gradient */
    RtPending pending;
} RtExec;
/* Gradient of the batch idx[0..n) of data into block->grads (zeroed here),
** scale 1/n; returns Σ loss over the rows; adds train-mode metrics. With
** ex->fold_late, the last round's chunks may be left in ex->pending for the
** next rt_update_range. */
double rt_batch_gradients(RtExec *ex, const RtRows *data, const long *idx, long n,
                          uint64_t dropout_seed, RtMetrics *mt);
/* Σ loss over all rows in eval mode; adds metrics (mt may be NULL). */
double rt_eval_rows(RtExec *ex, const RtRows *data, RtMetrics *mt);
/* Predictions (dropout off) for rows [first, first + n) of data into y. */
void rt_predict_rows(RtExec *ex, const RtRows *data, long first, long n, nnc_real *y);
/* The regularization loss at params (grads is a scratch sink). */
double rt_regularization(const NncModel *m, const nnc_real *params, nnc_real *sink);

/* ---- update.c: the optimizer step over element ranges ---- */

/* Where piece i of parts of [0, floats) starts, in whole NNC_RANGE_ALIGN
** blocks; piece parts - 1 ends at floats. */
long rt_range_cut(long floats, int parts, int i);
/* The optimizer step on the parameters in [lo, hi) (multiples of
** NNC_RANGE_ALIGN, or hi = param_floats), split among the workers; it
** first adds ex->pending's gradients, in [lo, hi), and clears them. */
void rt_update_range(RtExec *ex, long step, double learning_rate, long lo, long hi);
/* m->update on [lo, hi) with results below the smallest normal number
** flushed to zero where the target has such a mode (x86 SSE): the one
** call of the step, for the trainer and the --emit=lib API alike. */
void rt_optimizer_step(const NncModel *m, nnc_real *params, const nnc_real *grads, nnc_real *opt,
                       long step, double learning_rate, long lo, long hi);
/* Whether m's update can add the pending gradients a block at a time:
** nothing between the sum and the step reads it whole (regularization adds
** to it; update_whole_range reads sums over a parameter). */
int rt_update_can_fold(const NncModel *m);
/* ex->pending's gradients added to block->grads over [lo, hi) now, a block
** at a time (the sum is written to memory once), and cleared. */
void rt_fold_pending(RtExec *ex, long lo, long hi);
/* acc[0..n) = g[0..n) when start, else acc[i] += g[i]: the one addition
** of chunk gradients, so every way of folding them gives the same bits. */
void rt_fold(nnc_real *restrict acc, const nnc_real *restrict g, long n, int start);

/* ---- params.c: initial values and normalization statistics ---- */

void rt_init_params(const NncModel *m, uint64_t seed, nnc_real *params);
/* SPEC 1.5 normalize: min, max, mean, population variance of every input
** element over rows. 0, or -1 + message if a statistic is not input-shaped. */
int rt_norm_stats(const NncModel *m, nnc_real *params, const RtRows *rows);
int rt_has_norm(const NncModel *m);

/* ---- safetensors.c: the file format ---- */

enum { RT_DT_F32, RT_DT_F64, RT_DT_OTHER };
typedef struct RtMeta {
    int n;
    const char *key[RT_MAX_META];
    const char *value[RT_MAX_META];
    char buf[RT_MAX_META][48];   /* room for formatted numbers */
} RtMeta;
void rt_meta_str(RtMeta *meta, const char *key, const char *value);
void rt_meta_fmt(RtMeta *meta, const char *key, const char *fmt, ...) RT_PRINTF(3, 4);

/* A tensor to write: data as nnc_real or as double. */
typedef struct RtTensorOut {
    const char *name;
    int rank;
    long dims[NNC_MAX_RANK];
    int dtype;                /* RT_DT_F32 or RT_DT_F64 */
    const nnc_real *real;
    const double *f64;
} RtTensorOut;
typedef void (*RtTensorFn)(const void *ctx, int i, RtTensorOut *out);
int rt_st_write(const char *path, int n, RtTensorFn tensor, const void *ctx,
                const RtMeta *meta);

typedef struct RtStTensor {
    const char *name;
    int dtype;                /* RT_DT_* */
    const char *dtype_name;
    int rank;
    long dims[NNC_MAX_RANK];
    size_t begin, end;        /* into the data section */
} RtStTensor;
typedef struct RtStFile {
    const char *path;
    unsigned char *bytes;
    size_t size, data_start;
    RtStTensor *tensors;
    int n_tensors;
    const char **meta_key, **meta_value;
    int n_meta;
} RtStFile;
int rt_st_open(RtStFile *f, const char *path);     /* 0, or -1 + message */
void rt_st_close(RtStFile *f);
const RtStTensor *rt_st_find(const RtStFile *f, const char *name);
const char *rt_st_meta(const RtStFile *f, const char *key);
void rt_st_read_real(const RtStFile *f, const RtStTensor *t, nnc_real *dst);
void rt_st_read_f64(const RtStFile *f, const RtStTensor *t, double *dst);
int rt_real_dtype(void);
const char *rt_dtype_name(int dtype);
void rt_format_shape(char *buf, size_t size, int rank, const long *dims);

/* ---- weights.c: weight files of a model (SPEC 3 Weights) ---- */

void rt_meta_model(RtMeta *meta, const NncModel *m);
int rt_weights_save(const char *path, const NncModel *m, const nnc_real *params,
                    const RtMeta *meta);
int rt_weights_load(const char *path, const NncModel *m, nnc_real *params);
/* Checks f against m's parameter table and loads it: the first difference
** is the message. Tensors named "nnc/..." (checkpoint state) are skipped. */
int rt_st_load_params(const RtStFile *f, const NncModel *m, nnc_real *params);
int rt_st_check_finite(const RtStFile *f, const RtStTensor *t); /* 0, or -1 + message */
/* Checks a tensor named name has this dtype and shape; -1 + message if not. */
int rt_st_expect(const RtStFile *f, const char *name, int dtype, int rank,
                 const long *dims, const RtStTensor **out);

/* ---- dist.c: data parallelism over MPI (SPEC 6) ---- */

/* Without -DNNC_MPI: rank 0 of 1, and the rest pass straight through to
** batch.c. With it: rank r of K computes its share of each batch's chunks
** and the ranks fold them in the single process's order. */
int rt_dist_rank(void);
int rt_dist_size(void);
double rt_dist_batch_gradients(RtExec *ex, const RtRows *data, const long *idx, long n,
                               uint64_t dropout_seed, RtMetrics *mt);
double rt_dist_eval_rows(RtExec *ex, const RtRows *data, RtMetrics *mt);
/* Before the first epoch: checks that every rank read the same rows and
** allocates the chunk buffers. 0, or -1 + message. */
int rt_dist_train_open(RtExec *ex, const RtRows *train, const RtRows *val, long batch_rows);
void rt_dist_train_close(void);
/* The optimizer step after rt_dist_batch_gradients and the regularization:
** rank q's segment of the parameters on rank q, then every segment to all. */
void rt_dist_update(RtExec *ex, long step, double learning_rate);
/* Every rank's optimizer state of its segment to rank 0, which then holds
** all of it (a checkpoint); every rank calls it. */
void rt_dist_opt_gather(RtExec *ex);
/* Whether stdout is a terminal to redraw the progress bar on. Under MPI
** never: mpirun gives every rank a pseudo-terminal, even when its own
** output goes to a file, so the bar would fill logs with redraws. */
int rt_dist_stdout_tty(void);
/* Drops the outputs and the progress of ranks other than 0. */
void rt_dist_options(RtOptions *o);
/* cli.c: the command line in one process; nnc_main wraps it. */
int rt_cli_main(const NncModel *model, int argc, char **argv);

/* ---- train.c, callbacks.c, checkpoint.c: fitting (SPEC 3, 1.10) ---- */

typedef struct RtCbState {
    int log;            /* index of the monitored log, -1 if not available */
    int maximize;
    int warned;
    double best;        /* best monitored value so far */
    int wait;           /* epochs without improvement */
    int best_epoch;     /* 0-based epoch of the best value */
    int cooldown;       /* reduce_lr_on_plateau (Keras' cooldown is 0) */
    int has_best;       /* best-weights copy is filled */
} RtCbState;

typedef struct RtTrainer {
    const NncModel *m;
    const RtOptions *o;
    RtPlan plan;
    RtBlock block;
    RtExec exec;
    RtData data, val_data;
    RtRows train, val;
    int has_val;
    long *index;                /* the epoch's row order */
    RtMetrics metrics;
    /* logs: loss, metrics, [val_loss, val_metrics] */
    int n_logs;
    char log_name[RT_MAX_LOGS][RT_NAME_MAX];
    double logs[RT_MAX_LOGS];
    /* settings */
    uint64_t seed;
    long batch_size;            /* 0 = all rows */
    long batch_rows;            /* rows per batch: batch_size, or all */
    int epochs;
    double validation_split;
    int shuffle;
    /* state, saved in checkpoints */
    int epoch;                  /* epochs completed */
    long step;                  /* optimizer steps taken */
    double lr;
    int stop;                   /* a callback stopped training */
    int stopped_epoch;          /* 1-based epoch early stopping stopped at, 0 if none */
    RtCbState cb[RT_MAX_CALLBACKS];
    double *history;            /* epochs × (n_logs + 1): logs, learning rate */
    int history_rows, history_cap;
    int restored_epoch;         /* 1-based epoch restore_best_weights went back to, 0 if none */
    int checkpointing;          /* --checkpoint was given (to rank 0: SPEC 6) */
    const char *save;           /* --save, or <model>.safetensors; NULL with --no-save */
    char save_default[RT_PATH_MAX + 1];
} RtTrainer;

/* ---- input.c: data from a file, standard input (-) or gzip -dc ---- */
typedef struct RtInput {
    FILE *fp;
    int pipe;               /* from popen: pclose it */
    const char *path;
} RtInput;
FILE *rt_input_open(RtInput *in, const char *path);   /* NULL + message */
/* 0, or -1 + message when report and gzip failed. */
int rt_input_close(RtInput *in, int report);

/* ---- outputs.c: the default save path; output paths checked up front ---- */
const char *rt_default_save_path(const NncModel *m, char *buf, size_t size);
/* 0, or -1 + "PATH: cannot write: why". */
int rt_output_writable(const char *path);

int rt_cmd_train(const NncModel *m, const RtOptions *o);
/* dist.c, under MPI: after the weights and statistics, keep only this
** rank's rows; at the start of each epoch, swap rows for its order. */
int rt_dist_shard(RtTrainer *tr);
void rt_dist_epoch(const long *idx);
int rt_callbacks_init(RtTrainer *tr);
/* Runs the callbacks after an epoch; 0, or -1 + message (a failed write). */
int rt_callbacks_epoch_end(RtTrainer *tr, int epoch);
void rt_train_meta(const RtTrainer *tr, RtMeta *meta);
int rt_checkpoint_save(const RtTrainer *tr, const char *path);
/* --resume: the settings first (they size the buffers), then the state. */
int rt_checkpoint_settings(RtTrainer *tr, const char *path);
int rt_checkpoint_load(RtTrainer *tr, const char *path);
const char *rt_optimizer_name(int optimizer);

/* ---- progress.c: Keras' progress bar (SPEC 3 Output) ---- */

typedef struct RtProgress {
    int verbose, tty;
    long steps;
    double start, last_draw;
    int drawn;               /* characters of the bar line on screen */
} RtProgress;
void rt_progress_begin(RtProgress *p, int verbose, int epoch, int epochs, long steps);
void rt_progress_step(RtProgress *p, long step, int n_logs, char names[][RT_NAME_MAX],
                      const double *values);
void rt_progress_end(RtProgress *p, int n_logs, char names[][RT_NAME_MAX],
                     const double *values);
void rt_progress_abort(RtProgress *p);

/* ---- history.c, plot.c ---- */

int rt_history_write(const RtTrainer *tr, const char *path);
int rt_plot_write(const RtTrainer *tr, const char *path);

/* ---- eval.c, summary.c, gradcheck.c: the other commands ---- */

int rt_cmd_eval(const NncModel *m, const RtOptions *o);
int rt_cmd_predict(const NncModel *m, const RtOptions *o);
int rt_cmd_summary(const NncModel *m, const RtOptions *o);
int rt_cmd_gradcheck(const NncModel *m, const RtOptions *o);
/* Opens the pool and the block for evaluating (no optimizer state). */
int rt_exec_open(RtExec *ex, RtPlan *plan, RtBlock *block, const NncModel *m, long batch,
                 int threads, int training);
void rt_exec_close(RtExec *ex, RtBlock *block);

/* ---- profile.c: --profile (SPEC 3) ---- */
enum { RT_PROF_PREDICT, RT_PROF_TRAIN, RT_PROF_EVAL, RT_PROF_REGULARIZE, RT_PROF_UPDATE,
       RT_PROF_DATA, RT_PROF_EXCHANGE, RT_PROF_COUNT };
typedef struct RtProfile {
    int on;
    double seconds[RT_PROF_COUNT], flops[RT_PROF_COUNT];
    long calls[RT_PROF_COUNT];
    long steps, step_allocs;
    double steps_seconds;       /* wall time of the training steps alone */
    long steps_rows;            /* rows they trained on */
} RtProfile;
extern RtProfile rt_prof;
void rt_prof_kernel(const NncModel *m, int kind, double seconds, long rows);
void rt_prof_update(const NncModel *m, double t0, long lo, long hi);
/* The clock when --profile is on (0 when off), and the call of `kind`
** over `rows` rows that began at t0, recorded when it is on. */
double rt_prof_clock(void);
void rt_prof_since(const NncModel *m, int kind, double t0, long rows);
/* A chunk's kernel call (kind) and its gathering of rows (data), timed on
** a worker and recorded on the caller's thread. */
void rt_prof_chunk(const NncModel *m, int kind, double kernel_s, double data_s, long rows);
void rt_prof_print(FILE *out);

#endif
