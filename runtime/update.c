/*
** update.c — the optimizer step over element ranges (kernel ABI: update
** on [lo, hi)). The range is cut into one piece of whole NNC_RANGE_ALIGN
** blocks per worker; an element's step reads only that element, its
** gradient and its state, so every cut gives the step of one call (SPEC 3
** Determinism). A model whose update reads a sum over a parameter
** (update_whole_range) takes it in one call.
*/
#include "runtime.h"

long rt_range_cut(long floats, int parts, int i) {
    if (i >= parts)
        return floats;
    return (long)((long long)(floats / NNC_RANGE_ALIGN) * i / parts) * NNC_RANGE_ALIGN;
}

typedef struct RtUpdateJob {
    RtExec *ex;
    long step, lo, hi;
    double learning_rate;
} RtUpdateJob;

static void rt_update_piece(void *arg, int w) {
    RtUpdateJob *job = arg;
    RtExec *ex = job->ex;
    RtBlock *b = ex->block;
    long n = job->hi - job->lo;
    int parts = ex->plan->workers;
    ex->m->update(b->params, b->grads, b->opt, job->step, job->learning_rate,
                  job->lo + rt_range_cut(n, parts, w), job->lo + rt_range_cut(n, parts, w + 1));
}

void rt_update_range(RtExec *ex, long step, double learning_rate, long lo, long hi) {
    RtUpdateJob job;
    double t0 = rt_prof_clock();
    job.ex = ex;
    job.step = step;
    job.lo = lo;
    job.hi = hi;
    job.learning_rate = learning_rate;
    if (ex->m->update_whole_range || ex->plan->workers == 1 || hi - lo < RT_THREAD_MIN_FLOATS)
        ex->m->update(ex->block->params, ex->block->grads, ex->block->opt, step, learning_rate, lo, hi);
    else
        rt_pool_run(ex->pool, rt_update_piece, &job);
    rt_prof_update(ex->m, t0, lo, hi);
}
