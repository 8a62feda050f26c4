/*
** callbacks.c — early_stopping, model_checkpoint and reduce_lr_on_plateau
** (SPEC 1.10), with Keras' semantics: the same improvement test
** (min_delta), the same counters, the same warning when the monitored
** value does not exist (e.g. val_loss without validation data), after
** which the callback does nothing.
*/
#include "runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *rt_cb_monitor(const NncCallback *cb) {
    return cb->monitor && *cb->monitor ? cb->monitor : "val_loss";
}

int rt_callbacks_init(RtTrainer *tr) {
    const NncModel *m = tr->m;
    int i, k;
    if (m->n_callbacks > RT_MAX_CALLBACKS) {
        rt_error("%s: at most %d callbacks are supported", m->name ? m->name : "model",
                 RT_MAX_CALLBACKS);
        return -1;
    }
    for (i = 0; i < m->n_callbacks; i++) {
        const NncCallback *cb = &m->callbacks[i];
        RtCbState *s = &tr->cb[i];
        const char *mon = rt_cb_monitor(cb);
        memset(s, 0, sizeof *s);
        s->log = -1;
        for (k = 0; k < tr->n_logs; k++)
            if (strcmp(tr->log_name[k], mon) == 0)
                s->log = k;
        s->maximize = cb->mode == NNC_MODE_MAX ||
                      (cb->mode == NNC_MODE_AUTO && rt_metric_higher_is_better(mon));
        s->best = s->maximize ? -HUGE_VAL : HUGE_VAL;
    }
    return 0;
}

/* Keras: monitor_op(current - min_delta, best), min_delta signed by mode. */
static int rt_cb_better(const RtCbState *s, double current, double min_delta) {
    double d = fabs(min_delta);
    return s->maximize ? current - d > s->best : current + d < s->best;
}

static void rt_cb_available(const RtTrainer *tr, char *buf, size_t size) {
    size_t o = 0;
    int k;
    buf[0] = '\0';
    for (k = 0; k < tr->n_logs && o + 1 < size; k++)
        o += (size_t)snprintf(buf + o, size - o, k ? ",%s" : "%s", tr->log_name[k]);
}

/* Keras warns that the monitor is missing; we warn once, not every epoch. */
static void rt_cb_warn(RtTrainer *tr, int i) {
    const NncCallback *cb = &tr->m->callbacks[i];
    char avail[1024];
    if (tr->cb[i].warned++ || rt_dist_rank() != 0)
        return; /* once, and on rank 0 only (SPEC 6) */
    rt_cb_available(tr, avail, sizeof avail);
    if (cb->kind == NNC_CB_EARLY_STOPPING)
        rt_warning("Early stopping conditioned on metric `%s` which is not available. "
                   "Available metrics are: %s",
                   rt_cb_monitor(cb), avail);
    else if (cb->kind == NNC_CB_MODEL_CHECKPOINT)
        rt_warning("Can save best model only with %s available, skipping.", rt_cb_monitor(cb));
    else
        rt_warning("Learning rate reduction is conditioned on metric `%s` which is not "
                   "available. Available metrics are: %s",
                   rt_cb_monitor(cb), avail);
}

static nnc_real *rt_cb_best_copy(RtTrainer *tr, int i) {
    int k, n = 0;
    for (k = 0; k < i; k++)
        n += tr->m->callbacks[k].kind == NNC_CB_EARLY_STOPPING &&
             tr->m->callbacks[k].restore_best_weights;
    return tr->block.best[n];
}

static void rt_cb_copy(const RtTrainer *tr, nnc_real *dst, const nnc_real *src) {
    memcpy(dst, src, sizeof(nnc_real) * (size_t)tr->m->param_floats);
}

static void rt_cb_early_stopping(RtTrainer *tr, int i, int epoch, double current) {
    const NncCallback *cb = &tr->m->callbacks[i];
    RtCbState *s = &tr->cb[i];
    nnc_real *best = cb->restore_best_weights ? rt_cb_best_copy(tr, i) : NULL;
    /* Keras: keep the first epoch's weights if progress is never made. */
    if (best && !s->has_best) {
        rt_cb_copy(tr, best, tr->block.params);
        s->has_best = 1;
    }
    s->wait++;
    if (rt_cb_better(s, current, cb->min_delta)) {
        s->best = current;
        s->best_epoch = epoch;
        if (best)
            rt_cb_copy(tr, best, tr->block.params);
        s->wait = 0;
        return;
    }
    if (s->wait >= cb->patience && epoch > 0) {
        tr->stop = 1;
        tr->stopped_epoch = epoch + 1;
        if (best) {
            rt_cb_copy(tr, tr->block.params, best);
            tr->restored_epoch = s->best_epoch + 1;
        }
    }
}

