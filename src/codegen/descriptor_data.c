/*
** descriptor_data.c — the data of a model's NncModel (runtime/nnc_abi.h),
** collected once from the IR module and the layout for both backends. This
** is the one producer of a descriptor: the LLVM backend hands the struct
** itself to the runtime linked into nnc (`nnc run`) or prints it as LLVM
** constants (llvm/globals.c, --emit=obj); the C backend prints it as C
** text (c/descriptor.c). Neither rebuilds it from the IR.
**
** Everything but the kernels, their scratch and their FLOP counts is
** filled here (model.c adds those); the tables and strings live in the
** arena. The kernels' pointers are the printers' (JIT addresses, LLVM
** functions, C names).
*/
#include "codegen.h"

#include <string.h>

#include "nnc_abi.h"

/* The ABI's enums mirror ir.h's by value; the descriptor holds the IR's. */
_Static_assert(NNC_INIT_LECUN_NORMAL == (int)INIT_LECUN_NORMAL && NNC_INIT_CONSTANT == (int)INIT_CONSTANT,
               "InitKind and NNC_INIT_* differ");
_Static_assert(NNC_LOSS_CUSTOM == (int)LOSS_CUSTOM && NNC_LOSS_KLD == (int)LOSS_KLD,
               "LossKind and NNC_LOSS_* differ");
_Static_assert(NNC_OPT_ADAMW == (int)OPT_ADAMW && NNC_OPT_ADAM == (int)OPT_ADAM, "OptKind and NNC_OPT_* differ");
_Static_assert(NNC_MET_RECALL == (int)MET_RECALL && NNC_MET_MAE == (int)MET_MAE,
               "MetricKind and NNC_MET_* differ");
_Static_assert(NNC_CB_REDUCE_LR_ON_PLATEAU == (int)CB_REDUCE_LR_ON_PLATEAU, "CallbackKind differs");
_Static_assert(NNC_MODE_MAX == (int)MODE_MAX, "MonitorMode differs");
_Static_assert(NNC_ROLE_NORM_VARIANCE == (int)ROLE_NORM_VARIANCE, "ParamRole differs");

static void dims(int *out, Shape s) {
    for (int i = 0; i < s.rank; i++) out[i] = s.dim[i];
}

static NncParam *params(Arena *a, const IrModule *m, const CgLayout *l) {
    NncParam *t = ARENA_ARRAY(a, NncParam, m->params.len + 1);
    for (int i = 0; i < m->params.len; i++) {
        const IrParam *p = &m->params.items[i];
        t[i] = (NncParam){.name = p->name, .rank = p->shape.rank, .offset = l->param_off[i],
                          .size = (long)shape_numel(p->shape), .init = (int)p->init.kind,
                          .init_a = p->init.a, .init_b = p->init.b, .role = (int)p->role,
                          .trainable = p->trainable};
        dims(t[i].dims, p->shape);
        cg_fans(p->shape, &t[i].fan_in, &t[i].fan_out);
    }
    return t;
}

static NncLayer *layers(Arena *a, const IrModule *m) {
    NncLayer *t = ARENA_ARRAY(a, NncLayer, m->layers.len + 1);
    for (int i = 0; i < m->layers.len; i++) {
        const IrLayer *l = &m->layers.items[i];
        t[i] = (NncLayer){.name = l->name, .kind = l->kind, .rank = l->out.rank, .params = (long)l->nparams};
        dims(t[i].dims, l->out);
    }
    return t;
}

static NncCallback *callbacks(Arena *a, const IrModule *m) {
    NncCallback *t = ARENA_ARRAY(a, NncCallback, m->fit.callbacks.len + 1);
    for (int i = 0; i < m->fit.callbacks.len; i++) {
        const IrCallback *c = &m->fit.callbacks.items[i];
        t[i] = (NncCallback){.kind = (int)c->kind, .monitor = c->monitor, .mode = (int)c->mode,
                             .min_delta = c->min_delta, .factor = c->factor, .min_lr = c->min_lr,
                             .patience = c->patience, .restore_best_weights = c->restore_best_weights,
                             .save_best_only = c->save_best_only, .path = c->path};
    }
    return t;
}

static void metrics(Arena *a, const IrModule *m, NncModel *d) {
    int n = m->metrics.len;
    int *kinds = ARENA_ARRAY(a, int, n + 1);
    const char **names = ARENA_ARRAY(a, const char *, n + 1);
    for (int i = 0; i < n; i++) {
        kinds[i] = (int)cg_metric(m, m->metrics.items[i]);
        names[i] = ir_metric_name(m->metrics.items[i]); /* as the user wrote it */
    }
    d->n_metrics = n;
    d->metrics = n ? kinds : NULL;
    d->metric_names = n ? names : NULL;
}

void cg_descriptor_data(Arena *a, const IrModule *m, const CgLayout *l, const CgOptions *o, NncModel *d) {
    memset(d, 0, sizeof *d);
    d->abi_version = NNC_ABI_VERSION;
    d->name = m->name;
    d->nnc_version = NNC_VERSION;
    d->source_sha256 = o->source_sha256 ? o->source_sha256 : "";
    d->signature = l->signature;
    d->real_bytes = o->f64 ? 8 : 4;
    d->input_rank = m->input_shape.rank;
    dims(d->input_dims, m->input_shape);
    d->n_inputs = (long)shape_numel(m->input_shape);
    d->output_rank = m->output_shape.rank;
    dims(d->output_dims, m->output_shape);
    d->n_outputs = (long)shape_numel(m->output_shape);
    d->target_kind = l->target_kind;
    d->target_width = l->target_width;
    d->n_params = m->params.len;
    d->params = m->params.len ? params(a, m, l) : NULL;
    d->param_floats = l->param_floats;
    d->opt_floats = l->opt_floats;
    d->n_layers = m->layers.len;
    d->layers = m->layers.len ? layers(a, m) : NULL;
    d->loss = (int)m->loss;
    d->optimizer = (int)m->optimizer.kind;
    d->learning_rate = m->optimizer.learning_rate;
    metrics(a, m, d);
    d->epochs = m->fit.epochs;
    d->batch_size = m->fit.batch_size;
    d->validation_split = m->fit.validation_split;
    d->shuffle = m->fit.shuffle;
    d->seed = m->fit.seed;
    d->verbose = m->fit.verbose;
    d->n_callbacks = m->fit.callbacks.len;
    d->callbacks = m->fit.callbacks.len ? callbacks(a, m) : NULL;
}
