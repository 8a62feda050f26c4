/*
** batch.c — running the kernels over a batch, chunk by chunk.
**
** A batch is cut into chunks of plan->chunk_rows rows; a round hands one
** chunk to each worker. Chunk 0 writes its gradient straight into the
** gradient buffer, every other chunk into its worker's own buffer, and the
** buffers are then added in chunk order (the last round's by the update,
** when the trainer's update follows). Losses and metrics are summed in
** chunk order too. Nothing here depends on the number of workers, so the
** results are bit-identical for every --threads (SPEC 3 Determinism).
*/
#include "runtime.h"

#include <string.h>

enum { RT_JOB_TRAIN, RT_JOB_EVAL, RT_JOB_PREDICT };

typedef struct RtJob {
    RtExec *ex;
    int mode;                   /* RT_JOB_* */
    const RtRows *data;
    const long *idx;            /* the batch's rows in data, NULL: rows 0..n-1 */
    long n, chunks, first;      /* rows, chunks in the batch, first chunk of the round */
    double scale;
    uint64_t seed;
    nnc_real *y_out;            /* predictions of every row, or NULL */
    double loss[RT_MAX_THREADS];
    const nnc_real *t[RT_MAX_THREADS];
    long rows[RT_MAX_THREADS];
    double data_s[RT_MAX_THREADS], kernel_s[RT_MAX_THREADS]; /* --profile */
} RtJob;

/* Shuffled rows lie anywhere in the data: the row RT_GATHER_AHEAD places
** on is fetched while this one is copied, so that the copies do not wait
** for memory one row at a time (8: a third less time gathering model D's
** batches than 4). */
#define RT_GATHER_AHEAD 8

static void rt_prefetch_row(const nnc_real *row, long n) {
    long i;
    for (i = 0; i < n; i += 64 / (long)sizeof(nnc_real))
        RT_PREFETCH(row + i);
}

/* The chunk's rows, copied together when the batch is shuffled. */
static void rt_job_gather(RtJob *job, RtWorker *k, long r0, long rn, const nnc_real **x,
                          const nnc_real **t) {
    const RtRows *d = job->data;
    long r;
    if (!job->idx) {
        *x = d->x + r0 * d->n_x;
        *t = d->t ? d->t + r0 * d->n_t : NULL;
        return;
    }
    for (r = 0; r < RT_GATHER_AHEAD && r < rn; r++)
        rt_prefetch_row(d->x + job->idx[r0 + r] * d->n_x, d->n_x);
    for (r = 0; r < rn; r++) {
        long row = job->idx[r0 + r];
        if (r + RT_GATHER_AHEAD < rn)
            rt_prefetch_row(d->x + job->idx[r0 + r + RT_GATHER_AHEAD] * d->n_x, d->n_x);
        memcpy(k->x + r * d->n_x, d->x + row * d->n_x, sizeof(nnc_real) * (size_t)d->n_x);
        if (d->n_t)
            memcpy(k->t + r * d->n_t, d->t + row * d->n_t, sizeof(nnc_real) * (size_t)d->n_t);
    }
    *x = k->x;
    *t = k->t;
}

static void rt_job_chunk(void *arg, int w) {
    RtJob *job = arg;
    RtExec *ex = job->ex;
    const NncModel *m = ex->m;
    RtWorker *k = &ex->block->workers[w];
    long c = job->first + w, chunk = ex->plan->chunk_rows, r0 = c * chunk, rn;
    const nnc_real *x, *t;
    double t0, t1;
    job->rows[w] = 0;
    if (c >= job->chunks)
        return;
    rn = job->n - r0 < chunk ? job->n - r0 : chunk;
    t0 = rt_prof_clock();
    rt_job_gather(job, k, r0, rn, &x, &t);
    t1 = rt_prof_clock();
    if (job->mode == RT_JOB_TRAIN) {
        nnc_real *g = c == 0 ? ex->block->grads : k->grads;
        job->loss[w] = m->forward_backward(ex->block->params, g, k->scratch, x, t, (int)rn,
                                           job->scale, job->seed, (uint64_t)r0, k->y);
    } else if (job->mode == RT_JOB_EVAL) {
        job->loss[w] = m->eval_loss(ex->block->params, k->scratch, x, t, (int)rn, k->y);
    } else {
        m->predict(ex->block->params, k->scratch, x, k->y, (int)rn);
        job->loss[w] = 0;
    }
    if (rt_prof.on) {
        job->kernel_s[w] = rt_now() - t1;
        job->data_s[w] = t1 - t0;
    }
    if (job->y_out)
        memcpy(job->y_out + r0 * m->n_outputs, k->y,
               sizeof(nnc_real) * (size_t)(rn * m->n_outputs));
    job->t[w] = t;
    job->rows[w] = rn;
}

