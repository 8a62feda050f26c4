/*
** lib_api.c — the definitions of --emit=lib's C API (lib_api.h): create,
** fit, predict, evaluate, save, load over the kernels of one model's
** descriptor nncM_abi. One model per context, no global state, so contexts
** on different threads do not interfere. Rows go through the kernels in
** chunks of RT_CHUNK_ROWS, as in the trainer; the kernel writes each
** chunk's gradient, and they are added in chunk order into grads.
**
** A template, written once: in every generated library nncM stands for the
** model's identifier (src/codegen/c/lib.c substitutes it; scripts/embed.sh
** embeds the text between the nnc-embed lines, after the runtime, the
** kernels, the descriptor and the header's text). The build compiles this
** file as it is, C99 -pedantic like the rest of runtime/, against the
** declarations below, which stand for what the generated file has above.
*/
#include <math.h>
#include <stdint.h>

#include "runtime.h"

#define NNCM_REAL nnc_real
#include "lib_api.h"

/* In a generated library: static const NncModel <model>_abi = {...}. */
extern const NncModel nncM_abi;

/* nnc-embed: begin */
#include <stdlib.h>
#include <string.h>

/* ==== the C API (see the header) ==== */

struct nncM_model {
    nnc_real *params, *grads, *part, *opt, *scratch, *x, *t; /* one allocation */
    long *order;           /* fit's row order, grown as needed */
    long order_len;
    long step;             /* optimizer steps taken */
    int epoch;             /* epochs fitted */
    int adapted;           /* normalization statistics are set */
    uint64_t seed;
    double learning_rate;
};

static size_t nncM_real_count(void) {
    const NncModel *m = &nncM_abi;
    return (size_t)(3 * m->param_floats + m->opt_floats + m->scratch_fixed +
                    RT_CHUNK_ROWS * (m->scratch_per_row + m->n_inputs + m->target_width));
}

nncM_model *nncM_create(uint64_t seed) {
    const NncModel *m = &nncM_abi;
    nncM_model *c = rt_alloc(sizeof *c, "the model");
    if (!c)
        return NULL;
    c->params = rt_alloc(sizeof(nnc_real) * nncM_real_count(), "the model's buffers");
    if (!c->params) {
        free(c);
        return NULL;
    }
    c->grads = c->params + m->param_floats;
    c->part = c->grads + m->param_floats;
    c->opt = c->part + m->param_floats;
    c->scratch = c->opt + m->opt_floats;
    c->x = c->scratch + m->scratch_fixed + RT_CHUNK_ROWS * m->scratch_per_row;
    c->t = c->x + RT_CHUNK_ROWS * m->n_inputs;
    c->seed = seed;
    c->learning_rate = m->learning_rate;
    c->adapted = !rt_has_norm(m);
    rt_init_params(m, seed, c->params);
    return c;
}

void nncM_free(nncM_model *c) {
    if (!c)
        return;
    free(c->params);
    free(c->order);
    free(c);
}

int nncM_load(nncM_model *c, const char *path) {
    if (rt_weights_load(path, &nncM_abi, c->params) != 0)
        return -1;
    c->adapted = 1;
    return 0;
}

int nncM_save(const nncM_model *c, const char *path) {
    return rt_weights_save(path, &nncM_abi, c->params, NULL);
}

int nncM_adapt(nncM_model *c, const nncM_real *x, long rows) {
    RtRows r;
    r.x = x;
    r.t = NULL;
    r.rows = rows;
    r.n_x = nncM_abi.n_inputs;
    r.n_t = 0;
    if (rows < 1 || rt_norm_stats(&nncM_abi, c->params, &r) != 0)
        return -1;
    c->adapted = 1;
    return 0;
}

