/*
** globals.c — --emit=obj's descriptor: the NncModel that
** the model's descriptor (model.h), written as LLVM constants
** (<model>_model and its private tables), and the entry points
** int <model>_main(int argc, char **argv) and, for --emit=exe, main.
**
** The struct types below mirror runtime/nnc_abi.h field by field; LLVM
** lays a non-packed struct out as the C compiler does on the same target,
** which tests/test_llvm.c checks against offsetof.
*/
#include "llgen.h"

#include <string.h>

#include "nnc_abi.h"

typedef struct Types {
    LLVMTypeRef i8p, lng, dims, param, layer, callback, model;
    LLVMTypeRef kernel[5]; /* pointers to the ABI's function types */
} Types;

static LLVMTypeRef named(LlFile *lf, const char *name, LLVMTypeRef *fields, unsigned n) {
    LLVMTypeRef t = LLVMGetTypeByName2(lf->ctx, name);
    if (t) return t;
    t = LLVMStructCreateNamed(lf->ctx, name);
    LLVMStructSetBody(t, fields, n, false);
    return t;
}

static void kernel_types(LlFile *lf, Types *t) {
    LLVMTypeRef p = lf->ptr, i32 = lf->i32, i64 = lf->i64, d = lf->dbl;
    LLVMTypeRef predict[] = {p, p, p, p, i32};
    LLVMTypeRef train[] = {p, p, p, p, p, i32, d, i64, i64, p};
    LLVMTypeRef reg[] = {p, p};
    LLVMTypeRef update[] = {p, p, p, i64, d, i64, i64};
    LLVMTypeRef eval[] = {p, p, p, p, i32, p};
    t->kernel[LK_PREDICT] = LLVMPointerType(LLVMFunctionType(lf->voidt, predict, 5, false), 0);
    t->kernel[LK_TRAIN] = LLVMPointerType(LLVMFunctionType(d, train, 10, false), 0);
    t->kernel[LK_REGULARIZE] = LLVMPointerType(LLVMFunctionType(d, reg, 2, false), 0);
    t->kernel[LK_UPDATE] = LLVMPointerType(LLVMFunctionType(lf->voidt, update, 7, false), 0);
    t->kernel[LK_EVAL] = LLVMPointerType(LLVMFunctionType(d, eval, 6, false), 0);
}

static Types types(LlFile *lf) {
    Types t;
    LLVMTypeRef i32 = lf->i32, d = lf->dbl;
    t.i8p = LLVMPointerType(LLVMInt8TypeInContext(lf->ctx), 0);
    t.lng = LLVMIntTypeInContext(lf->ctx, 8 * sizeof(long));
    t.dims = LLVMArrayType(i32, NNC_MAX_RANK);
    LLVMTypeRef l = t.lng, s = t.i8p, dm = t.dims;
    LLVMTypeRef param[] = {s, i32, dm, l, l, i32, d, d, l, l, i32, i32};
    t.param = named(lf, "struct.NncParam", param, 12);
    LLVMTypeRef layer[] = {s, s, i32, dm, l};
    t.layer = named(lf, "struct.NncLayer", layer, 5);
    LLVMTypeRef cb[] = {i32, s, i32, d, d, d, i32, i32, i32, s};
    t.callback = named(lf, "struct.NncCallback", cb, 10);
    kernel_types(lf, &t);
    LLVMTypeRef pp = LLVMPointerType(t.param, 0), lp = LLVMPointerType(t.layer, 0);
    LLVMTypeRef ip = LLVMPointerType(i32, 0), cp = LLVMPointerType(t.callback, 0);
    LLVMTypeRef model[] = {
        i32, s, s, s, s, i32,                       /* abi_version .. real_bytes */
        i32, dm, l, i32, dm, l, i32, l,             /* input .. target_width */
        i32, pp, l, l, l, l,                        /* n_params .. scratch_fixed */
        i32, lp, i32, i32, d, i32, ip,              /* n_layers .. metrics */
        i32, i32, d, i32, LLVMInt64TypeInContext(lf->ctx), i32, i32, cp, /* epochs .. callbacks */
        t.kernel[LK_PREDICT], t.kernel[LK_TRAIN], t.kernel[LK_REGULARIZE], t.kernel[LK_UPDATE],
        t.kernel[LK_EVAL], LLVMPointerType(s, 0), LLVMArrayType(d, 10), i32};
    t.model = named(lf, "struct.NncModel", model, sizeof model / sizeof *model);
    return t;
}

LLVMTypeRef ll_model_type(LlFile *lf) {
    return types(lf).model;
}

/* ---- constants ---- */

static LLVMValueRef i32c(LlFile *lf, int v) {
    return ll_i32(lf, v);
}

