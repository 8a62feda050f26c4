/*
** checkpoint.c — --checkpoint and --resume (SPEC 3 Weights).
**
** A checkpoint is a safetensors file: the parameters under their own names
** (so any weights reader can use it), plus the training state as tensors
** named "nnc/..." (optimizer state, history, best-weights copies) and as
** metadata (epoch, step, learning rate, callback counters, settings).
** Random numbers are pure functions of (seed, epoch or step), so these
** numbers are the whole generator state: resuming gives bit-identical
** weights to a run that was never interrupted.
*/
#include "runtime.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Callback state saved per callback (a resumed run warns afresh, so
** `warned` is not among them). */
enum { RT_CKPT_CB_FIELDS = 5 };

typedef struct RtCkptOut {
    const RtTrainer *tr;
    char best_name[RT_MAX_CALLBACKS][24];
    char columns[RT_MAX_LOGS * (RT_NAME_MAX + 1) + 16];
    char key[RT_MAX_CALLBACKS][RT_CKPT_CB_FIELDS][32];
} RtCkptOut;

static const char *const rt_ckpt_cb_field[RT_CKPT_CB_FIELDS] = {
    "best", "wait", "best_epoch", "cooldown", "has_best"};

static void rt_ckpt_tensor(const void *ctx, int i, RtTensorOut *out) {
    const RtCkptOut *c = ctx;
    const RtTrainer *tr = c->tr;
    const NncModel *m = tr->m;
    int np = m->n_params, k;
    if (i < np) {
        const NncParam *p = &m->params[i];
        out->name = p->name;
        out->rank = p->rank;
        for (k = 0; k < p->rank; k++)
            out->dims[k] = p->dims[k];
        out->dtype = rt_real_dtype();
        out->real = tr->block.params + p->offset;
    } else if (i == np) {
        out->name = "nnc/optimizer";
        out->rank = 1;
        out->dims[0] = m->opt_floats;
        out->dtype = rt_real_dtype();
        out->real = tr->block.opt;
    } else if (i == np + 1) {
        out->name = "nnc/history";
        out->rank = 2;
        out->dims[0] = tr->history_rows;
        out->dims[1] = tr->n_logs + 1;
        out->dtype = RT_DT_F64;
        out->f64 = tr->history;
    } else {
        k = i - np - 2;
        out->name = c->best_name[k];
        out->rank = 1;
        out->dims[0] = m->param_floats;
        out->dtype = rt_real_dtype();
        out->real = tr->block.best[k];
    }
}

static void rt_ckpt_columns(const RtTrainer *tr, char *buf, size_t size) {
    size_t o = 0;
    int k;
    for (k = 0; k < tr->n_logs; k++)
        o += (size_t)snprintf(buf + o, size - o, "%s,", tr->log_name[k]);
    snprintf(buf + o, size - o, "learning_rate");
}

static void rt_ckpt_cb_value(const RtCbState *s, int field, char *buf, size_t size) {
    switch (field) {
    case 0: snprintf(buf, size, "%.17g", s->best); break;
    case 1: snprintf(buf, size, "%d", s->wait); break;
    case 2: snprintf(buf, size, "%d", s->best_epoch); break;
    case 3: snprintf(buf, size, "%d", s->cooldown); break;
    default: snprintf(buf, size, "%d", s->has_best); break;
    }
}

/* Called every epoch: allocates nothing (SPEC: no allocation in the
** training loop). */
int rt_checkpoint_save(const RtTrainer *tr, const char *path) {
    RtCkptOut c;
    RtMeta meta;
    int i, f;
    c.tr = tr;
    meta.n = 0;
    for (i = 0; i < tr->plan.n_best; i++)
        snprintf(c.best_name[i], sizeof c.best_name[i], "nnc/best.%d", i);
    rt_train_meta(tr, &meta);
    rt_meta_str(&meta, "nnc_checkpoint", "1");
    rt_meta_fmt(&meta, "target_epochs", "%d", tr->epochs);
    rt_meta_fmt(&meta, "step", "%ld", tr->step);
    rt_meta_fmt(&meta, "stop", "%d", tr->stop);
    rt_meta_fmt(&meta, "stopped_epoch", "%d", tr->stopped_epoch);
    rt_meta_fmt(&meta, "callbacks", "%d", tr->m->n_callbacks);
    rt_ckpt_columns(tr, c.columns, sizeof c.columns);
    rt_meta_str(&meta, "history_columns", c.columns);
    for (i = 0; i < tr->m->n_callbacks; i++)
        for (f = 0; f < RT_CKPT_CB_FIELDS; f++) {
            snprintf(c.key[i][f], sizeof c.key[i][f], "callback.%d.%s", i, rt_ckpt_cb_field[f]);
            rt_meta_str(&meta, c.key[i][f], "");
            rt_ckpt_cb_value(&tr->cb[i], f, meta.buf[meta.n - 1], sizeof meta.buf[0]);
            meta.value[meta.n - 1] = meta.buf[meta.n - 1];
        }
    return rt_st_write(path, tr->m->n_params + 2 + tr->plan.n_best, rt_ckpt_tensor, &c, &meta);
}

