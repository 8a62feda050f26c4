/*
** dist.c — data-parallel training over MPI (SPEC 6). Everything that names
** MPI is inside #ifdef NNC_MPI: `nnc --emit=c --mpi` defines it at the top
** of the generated file (or compile any generated file with `mpicc
** -DNNC_MPI`); without it this file is a handful of pass-throughs and the
** trainer needs only libc and libm.
**
** The single process cuts a batch into chunks of plan->chunk_rows rows and
** folds their gradients, losses and metrics in chunk order (batch.c). Here
** rank r of K computes the contiguous chunks [C·r/K, C·(r+1)/K) of each
** global batch, each chunk's gradient into its own buffer, with the same
** dropout counters (the chunk's first row in the batch). The parameters are
** cut into K segments of whole NNC_RANGE_ALIGN blocks (rt_range_cut), and
** the gradient is reduce-scattered: rank q receives segment q of every
** other rank's chunk gradients and folds segment q of all chunks in chunk
** order; it then takes the optimizer step on segment q alone (the kernel's
** ranged update) and the ranks all-gather the new parameters. Losses and
** metrics fold along the ranks in order and the last rank sends them to
** every rank. Every addition is the one the single process makes, in the
** same order, so the weights are bit-identical to one process with the
** same global batch, for every K (and so --resume works across a change of
** K). Every rank holds the same weights and takes the same callback
** decisions; the optimizer state of segment q is current on rank q only,
** and is gathered to rank 0 for a checkpoint. An update that reads a sum
** over a parameter (update_whole_range) cannot be cut: then the ranks
** all-gather the gradient and every rank takes the whole step. Only rank 0
** prints and writes files. Each rank keeps only its
** share of the rows and receives the rows of its chunks each epoch (below,
** "the rows each rank holds").
**
** Ranks that all share one node's memory do the same through MPI
** shared-memory windows: a rank folds its segment reading every chunk
** gradient where its rank wrote it, and reads its chunks' rows where their
** home rank keeps them. The ranks keep one copy of the parameters there:
** each takes the step on its segment in place, and the others read it
** where it is, so nothing is all-gathered (the copies cost a tenth of the
** step on two ranks). Writes of the whole parameters (initial, loaded or
** restored weights) are the same bytes on every rank, between barriers. A
** barrier separates the writes from the reads. Nothing goes through the
** kernel (MPI's single-copy messages cost a fifth of a rank's time there),
** and the additions are the same.
**
** A rank that fails (bad data, a failed write) prints its message and
** calls MPI_Abort, which ends every rank; a killed rank is noticed by
** mpirun, which ends the others. Nothing waits forever.
*/
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef NNC_MPI
#include <mpi.h>

#ifdef NNC_F64
#define RT_DIST_REAL MPI_DOUBLE
#else
#define RT_DIST_REAL MPI_FLOAT
#endif

enum { RT_DIST_TAG_GRADIENT = 1, RT_DIST_TAG_LOGS = 3 };

/* The communicator and the buffers of a data-parallel run. */
typedef struct RtDist {
    MPI_Comm comm;
    int rank, size, active;
    long max_chunks;           /* chunks a rank may hold in one pass */
    long train_chunks;         /* of which have gradient buffers */
    nnc_real *grads;           /* train_chunks × param_floats */
    long batch_chunks;         /* chunks of the largest batch */
    nnc_real *fold;            /* batch_chunks × this rank's segment: the others' chunks */
    MPI_Request *requests;     /* (1 + size) × batch_chunks */
    int *seg_counts, *seg_starts; /* size: every rank's segment, for the all-gathers */
    nnc_real *opt_buf;         /* opt_floats: the optimizer state on its way to rank 0 */
    int *opt_counts;           /* 2 × size: each rank's share of it, and where it goes */
    nnc_real *y, *t;           /* max_chunks × chunk_rows × n_outputs, target_width */
    double *loss;              /* max_chunks */
    long *rows;                /* max_chunks */
    long chunk_rows;
    /* The rows this rank holds (SPEC 6: no rank holds more than its share). */
    int sharded;
    long n_x, n_t;
    long home_first, home_rows; /* training rows [home_first, +home_rows) */
    nnc_real *home;             /* home_rows × (n_x + n_t): x then t of each */
    RtRows val;                 /* validation rows of this rank's chunks */
    long val_first;             /* position of val's row 0 */
    nnc_real *val_buf;
    /* An epoch's rows, in the order this rank computes them. */
    long need;                  /* rows this rank computes per epoch */
    nnc_real *send, *recv_x;   /* home_rows, need × (n_x + n_t) */
    long *local;                /* need: the row in recv of each position */
    long cursor;                /* positions of the epoch already computed */
    long batch_rows, train_rows;
    int *counts;                /* 4 × size: send, send offsets, recv, recv offsets */
    /* When every rank is on one node (and NNC_MPI_SHARED is not 0), the
    ** chunk gradients and the updated segments live in a shared window and
    ** are read in place instead of sent: no copy through the kernel. The
    ** home rows too: a rank reads the rows of its chunks where their home
    ** rank keeps them, and no rows are swapped each epoch. */
    int shared;
    MPI_Comm node;             /* MPI_COMM_NULL until the first training */
    MPI_Win win, rows_win;     /* while shared */
    MPI_Win params_win;        /* while shared and the update is cut: the one copy */
    nnc_real **peer;           /* 3 × size: each rank's part of win, rows_win, params_win */
    const nnc_real **chunk_grads; /* batch_chunks: where each chunk's gradient is */
} RtDist;

static RtDist rt_dist; /* active = 0: one process until rt_dist_main */

static const nnc_real *rt_dist_home_row(long i);

int rt_dist_rank(void) {
    return rt_dist.active ? rt_dist.rank : 0;
}