static LLVMValueRef lngc(const Types *t, long v) {
    return LLVMConstInt(t->lng, (unsigned long long)v, true);
}

static LLVMValueRef dblc(LlFile *lf, double v) {
    return LLVMConstReal(lf->dbl, v);
}

/* A private array global and a pointer to its first element (NULL when
** there are no elements, as the C descriptor writes it). */
static LLVMValueRef table(LlFile *lf, LLVMTypeRef elem, LLVMValueRef *v, int n, const char *name) {
    if (n == 0) return LLVMConstNull(LLVMPointerType(elem, 0));
    LLVMTypeRef type = LLVMArrayType(elem, (unsigned)n);
    LLVMValueRef g = LLVMAddGlobal(lf->mod, type, name);
    LLVMSetInitializer(g, LLVMConstArray(elem, v, (unsigned)n));
    LLVMSetGlobalConstant(g, true);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMValueRef zero[2] = {ll_i64(lf, 0), ll_i64(lf, 0)};
    return LLVMConstInBoundsGEP2(type, g, zero, 2);
}

static LLVMValueRef str(LlFile *lf, const Types *t, const char *s) {
    if (!s) return LLVMConstNull(t->i8p);
    LLVMValueRef init = LLVMConstStringInContext(lf->ctx, s, (unsigned)strlen(s), false);
    LLVMTypeRef type = LLVMTypeOf(init);
    LLVMValueRef g = LLVMAddGlobal(lf->mod, type, ".str");
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, true);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMValueRef zero[2] = {ll_i64(lf, 0), ll_i64(lf, 0)};
    return LLVMConstInBoundsGEP2(type, g, zero, 2);
}

static LLVMValueRef dims(LlFile *lf, const int *d) {
    LLVMValueRef v[NNC_MAX_RANK];
    for (int i = 0; i < NNC_MAX_RANK; i++) v[i] = i32c(lf, d[i]);
    return LLVMConstArray(lf->i32, v, NNC_MAX_RANK);
}

static LLVMValueRef param(LlFile *lf, const Types *t, const NncParam *p) {
    LLVMValueRef v[] = {str(lf, t, p->name), i32c(lf, p->rank), dims(lf, p->dims), lngc(t, p->offset),
                        lngc(t, p->size), i32c(lf, p->init), dblc(lf, p->init_a), dblc(lf, p->init_b),
                        lngc(t, p->fan_in), lngc(t, p->fan_out), i32c(lf, p->role), i32c(lf, p->trainable)};
    return LLVMConstNamedStruct(t->param, v, sizeof v / sizeof *v);
}

static LLVMValueRef layer(LlFile *lf, const Types *t, const NncLayer *l) {
    LLVMValueRef v[] = {str(lf, t, l->name), str(lf, t, l->kind), i32c(lf, l->rank), dims(lf, l->dims),
                        lngc(t, l->params)};
    return LLVMConstNamedStruct(t->layer, v, sizeof v / sizeof *v);
}

static LLVMValueRef callback(LlFile *lf, const Types *t, const NncCallback *c) {
    LLVMValueRef v[] = {i32c(lf, c->kind), str(lf, t, c->monitor), i32c(lf, c->mode), dblc(lf, c->min_delta),
                        dblc(lf, c->factor), dblc(lf, c->min_lr), i32c(lf, c->patience),
                        i32c(lf, c->restore_best_weights), i32c(lf, c->save_best_only), str(lf, t, c->path)};
    return LLVMConstNamedStruct(t->callback, v, sizeof v / sizeof *v);
}

typedef struct Tables {
    LLVMValueRef params, layers, metrics, metric_names, callbacks;
} Tables;

static Tables tables(LlFile *lf, const Types *t, const NncModel *d) {
    Arena *a = lf->arena;
    int most = d->n_params + d->n_layers + d->n_metrics + d->n_callbacks + 1;
    LLVMValueRef *v = ARENA_ARRAY(a, LLVMValueRef, most);
    Tables tb;
    const char *p = lf->prefix;
    for (int i = 0; i < d->n_params; i++) v[i] = param(lf, t, &d->params[i]);
    tb.params = table(lf, t->param, v, d->n_params, arena_printf(a, "%s_params", p));
    for (int i = 0; i < d->n_layers; i++) v[i] = layer(lf, t, &d->layers[i]);
    tb.layers = table(lf, t->layer, v, d->n_layers, arena_printf(a, "%s_layers", p));
    for (int i = 0; i < d->n_metrics; i++) v[i] = i32c(lf, d->metrics[i]);
    tb.metrics = table(lf, lf->i32, v, d->n_metrics, arena_printf(a, "%s_metrics", p));
    for (int i = 0; i < d->n_metrics; i++) v[i] = str(lf, t, d->metric_names[i]);
    tb.metric_names = table(lf, t->i8p, v, d->n_metrics, arena_printf(a, "%s_metric_names", p));
    for (int i = 0; i < d->n_callbacks; i++) v[i] = callback(lf, t, &d->callbacks[i]);
    tb.callbacks = table(lf, t->callback, v, d->n_callbacks, arena_printf(a, "%s_callbacks", p));
    return tb;
}