/* ---- reading ---- */

/* Every field is validated, naming the file and the key: a checkpoint is
** a file like any other, and its numbers drive loops and casts. */
static int rt_ckpt_bad(const RtStFile *f, const char *key, const char *s, const char *want) {
    if (s)
        rt_error("%s: checkpoint metadata \"%s\" is \"%.40s\"; expected %s", f->path, key, s, want);
    else
        rt_error("%s: checkpoint metadata \"%s\" is missing", f->path, key);
    return -1;
}

/* A number in [lo, hi] (inf allowed only when a bound is inf); never NaN. */
static int rt_ckpt_number(const RtStFile *f, const char *key, double lo, double hi, double *v) {
    const char *s = rt_st_meta(f, key);
    char *end, want[96];
    if (isinf(lo) && isinf(hi))
        snprintf(want, sizeof want, "a number");
    else if (hi >= DBL_MAX)
        snprintf(want, sizeof want, "a finite number >= %g", lo);
    else
        snprintf(want, sizeof want, "a number in [%g, %g]", lo, hi);
    if (!s || !*s)
        return rt_ckpt_bad(f, key, s, want);
    errno = 0;
    *v = strtod(s, &end);
    if (*end || isnan(*v) || *v < lo || *v > hi || (errno == ERANGE && isfinite(*v) && *v != 0))
        return rt_ckpt_bad(f, key, s, want);
    return 0;
}

/* A decimal integer in [lo, hi]: no fraction, no exponent, no wrap. */
static int rt_ckpt_int(const RtStFile *f, const char *key, long lo, long hi, long *v) {
    const char *s = rt_st_meta(f, key);
    char want[96];
    snprintf(want, sizeof want, "an integer from %ld to %ld", lo, hi);
    if (!s || rt_parse_long(s, v) != 0 || *v < lo || *v > hi)
        return rt_ckpt_bad(f, key, s, want);
    return 0;
}

static int rt_ckpt_open(RtStFile *f, const char *path) {
    if (rt_st_open(f, path) != 0)
        return -1;
    if (!rt_st_meta(f, "nnc_checkpoint")) {
        rt_error("%s: not a checkpoint (no training state); use --load for weights", path);
        rt_st_close(f);
        return -1;
    }
    return 0;
}

/* Settings the run was started with, unless the command line says otherwise. */
int rt_checkpoint_settings(RtTrainer *tr, const char *path) {
    const RtOptions *o = tr->o;
    RtStFile f;
    const char *seed, *batch;
    long epochs, batch_size = 0;
    unsigned long long seed_value;
    char *end;
    int rc = -1;
    if (rt_ckpt_open(&f, path) != 0)
        return -1;
    seed = rt_st_meta(&f, "seed");
    batch = rt_st_meta(&f, "batch_size");
    if (rt_ckpt_int(&f, "target_epochs", 0, INT_MAX, &epochs) != 0)
        goto done;
    errno = 0;
    if (!seed || *seed < '0' || *seed > '9' || (seed_value = strtoull(seed, &end, 10), *end) ||
        errno == ERANGE) {
        rt_ckpt_bad(&f, "seed", seed, "a non-negative integer below 2^64");
        goto done;
    }
    if (!batch || (strcmp(batch, "all") != 0 &&
                   (rt_parse_long(batch, &batch_size) != 0 || batch_size < 1 || batch_size > INT_MAX))) {
        rt_ckpt_bad(&f, "batch_size", batch, "a positive integer or \"all\"");
        goto done;
    }
    if (!(o->set & RT_SET_SEED))
        tr->seed = (uint64_t)seed_value;
    if (!(o->set & RT_SET_BATCH))
        tr->batch_size = batch_size;
    if (!(o->set & RT_SET_EPOCHS))
        tr->epochs = (int)epochs;
    if (!(o->set & RT_SET_SPLIT) && !o->val) {
        double split;
        if (rt_ckpt_number(&f, "validation_split", 0, 1, &split) != 0)
            goto done;
        if (split >= 1) {
            rt_ckpt_bad(&f, "validation_split", rt_st_meta(&f, "validation_split"), "a number in [0, 1)");
            goto done;
        }
        tr->validation_split = split;
    }
    rc = 0;
done:
    rt_st_close(&f);
    return rc;
}

