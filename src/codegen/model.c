/*
** model.c — a model as the printers read it (model.h): the kernels lowered
** once, and the descriptor with the figures only the kernels know (scratch
** sizes, FLOP counts). Every output of nnc that is code starts here.
*/
#include "codegen.h"

#include <string.h>

static CgModel *model_new(Arena *a, const IrModule *m, const CgOptions *o, CgLayout *layout) {
    CgModel *cm = ARENA_NEW(a, CgModel);
    cm->arena = a;
    cm->o = o;
    cm->prefix = cg_ident(a, m->name, "model");
    *layout = cg_layout(a, m);
    cg_descriptor_data(a, m, layout, o, &cm->desc);
    for (int i = 0; i < cm->desc.n_params; i++) cm->param_count += cm->desc.params[i].size;
    return cm;
}

/* What the caller of a row kernel provides, and what each kernel computes. */
static void kernel_figures(CgModel *cm) {
    NncModel *d = &cm->desc;
    for (int kind = 0; kind < 5; kind++) {
        const LoopKernel *k = cm->kernel[kind];
        if (!k) continue;
        loops_flops(k, &d->flops[2 * kind], &d->flops[2 * kind + 1]);
        d->update_whole_range |= k->whole_range;
        if (k->scratch_fixed > d->scratch_fixed) d->scratch_fixed = k->scratch_fixed;
        if (k->scratch_per_row > d->scratch_per_row) d->scratch_per_row = k->scratch_per_row;
    }
}

CgModel *cg_model(Arena *a, const IrModule *m, const CgOptions *o) {
    CgLayout layout;
    CgModel *cm = model_new(a, m, o, &layout);
    CgLowerOptions lo = {.unroll = o->unroll, .f64 = o->f64};
    if (!cg_lower_model(a, m, &layout, cm->prefix, &lo, cm->kernel)) return NULL;
    kernel_figures(cm);
    return cm;
}

CgModel *cg_model_infer(Arena *a, const IrModule *m, const CgOptions *o) {
    if (!o->weights || !m->predict) {
        fprintf(stderr, "nnc: internal error: inference code without weights or a predict function\n");
        return NULL;
    }
    CgLayout layout;
    CgModel *cm = model_new(a, m, o, &layout);
    bool *used = ARENA_ARRAY(a, bool, m->params.len + 1);
    bool *baked;
    double **values;
    if (!cg_fold_weights(a, m, &layout, o, &baked, &values)) return NULL;
    CgLowerOptions lo = {.unroll = o->unroll, .f64 = o->f64, .infer = true, .baked = baked,
                         .baked_values = values, .params_used = used};
    const char *name = arena_printf(a, "%s_rows", cm->prefix);
    cm->kernel[LK_PREDICT] = cg_lower(a, m->predict, CG_PREDICT, &layout, name, &lo);
    if (!cm->kernel[LK_PREDICT]) return NULL;
    cm->infer = true;
    cm->params_used = used;
    kernel_figures(cm);
    return cm;
}