static LLVMValueRef kernel(LlFile *lf, const Types *t, LKernelKind kind) {
    LLVMValueRef fn = lf->kernel[kind];
    return fn ? LLVMConstBitCast(fn, t->kernel[kind]) : LLVMConstNull(t->kernel[kind]);
}

static LLVMValueRef flops(LlFile *lf, const double *f) {
    LLVMValueRef v[10];
    for (int i = 0; i < 10; i++) v[i] = dblc(lf, f[i]);
    return LLVMConstArray(lf->dbl, v, 10);
}

static LLVMValueRef model(LlFile *lf, const Types *t, const NncModel *d, const Tables *tb) {
    LLVMValueRef v[] = {
        i32c(lf, d->abi_version), str(lf, t, d->name), str(lf, t, d->nnc_version), str(lf, t, d->source_sha256),
        str(lf, t, d->signature), i32c(lf, d->real_bytes),
        i32c(lf, d->input_rank), dims(lf, d->input_dims), lngc(t, d->n_inputs),
        i32c(lf, d->output_rank), dims(lf, d->output_dims), lngc(t, d->n_outputs),
        i32c(lf, d->target_kind), lngc(t, d->target_width),
        i32c(lf, d->n_params), tb->params, lngc(t, d->param_floats), lngc(t, d->opt_floats),
        lngc(t, d->scratch_per_row), lngc(t, d->scratch_fixed),
        i32c(lf, d->n_layers), tb->layers, i32c(lf, d->loss), i32c(lf, d->optimizer), dblc(lf, d->learning_rate),
        i32c(lf, d->n_metrics), tb->metrics,
        i32c(lf, d->epochs), i32c(lf, d->batch_size), dblc(lf, d->validation_split), i32c(lf, d->shuffle),
        LLVMConstInt(lf->i64, d->seed, false), i32c(lf, d->verbose), i32c(lf, d->n_callbacks), tb->callbacks,
        kernel(lf, t, LK_PREDICT), kernel(lf, t, LK_TRAIN), kernel(lf, t, LK_REGULARIZE), kernel(lf, t, LK_UPDATE),
        kernel(lf, t, LK_EVAL), tb->metric_names, flops(lf, d->flops), i32c(lf, d->update_whole_range)};
    return LLVMConstNamedStruct(t->model, v, sizeof v / sizeof *v);
}

/* ---- entry points ---- */

/* int name(int argc, char **argv) { return nnc_main(&model, argc, argv); } */
static void entry(LlFile *lf, const Types *t, LLVMValueRef desc, const char *name) {
    LLVMTypeRef argv = LLVMPointerType(t->i8p, 0), args[3] = {LLVMPointerType(t->model, 0), lf->i32, argv};
    LLVMTypeRef main_type = LLVMFunctionType(lf->i32, args + 1, 2, false);
    LLVMValueRef nnc_main = LLVMGetNamedFunction(lf->mod, "nnc_main");
    if (!nnc_main) nnc_main = LLVMAddFunction(lf->mod, "nnc_main", LLVMFunctionType(lf->i32, args, 3, false));
    LLVMValueRef fn = ll_function(lf, name, main_type, true);
    LLVMPositionBuilderAtEnd(lf->b, LLVMAppendBasicBlockInContext(lf->ctx, fn, "entry"));
    LLVMValueRef call_args[3] = {desc, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1)};
    LLVMValueRef r = LLVMBuildCall2(lf->b, LLVMGetElementType(LLVMTypeOf(nnc_main)), nnc_main, call_args, 3, "");
    LLVMBuildRet(lf->b, r);
}

void ll_globals(LlFile *lf, bool with_main) {
    const NncModel *d = &lf->model->desc;
    Types t = types(lf);
    Tables tb = tables(lf, &t, d);
    LLVMValueRef g = LLVMAddGlobal(lf->mod, t.model, arena_printf(lf->arena, "%s_model", lf->prefix));
    LLVMSetInitializer(g, model(lf, &t, d, &tb));
    LLVMSetGlobalConstant(g, true);
    /* The kernels are reached through the descriptor only, like the C
    ** backend's static functions. */
    for (int i = 0; i < 5; i++)
        if (lf->kernel[i]) LLVMSetLinkage(lf->kernel[i], LLVMInternalLinkage);
    entry(lf, &t, g, arena_printf(lf->arena, "%s_main", lf->prefix));
    if (with_main) entry(lf, &t, g, "main");
}