int rt_dist_size(void) {
    return rt_dist.active ? rt_dist.size : 1;
}

/* A pass over n rows (TRAIN: a batch through idx; EVAL: rows 0..n-1). */
typedef struct RtDistJob {
    RtExec *ex;
    int train;
    const RtRows *data;
    const long *idx;
    long n, lo, hi, first;      /* rows; this rank's chunks [lo, hi); the round's first */
    long pos0;                  /* position in the pass of idx[0] (or of data's row 0) */
    double scale;
    uint64_t seed;
    double data_s[RT_MAX_THREADS], kernel_s[RT_MAX_THREADS]; /* --profile */
} RtDistJob;

/* Chunk lo + first + w: its gradient into its own buffer, its loss, and
** copies of its predictions and targets for the metrics' fold. */
static void rt_dist_chunk(void *arg, int w) {
    RtDistJob *job = arg;
    RtExec *ex = job->ex;
    const NncModel *m = ex->m;
    const RtRows *d = job->data;
    RtWorker *k = &ex->block->workers[w];
    long chunk = ex->plan->chunk_rows, c = job->lo + job->first + w, i = c - job->lo;
    long r0 = c * chunk, rn, r;
    const nnc_real *x, *t;
    double t0, t1;
    job->kernel_s[w] = job->data_s[w] = -1;
    if (c >= job->hi)
        return;
    rn = job->n - r0 < chunk ? job->n - r0 : chunk;
    t0 = rt_prof_clock();
    if (job->train && rt_dist.sharded) {
        long wd = rt_dist.n_x + rt_dist.n_t;
        for (r = 0; r < rn; r++) {
            long at = job->idx[r0 - job->pos0 + r];
            const nnc_real *src = rt_dist.shared ? rt_dist_home_row(at) : rt_dist.recv_x + at * wd;
            memcpy(k->x + r * d->n_x, src, sizeof(nnc_real) * (size_t)d->n_x);
            memcpy(k->t + r * d->n_t, src + d->n_x, sizeof(nnc_real) * (size_t)d->n_t);
        }
        x = k->x;
        t = k->t;
    } else if (job->idx) {
        for (r = 0; r < rn; r++) {
            long row = job->idx[r0 - job->pos0 + r];
            memcpy(k->x + r * d->n_x, d->x + row * d->n_x, sizeof(nnc_real) * (size_t)d->n_x);
            memcpy(k->t + r * d->n_t, d->t + row * d->n_t, sizeof(nnc_real) * (size_t)d->n_t);
        }
        x = k->x;
        t = k->t;
    } else {
        x = d->x + (r0 - job->pos0) * d->n_x;
        t = d->t + (r0 - job->pos0) * d->n_t;
    }
    t1 = rt_prof_clock();
    if (job->train) {
        nnc_real *g = rt_dist.grads + i * m->param_floats;
        rt_dist.loss[i] = m->forward_backward(ex->block->params, g, k->scratch, x, t, (int)rn,
                                              job->scale, job->seed, (uint64_t)r0, k->y);
    } else {
        rt_dist.loss[i] = m->eval_loss(ex->block->params, k->scratch, x, t, (int)rn, k->y);
    }
    if (rt_prof.on) {
        job->kernel_s[w] = rt_now() - t1;
        job->data_s[w] = t1 - t0;
    }
    memcpy(rt_dist.y + i * chunk * m->n_outputs, k->y,
           sizeof(nnc_real) * (size_t)(rn * m->n_outputs));
    memcpy(rt_dist.t + i * chunk * d->n_t, t, sizeof(nnc_real) * (size_t)(rn * d->n_t));
    rt_dist.rows[i] = rn;
}

/* The ranks that hold chunks, in order: this rank's neighbours among them. */
static int rt_dist_lo(long chunks, int rank) {
    return (int)(chunks * rank / rt_dist.size);
}

static int rt_dist_prev(long chunks, int rank) {
    int r;
    for (r = rank - 1; r >= 0; r--)
        if (rt_dist_lo(chunks, r) < rt_dist_lo(chunks, r + 1))
            return r;
    return -1;
}

static int rt_dist_next(long chunks, int rank) {
    int r;
    for (r = rank + 1; r < rt_dist.size; r++)
        if (rt_dist_lo(chunks, r) < rt_dist_lo(chunks, r + 1))
            return r;
    return -1;
}

static int rt_dist_last(long chunks) {
    int r = rt_dist.size - 1;
    while (r > 0 && rt_dist_lo(chunks, r) == rt_dist_lo(chunks, r + 1))
        r--;
    return r;
}

/* The pass's running loss and metrics, as they travel between ranks. */
static void rt_dist_pack(double *msg, double loss, const RtMetrics *mt) {
    msg[0] = loss;
    if (mt) {
        memcpy(msg + 1, mt->num, sizeof mt->num);
        memcpy(msg + 1 + RT_MAX_METRICS, mt->den, sizeof mt->den);
    }
}

static double rt_dist_unpack(const double *msg, RtMetrics *mt) {
    if (mt) {
        memcpy(mt->num, msg + 1, sizeof mt->num);
        memcpy(mt->den, msg + 1 + RT_MAX_METRICS, sizeof mt->den);
    }
    return msg[0];
}

/* Rank q's segment of the parameters: [rt_dist_seg(m, q), rt_dist_seg(m, q + 1)). */
static long rt_dist_seg(const NncModel *m, int q) {
    return rt_range_cut(m->param_floats, rt_dist.size, q);
}

/* The longest segment. */
static long rt_dist_seg_most(const NncModel *m) {
    long most = 0;
    int q;
    for (q = 0; q < rt_dist.size; q++)
        if (rt_dist_seg(m, q + 1) - rt_dist_seg(m, q) > most)
            most = rt_dist_seg(m, q + 1) - rt_dist_seg(m, q);
    return most;
}