/* Gradient of the mean loss over rows idx[0..n) (all rows when idx is
** NULL) into grads; returns the summed loss. */
static double nncM_gradients(nncM_model *c, const nncM_real *x, const nncM_real *t, const long *idx,
                           long n, uint64_t drop) {
    const NncModel *m = &nncM_abi;
    double loss = 0;
    long first, r, i;
    for (first = 0; first < n; first += RT_CHUNK_ROWS) {
        long rows = n - first < RT_CHUNK_ROWS ? n - first : RT_CHUNK_ROWS;
        const nnc_real *cx = x + first * m->n_inputs, *ct = t + first * m->target_width;
        if (idx) {
            for (r = 0; r < rows; r++) {
                memcpy(c->x + r * m->n_inputs, x + idx[first + r] * m->n_inputs,
                       sizeof(nnc_real) * (size_t)m->n_inputs);
                memcpy(c->t + r * m->target_width, t + idx[first + r] * m->target_width,
                       sizeof(nnc_real) * (size_t)m->target_width);
            }
            cx = c->x;
            ct = c->t;
        }
        loss += m->forward_backward(c->params, first ? c->part : c->grads, c->scratch, cx, ct,
                                    (int)rows, 1.0 / (double)n, drop, (uint64_t)first, NULL);
        for (i = 0; first && i < m->param_floats; i++)
            c->grads[i] += c->part[i];
    }
    return loss;
}

static double nncM_step(nncM_model *c, const nncM_real *x, const nncM_real *t, const long *idx, long n) {
    const NncModel *m = &nncM_abi;
    uint64_t drop = rt_subseed(c->seed, RT_STREAM_DROPOUT, (uint64_t)c->step + 1);
    double loss = nncM_gradients(c, x, t, idx, n, drop) / (double)n;
    loss += rt_regularization(m, c->params, c->grads);
    c->step++;
    rt_optimizer_step(m, c->params, c->grads, c->opt, c->step, c->learning_rate, 0, m->param_floats);
    return loss;
}

static int nncM_ready(nncM_model *c, const nncM_real *x, long rows) {
    return c->adapted || nncM_adapt(c, x, rows) == 0;
}

double nncM_train_batch(nncM_model *c, const nncM_real *x, const nncM_real *t, long rows) {
    if (rows < 1 || !nncM_ready(c, x, rows))
        return NAN;
    return nncM_step(c, x, t, NULL, rows);
}

double nncM_fit(nncM_model *c, const nncM_real *x, const nncM_real *t, long rows, int epochs,
              long batch_size) {
    double total = NAN;
    long bs = batch_size > 0 && batch_size < rows ? batch_size : rows, b;
    int e;
    if (rows < 1 || !nncM_ready(c, x, rows))
        return NAN;
    if (c->order_len < rows) {
        long *grown = realloc(c->order, sizeof *grown * (size_t)rows);
        if (!grown)
            return NAN;
        c->order = grown;
        c->order_len = rows;
    }
    for (e = 0; e < epochs; e++, c->epoch++) {
        total = 0;
        rt_permutation(c->order, rows, c->seed, c->epoch, nncM_abi.shuffle);
        for (b = 0; b < rows; b += bs) {
            long n = rows - b < bs ? rows - b : bs;
            total += nncM_step(c, x, t, c->order + b, n) * (double)n;
        }
        total /= (double)rows;
    }
    return total;
}

void nncM_predict(nncM_model *c, const nncM_real *x, nncM_real *y, long rows) {
    const NncModel *m = &nncM_abi;
    long first;
    for (first = 0; first < rows; first += RT_CHUNK_ROWS) {
        long n = rows - first < RT_CHUNK_ROWS ? rows - first : RT_CHUNK_ROWS;
        m->predict(c->params, c->scratch, x + first * m->n_inputs, y + first * m->n_outputs, (int)n);
    }
}

double nncM_evaluate(nncM_model *c, const nncM_real *x, const nncM_real *t, long rows) {
    const NncModel *m = &nncM_abi;
    double loss = 0;
    long first;
    if (rows < 1)
        return NAN;
    for (first = 0; first < rows; first += RT_CHUNK_ROWS) {
        long n = rows - first < RT_CHUNK_ROWS ? rows - first : RT_CHUNK_ROWS;
        loss += m->eval_loss(c->params, c->scratch, x + first * m->n_inputs,
                             t + first * m->target_width, (int)n, NULL);
    }
    return loss / (double)rows + rt_regularization(m, c->params, c->grads);
}

nncM_real *nncM_parameters(nncM_model *c) {
    return c->params;
}

void nncM_set_learning_rate(nncM_model *c, double learning_rate) {
    c->learning_rate = learning_rate;
}

const struct NncModel *nncM_descriptor(void) {
    return &nncM_abi;
}
/* nnc-embed: end */
