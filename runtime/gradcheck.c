/*
** gradcheck.c — the `gradcheck` command (SPEC 3): the kernels' analytic
** gradient against central finite differences of the loss, on the first
** rows of the data, in the model's own precision.
**
** Both sides run the training kernel with one fixed dropout seed: it is
** deterministic given (seed, first_row), so with dropout the two sides see
** the same masks, and without dropout train mode is eval mode. The loss is
** the batch loss of SPEC 1.8: mean over the rows plus regularization.
*/
#include "runtime.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RT_GC_ROWS = 8, RT_GC_SAMPLES = 64 };

typedef struct RtGradcheck {
    const NncModel *m;
    RtRows rows;
    RtBlock *block;
    nnc_real *sink;         /* gradients of the perturbed evaluations */
    uint64_t seed;
    double step, tol, floor;
    double base;            /* the loss at the unperturbed parameters */
} RtGradcheck;

static double rt_gc_loss(RtGradcheck *g) {
    const NncModel *m = g->m;
    RtWorker *k = &g->block->workers[0];
    double n = (double)g->rows.rows;
    double sum = m->forward_backward(g->block->params, g->sink, k->scratch, g->rows.x, g->rows.t,
                                     (int)g->rows.rows, 1.0 / n, g->seed, 0, NULL);
    return sum / n + rt_regularization(m, g->block->params, g->sink);
}

/* Relative error with a floor: gradients near zero are compared absolutely. */
static double rt_gc_error(const RtGradcheck *g, double a, double n) {
    double scale = fabs(a) > fabs(n) ? fabs(a) : fabs(n);
    if (!isfinite(a) || !isfinite(n))
        return HUGE_VAL;
    return fabs(a - n) / (scale > g->floor ? scale : g->floor);
}

/* The loss with w_i moved to orig + d, and the move actually made (after
** rounding to nnc_real). */
static double rt_gc_moved(RtGradcheck *g, long i, double d, double *moved) {
    nnc_real *w = g->block->params + i, orig = *w;
    double loss;
    *w = (nnc_real)((double)orig + d);
    *moved = (double)*w - (double)orig;
    loss = rt_gc_loss(g);
    *w = orig;
    return loss;
}

/* The error of the analytic a against difference quotients at w_i: the
** central one first; where it disagrees, also the one-sided ones and
** steps of a tenth and a hundredth. Those are for kinks (relu, max, abs):
** a kink inside [w - h, w + h] spoils the central quotient, and at a kink
** the gradient is one of the one-sided slopes; a wrong gradient matches
** none of them. */
static double rt_gc_element(RtGradcheck *g, long i, double a) {
    double w = g->block->params[i], h = g->step * (fabs(w) > 1 ? fabs(w) : 1.0), best = HUGE_VAL;
    int k;
    for (k = 0; k < 3 && best > g->tol; k++, h /= 10) {
        double up, down, lp = rt_gc_moved(g, i, h, &up), lm = rt_gc_moved(g, i, -h, &down), e;
        e = rt_gc_error(g, a, (lp - lm) / (up - down));
        best = e < best ? e : best;
        if (k == 0 && best <= g->tol)
            break;
        e = rt_gc_error(g, a, (lp - g->base) / up);
        best = e < best ? e : best;
        e = rt_gc_error(g, a, (lm - g->base) / down);
        best = e < best ? e : best;
    }
    return best;
}

static int rt_gc_tensor(RtGradcheck *g, const NncParam *p, const nnc_real *analytic) {
    long k, samples = p->size < RT_GC_SAMPLES ? p->size : RT_GC_SAMPLES;
    double worst = 0;
    long dims[NNC_MAX_RANK];
    char shape[160];
    int d, ok;
    for (k = 0; k < samples; k++) {
        long i = p->offset + (samples == p->size ? k : k * p->size / samples);
        double err = rt_gc_element(g, i, analytic[i]);
        worst = err > worst ? err : worst;
    }
    for (d = 0; d < p->rank; d++)
        dims[d] = p->dims[d];
    rt_format_shape(shape, sizeof shape, p->rank, dims);
    ok = worst <= g->tol;
    printf(" %-28s %-14s %5ld of %-7ld max rel error %.3e  %s\n", p->name, shape, samples,
           p->size, worst, ok ? "ok" : "FAIL");
    return ok;
}