/* The rank that computes chunk c of a pass of chunks chunks. */
static int rt_dist_owner(long chunks, long c) {
    int r = 0;
    while (rt_dist_lo(chunks, r + 1) <= c)
        r++;
    return r;
}

/* The reduce-scatter: this rank sends segment q of each of its chunk
** gradients to rank q, receives its own segment of every other chunk, and
** folds them in chunk order into its segment of grads (chunk 0 starts the
** sum), adding each chunk as soon as it is in. Per element the additions
** are those of batch.c. */
static void rt_dist_gradient(RtDistJob *job, long chunks) {
    const NncModel *m = job->ex->m;
    long p = m->param_floats, s0 = rt_dist_seg(m, rt_dist.rank), len = rt_dist_seg(m, rt_dist.rank + 1) - s0;
    long c;
    nnc_real *acc = job->ex->block->grads + s0;
    MPI_Request *in = rt_dist.requests, *out = in + chunks;
    int q, n_out = 0;
    for (c = 0; c < chunks; c++) {
        in[c] = MPI_REQUEST_NULL;
        if (c < job->lo || c >= job->hi)
            MPI_Irecv(rt_dist.fold + c * len, (int)len, RT_DIST_REAL, rt_dist_owner(chunks, c),
                      RT_DIST_TAG_GRADIENT, rt_dist.comm, &in[c]);
    }
    for (q = 0; q < rt_dist.size; q++)
        for (c = job->lo; c < job->hi && q != rt_dist.rank; c++)
            MPI_Isend(rt_dist.grads + (c - job->lo) * p + rt_dist_seg(m, q),
                      (int)(rt_dist_seg(m, q + 1) - rt_dist_seg(m, q)), RT_DIST_REAL, q,
                      RT_DIST_TAG_GRADIENT, rt_dist.comm, &out[n_out++]);
    for (c = 0; c < chunks; c++) {
        int mine = c >= job->lo && c < job->hi;
        const nnc_real *g = mine ? rt_dist.grads + (c - job->lo) * p + s0 : rt_dist.fold + c * len;
        MPI_Wait(&in[c], MPI_STATUS_IGNORE);
        rt_fold(acc, g, len, c == 0);
    }
    MPI_Waitall(n_out, out, MPI_STATUSES_IGNORE);
}

/* A window of `floats` reals on every rank of the node; parts[q] is rank
** q's. Its failure, like any MPI error, ends the job. */
static nnc_real *rt_dist_window(long floats, MPI_Win *win, nnc_real **parts) {
    MPI_Info info;
    void *base;
    int q;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    MPI_Win_allocate_shared((MPI_Aint)(sizeof(nnc_real) * (size_t)floats), (int)sizeof(nnc_real), info,
                            rt_dist.node, &base, win);
    MPI_Info_free(&info);
    for (q = 0; q < rt_dist.size; q++) {
        MPI_Aint bytes;
        int unit;
        MPI_Win_shared_query(*win, q, &bytes, &unit, &parts[q]);
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, *win);
    return base;
}

/* Every rank's writes to window w are visible to every rank. */
static void rt_dist_fence(MPI_Win w) {
    MPI_Win_sync(w);
    MPI_Barrier(rt_dist.node);
    MPI_Win_sync(w);
}

/* The reduce-scatter on one node: the same fold, reading every chunk's
** gradient where its rank wrote it; the whole gradient when the update
** cannot be cut. */
static void rt_dist_gradient_shared(RtDistJob *job, long chunks) {
    const NncModel *m = job->ex->m;
    long p = m->param_floats, s0 = m->update_whole_range ? 0 : rt_dist_seg(m, rt_dist.rank);
    long s1 = m->update_whole_range ? p : rt_dist_seg(m, rt_dist.rank + 1), c;
    const nnc_real **g = rt_dist.chunk_grads;
    for (c = 0; c < chunks; c++) {
        int r = rt_dist_owner(chunks, c);
        g[c] = rt_dist.peer[r] + (c - rt_dist_lo(chunks, r)) * p;
    }
    rt_dist_fence(rt_dist.win);
    job->ex->pending.g = g;
    job->ex->pending.n = chunks;
    job->ex->pending.start = 1;
    /* With fold_late the update adds them, in its segment, just before its
    ** step; the fence after it keeps every chunk's gradient in place till
    ** then. */
    if (!job->ex->fold_late)
        rt_fold_pending(job->ex, s0, s1);
}

/* Every rank's segment of buf, from that rank to all; an exchange in
** --profile. */
static void rt_dist_allgather(const NncModel *m, nnc_real *buf) {
    double t0 = rt_prof_clock();
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, rt_dist.seg_counts, rt_dist.seg_starts,
                   RT_DIST_REAL, rt_dist.comm);
    rt_prof_since(m, RT_PROF_EXCHANGE, t0, 0);
}

/* On one node: every rank's segment, updated in place in the one copy of
** the parameters, is there for every rank to read. */
static void rt_dist_params_ready(const NncModel *m) {
    double t0 = rt_prof_clock();
    rt_dist_fence(rt_dist.params_win);
    rt_prof_since(m, RT_PROF_EXCHANGE, t0, 0);
}

