/*
** metrics.c — the metrics of SPEC 1.10, accumulated over an epoch as
** numerator / denominator pairs (Keras' stateful metrics), so that chunks
** and batches add up to the metric of the whole epoch.
*/
#include "runtime.h"

#include <math.h>
#include <string.h>

/* `accuracy` normally arrives resolved by the compiler; if not, resolve it
** as Keras does: sparse for class indices, binary for one unit, else
** categorical. */
int rt_metric_resolve(const NncModel *m, int kind) {
    if (kind != NNC_MET_ACCURACY)
        return kind;
    if (m->target_kind == NNC_TARGET_CLASS_INDEX || m->loss == NNC_LOSS_SPARSE_CATEGORICAL_CE)
        return NNC_MET_SPARSE_CATEGORICAL_ACCURACY;
    if (rt_classes(m) == 1 || m->loss == NNC_LOSS_BINARY_CE)
        return NNC_MET_BINARY_ACCURACY;
    return NNC_MET_CATEGORICAL_ACCURACY;
}

const char *rt_metric_name(const NncModel *m, int i) {
    static const char *const names[] = {
        "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "mae", "mse", "precision", "recall"};
    int kind = m->metrics[i];
    if (m->metric_names && m->metric_names[i])
        return m->metric_names[i];
    return kind >= 0 && kind <= NNC_MET_RECALL ? names[kind] : "metric";
}

/* Keras' mode = auto: maximize accuracies (and AUC), precision and recall;
** minimize the rest. */
int rt_metric_higher_is_better(const char *name) {
    size_t n;
    if (strncmp(name, "val_", 4) == 0)
        name += 4;
    n = strlen(name);
    if ((n >= 3 && strcmp(name + n - 3, "acc") == 0) ||
        (n >= 8 && strcmp(name + n - 8, "accuracy") == 0) ||
        (n >= 3 && strcmp(name + n - 3, "auc") == 0))
        return 1;
    return strcmp(name, "precision") == 0 || strcmp(name, "recall") == 0;
}

void rt_metrics_init(RtMetrics *mt, const NncModel *m) {
    int i;
    memset(mt, 0, sizeof *mt);
    mt->n = m->n_metrics < RT_MAX_METRICS ? m->n_metrics : RT_MAX_METRICS;
    for (i = 0; i < mt->n; i++)
        mt->kind[i] = rt_metric_resolve(m, m->metrics[i]);
}

void rt_metrics_reset(RtMetrics *mt) {
    memset(mt->num, 0, sizeof mt->num);
    memset(mt->den, 0, sizeof mt->den);
}

/* The dense target of output j: class indices read as one-hot. */
static double rt_metric_target(const NncModel *m, const nnc_real *t, long j, long classes) {
    if (m->target_kind == NNC_TARGET_CLASS_INDEX)
        return (long)t[j / classes] == j % classes ? 1.0 : 0.0;
    return j < m->target_width ? (double)t[j] : 0.0;
}

static long rt_metric_argmax(const nnc_real *v, long n) {
    long i, best = 0;
    for (i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i; /* the first of equal maxima, as numpy.argmax */
    return best;
}

static void rt_metric_row(RtMetrics *mt, int i, const NncModel *m, const nnc_real *y,
                          const nnc_real *t) {
    long j, classes = rt_classes(m), n = m->n_outputs;
    /* Hinge targets are -1/+1 and its outputs are scores: the class
    ** boundary is 0, not SPEC 1.10's 0.5. */
    double thr = m->loss == NNC_LOSS_HINGE || m->loss == NNC_LOSS_SQUARED_HINGE ? 0.0 : 0.5;
    switch (mt->kind[i]) {
    case NNC_MET_CATEGORICAL_ACCURACY:
    case NNC_MET_SPARSE_CATEGORICAL_ACCURACY:
        for (j = 0; j + classes <= n; j += classes) {
            long truth = m->target_kind == NNC_TARGET_CLASS_INDEX
                             ? (long)t[j / classes]
                             : (j + classes <= m->target_width ? rt_metric_argmax(t + j, classes) : -1);
            mt->num[i] += rt_metric_argmax(y + j, classes) == truth;
            mt->den[i] += 1;
        }
        break;
    default:
        for (j = 0; j < n; j++) {
            double target = rt_metric_target(m, t, j, classes), p = y[j];
            int pred = p > thr, truth = target > thr;
            switch (mt->kind[i]) {
            case NNC_MET_MAE: mt->num[i] += fabs(target - p); mt->den[i] += 1; break;
            case NNC_MET_MSE: mt->num[i] += (target - p) * (target - p); mt->den[i] += 1; break;
            case NNC_MET_PRECISION: mt->num[i] += pred && truth; mt->den[i] += pred; break;
            case NNC_MET_RECALL: mt->num[i] += pred && truth; mt->den[i] += truth; break;
            default: mt->num[i] += pred == truth; mt->den[i] += 1; break;
            }
        }
        break;
    }
}

void rt_metrics_add(RtMetrics *mt, const NncModel *m, const nnc_real *y, const nnc_real *t,
                    long rows) {
    long r;
    int i;
    for (r = 0; r < rows; r++)
        for (i = 0; i < mt->n; i++)
            rt_metric_row(mt, i, m, y + r * m->n_outputs, t + r * m->target_width);
}

double rt_metrics_value(const RtMetrics *mt, int i) {
    return mt->den[i] > 0 ? mt->num[i] / mt->den[i] : 0.0;
}