static int rt_ckpt_history(RtTrainer *tr, const RtStFile *f) {
    const RtStTensor *t = rt_st_find(f, "nnc/history");
    const char *cols = rt_st_meta(f, "history_columns");
    char want[RT_MAX_LOGS * (RT_NAME_MAX + 1) + 16];
    long dims[2];
    rt_ckpt_columns(tr, want, sizeof want);
    if (!cols || strcmp(cols, want) != 0) {
        rt_error("%s: the checkpoint logged %s; this run logs %s (give the same validation data)",
                 f->path, cols ? cols : "nothing", want);
        return -1;
    }
    dims[0] = t ? t->dims[0] : 0;
    dims[1] = tr->n_logs + 1;
    if (rt_st_expect(f, "nnc/history", RT_DT_F64, 2, dims, &t) != 0)
        return -1;
    if (dims[0] > tr->history_cap) {
        double *grown = realloc(tr->history, sizeof *grown * (size_t)(dims[0] * dims[1]));
        rt_heap_allocs++;
        if (!grown) {
            rt_error("%s: out of memory reading the history", f->path);
            return -1;
        }
        tr->history = grown;
        tr->history_cap = (int)dims[0];
    }
    rt_st_read_f64(f, t, tr->history);
    tr->history_rows = (int)dims[0];
    return 0;
}

static int rt_ckpt_tensors(RtTrainer *tr, const RtStFile *f) {
    const NncModel *m = tr->m;
    const RtStTensor *t;
    long dims[1];
    int i;
    char name[24];
    if (rt_st_load_params(f, m, tr->block.params) != 0)
        return -1;
    dims[0] = m->opt_floats;
    if (rt_st_expect(f, "nnc/optimizer", rt_real_dtype(), 1, dims, &t) != 0 ||
        rt_st_check_finite(f, t) != 0)
        return -1;
    if (tr->block.opt)
        rt_st_read_real(f, t, tr->block.opt);
    dims[0] = m->param_floats;
    for (i = 0; i < tr->plan.n_best; i++) {
        snprintf(name, sizeof name, "nnc/best.%d", i);
        if (rt_st_expect(f, name, rt_real_dtype(), 1, dims, &t) != 0 || rt_st_check_finite(f, t) != 0)
            return -1;
        rt_st_read_real(f, t, tr->block.best[i]);
    }
    return rt_ckpt_history(tr, f);
}

static int rt_ckpt_callbacks(RtTrainer *tr, const RtStFile *f) {
    long n, v[RT_CKPT_CB_FIELDS];
    double best;
    char key[48];
    int i, k;
    if (rt_ckpt_int(f, "callbacks", 0, RT_MAX_CALLBACKS, &n) != 0)
        return -1;
    if (n != tr->m->n_callbacks) {
        rt_error("%s: the checkpoint has %ld callbacks, this model %d", f->path, n,
                 tr->m->n_callbacks);
        return -1;
    }
    for (i = 0; i < tr->m->n_callbacks; i++) {
        snprintf(key, sizeof key, "callback.%d.best", i);
        if (rt_ckpt_number(f, key, -HUGE_VAL, HUGE_VAL, &best) != 0)
            return -1;
        for (k = 1; k < RT_CKPT_CB_FIELDS; k++) {
            snprintf(key, sizeof key, "callback.%d.%s", i, rt_ckpt_cb_field[k]);
            if (rt_ckpt_int(f, key, 0, k == 4 ? 1 : INT_MAX, &v[k]) != 0)
                return -1;
        }
        tr->cb[i].best = best;
        tr->cb[i].wait = (int)v[1];
        tr->cb[i].best_epoch = (int)v[2];
        tr->cb[i].cooldown = (int)v[3];
        tr->cb[i].has_best = (int)v[4];
    }
    return 0;
}

int rt_checkpoint_load(RtTrainer *tr, const char *path) {
    RtStFile f;
    long epoch, step, stop, stopped;
    double lr;
    int rc = -1;
    if (rt_ckpt_open(&f, path) != 0)
        return -1;
    if (rt_ckpt_tensors(tr, &f) != 0 || rt_ckpt_callbacks(tr, &f) != 0 ||
        rt_ckpt_int(&f, "epochs", 0, INT_MAX, &epoch) != 0 ||
        rt_ckpt_int(&f, "step", 0, LONG_MAX, &step) != 0 ||
        rt_ckpt_int(&f, "stop", 0, 1, &stop) != 0 ||
        rt_ckpt_int(&f, "stopped_epoch", 0, INT_MAX, &stopped) != 0 ||
        rt_ckpt_number(&f, "learning_rate", 0, DBL_MAX, &lr) != 0)
        goto done;
    tr->epoch = (int)epoch;
    tr->step = step;
    tr->stop = (int)stop;
    tr->stopped_epoch = (int)stopped;
    if (!(tr->o->set & RT_SET_LR))
        tr->lr = lr;
    rc = 0;
done:
    rt_st_close(&f);
    return rc;
}