void rt_dist_update(RtExec *ex, long step, double learning_rate) {
    const NncModel *m = ex->m;
    RtBlock *b = ex->block;
    if (rt_dist_size() == 1) {
        rt_update_range(ex, step, learning_rate, 0, m->param_floats);
    } else if (m->update_whole_range) {
        if (rt_dist.shared)
            rt_dist_fence(rt_dist.win); /* every rank has read the chunk gradients */
        else
            rt_dist_allgather(m, b->grads);
        rt_update_range(ex, step, learning_rate, 0, m->param_floats);
    } else {
        rt_update_range(ex, step, learning_rate, rt_dist_seg(m, rt_dist.rank),
                        rt_dist_seg(m, rt_dist.rank + 1));
        if (rt_dist.shared)
            rt_dist_params_ready(m);
        else
            rt_dist_allgather(m, b->params);
    }
}

/* Parameter i's span of params: its elements and the padding after them. */
static long rt_dist_param_span(const NncModel *m, int i) {
    return (i + 1 < m->n_params ? m->params[i + 1].offset : m->param_floats) - m->params[i].offset;
}

/* Copies the optimizer state of the parameter elements [lo, hi) from opt
** into buf, in the order of opt, or the other way (into_opt); buf NULL:
** only counts. Returns the reals. A trainable parameter's slots lie one
** after the other, each as long as the parameter's span of params. */
static long rt_dist_opt_span(const NncModel *m, nnc_real *opt, nnc_real *buf, long lo, long hi,
                             int into_opt) {
    long spans = 0, base = 0, n = 0, slots, a, b, len, s;
    int i;
    for (i = 0; i < m->n_params; i++)
        if (m->params[i].trainable)
            spans += rt_dist_param_span(m, i);
    slots = spans ? m->opt_floats / spans : 0;
    for (i = 0; i < m->n_params; i++) {
        const NncParam *p = &m->params[i];
        long span = rt_dist_param_span(m, i);
        if (!p->trainable)
            continue;
        a = lo > p->offset ? lo : p->offset;
        b = hi < p->offset + span ? hi : p->offset + span;
        len = b > a ? b - a : 0;
        for (s = 0; s < slots && len > 0; s++, n += len) {
            nnc_real *at = opt + base + s * span + (a - p->offset);
            if (buf)
                memcpy(into_opt ? at : buf + n, into_opt ? buf + n : at, sizeof(nnc_real) * (size_t)len);
        }
        base += slots * span;
    }
    return n;
}

void rt_dist_opt_gather(RtExec *ex) {
    const NncModel *m = ex->m;
    nnc_real *opt = ex->block->opt;
    int q, *counts = rt_dist.opt_counts, *starts = counts + rt_dist.size;
    long n;
    if (rt_dist_size() == 1 || !opt || m->update_whole_range)
        return;
    for (q = 0; q < rt_dist.size; q++) {
        counts[q] = (int)rt_dist_opt_span(m, opt, NULL, rt_dist_seg(m, q), rt_dist_seg(m, q + 1), 0);
        starts[q] = q ? starts[q - 1] + counts[q - 1] : 0;
    }
    n = rt_dist_opt_span(m, opt, rt_dist.opt_buf, rt_dist_seg(m, rt_dist.rank),
                         rt_dist_seg(m, rt_dist.rank + 1), 0);
    if (rt_dist.rank != 0) {
        MPI_Gatherv(rt_dist.opt_buf, (int)n, RT_DIST_REAL, NULL, NULL, NULL, RT_DIST_REAL, 0,
                    rt_dist.comm);
        return;
    }
    MPI_Gatherv(MPI_IN_PLACE, 0, RT_DIST_REAL, rt_dist.opt_buf, counts, starts, RT_DIST_REAL, 0,
                rt_dist.comm);
    for (q = 1; q < rt_dist.size; q++)
        rt_dist_opt_span(m, opt, rt_dist.opt_buf + starts[q], rt_dist_seg(m, q),
                         rt_dist_seg(m, q + 1), 1);
}

/* --profile: the round's chunks, added on this thread. */
static void rt_dist_profile_round(const RtDistJob *job) {
    long workers = job->ex->plan->workers, w;
    for (w = 0; w < workers && rt_prof.on; w++) {
        if (job->kernel_s[w] < 0)
            continue;
        rt_prof_chunk(job->ex->m, job->train ? RT_PROF_TRAIN : RT_PROF_EVAL, job->kernel_s[w],
                      job->data_s[w], rt_dist.rows[job->first + w]);
    }
}

static double rt_dist_run(RtDistJob *job, RtMetrics *mt) {
    RtExec *ex = job->ex;
    const NncModel *m = ex->m;
    long chunk = ex->plan->chunk_rows, chunks = (job->n + chunk - 1) / chunk;
    long workers = ex->plan->workers, c, i;
    int prev = rt_dist_prev(chunks, rt_dist.rank), next = rt_dist_next(chunks, rt_dist.rank);
    double msg[1 + 2 * RT_MAX_METRICS], total = 0;
    job->lo = rt_dist_lo(chunks, rt_dist.rank);
    job->hi = rt_dist_lo(chunks, rt_dist.rank + 1);
    /* 1. This rank's chunks, `workers` at a time. */
    for (job->first = 0; job->lo + job->first < job->hi; job->first += workers) {
        if (job->hi - job->lo - job->first == 1 || workers == 1)
            for (i = 0; i < workers; i++)
                rt_dist_chunk(job, (int)i);
        else
            rt_pool_run(ex->pool, rt_dist_chunk, job);
        rt_dist_profile_round(job);
    }
    /* 2. The folds: this rank's segment of the gradient, then the loss and
    ** the metrics along the ranks in chunk order, the last rank's result to
    ** every rank. */
    if (job->train) {
        double t0 = rt_prof_clock();
        if (rt_dist.shared)
            rt_dist_gradient_shared(job, chunks);
        else
            rt_dist_gradient(job, chunks);
        rt_prof_since(m, RT_PROF_EXCHANGE, t0, 0);
    }
    if (job->lo < job->hi) {
        if (prev >= 0) {
            MPI_Recv(msg, 1 + 2 * RT_MAX_METRICS, MPI_DOUBLE, prev, RT_DIST_TAG_LOGS,
                     rt_dist.comm, MPI_STATUS_IGNORE);
            total = rt_dist_unpack(msg, mt);
        }
        for (c = job->lo; c < job->hi; c++) {
            i = c - job->lo;
            total += rt_dist.loss[i];
            if (mt)
                rt_metrics_add(mt, m, rt_dist.y + i * chunk * m->n_outputs,
                               rt_dist.t + i * chunk * job->data->n_t, rt_dist.rows[i]);
        }
        if (next >= 0) {
            rt_dist_pack(msg, total, mt);
            MPI_Send(msg, 1 + 2 * RT_MAX_METRICS, MPI_DOUBLE, next, RT_DIST_TAG_LOGS,
                     rt_dist.comm);
        }
    }
    rt_dist_pack(msg, total, mt);
    MPI_Bcast(msg, 1 + 2 * RT_MAX_METRICS, MPI_DOUBLE, rt_dist_last(chunks), rt_dist.comm);
    return rt_dist_unpack(msg, mt);
}