/* Keras' file name patterns: {epoch} and {epoch:02d}. -1 when the path
** does not fit buf: a truncated path would write somewhere unasked. */
static int rt_cb_path(char *buf, size_t size, const char *pattern, int epoch) {
    size_t o = 0;
    while (*pattern) {
        if (o + 1 >= size)
            return -1;
        if (strncmp(pattern, "{epoch", 6) == 0) {
            const char *p = pattern + 6;
            char fmt[16] = "%d";
            if (*p == ':') {
                size_t n = strspn(p + 1, "0123456789");
                if (n < 8 && p[1 + n] == 'd' && p[2 + n] == '}') {
                    snprintf(fmt, sizeof fmt, "%%%.*sd", (int)n, p + 1);
                    p += n + 2;
                }
            }
            if (*p == '}') {
                int n = snprintf(buf + o, size - o, fmt, epoch);
                if (n < 0 || (size_t)n >= size - o)
                    return -1;
                o += (size_t)n;
                pattern = p + 1;
                continue;
            }
        }
        buf[o++] = *pattern++;
    }
    buf[o] = '\0';
    return 0;
}

static int rt_cb_model_checkpoint(RtTrainer *tr, int i, int epoch) {
    const NncCallback *cb = &tr->m->callbacks[i];
    RtCbState *s = &tr->cb[i];
    char path[RT_PATH_MAX];
    RtMeta meta;
    if (cb->save_best_only) {
        double current;
        if (s->log < 0) {
            rt_cb_warn(tr, i);
            return 0;
        }
        current = tr->logs[s->log];
        if (!rt_cb_better(s, current, 0))
            return 0;
        s->best = current;
    }
    if (rt_dist_rank() != 0)
        return 0; /* SPEC 6: only rank 0 writes */
    if (rt_cb_path(path, sizeof path, cb->path ? cb->path : "model.safetensors", epoch + 1) != 0) {
        rt_error("model_checkpoint: the path \"%.60s...\" is longer than %d bytes", cb->path,
                 RT_PATH_MAX - 1);
        return -1;
    }
    meta.n = 0;
    rt_train_meta(tr, &meta);
    return rt_weights_save(path, tr->m, tr->block.params, &meta);
}

static void rt_cb_reduce_lr(RtTrainer *tr, int i, int epoch, double current) {
    const NncCallback *cb = &tr->m->callbacks[i];
    RtCbState *s = &tr->cb[i];
    if (s->cooldown > 0) {
        s->cooldown--;
        s->wait = 0;
    }
    if (rt_cb_better(s, current, cb->min_delta)) {
        s->best = current;
        s->wait = 0;
    } else if (s->cooldown <= 0 && ++s->wait >= cb->patience) {
        if (tr->lr > cb->min_lr) {
            double lr = tr->lr * cb->factor;
            tr->lr = lr > cb->min_lr ? lr : cb->min_lr;
            if (tr->o->verbose > 0)
                printf("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %g.\n", epoch + 1,
                       tr->lr);
            s->cooldown = 0; /* Keras' default cooldown */
            s->wait = 0;
        }
    }
}

int rt_callbacks_epoch_end(RtTrainer *tr, int epoch) {
    int i;
    for (i = 0; i < tr->m->n_callbacks; i++) {
        const NncCallback *cb = &tr->m->callbacks[i];
        RtCbState *s = &tr->cb[i];
        if (cb->kind == NNC_CB_MODEL_CHECKPOINT) {
            if (rt_cb_model_checkpoint(tr, i, epoch) != 0)
                return -1;
            continue;
        }
        if (s->log < 0) {
            rt_cb_warn(tr, i);
            continue;
        }
        if (cb->kind == NNC_CB_EARLY_STOPPING)
            rt_cb_early_stopping(tr, i, epoch, tr->logs[s->log]);
        else if (cb->kind == NNC_CB_REDUCE_LR_ON_PLATEAU)
            rt_cb_reduce_lr(tr, i, epoch, tr->logs[s->log]);
    }
    return 0;
}
