/*
** params.c — initial parameter values (SPEC 1.4) and the statistics of
** normalize (SPEC 1.5).
*/
#include "runtime.h"

#include <float.h>
#include <math.h>
#include <string.h>

void rt_init_params(const NncModel *m, uint64_t seed, nnc_real *params) {
    int i;
    for (i = 0; i < m->n_params; i++)
        rt_init_param(&m->params[i], i, seed, params);
}

int rt_has_norm(const NncModel *m) {
    int i;
    for (i = 0; i < m->n_params; i++)
        if (m->params[i].role != NNC_ROLE_WEIGHT)
            return 1;
    return 0;
}

/* One statistic of feature j over the rows; mean and variance in double,
** two passes (population variance, as Keras' Normalization.adapt). */
static double rt_norm_feature(int role, const RtRows *rows, long j) {
    double acc = 0, mean = 0;
    long r, n = rows->rows;
    const nnc_real *x = rows->x + j;
    if (role == NNC_ROLE_NORM_MIN || role == NNC_ROLE_NORM_MAX) {
        acc = x[0];
        for (r = 1; r < n; r++) {
            double v = x[r * rows->n_x];
            acc = role == NNC_ROLE_NORM_MIN ? (v < acc ? v : acc) : (v > acc ? v : acc);
        }
        return acc;
    }
    /* A constant feature: its mean exactly, and variance exactly 0, which
    ** the kernels read as "only centre it" (SPEC 1.5). Summing n copies
    ** would round to a mean a few ulps off and a variance of 1e-34. */
    for (r = 1; r < n && x[r * rows->n_x] == x[0]; r++)
        ;
    if (r >= n)
        return role == NNC_ROLE_NORM_MEAN ? (double)x[0] : 0.0;
    for (r = 0; r < n; r++)
        mean += x[r * rows->n_x];
    mean /= (double)n;
    if (role == NNC_ROLE_NORM_MEAN)
        return mean;
    for (r = 0; r < n; r++) {
        double d = x[r * rows->n_x] - mean;
        acc += d * d;
    }
    return acc / (double)n;
}

int rt_norm_stats(const NncModel *m, nnc_real *params, const RtRows *rows) {
    int i;
    long j;
    for (i = 0; i < m->n_params; i++) {
        const NncParam *p = &m->params[i];
        if (p->role == NNC_ROLE_WEIGHT)
            continue;
        /* SPEC 1.5: every element of the per-sample input is a feature. */
        if (p->size != m->n_inputs) {
            rt_error("%s: normalization statistic \"%s\" has %ld elements, the input has %ld",
                     m->name ? m->name : "model", p->name, p->size, m->n_inputs);
            return -1;
        }
        for (j = 0; j < p->size; j++) {
            double v = rt_norm_feature(p->role, rows, j);
            /* Data within range can still make a variance beyond it (1e20
            ** squared): an inf or NaN statistic would train silently. */
            if (!isfinite(v) || fabs(v) > (sizeof(nnc_real) == 4 ? FLT_MAX : DBL_MAX)) {
                rt_error("%s: input feature %ld: its %s over the training rows is %g, which %s "
                         "cannot hold; scale the data down", p->name, j,
                         strchr(p->name, '.') ? strchr(p->name, '.') + 1 : "statistic", v,
                         sizeof(nnc_real) == 4 ? "float" : "double");
                return -1;
            }
            params[p->offset + j] = (nnc_real)v;
        }
    }
    return 0;
}