/* ---- the rows each rank holds ----
** Rank r keeps the training rows [N·r/K, N·(r+1)/K) (its home rows) and
** the validation rows of its validation chunks. An epoch's shuffle draws
** each batch from all rows, so at the start of every epoch the ranks swap
** rows (one MPI_Alltoallv): each rank receives the rows of its chunks of
** every batch of the epoch, in order, and sends its home rows to the ranks
** that compute them. No rank holds more than about three shares. */

static long rt_dist_home_start(int r) {
    return (long)((long long)rt_dist.train_rows * r / rt_dist.size);
}

static int rt_dist_home_of(long i) {
    int r = (int)((long long)i * rt_dist.size / rt_dist.train_rows);
    while (r + 1 < rt_dist.size && rt_dist_home_start(r + 1) <= i)
        r++;
    while (r > 0 && rt_dist_home_start(r) > i)
        r--;
    return r;
}

/* Positions [p0, p1) of rank q's chunks in a batch of rows rows at b0. */
static void rt_dist_span(long b0, long rows, int q, long *p0, long *p1) {
    long chunk = rt_dist.chunk_rows, chunks = (rows + chunk - 1) / chunk;
    long lo = chunks * q / rt_dist.size, hi = chunks * (q + 1) / rt_dist.size;
    *p1 = b0 + (hi * chunk < rows ? hi * chunk : rows);
    *p0 = b0 + lo * chunk < *p1 ? b0 + lo * chunk : *p1;
}

int rt_dist_shard(RtTrainer *tr) {
    long n = tr->train.rows, w = tr->train.n_x + tr->train.n_t, b0, p0, p1, i;
    long chunk = tr->plan.chunk_rows;
    if (rt_dist_size() == 1 || tr->epochs <= tr->epoch)
        return 0;
    rt_dist.n_x = tr->train.n_x;
    rt_dist.n_t = tr->train.n_t;
    rt_dist.train_rows = n;
    rt_dist.batch_rows = tr->batch_rows;
    rt_dist.chunk_rows = chunk;
    rt_dist.home_first = rt_dist_home_start(rt_dist.rank);
    rt_dist.home_rows = rt_dist_home_start(rt_dist.rank + 1) - rt_dist.home_first;
    rt_dist.need = 0;
    for (b0 = 0; b0 < n; b0 += tr->batch_rows) {
        rt_dist_span(b0, n - b0 < tr->batch_rows ? n - b0 : tr->batch_rows, rt_dist.rank, &p0, &p1);
        rt_dist.need += p1 - p0;
    }
    if (!rt_dist.shared && ((double)rt_dist.home_rows * (double)w > 2147483647.0 ||
                            (double)rt_dist.need * (double)w > 2147483647.0)) {
        rt_error("%s: %ld rows of %ld numbers are too many for %d ranks (one MPI message "
                 "each); run more ranks", tr->o->data, n, w, rt_dist.size);
        return -1;
    }
    if (rt_dist.shared) {
        rt_dist.home = rt_dist_window(rt_dist.home_rows * w, &rt_dist.rows_win, rt_dist.peer + rt_dist.size);
    } else {
        rt_dist.home = rt_alloc_big(sizeof(nnc_real) * (size_t)(rt_dist.home_rows * w), "the rank's rows");
        rt_dist.send = rt_alloc(sizeof(nnc_real) * (size_t)(rt_dist.home_rows * w), "the rows to send");
        rt_dist.recv_x = rt_alloc_big(sizeof(nnc_real) * (size_t)(rt_dist.need * w), "the epoch's rows");
        rt_dist.local = rt_alloc(sizeof(long) * (size_t)rt_dist.need, "the epoch's order");
        rt_dist.counts = rt_alloc(sizeof(int) * (size_t)(6 * rt_dist.size), "the exchange's counts");
        if (!rt_dist.home || !rt_dist.send || !rt_dist.recv_x || !rt_dist.local || !rt_dist.counts)
            return -1;
    }
    for (i = 0; i < rt_dist.home_rows; i++) {
        nnc_real *dst = rt_dist.home + i * w;
        long row = rt_dist.home_first + i;
        memcpy(dst, tr->train.x + row * rt_dist.n_x, sizeof(nnc_real) * (size_t)rt_dist.n_x);
        memcpy(dst + rt_dist.n_x, tr->train.t + row * rt_dist.n_t,
               sizeof(nnc_real) * (size_t)rt_dist.n_t);
    }
    if (tr->has_val) {
        long nv = tr->val.rows, chunks = (nv + chunk - 1) / chunk;
        long a = chunks * rt_dist.rank / rt_dist.size * chunk;
        long b = chunks * (rt_dist.rank + 1) / rt_dist.size * chunk;
        b = b < nv ? b : nv;
        a = a < b ? a : b;
        rt_dist.val_buf = rt_alloc(sizeof(nnc_real) * (size_t)((b - a) * w + 1), "the rank's validation rows");
        if (!rt_dist.val_buf)
            return -1;
        rt_dist.val.x = rt_dist.val_buf;
        rt_dist.val.t = rt_dist.val_buf + (b - a) * tr->val.n_x;
        rt_dist.val.rows = b - a;
        rt_dist.val.n_x = tr->val.n_x;
        rt_dist.val.n_t = tr->val.n_t;
        rt_dist.val_first = a;
        memcpy(rt_dist.val_buf, tr->val.x + a * tr->val.n_x,
               sizeof(nnc_real) * (size_t)((b - a) * tr->val.n_x));
        memcpy(rt_dist.val_buf + (b - a) * tr->val.n_x, tr->val.t + a * tr->val.n_t,
               sizeof(nnc_real) * (size_t)((b - a) * tr->val.n_t));
    }
    if (rt_dist.shared)
        rt_dist_fence(rt_dist.rows_win);
    /* The statistics of normalize() came from every row before this. */
    rt_data_free(&tr->data);
    rt_data_free(&tr->val_data);
    tr->train.x = tr->train.t = tr->val.x = tr->val.t = NULL;
    rt_dist.sharded = 1;
    return 0;
}

