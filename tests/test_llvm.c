/*
** test_llvm.c — the LLVM backend's pieces: the in-memory descriptor that
** both backends share (descriptor_data.c) and the one the JIT hands to the
** runtime, the LLVM struct types laid out as the C compiler lays out
** nnc_abi.h, module verification (a sound module passes, a broken one is
** caught), and the emitted forms (.ll, bitcode, ELF object). Whole models
** are tested end to end by tests/llvm.sh.
*/
#include <criterion/criterion.h>
#include <llvm-c/Target.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "codegen/llvm/llgen.h"
#include "frontend/frontend.h"
#include "nnc_abi.h"

static Arena *arena;

static void setup(void) {
    arena = arena_new();
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(llvm, .init = setup, .fini = teardown);

static IrModule *compile(const char *src) {
    Diag d;
    diag_init(&d, "t.nn", src, strlen(src), stderr);
    d.no_warnings = true;
    Program *p = parse_program(arena, &d);
    IrModule *m = p && !diag_failed(&d) ? sema_check(arena, &d, p) : NULL;
    cr_assert(m, "the test model compiles");
    ir_build_training(m, 2);
    return m;
}

/* A regularizer, dropout, metrics and a callback: every table filled. */
static const char *const tiny =
    "model tiny {\n"
    "    input x[4]\n"
    "    dense(8, relu, kernel_regularizer = l2(0.01))\n"
    "    dropout(0.25)\n"
    "    dense(3, softmax)\n"
    "}\n"
    "compile {\n"
    "    loss = sparse_categorical_crossentropy\n"
    "    optimizer = adam(learning_rate = 0.01)\n"
    "    metrics = [accuracy, mae]\n"
    "}\n"
    "fit {\n"
    "    epochs = 3\n"
    "    batch_size = 8\n"
    "    seed = 5\n"
    "    callbacks = [early_stopping(monitor = val_loss, patience = 2)]\n"
    "}\n";

static const char *const plain =
    "model plain {\n    input x[2]\n    dense(1)\n}\ncompile {\n    loss = mse\n    optimizer = sgd\n}\n";

/* ---- descriptor_data.c ---- */

Test(llvm, descriptor_data_fills_every_table) {
    IrModule *m = compile(tiny);
    CgLayout l = cg_layout(arena, m);
    CgOptions o = {.source_sha256 = "abc", .unroll = -1};
    CgModel *cm = cg_model(arena, m, &o);
    cr_assert(cm);
    NncModel d = cm->desc;
    long fixed = 0, per_row = 0;
    for (int k = LK_PREDICT; k <= LK_EVAL; k++) {
        fixed = cm->kernel[k]->scratch_fixed > fixed ? cm->kernel[k]->scratch_fixed : fixed;
        per_row = cm->kernel[k]->scratch_per_row > per_row ? cm->kernel[k]->scratch_per_row : per_row;
    }
    cr_expect_eq(d.abi_version, NNC_ABI_VERSION);
    cr_expect_str_eq(d.name, "tiny");
    cr_expect_str_eq(d.source_sha256, "abc");
    cr_expect_str_eq(d.signature, l.signature);
    cr_expect_eq(d.real_bytes, 4);
    cr_expect_eq(d.n_inputs, 4);
    cr_expect_eq(d.n_outputs, 3);
    cr_expect_eq(d.output_dims[0], 3);
    cr_expect_eq(d.target_kind, NNC_TARGET_CLASS_INDEX);
    cr_expect_eq(d.target_width, 1);
    cr_expect_eq(d.n_params, m->params.len);
    for (int i = 0; i < d.n_params; i++) {
        cr_expect_str_eq(d.params[i].name, m->params.items[i].name);
        cr_expect_eq(d.params[i].offset, l.param_off[i]);
        cr_expect_eq(d.params[i].size, shape_numel(m->params.items[i].shape));
    }
    cr_expect_str_eq(d.params[0].name, "dense_1.kernel");
    cr_expect_eq(d.params[0].fan_in, 4);
    cr_expect_eq(d.params[0].fan_out, 8);
    cr_expect_eq(d.param_floats, l.param_floats);
    cr_expect_eq(d.opt_floats, l.opt_floats);
    cr_expect_eq(d.scratch_fixed, fixed);
    cr_expect_eq(d.scratch_per_row, per_row);
    cr_expect(per_row > 0);
    cr_expect_eq(d.n_layers, m->layers.len);
    cr_expect_eq(d.loss, NNC_LOSS_SPARSE_CATEGORICAL_CE);
    cr_expect_eq(d.optimizer, NNC_OPT_ADAM);
    cr_expect_eq(d.learning_rate, 0.01);
    cr_expect_eq(d.n_metrics, 2);
    cr_expect_eq(d.metrics[0], NNC_MET_SPARSE_CATEGORICAL_ACCURACY, "accuracy resolved from the loss");
    cr_expect_str_eq(d.metric_names[0], "accuracy", "as the user wrote it");
    cr_expect_eq(d.metrics[1], NNC_MET_MAE);
    cr_expect_eq(d.epochs, 3);
    cr_expect_eq(d.batch_size, 8);
    cr_expect_eq(d.seed, 5);
    cr_expect_eq(d.n_callbacks, 1);
    cr_expect_eq(d.callbacks[0].kind, NNC_CB_EARLY_STOPPING);
    cr_expect_str_eq(d.callbacks[0].monitor, "val_loss");
    cr_expect_eq(d.callbacks[0].patience, 2);
    cr_expect_null(d.predict, "kernels are the backend's to set");
    cr_expect(d.flops[2 * LK_TRAIN + 1] > 0, "FLOPs counted on the loops");
}

Test(llvm, descriptor_data_empty_tables_are_null) {
    IrModule *m = compile(plain);
    CgLayout l = cg_layout(arena, m);
    CgOptions o = {.f64 = true, .unroll = -1};
    NncModel d;
    cg_descriptor_data(arena, m, &l, &o, &d);
    cr_expect_eq(d.real_bytes, 8);
    cr_expect_str_eq(d.source_sha256, "");
    cr_expect_eq(d.n_metrics, 0);
    cr_expect_null(d.metrics);
    cr_expect_null(d.metric_names);
    cr_expect_eq(d.n_callbacks, 0);
    cr_expect_null(d.callbacks);
}

/* ---- the JIT's descriptor ---- */

Test(llvm, jit_descriptor_has_the_kernels_and_runs_them) {
    IrModule *m = compile(tiny);
    CgOptions o = {.unroll = -1};
    CgJit *j = cg_llvm_jit(cg_model(arena, m, &o));
    cr_assert(j, "the JIT compiles the model");
    const NncModel *d = cg_llvm_jit_model(j);
    cr_expect_str_eq(d->name, "tiny");
    cr_expect(d->predict && d->forward_backward && d->eval_loss && d->update);
    cr_expect(d->regularize, "l2 gives a regularize kernel");
    /* predict against the interpreter, in f32 */
    enum { ROWS = 5 };
    float *params = calloc((size_t)d->param_floats, sizeof *params);
    float *scratch = calloc((size_t)(d->scratch_fixed + ROWS * d->scratch_per_row), sizeof *scratch);
    float x[ROWS * 4], y[ROWS * 3];
    double xd[ROWS * 4], want[ROWS * 3];
    double **pv = calloc((size_t)m->params.len, sizeof *pv);
    for (long i = 0; i < d->param_floats; i++) params[i] = (float)(0.1 * (double)(i % 11) - 0.4);
    for (int i = 0; i < m->params.len; i++) {
        long n = d->params[i].size;
        pv[i] = calloc((size_t)n, sizeof **pv);
        for (long e = 0; e < n; e++) pv[i][e] = params[d->params[i].offset + e];
    }
    for (int i = 0; i < ROWS * 4; i++) xd[i] = x[i] = (float)(0.25 * (double)(i % 9) - 1);
    IrEnv env = {.rows = ROWS, .input = xd, .params = pv, .grad_scale = 1, .pred_out = want};
    char err[256];
    cr_assert(ir_interp(m->predict, &env, err, sizeof err), "%s", err);
    d->predict(params, scratch, x, y, ROWS);
    for (int i = 0; i < ROWS * 3; i++) cr_expect(fabs(y[i] - want[i]) < 1e-5, "y[%d] = %g, want %g", i, y[i], want[i]);
    for (int i = 0; i < m->params.len; i++) free(pv[i]);
    free(pv);
    free(params);
    free(scratch);
    cg_llvm_jit_free(j);
}

Test(llvm, jit_without_regularizer_has_no_regularize) {
    IrModule *m = compile(plain);
    CgOptions o = {.unroll = -1};
    CgJit *j = cg_llvm_jit(cg_model(arena, m, &o));
    cr_assert(j);
    cr_expect_null(cg_llvm_jit_model(j)->regularize);
    cg_llvm_jit_free(j);
}

/* ---- the struct types against the C compiler's layout ---- */

Test(llvm, model_type_matches_nnc_abi_h) {
    static const size_t offsets[] = {
        offsetof(NncModel, abi_version), offsetof(NncModel, name), offsetof(NncModel, nnc_version),
        offsetof(NncModel, source_sha256), offsetof(NncModel, signature), offsetof(NncModel, real_bytes),
        offsetof(NncModel, input_rank), offsetof(NncModel, input_dims), offsetof(NncModel, n_inputs),
        offsetof(NncModel, output_rank), offsetof(NncModel, output_dims), offsetof(NncModel, n_outputs),
        offsetof(NncModel, target_kind), offsetof(NncModel, target_width), offsetof(NncModel, n_params),
        offsetof(NncModel, params), offsetof(NncModel, param_floats), offsetof(NncModel, opt_floats),
        offsetof(NncModel, scratch_per_row), offsetof(NncModel, scratch_fixed), offsetof(NncModel, n_layers),
        offsetof(NncModel, layers), offsetof(NncModel, loss), offsetof(NncModel, optimizer),
        offsetof(NncModel, learning_rate), offsetof(NncModel, n_metrics), offsetof(NncModel, metrics),
        offsetof(NncModel, epochs), offsetof(NncModel, batch_size), offsetof(NncModel, validation_split),
        offsetof(NncModel, shuffle), offsetof(NncModel, seed), offsetof(NncModel, verbose),
        offsetof(NncModel, n_callbacks), offsetof(NncModel, callbacks), offsetof(NncModel, predict),
        offsetof(NncModel, forward_backward), offsetof(NncModel, regularize), offsetof(NncModel, update),
        offsetof(NncModel, eval_loss), offsetof(NncModel, metric_names), offsetof(NncModel, flops),
        offsetof(NncModel, update_whole_range)};
    IrModule *m = compile(plain);
    CgOptions o = {.unroll = -1};
    LlFile lf;
    cr_assert(ll_file_init(&lf, cg_model(arena, m, &o), NULL));
    LLVMTypeRef t = ll_model_type(&lf);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(lf.tm);
    unsigned n = LLVMCountStructElementTypes(t);
    cr_assert_eq(n, sizeof offsets / sizeof *offsets, "one LLVM field per NncModel field");
    for (unsigned i = 0; i < n; i++)
        cr_expect_eq(LLVMOffsetOfElement(td, t, i), offsets[i], "field %u at %zu", i, offsets[i]);
    cr_expect_eq(LLVMABISizeOfType(td, t), sizeof(NncModel));
    LLVMTypeRef param = LLVMGetTypeByName2(lf.ctx, "struct.NncParam");
    LLVMTypeRef layer = LLVMGetTypeByName2(lf.ctx, "struct.NncLayer");
    LLVMTypeRef cb = LLVMGetTypeByName2(lf.ctx, "struct.NncCallback");
    cr_expect_eq(LLVMABISizeOfType(td, param), sizeof(NncParam));
    cr_expect_eq(LLVMOffsetOfElement(td, param, 11), offsetof(NncParam, trainable));
    cr_expect_eq(LLVMABISizeOfType(td, layer), sizeof(NncLayer));
    cr_expect_eq(LLVMOffsetOfElement(td, layer, 4), offsetof(NncLayer, params));
    cr_expect_eq(LLVMABISizeOfType(td, cb), sizeof(NncCallback));
    cr_expect_eq(LLVMOffsetOfElement(td, cb, 9), offsetof(NncCallback, path));
    LLVMDisposeTargetData(td);
    ll_file_free(&lf);
}

/* ---- verification ---- */

Test(llvm, verify_accepts_the_kernels_and_catches_a_broken_module) {
    IrModule *m = compile(tiny);
    CgOptions o = {.unroll = -1};
    LlFile lf;
    cr_assert(ll_file_init(&lf, cg_model(arena, m, &o), NULL));
    cr_assert(ll_kernels(&lf));
    cr_expect(ll_verify(&lf), "the kernels verify");
    /* a block without a terminator */
    LLVMValueRef f = ll_function(&lf, "broken", LLVMFunctionType(lf.voidt, NULL, 0, false), false);
    LLVMPositionBuilderAtEnd(lf.b, LLVMAppendBasicBlockInContext(lf.ctx, f, "entry"));
    cr_expect_not(ll_verify(&lf), "a block without a terminator is caught");
    ll_file_free(&lf);
}

/* ---- what cg_llvm_emit writes ---- */

static char *emit(IrModule *m, const CgOptions *o, CgLlvmKind kind, size_t *len) {
    CgBytes b;
    cr_assert(cg_llvm_emit(cg_model(arena, m, o), kind, &b), "emits kind %d", (int)kind);
    *len = b.len;
    return b.data;
}

Test(llvm, emit_text_has_kernels_descriptor_and_entry) {
    IrModule *m = compile(tiny);
    CgOptions o = {.unroll = -1};
    size_t len;
    char *ll = emit(m, &o, CG_LLVM_IR, &len);
    cr_expect(strstr(ll, "@tiny_model = constant %struct.NncModel"), "the descriptor");
    cr_expect(strstr(ll, "define i32 @tiny_main(i32"), "the entry point");
    cr_expect(strstr(ll, "declare i32 @nnc_main("));
    cr_expect(strstr(ll, "@nnc_uniform("), "dropout masks from the runtime's generator");
    cr_expect(strstr(ll, "@expf("), "libm, as the C kernels call it");
    cr_expect(strstr(ll, "\"target-cpu\""), "built for the host CPU");
    cr_expect_null(strstr(ll, "define i32 @main("), "main only in executables");
    cr_expect_null(strstr(ll, " fast "), "no fast-math flag");
    cr_expect_null(strstr(ll, "contract"), "no contraction flag");
    cr_expect_null(strstr(ll, "llvm.fmuladd"), "--fp-contract=off: no multiply-add");
    free(ll);
    CgOptions fused = {.unroll = -1, .fp_contract = true};
    ll = emit(m, &fused, CG_LLVM_IR, &len);
    cr_expect(strstr(ll, "@llvm.fmuladd.f32("), "--fp-contract=on: a*b+c as llvm.fmuladd");
    free(ll);
    char *exe = emit(m, &o, CG_LLVM_EXE, &len);
    cr_expect(len > 4 && !memcmp(exe, "\177ELF", 4), "an ELF object");
    free(exe);
    char *bc = emit(m, &o, CG_LLVM_BC, &len);
    cr_expect(len > 4 && !memcmp(bc, "BC\xc0\xde", 4), "bitcode");
    free(bc);
}

Test(llvm, names_from_the_source_are_sanitized) {
    IrModule *m = compile("model int {\n    input x[2]\n    dense(1)\n}\n"
                          "compile {\n    loss = mse\n    optimizer = sgd\n}\n");
    CgOptions o = {.f64 = true, .unroll = -1};
    size_t len;
    char *ll = emit(m, &o, CG_LLVM_IR, &len);
    cr_expect(strstr(ll, "@m_int_model"), "a model named like a C keyword");
    cr_expect(strstr(ll, "double"), "f64 kernels");
    free(ll);
    const char *h = cg_llvm_header(cg_model(arena, m, &o));
    cr_expect(strstr(h, "extern const NncModel m_int_model;"));
    cr_expect(strstr(h, "int m_int_main(int argc, char **argv);"));
    cr_expect(strstr(h, "#define NNC_F64 1"));
}