static int rt_gc_run(RtGradcheck *g) {
    const NncModel *m = g->m;
    nnc_real *analytic = g->block->grads;
    RtWorker *k = &g->block->workers[0];
    double n = (double)g->rows.rows, noise;
    int i, ok = 1;
    m->forward_backward(g->block->params, analytic, k->scratch, g->rows.x, g->rows.t,
                        (int)g->rows.rows, 1.0 / n, g->seed, 0, NULL);
    rt_regularization(m, g->block->params, analytic);
    g->base = rt_gc_loss(g);
    /* Rounding the loss to nnc_real puts noise of about eps * |loss| / h into
    ** every quotient: compare gradients below 100 times that absolutely. */
    noise = 100 * (sizeof(nnc_real) == 8 ? DBL_EPSILON : FLT_EPSILON) * (fabs(g->base) + 1) / g->step;
    g->floor = noise > g->floor ? noise : g->floor;
    printf("gradcheck: %ld rows, %s, step %.1e x max(1, |w|), tolerance %.0e "
           "(absolute below %.1e)\n",
           g->rows.rows, sizeof(nnc_real) == 8 ? "f64" : "f32", g->step, g->tol, g->floor);
    for (i = 0; i < m->n_params; i++)
        if (m->params[i].trainable)
            ok &= rt_gc_tensor(g, &m->params[i], analytic);
    printf("%s\n", ok ? "PASS" : "FAIL");
    fflush(stdout);
    return ok ? RT_EXIT_OK : RT_EXIT_ERROR;
}

static int rt_gc_params(RtGradcheck *g, const RtOptions *o, const RtData *d) {
    RtRows all;
    if (o->load)
        return rt_weights_load(o->load, g->m, g->block->params);
    rt_init_params(g->m, g->seed, g->block->params);
    all.x = d->x;
    all.t = d->t;
    all.rows = d->rows;
    all.n_x = d->n_x;
    all.n_t = d->n_t;
    return rt_norm_stats(g->m, g->block->params, &all);
}

int rt_cmd_gradcheck(const NncModel *m, const RtOptions *o) {
    RtGradcheck g;
    RtData d;
    RtPlan plan;
    RtExec ex;
    int rc = RT_EXIT_ERROR;
    memset(&g, 0, sizeof g);
    g.m = m;
    g.block = rt_alloc(sizeof *g.block, "the buffers");
    ex.pool = NULL;
    if (!g.block || rt_data_load(&d, o->data, m, o->label, 1) != 0) {
        free(g.block);
        return RT_EXIT_ERROR;
    }
    g.seed = o->set & RT_SET_SEED ? o->seed : m->seed;
    g.rows.x = d.x;
    g.rows.t = d.t;
    g.rows.rows = d.rows < RT_GC_ROWS ? d.rows : RT_GC_ROWS;
    g.rows.n_x = d.n_x;
    g.rows.n_t = d.n_t;
    /* Step: cube root of the epsilon balances rounding against truncation. */
    g.step = cbrt(sizeof(nnc_real) == 8 ? DBL_EPSILON : FLT_EPSILON);
    g.tol = sizeof(nnc_real) == 8 ? 1e-5 : 2e-2;
    g.floor = sizeof(nnc_real) == 8 ? 1e-4 : 1e-2;
    g.sink = rt_alloc(sizeof *g.sink * (size_t)(m->param_floats ? m->param_floats : 1), "gradients");
    if (g.sink && rt_exec_open(&ex, &plan, g.block, m, g.rows.rows, 1, 0) == 0 &&
        rt_gc_params(&g, o, &d) == 0) {
        g.seed = rt_subseed(g.seed, RT_STREAM_DROPOUT, 1);
        rc = rt_gc_run(&g);
    }
    rt_exec_close(&ex, g.block);
    rt_data_free(&d);
    free(g.sink);
    free(g.block);
    return rc;
}
