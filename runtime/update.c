/*
** update.c — the optimizer step over element ranges (kernel ABI: update
** on [lo, hi)). The range is cut into one piece of whole NNC_RANGE_ALIGN
** blocks per worker; an element's step reads only that element, its
** gradient and its state, so every cut gives the step of one call (SPEC 3
** Determinism). A model whose update reads a sum over a parameter
** (update_whole_range) takes it in one call. The chunk gradients a batch
** left pending are added here, block by block, just before the step.
*/
#include "runtime.h"

#include <string.h>

/* Adam's first moment shrinks by beta_1 = 0.9 a step where its gradient is
** zero (a pixel that is blank in most rows, a dead unit): in some hundred
** steps it falls below FLT_MIN, and on x86 every operation on a denormal
** operand takes a microcode assist, which made the step 1.7x slower on
** the digits model. The step runs with the SSE flush-to-zero mode on, as
** TensorFlow runs its CPU kernels, and gives the caller its mode back: a
** result that underflows becomes 0 instead of a denormal, far below any
** change a weight can show (no example's weights moved; README, "A quick
** tour"). -DNNC_NO_FLUSH_DENORMALS keeps gradual underflow. */
#if defined(__SSE__) && !defined(NNC_NO_FLUSH_DENORMALS)
#include <xmmintrin.h>
#define RT_FLUSH_DENORMALS 1
#endif

void rt_optimizer_step(const NncModel *m, nnc_real *params, const nnc_real *grads, nnc_real *opt,
                       long step, double learning_rate, long lo, long hi) {
#ifdef RT_FLUSH_DENORMALS
    unsigned int caller_mode = _mm_getcsr();
    _mm_setcsr(caller_mode | _MM_FLUSH_ZERO_ON);
#endif
    m->update(params, grads, opt, step, learning_rate, lo, hi);
#ifdef RT_FLUSH_DENORMALS
    _mm_setcsr(caller_mode);
#endif
}

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

/* Elements per block of the pending gradients' sum, and per update call
** when they are added first: both blocks stay in the core's L2 between
** the addition and the step, and the per-call work (the bias corrections)
** stays small. */
enum { RT_FOLD_BLOCK = 8192 };

int rt_update_can_fold(const NncModel *m) {
    return !m->regularize && !m->update_whole_range;
}

/* The additions go NNC_RANGE_ALIGN at a time, as GNU C vectors where the
** compiler has them: gcc -O2 vectorizes no loop whose trip count it does
** not know (the runtime library under the LLVM backend is built that way,
** for any x86-64), and clang turns a loop of fixed inner loops into
** gathers. Element by element the same additions. */
#if defined(__GNUC__) && !defined(NNC_NO_VECTORS)
typedef nnc_real rt_block_vec
    __attribute__((vector_size(NNC_RANGE_ALIGN * sizeof(nnc_real)), aligned(sizeof(nnc_real)), may_alias));
#define RT_ADD_BLOCK(acc, g) (*(rt_block_vec *)(acc) += *(const rt_block_vec *)(g))
#else
#define RT_ADD_BLOCK(acc, g) rt_add_block(acc, g)
static void rt_add_block(nnc_real *restrict acc, const nnc_real *restrict g) {
    int j;
    for (j = 0; j < NNC_RANGE_ALIGN; j++)
        acc[j] += g[j];
}
#endif

void rt_fold(nnc_real *restrict acc, const nnc_real *restrict g, long n, int start) {
    long i = 0;
    if (start) {
        memcpy(acc, g, sizeof(nnc_real) * (size_t)n);
        return;
    }
    for (; i + NNC_RANGE_ALIGN <= n; i += NNC_RANGE_ALIGN)
        RT_ADD_BLOCK(acc + i, g + i);
    for (; i < n; i++)
        acc[i] += g[i];
}

/* The pending gradients' elements [at, at + n) added to block->grads. */
static void rt_fold_block(RtExec *ex, long at, long n) {
    const RtPending *pd = &ex->pending;
    long i;
    for (i = 0; i < pd->n; i++)
        rt_fold(ex->block->grads + at, pd->g[i] + at, n, i == 0 && pd->start);
}

void rt_fold_pending(RtExec *ex, long lo, long hi) {
    long at;
    for (at = lo; at < hi; at += RT_FOLD_BLOCK)
        rt_fold_block(ex, at, hi - at < RT_FOLD_BLOCK ? hi - at : RT_FOLD_BLOCK);
    ex->pending.n = 0;
}

/* The step on [lo, hi), the pending gradients added a block before it. */
static void rt_update_folding(RtExec *ex, long step, double learning_rate, long lo, long hi) {
    RtBlock *b = ex->block;
    long at;
    if (ex->pending.n == 0) {
        rt_optimizer_step(ex->m, b->params, b->grads, b->opt, step, learning_rate, lo, hi);
        return;
    }
    for (at = lo; at < hi; at += RT_FOLD_BLOCK) {
        long n = hi - at < RT_FOLD_BLOCK ? hi - at : RT_FOLD_BLOCK;
        rt_fold_block(ex, at, n);
        rt_optimizer_step(ex->m, b->params, b->grads, b->opt, step, learning_rate, at, at + n);
    }
}

static void rt_update_piece(void *arg, int w) {
    RtUpdateJob *job = arg;
    long n = job->hi - job->lo;
    int parts = job->ex->plan->workers;
    rt_update_folding(job->ex, job->step, job->learning_rate, job->lo + rt_range_cut(n, parts, w),
                      job->lo + rt_range_cut(n, parts, w + 1));
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
        rt_update_folding(ex, step, learning_rate, lo, hi);
    else
        rt_pool_run(ex->pool, rt_update_piece, &job);
    ex->pending.n = 0;
    rt_prof_update(ex->m, t0, lo, hi);
}