/* Adds the round's chunk gradients, in chunk order, to worker w's slice of
** the parameters: every element sees the same sequence of additions. The
** slices are the update's (update.c), so each worker's update reads the
** sums its own core just wrote. */
static void rt_job_reduce(void *arg, int w) {
    RtJob *job = arg;
    RtExec *ex = job->ex;
    long p = ex->m->param_floats, c;
    int workers = ex->plan->workers;
    long lo = rt_range_cut(p, workers, w), hi = rt_range_cut(p, workers, w + 1);
    for (c = job->first; c < job->first + workers && c < job->chunks; c++)
        if (c != 0)
            rt_fold(ex->block->grads + lo, ex->block->workers[c - job->first].grads + lo, hi - lo, 0);
}

/* The last round's chunk gradients, left for the update to add. */
static void rt_job_pend(RtJob *job, long in_round) {
    RtPending *pd = &job->ex->pending;
    long c;
    pd->n = 0;
    pd->start = 0;
    for (c = job->first; c < job->first + in_round; c++)
        if (c != 0)
            pd->own[pd->n++] = job->ex->block->workers[c - job->first].grads;
    pd->g = pd->own;
}

static double rt_job_run(RtJob *job, RtMetrics *mt) {
    RtExec *ex = job->ex;
    int workers = ex->plan->workers, w;
    double total = 0;
    job->chunks = (job->n + ex->plan->chunk_rows - 1) / ex->plan->chunk_rows;
    for (job->first = 0; job->first < job->chunks; job->first += workers) {
        long in_round = job->chunks - job->first < workers ? job->chunks - job->first : workers;
        if (in_round == 1)
            rt_job_chunk(job, 0);
        else
            rt_pool_run(ex->pool, rt_job_chunk, job);
        for (w = 0; w < in_round; w++) {
            static const int kinds[] = {RT_PROF_TRAIN, RT_PROF_EVAL, RT_PROF_PREDICT};
            rt_prof_chunk(ex->m, kinds[job->mode], job->kernel_s[w], job->data_s[w], job->rows[w]);
            total += job->loss[w];
            if (mt)
                rt_metrics_add(mt, ex->m, ex->block->workers[w].y, job->t[w], job->rows[w]);
        }
        if (job->mode != RT_JOB_TRAIN || (job->first == 0 && in_round == 1))
            continue;
        if (ex->fold_late && job->first + in_round == job->chunks) {
            rt_job_pend(job, in_round);
            continue;
        }
        /* Small models: threads cost more than the additions. */
        if (ex->m->param_floats >= RT_THREAD_MIN_FLOATS && in_round > 1)
            rt_pool_run(ex->pool, rt_job_reduce, job);
        else
            for (w = 0; w < workers; w++)
                rt_job_reduce(job, w);
    }
    return total;
}

double rt_batch_gradients(RtExec *ex, const RtRows *data, const long *idx, long n,
                          uint64_t dropout_seed, RtMetrics *mt) {
    RtJob job;
    ex->pending.n = 0;
    job.ex = ex;
    job.mode = RT_JOB_TRAIN;
    job.data = data;
    job.idx = idx;
    job.n = n;
    job.scale = 1.0 / (double)n;
    job.seed = dropout_seed;
    job.y_out = NULL;
    return rt_job_run(&job, mt);
}

double rt_eval_rows(RtExec *ex, const RtRows *data, RtMetrics *mt) {
    RtJob job;
    job.ex = ex;
    job.mode = RT_JOB_EVAL;
    job.data = data;
    job.idx = NULL;
    job.n = data->rows;
    job.scale = 1;
    job.seed = 0;
    job.y_out = NULL;
    return rt_job_run(&job, mt);
}

void rt_predict_rows(RtExec *ex, const RtRows *data, long first, long n, nnc_real *y) {
    RtRows part = *data;
    RtJob job;
    part.x = data->x + first * data->n_x;
    part.t = NULL;
    part.n_t = 0;
    part.rows = n;
    job.ex = ex;
    job.mode = RT_JOB_PREDICT;
    job.data = &part;
    job.idx = NULL;
    job.n = n;
    job.scale = 1;
    job.seed = 0;
    job.y_out = y;
    rt_job_run(&job, NULL);
}

double rt_regularization(const NncModel *m, const nnc_real *params, nnc_real *sink) {
    double t0, loss;
    if (!m->regularize)
        return 0.0;
    t0 = rt_prof_clock();
    loss = m->regularize(params, sink);
    rt_prof_since(m, RT_PROF_REGULARIZE, t0, 0);
    return loss;
}
