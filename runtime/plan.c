/*
** plan.c — the trainer's single allocation (ARCHITECTURE: "one allocation
** for parameters, gradients, optimizer state and activations, made once").
**
** rt_plan sizes every region; `summary` prints the same plan, so the bytes
** it reports are the bytes train allocates. Data buffers are allocated when
** the CSV is loaded; nothing is allocated inside the training loop.
*/
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

/* Regions start on 64-byte boundaries: whole cache lines per worker, so two
** threads never write the same line. */
static size_t rt_plan_round(size_t bytes) {
    return (bytes + 63) / 64 * 64;
}

static int rt_plan_best_copies(const NncModel *m) {
    int i, n = 0;
    for (i = 0; i < m->n_callbacks && i < RT_MAX_CALLBACKS; i++)
        n += m->callbacks[i].kind == NNC_CB_EARLY_STOPPING && m->callbacks[i].restore_best_weights;
    return n;
}

void rt_plan(RtPlan *plan, const NncModel *m, long batch_rows, int workers, int training) {
    rt_plan_real(plan, m, batch_rows, workers, training, sizeof(nnc_real));
}

/* The plan for reals of `real` bytes: nnc sizes an f64 trainer's memory
** with it for the macros of --emit=lib's header. */
void rt_plan_real(RtPlan *plan, const NncModel *m, long batch_rows, int workers, int training, size_t real) {
    size_t p = (size_t)m->param_floats;
    long chunks;
    memset(plan, 0, sizeof *plan);
    plan->workers = workers < 1 ? 1 : workers;
    plan->chunk_rows = m->param_floats >= RT_BIG_PARAMS ? RT_BIG_CHUNK_ROWS : RT_CHUNK_ROWS;
    if (batch_rows > 0 && batch_rows < plan->chunk_rows)
        plan->chunk_rows = batch_rows;
    chunks = batch_rows > 0 ? (batch_rows + plan->chunk_rows - 1) / plan->chunk_rows : 2;
    /* Chunk 0 of a batch writes straight into the gradient; the others need
    ** their own buffers (batch.c). */
    plan->worker_grads = training && chunks > 1;
    plan->n_best = training ? rt_plan_best_copies(m) : 0;
    plan->params = rt_plan_round(p * real);
    plan->grads = rt_plan_round(p * real) * (size_t)(1 + plan->worker_grads * plan->workers);
    plan->opt = training ? rt_plan_round((size_t)m->opt_floats * real) : 0;
    plan->best = rt_plan_round(p * real) * (size_t)plan->n_best;
    plan->scratch = rt_plan_round((size_t)(m->scratch_fixed + plan->chunk_rows * m->scratch_per_row) *
                                  real) * (size_t)plan->workers;
    plan->io = (rt_plan_round((size_t)(plan->chunk_rows * m->n_inputs) * real) +
                rt_plan_round((size_t)(plan->chunk_rows * m->target_width) * real) +
                rt_plan_round((size_t)(plan->chunk_rows * m->n_outputs) * real)) *
               (size_t)plan->workers;
    plan->total = plan->params + plan->grads + plan->opt + plan->best + plan->scratch + plan->io;
}

long rt_data_bytes_per_row(const NncModel *m) {
    /* inputs and targets, and the row's place in the shuffle order */
    return (long)((size_t)(m->n_inputs + m->target_width) * sizeof(nnc_real) + sizeof(long));
}

static nnc_real *rt_plan_take(char **cursor, size_t bytes) {
    nnc_real *p = (nnc_real *)(void *)*cursor;
    *cursor += rt_plan_round(bytes);
    return p;
}

int rt_block_alloc(RtBlock *b, const RtPlan *plan, const NncModel *m) {
    size_t real = sizeof(nnc_real), p = (size_t)m->param_floats;
    char *cur;
    int w;
    memset(b, 0, sizeof *b);
    b->base = rt_alloc_big(plan->total, "the trainer's buffers");
    if (!b->base)
        return -1;
    cur = b->base;
    b->params = rt_plan_take(&cur, p * real);
    b->grads = rt_plan_take(&cur, p * real);
    for (w = 0; w < plan->workers && plan->worker_grads; w++)
        b->workers[w].grads = rt_plan_take(&cur, p * real);
    b->opt = plan->opt ? rt_plan_take(&cur, (size_t)m->opt_floats * real) : NULL;
    for (w = 0; w < plan->n_best; w++)
        b->best[w] = rt_plan_take(&cur, p * real);
    for (w = 0; w < plan->workers; w++) {
        RtWorker *k = &b->workers[w];
        k->scratch = rt_plan_take(&cur, (size_t)(m->scratch_fixed + plan->chunk_rows * m->scratch_per_row) * real);
        k->x = rt_plan_take(&cur, (size_t)(plan->chunk_rows * m->n_inputs) * real);
        k->t = rt_plan_take(&cur, (size_t)(plan->chunk_rows * m->target_width) * real);
        k->y = rt_plan_take(&cur, (size_t)(plan->chunk_rows * m->n_outputs) * real);
    }
    return 0;
}

void rt_block_free(RtBlock *b) {
    free(b->base);
    b->base = NULL;
}
