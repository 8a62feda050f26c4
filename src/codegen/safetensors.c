/*
** safetensors.c — trained weights for --emit=infer (SPEC 4), read with the
** runtime's own reader (runtime/safetensors.c, linked into nnc), so the
** compiler accepts exactly the files the trainer writes. Checked against
** the model: every parameter present with its shape, nothing else but
** checkpoint state.
*/
#include "codegen.h"

#include <string.h>

#include "runtime.h"

static bool expect_tensor(const RtStFile *f, const IrParam *p) {
    const RtStTensor *t = rt_st_find(f, p->name);
    char want[160], have[160];
    shape_format(p->shape, want, sizeof want);
    if (!t) {
        fprintf(stderr, "nnc: %s: no tensor \"%s\"; the model expects one of shape %s\n", f->path,
                p->name, want);
        return false;
    }
    if (t->dtype != RT_DT_F32 && t->dtype != RT_DT_F64) {
        fprintf(stderr, "nnc: %s: tensor \"%s\" has dtype %s; expected F32 or F64\n", f->path, p->name,
                t->dtype_name);
        return false;
    }
    bool same = t->rank == p->shape.rank;
    for (int d = 0; same && d < t->rank; d++) same = t->dims[d] == p->shape.dim[d];
    if (!same) {
        rt_format_shape(have, sizeof have, t->rank, t->dims);
        fprintf(stderr, "nnc: %s: tensor \"%s\" has shape %s; the model expects %s\n", f->path, p->name,
                have, want);
        return false;
    }
    return true;
}

static bool known(const IrModule *m, const char *name) {
    if (!strncmp(name, "nnc/", 4)) return true; /* a checkpoint's optimizer state */
    for (int i = 0; i < m->params.len; i++)
        if (!strcmp(m->params.items[i].name, name)) return true;
    return false;
}

bool cg_weights_read(Arena *a, const char *path, const IrModule *m, CgWeights *w) {
    RtStFile f;
    if (rt_st_open(&f, path) != 0) return false;
    bool ok = true;
    for (int i = 0; ok && i < m->params.len; i++) ok = expect_tensor(&f, &m->params.items[i]);
    for (int i = 0; ok && i < f.n_tensors; i++)
        if (!known(m, f.tensors[i].name)) {
            fprintf(stderr, "nnc: %s: tensor \"%s\" is not a parameter of model %s\n", path,
                    f.tensors[i].name, m->name);
            ok = false;
        }
    w->values = ARENA_ARRAY(a, double *, m->params.len + 1);
    w->dtype = "F32";
    for (int i = 0; ok && i < m->params.len; i++) {
        const RtStTensor *t = rt_st_find(&f, m->params.items[i].name);
        w->values[i] = ARENA_ARRAY(a, double, shape_numel(m->params.items[i].shape) + 1);
        rt_st_read_f64(&f, t, w->values[i]);
        if (t->dtype == RT_DT_F64) w->dtype = "F64";
    }
    rt_st_close(&f);
    return ok;
}