/* Training row i, where its home rank keeps it (one node). */
static const nnc_real *rt_dist_home_row(long i) {
    int home = rt_dist_home_of(i);
    return rt_dist.peer[rt_dist.size + home] + (i - rt_dist_home_start(home)) * (rt_dist.n_x + rt_dist.n_t);
}

void rt_dist_epoch(const long *idx) {
    long n = rt_dist.train_rows, bs = rt_dist.batch_rows, w = rt_dist.n_x + rt_dist.n_t;
    long b0, p, p0, p1, j = 0;
    int k = rt_dist.size, q, *sc = rt_dist.counts, *sd = sc + k, *rc = sd + k, *rd = rc + k;
    int *scur = rd + k, *rcur = scur + k;
    if (!rt_dist.sharded || rt_dist.shared)
        return;
    memset(rt_dist.counts, 0, sizeof(int) * (size_t)(6 * k));
    for (q = 0; q < k; q++)
        for (b0 = 0; b0 < n; b0 += bs) {
            rt_dist_span(b0, n - b0 < bs ? n - b0 : bs, q, &p0, &p1);
            for (p = p0; p < p1; p++) {
                int home = rt_dist_home_of(idx[p]);
                if (home == rt_dist.rank)
                    sc[q] += (int)w;
                if (q == rt_dist.rank)
                    rc[home] += (int)w;
            }
        }
    for (q = 1; q < k; q++) {
        sd[q] = sd[q - 1] + sc[q - 1];
        rd[q] = rd[q - 1] + rc[q - 1];
    }
    memcpy(scur, sd, sizeof(int) * (size_t)k);
    memcpy(rcur, rd, sizeof(int) * (size_t)k);
    for (q = 0; q < k; q++)
        for (b0 = 0; b0 < n; b0 += bs) {
            rt_dist_span(b0, n - b0 < bs ? n - b0 : bs, q, &p0, &p1);
            for (p = p0; p < p1; p++) {
                int home = rt_dist_home_of(idx[p]);
                if (home == rt_dist.rank) {
                    memcpy(rt_dist.send + scur[q], rt_dist.home + (idx[p] - rt_dist.home_first) * w,
                           sizeof(nnc_real) * (size_t)w);
                    scur[q] += (int)w;
                }
                if (q == rt_dist.rank) {
                    rt_dist.local[j++] = rcur[home] / w;
                    rcur[home] += (int)w;
                }
            }
        }
    MPI_Alltoallv(rt_dist.send, sc, sd, RT_DIST_REAL, rt_dist.recv_x, rc, rd, RT_DIST_REAL,
                  rt_dist.comm);
    rt_dist.cursor = 0;
}

double rt_dist_batch_gradients(RtExec *ex, const RtRows *data, const long *idx, long n,
                               uint64_t dropout_seed, RtMetrics *mt) {
    RtDistJob job;
    if (rt_dist_size() == 1)
        return rt_batch_gradients(ex, data, idx, n, dropout_seed, mt);
    job.ex = ex;
    job.train = 1;
    job.data = data;
    job.idx = idx;
    job.pos0 = 0;
    job.n = n;
    if (rt_dist.sharded && !rt_dist.shared) {
        /* This rank's rows of the batch came with the epoch's exchange. */
        long p0, p1;
        rt_dist_span(0, n, rt_dist.rank, &p0, &p1);
        job.idx = rt_dist.local + rt_dist.cursor;
        job.pos0 = p0;
        rt_dist.cursor += p1 - p0;
    }
    job.scale = 1.0 / (double)n;
    job.seed = dropout_seed;
    return rt_dist_run(&job, mt);
}

double rt_dist_eval_rows(RtExec *ex, const RtRows *data, RtMetrics *mt) {
    RtDistJob job;
    if (rt_dist_size() == 1)
        return rt_eval_rows(ex, data, mt);
    job.ex = ex;
    job.train = 0;
    job.data = rt_dist.sharded ? &rt_dist.val : data;
    job.idx = NULL;
    job.pos0 = rt_dist.sharded ? rt_dist.val_first : 0;
    job.n = data->rows;
    job.scale = 1;
    job.seed = 0;
    return rt_dist_run(&job, mt);
}

