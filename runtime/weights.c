/*
** weights.c — a model's weight files (SPEC 3 Weights): its parameters by
** the names of the parameter table, and metadata saying which model, which
** compiler and which settings produced them.
*/
#include "runtime.h"

#include <string.h>

void rt_meta_model(RtMeta *meta, const NncModel *m) {
    rt_meta_str(meta, "nnc_model", m->name);
    rt_meta_str(meta, "nnc_signature", m->signature);
    rt_meta_str(meta, "nnc_version", m->nnc_version);
    rt_meta_str(meta, "nnc_source_sha256", m->source_sha256);
    rt_meta_str(meta, "nnc_dtype", rt_dtype_name(rt_real_dtype()));
}

typedef struct RtWeightsOut {
    const NncModel *m;
    const nnc_real *params;
} RtWeightsOut;

static void rt_weights_tensor(const void *ctx, int i, RtTensorOut *out) {
    const RtWeightsOut *w = ctx;
    const NncParam *p = &w->m->params[i];
    int k;
    out->name = p->name;
    out->rank = p->rank;
    for (k = 0; k < p->rank; k++)
        out->dims[k] = p->dims[k];
    out->dtype = rt_real_dtype();
    out->real = w->params + p->offset;
}

int rt_weights_save(const char *path, const NncModel *m, const nnc_real *params,
                    const RtMeta *meta) {
    RtWeightsOut w;
    RtMeta own;
    w.m = m;
    w.params = params;
    if (!meta) {
        own.n = 0;
        rt_meta_model(&own, m);
        meta = &own;
    }
    return rt_st_write(path, m->n_params, rt_weights_tensor, &w, meta);
}

int rt_st_expect(const RtStFile *f, const char *name, int dtype, int rank, const long *dims,
                 const RtStTensor **out) {
    const RtStTensor *t = rt_st_find(f, name);
    char want[160], have[160];
    int k, same;
    rt_format_shape(want, sizeof want, rank, dims);
    if (!t) {
        rt_error("%s: tensor \"%s\" is missing; this model expects %s", f->path, name, want);
        return -1;
    }
    if (t->dtype != dtype) {
        rt_error("%s: tensor \"%s\" has dtype %s, this model expects %s", f->path, name,
                 t->dtype_name, rt_dtype_name(dtype));
        return -1;
    }
    same = t->rank == rank;
    for (k = 0; same && k < rank; k++)
        same = t->dims[k] == dims[k];
    if (!same) {
        rt_format_shape(have, sizeof have, t->rank, t->dims);
        rt_error("%s: tensor \"%s\" has shape %s, this model expects %s", f->path, name, have,
                 want);
        return -1;
    }
    if (out)
        *out = t;
    return 0;
}

static int rt_weights_known(const NncModel *m, const char *name) {
    int i;
    if (strncmp(name, "nnc/", 4) == 0)
        return 1; /* checkpoint state, see checkpoint.c */
    for (i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return 1;
    return 0;
}

/* SPEC 3: a file of another model fails with its first difference. */
int rt_st_load_params(const RtStFile *f, const NncModel *m, nnc_real *params) {
    const char *sig = rt_st_meta(f, "nnc_signature");
    const RtStTensor *t;
    int i, k;
    for (i = 0; i < m->n_params; i++) {
        const NncParam *p = &m->params[i];
        long dims[NNC_MAX_RANK];
        for (k = 0; k < p->rank; k++)
            dims[k] = p->dims[k];
        if (rt_st_expect(f, p->name, rt_real_dtype(), p->rank, dims, &t) != 0 ||
            rt_st_check_finite(f, t) != 0)
            return -1;
    }
    for (i = 0; i < f->n_tensors; i++)
        if (!rt_weights_known(m, f->tensors[i].name)) {
            rt_error("%s: tensor \"%s\" is not a parameter of this model", f->path,
                     f->tensors[i].name);
            return -1;
        }
    if (sig && m->signature && strcmp(sig, m->signature) != 0) {
        rt_error("%s: made for another model (signature %s, this model's is %s)", f->path, sig,
                 m->signature);
        return -1;
    }
    for (i = 0; i < m->n_params; i++)
        rt_st_read_real(f, rt_st_find(f, m->params[i].name), params + m->params[i].offset);
    return 0;
}

int rt_weights_load(const char *path, const NncModel *m, nnc_real *params) {
    RtStFile f;
    int rc;
    if (rt_st_open(&f, path) != 0)
        return -1;
    rc = rt_st_load_params(&f, m, params);
    rt_st_close(&f);
    return rc;
}