/* Every rank must see the same rows, or the fold would mix batches. */
static int rt_dist_same_data(const RtRows *train, const RtRows *val) {
    long mine[2], lo[2], hi[2];
    mine[0] = train->rows;
    mine[1] = val ? val->rows : 0;
    MPI_Allreduce(mine, lo, 2, MPI_LONG, MPI_MIN, rt_dist.comm);
    MPI_Allreduce(mine, hi, 2, MPI_LONG, MPI_MAX, rt_dist.comm);
    if (lo[0] != hi[0] || lo[1] != hi[1]) {
        rt_error("rank %d: the ranks read different data: %ld to %ld training rows, %ld to %ld "
                 "validation rows (every rank must read the same file)",
                 rt_dist.rank, lo[0], hi[0], lo[1], hi[1]);
        return -1;
    }
    return 0;
}

/* Whether every rank is on this rank's node and no rank's NNC_MPI_SHARED
** is 0; the ranks decide together. */
static int rt_dist_one_node(void) {
    const char *env = getenv("NNC_MPI_SHARED");
    int mine, all, n;
    if (rt_dist.node == MPI_COMM_NULL)
        MPI_Comm_split_type(rt_dist.comm, MPI_COMM_TYPE_SHARED, rt_dist.rank, MPI_INFO_NULL,
                            &rt_dist.node);
    MPI_Comm_size(rt_dist.node, &n);
    mine = n == rt_dist.size && !(env && strcmp(env, "0") == 0);
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, rt_dist.comm);
    return all;
}

/* Collective: only when every rank got this far. */
static void rt_dist_unshare(void) {
    MPI_Win *w[3];
    int i;
    w[0] = &rt_dist.win;
    w[1] = &rt_dist.rows_win;
    w[2] = &rt_dist.params_win;
    for (i = 0; i < 3; i++)
        if (*w[i] != MPI_WIN_NULL) {
            MPI_Win_unlock_all(*w[i]);
            MPI_Win_free(w[i]);
        }
    rt_dist.shared = 0;
    if (rt_dist.node != MPI_COMM_NULL)
        MPI_Comm_free(&rt_dist.node);
    free(rt_dist.peer);
    free(rt_dist.chunk_grads);
    rt_dist.peer = NULL;
    rt_dist.chunk_grads = NULL;
}

/* The chunk gradients and what the fold needs: on one node, a window of
** this rank's chunk gradients and where each chunk's gradient is, and the
** one copy of the parameters when the update is cut (rank 0's part of a
** window; block->params points there from now on); else buffers for the
** others' segments and the requests that bring them. */
static int rt_dist_exchange_buffers(RtExec *ex) {
    const NncModel *m = ex->m;
    long floats = rt_dist.train_chunks * m->param_floats, k = rt_dist.size;
    if (rt_dist.shared) {
        rt_dist.peer = rt_alloc(sizeof(nnc_real *) * (size_t)(3 * k), "the windows' parts");
        rt_dist.chunk_grads = rt_alloc(sizeof(nnc_real *) * (size_t)rt_dist.batch_chunks,
                                       "the chunk gradients' places");
        if (!rt_dist.peer || !rt_dist.chunk_grads)
            return -1;
        rt_dist.grads = rt_dist_window(floats, &rt_dist.win, rt_dist.peer);
        if (!m->update_whole_range) {
            rt_dist_window(rt_dist.rank == 0 ? m->param_floats : 0, &rt_dist.params_win,
                           rt_dist.peer + 2 * k);
            ex->block->params = rt_dist.peer[2 * k];
        }
        return 0;
    }
    rt_dist.grads = rt_alloc(sizeof(nnc_real) * (size_t)floats, "the chunk gradients");
    rt_dist.fold = rt_alloc(sizeof(nnc_real) * (size_t)(rt_dist.batch_chunks * rt_dist_seg_most(m)),
                            "the fold");
    rt_dist.requests = rt_alloc(sizeof(MPI_Request) * (size_t)((1 + k) * rt_dist.batch_chunks),
                                "the fold's requests");
    return rt_dist.grads && rt_dist.fold && rt_dist.requests ? 0 : -1;
}

int rt_dist_train_open(RtExec *ex, const RtRows *train, const RtRows *val, long batch_rows) {
    const NncModel *m = ex->m;
    long chunk = ex->plan->chunk_rows, k = rt_dist.size;
    long train_chunks = ((batch_rows + chunk - 1) / chunk + k - 1) / k;
    long val_chunks = val ? ((val->rows + chunk - 1) / chunk + k - 1) / k : 0;
    long max_chunks = train_chunks > val_chunks ? train_chunks : val_chunks, q;
    if (rt_dist_size() == 1)
        return 0;
    if (rt_dist_same_data(train, val) != 0)
        return -1;
    rt_dist.max_chunks = max_chunks;
    rt_dist.train_chunks = train_chunks;
    rt_dist.batch_chunks = (batch_rows + chunk - 1) / chunk;
    rt_dist.shared = rt_dist_one_node();
    if (rt_dist_exchange_buffers(ex) != 0)
        return -1;
    rt_dist.y = rt_alloc(sizeof(nnc_real) * (size_t)(max_chunks * chunk * m->n_outputs),
                         "the chunk predictions");
    rt_dist.t = rt_alloc(sizeof(nnc_real) * (size_t)(max_chunks * chunk * m->target_width),
                         "the chunk targets");
    rt_dist.seg_counts = rt_alloc(sizeof(int) * (size_t)(2 * k), "the segments");
    rt_dist.opt_counts = rt_alloc(sizeof(int) * (size_t)(2 * k), "the optimizer state's shares");
    rt_dist.opt_buf = rt_alloc(sizeof(nnc_real) * (size_t)(m->opt_floats + 1), "the optimizer state");
    rt_dist.loss = rt_alloc(sizeof(double) * (size_t)max_chunks, "the chunk losses");
    rt_dist.rows = rt_alloc(sizeof(long) * (size_t)max_chunks, "the chunk rows");
    if (!rt_dist.seg_counts || !rt_dist.opt_counts || !rt_dist.opt_buf || !rt_dist.y || !rt_dist.t ||
        !rt_dist.loss || !rt_dist.rows)
        return -1;
    rt_dist.seg_starts = rt_dist.seg_counts + k;
    for (q = 0; q < k; q++) {
        rt_dist.seg_starts[q] = (int)rt_dist_seg(m, (int)q);
        rt_dist.seg_counts[q] = (int)(rt_dist_seg(m, (int)q + 1) - rt_dist_seg(m, (int)q));
    }
    return 0;
}

void rt_dist_train_close(void) {
    if (!rt_dist.shared)
        free(rt_dist.home);
    free(rt_dist.send);
    free(rt_dist.recv_x);
    free(rt_dist.local);
    free(rt_dist.counts);
    free(rt_dist.val_buf);
    rt_dist.home = rt_dist.send = rt_dist.recv_x = rt_dist.val_buf = NULL;
    rt_dist.local = NULL;
    rt_dist.counts = NULL;
    rt_dist.sharded = 0;
    if (!rt_dist.shared)
        free(rt_dist.grads);
    free(rt_dist.fold);
    free(rt_dist.requests);
    free(rt_dist.seg_counts);
    free(rt_dist.opt_counts);
    free(rt_dist.opt_buf);
    free(rt_dist.y);
    free(rt_dist.t);
    free(rt_dist.loss);
    free(rt_dist.rows);
    rt_dist.grads = rt_dist.fold = rt_dist.opt_buf = rt_dist.y = rt_dist.t = NULL;
    rt_dist.requests = NULL;
    rt_dist.seg_counts = rt_dist.seg_starts = rt_dist.opt_counts = NULL;
    rt_dist.loss = NULL;
    rt_dist.rows = NULL;
}

int rt_dist_stdout_tty(void) {
    return 0;
}

/* Only rank 0 prints progress and writes weights, checkpoints, history and
** plots (SPEC 6). */
void rt_dist_options(RtOptions *o) {
    if (rt_dist_rank() == 0)
        return;
    o->verbose = 0;
    o->save = o->checkpoint = o->history = o->plot = o->output = NULL;
    o->no_save = 1; /* nor the default <model>.safetensors */
}

/* The trainer's command line on comm: train data-parallel; the other
** commands on rank 0 alone. A failing rank ends every rank. */
static int rt_dist_main(const NncModel *m, MPI_Comm comm, int argc, char **argv,
                        int (*run)(const NncModel *, int, char **)) {
    int rc;
    rt_dist.comm = comm;
    rt_dist.node = MPI_COMM_NULL;
    rt_dist.win = rt_dist.rows_win = rt_dist.params_win = MPI_WIN_NULL;
    MPI_Comm_rank(comm, &rt_dist.rank);
    MPI_Comm_size(comm, &rt_dist.size);
    rt_dist.active = 1;
    if (rt_dist.rank != 0 && (argc < 2 || strcmp(argv[1], "train") != 0))
        rc = RT_EXIT_OK;
    else
        rc = run(m, argc, argv);
    rt_dist_train_close();
    if (rc != RT_EXIT_OK && rt_dist.size > 1) {
        rt_error("rank %d of %d failed (exit status %d); stopping every rank", rt_dist.rank,
                 rt_dist.size, rc);
        MPI_Abort(comm, rc);
    }
    rt_dist_unshare();
    rt_dist.active = 0;
    return rc;
}

int nnc_main_comm(const NncModel *model, MPI_Comm comm, int argc, char **argv) {
    return rt_dist_main(model, comm, argc, argv, rt_cli_main);
}

int nnc_main(const NncModel *model, int argc, char **argv) {
    int rc, ready = 0;
    MPI_Initialized(&ready);
    if (!ready)
        MPI_Init(&argc, &argv);
    rc = rt_dist_main(model, MPI_COMM_WORLD, argc, argv, rt_cli_main);
    if (!ready)
        MPI_Finalize();
    return rc;
}

#else /* one process */

int rt_dist_stdout_tty(void) {
    return isatty(fileno(stdout));
}

int rt_dist_rank(void) {
    return 0;
}

int rt_dist_size(void) {
    return 1;
}

double rt_dist_batch_gradients(RtExec *ex, const RtRows *data, const long *idx, long n,
                               uint64_t dropout_seed, RtMetrics *mt) {
    return rt_batch_gradients(ex, data, idx, n, dropout_seed, mt);
}

double rt_dist_eval_rows(RtExec *ex, const RtRows *data, RtMetrics *mt) {
    return rt_eval_rows(ex, data, mt);
}

int rt_dist_train_open(RtExec *ex, const RtRows *train, const RtRows *val, long batch_rows) {
    (void)ex, (void)train, (void)val, (void)batch_rows;
    return 0;
}

void rt_dist_train_close(void) {
}

void rt_dist_update(RtExec *ex, long step, double learning_rate) {
    rt_update_range(ex, step, learning_rate, 0, ex->m->param_floats);
}

void rt_dist_opt_gather(RtExec *ex) {
    (void)ex;
}

int rt_dist_shard(RtTrainer *tr) {
    (void)tr;
    return 0;
}

void rt_dist_epoch(const long *idx) {
    (void)idx;
}

void rt_dist_options(RtOptions *o) {
    (void)o;
}

int nnc_main(const NncModel *model, int argc, char **argv) {
    return rt_cli_main(model, argc, argv);
}

#endif
