/*
** test_codegen.c — the code generator's pieces: SHA-256 against FIPS 180
** vectors, the sanitizing of .nn names for C (SPEC 2), exact literals,
** the buffer layout and signature, and the loop-nest plans of a small
** model (fusion, views, transposed copies, gradient outputs, unrolling).
** Whole generated files are tested end to end by tests/e2e.sh.
*/
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "codegen/c/cgen.h"
#include "codegen/codegen.h"
#include "codegen/loops.h"
#include "frontend/frontend.h"

static Arena *arena;

static void setup(void) {
    arena = arena_new();
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(codegen, .init = setup, .fini = teardown);

/* ---- sha256.c ---- */

static void expect_sha(const void *data, size_t len, const char *want) {
    char hex[65];
    cg_sha256_hex(data, len, hex);
    cr_expect_str_eq(hex, want, "sha256 of %zu bytes", len);
}

Test(codegen, sha256_fips_vectors) {
    expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    expect_sha(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* Lengths around the block boundary, where the padding takes a second block. */
Test(codegen, sha256_padding_boundaries) {
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
    };
    char buf[128];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) expect_sha(buf, v[i].len, v[i].hex);
}

/* ---- names.c ---- */

Test(codegen, identifiers_are_valid_and_not_reserved) {
    cr_expect_str_eq(cg_ident(arena, "cancer", "model"), "cancer");
    cr_expect_str_eq(cg_ident(arena, "Cancer_2", "model"), "Cancer_2");
    cr_expect_str_eq(cg_ident(arena, "int", "model"), "m_int");
    cr_expect_str_eq(cg_ident(arena, "main", "model"), "m_main");
    cr_expect_str_eq(cg_ident(arena, "rt_cmd", "model"), "m_rt_cmd");
    cr_expect_str_eq(cg_ident(arena, "nnc_main", "model"), "m_nnc_main");
    cr_expect_str_eq(cg_ident(arena, "_Bool", "model"), "m__Bool");
    cr_expect_str_eq(cg_ident(arena, "9lives", "model"), "m_9lives");
    cr_expect_str_eq(cg_ident(arena, "a-b c", "model"), "a_b_c");
    cr_expect_str_eq(cg_ident(arena, "", "model"), "model");
    cr_expect_str_eq(cg_ident(arena, NULL, "model"), "model");
    const char *lng = cg_ident(arena, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "m");
    cr_expect_eq(strlen(lng), 48);
    cr_expect_str_eq(cg_upper(arena, "iris_2"), "IRIS_2");
}

Test(codegen, string_literals_escape_everything) {
    cr_expect_str_eq(cg_string(arena, "dense_1.kernel"), "\"dense_1.kernel\"");
    cr_expect_str_eq(cg_string(arena, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    cr_expect_str_eq(cg_string(arena, "?\?="), "\"\\?\\?=\"");   /* no trigraph */
    cr_expect_str_eq(cg_string(arena, "a\nb"), "\"a\\012b\"");
    cr_expect_str_eq(cg_string(arena, "\xc3\xa9" "1"), "\"\\303\\2511\"");
}

Test(codegen, comments_cannot_escape) {
    cr_expect_str_eq(cg_comment(arena, "a*/b"), "a* /b");
    cr_expect_str_eq(cg_comment(arena, "a/*b"), "a/ *b");
    cr_expect_str_eq(cg_comment(arena, "why?\?/"), "why? ?/");
    cr_expect_str_eq(cg_comment(arena, "line\nbreak\\"), "line_break_");
    cr_expect_str_eq(cg_comment(arena, "caf\xc3\xa9"), "caf__");
}

/* ---- text.c: literals and index expressions ---- */

Test(codegen, literals_read_back_exactly) {
    double values[] = {0.1, 1e-7, 1.0 / 3.0, 123456789.123, -2.5e-300, 0.9};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        const char *t = cg_c_double(arena, values[i]);
        cr_expect_eq(strtod(t, NULL), values[i], "%s", t);
    }
    cr_expect_str_eq(cg_c_real(arena, 2), "(nnc_real)2");
    cr_expect_str_eq(cg_c_real(arena, -0.5), "((nnc_real)-0.5)");
    cr_expect_str_eq(cg_c_real(arena, 1.0 / 0.0), "((nnc_real)HUGE_VAL)");
    /* Weights that are floats print in float's shortest form. */
    cr_expect_str_eq(cg_c_scalar_text(arena, (double)0.1f, false), "0.1");
    cr_expect_str_eq(cg_c_scalar_text(arena, 0.1, true), "0.1");
}

Test(codegen, index_expressions_fold_constants) {
    LIdx x = lidx_add(lidx_scale(lidx_var(LV_R), 40), lidx_const(3));
    cr_expect_str_eq(lidx_text(arena, x), "r * 40 + 3");
    cr_expect_str_eq(lidx_text(arena, lidx_add(x, lidx_const(-3))), "r * 40");
    cr_expect_str_eq(lidx_text(arena, lidx_const(0)), "0");
    cr_expect_str_eq(lidx_text(arena, lidx_add(lidx_var(LV_I0), lidx_var(LV_K))), "i0 + k");
    cr_expect_str_eq(lidx_text(arena, lidx_add(lidx_var(LV_J0 + 2), lidx_var(LV_JB))), "j2 + jb");
}

/* ---- layout.c and plan.c on a compiled model ---- */

static const char *cancer_src =
    "model c {\n"
    "    input x[30]\n"
    "    normalize(minmax)\n"
    "    dense(30, relu, kernel_regularizer = l2(0.01))\n"
    "    dropout(0.5)\n"
    "    dense(15, relu)\n"
    "    dense(1, sigmoid)\n"
    "}\n"
    "compile {\n    loss = binary_crossentropy\n    optimizer = adam\n    metrics = [accuracy]\n}\n";

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

Test(codegen, layout_aligns_and_signs) {
    IrModule *m = compile(cancer_src);
    CgLayout l = cg_layout(arena, m);
    for (int i = 0; i < m->params.len; i++) cr_expect_eq(l.param_off[i] % 16, 0);
    cr_expect_geq(l.param_floats, ir_param_count(m, false));
    cr_expect_eq(l.target_kind, 0 /* NNC_TARGET_DENSE */);
    cr_expect_eq(l.target_width, 1);
    cr_expect_eq(strlen(l.signature), 32);
    /* adam: two slots per trainable parameter, none for the statistics */
    cr_expect_eq(l.opt_slots, 2);
    cr_expect_eq(l.opt_off[0], -1);
    cr_expect_geq(l.opt_off[4 * 2 + 1], 0);
    long in, out;
    cg_fans(shape_matrix(30, 15), &in, &out);
    cr_expect(in == 30 && out == 15);
    cg_fans(shape_vector(7), &in, &out);
    cr_expect(in == 7 && out == 7);
    cg_fans(shape_scalar(), &in, &out);
    cr_expect(in == 1 && out == 1);
    cr_expect_eq(cg_metric(m, MET_ACCURACY), MET_BINARY_ACCURACY);
    cr_expect_eq(cg_metric(m, MET_MAE), MET_MAE);
}

Test(codegen, signature_follows_names_and_shapes) {
    IrModule *a = compile(cancer_src);
    IrModule *b = compile("model c {\n    input x[30]\n    normalize(minmax)\n    dense(31, relu)\n"
                          "    dropout(0.5)\n    dense(15, relu)\n    dense(1, sigmoid)\n}\n");
    cr_expect_str_eq(cg_layout(arena, a).signature, cg_layout(arena, compile(cancer_src)).signature);
    cr_expect_str_neq(cg_layout(arena, a).signature, cg_layout(arena, b).signature);
}

Test(codegen, target_kinds_follow_the_loss) {
    IrModule *s = compile("model s {\n input x[4]\n dense(3, softmax)\n}\n"
                          "compile {\n loss = sparse_categorical_crossentropy\n metrics = [accuracy]\n}\n");
    CgLayout l = cg_layout(arena, s);
    cr_expect_eq(l.target_kind, 1 /* NNC_TARGET_CLASS_INDEX */);
    cr_expect_eq(l.target_width, 1);
    cr_expect_eq(cg_metric(s, MET_ACCURACY), MET_SPARSE_CATEGORICAL_ACCURACY);
    IrModule *c = compile("model s {\n input x[4]\n dense(3, softmax)\n}\n"
                          "compile {\n loss = categorical_crossentropy\n}\n");
    l = cg_layout(arena, c);
    cr_expect_eq(l.target_kind, 2 /* NNC_TARGET_ONE_HOT */);
    cr_expect_eq(l.target_width, 3);
    cr_expect_eq(cg_metric(c, MET_ACCURACY), MET_CATEGORICAL_ACCURACY);
}

static int count(const CgPlan *p, Op op, bool (*pred)(const CgNodePlan *)) {
    int n = 0;
    for (int id = 0; id < p->f->nodes.len; id++)
        if (p->node[id].live && p->f->nodes.items[id]->op == op && pred(&p->node[id])) n++;
    return n;
}

static bool fused(const CgNodePlan *np) { return np->fused >= 0; }
static bool transposed(const CgNodePlan *np) { return np->tpos >= 0; }
static bool into_grad(const CgNodePlan *np) { return np->grad_out >= 0; }
static bool inlined(const CgNodePlan *np) { return np->place == CG_INLINE; }
static bool any(const CgNodePlan *np) { return np != NULL; }
static bool unrolled(const CgNodePlan *np) { return np->unroll; }

Test(codegen, plan_of_the_training_step) {
    IrModule *m = compile(cancer_src);
    CgLayout l = cg_layout(arena, m);
    CgPlan *p = cg_plan(arena, m->train, CG_TRAIN, &l, -1, NULL);
    /* Forward: each layer's matmul writes into its bias-add buffer. */
    cr_expect_geq(count(p, OP_MATMUL, fused), 2);
    /* Backward: W·dy through a transposed copy when it has 8 or more rows. */
    cr_expect_eq(count(p, OP_MATMUL, transposed), 1);
    /* Every weight gradient is a batch sum added straight into grads. */
    cr_expect_eq(count(p, OP_BATCH_SUM, into_grad), count(p, OP_BATCH_SUM, any));
    cr_expect_geq(count(p, OP_BATCH_SUM, any), 6);
    /* outer(x, dy) is never stored: the batch sum reads it inline. */
    cr_expect_eq(count(p, OP_OUTER, inlined), count(p, OP_OUTER, any));
    cr_expect_gt(p->per_row, 0);
    cr_expect_eq(p->per_row % 8, 0);
    cr_expect_eq(p->fixed % 16, 0);
    cr_expect_eq(p->phases, 2); /* the rows, then what reads their sums */
}

Test(codegen, plan_of_predict_has_no_dropout_and_views) {
    IrModule *m = compile(cancer_src);
    CgLayout l = cg_layout(arena, m);
    CgPlan *p = cg_plan(arena, m->predict, CG_PREDICT, &l, -1, NULL);
    cr_expect_eq(count(p, OP_DROPOUT_MASK, any), 0);
    /* relu(x @ W + b) feeds the next matmul inline, as its left operand */
    cr_expect_geq(count(p, OP_RELU, inlined), 1);
    cr_expect_eq(p->phases, 1);
}

static bool packed(const CgNodePlan *np) { return np->ppos >= 0; }

static IrModule *one_layer(int inputs, int units) {
    char src[256];
    snprintf(src, sizeof src, "model p {\n input x[%d]\n dense(%d, relu)\n dense(2, softmax)\n}\n"
                              "compile {\n loss = sparse_categorical_crossentropy\n}\n", inputs, units);
    return compile(src);
}

/* A layer of inputs x units weights, trained: how many of the step's
** matmuls pack their weights, and the panel's room in the fixed scratch. */
static int packed_matmuls(int inputs, int units, long *room) {
    IrModule *m = one_layer(inputs, units);
    CgLayout l = cg_layout(arena, m);
    CgPlan *p = cg_plan(arena, m->train, CG_TRAIN, &l, -1, NULL);
    for (int id = 0; id < p->f->nodes.len; id++)
        if (p->node[id].live && p->node[id].ppos >= 0) cr_expect_lt(p->node[id].ppos, p->fixed);
    *room = p->fixed;
    return count(p, OP_MATMUL, packed);
}

Test(codegen, only_a_million_weights_are_packed) {
    long small_room, big_room;
    /* 1024 x 1023 weights stay where they are; 1024 x 1024 are packed
    ** K x CG_PACK_COLS at a time, in one region of the fixed scratch. */
    cr_expect_eq(packed_matmuls(1024, 1023, &small_room), 0);
    cr_expect_eq(packed_matmuls(1024, 1024, &big_room), 1);
    cr_expect_geq(big_room - small_room, 1024L * CG_PACK_COLS);
}

/* Inference code (frozen weights) runs 8 rows at a time from a scratch on
** the stack: no panel there; the trainer's predict kernel packs. */
Test(codegen, inference_code_packs_nothing) {
    IrModule *m = one_layer(1024, 1024);
    CgLayout l = cg_layout(arena, m);
    bool *frozen = ARENA_ARRAY(arena, bool, m->predict->nodes.len + 1);
    cr_expect_eq(count(cg_plan(arena, m->predict, CG_PREDICT, &l, -1, frozen), OP_MATMUL, packed), 0);
    cr_expect_eq(count(cg_plan(arena, m->predict, CG_PREDICT, &l, -1, NULL), OP_MATMUL, packed), 1);
}

Test(codegen, unroll_limit_comes_from_sizes_or_the_option) {
    IrModule *m = compile(cancer_src);
    CgLayout l = cg_layout(arena, m);
    CgPlan *none = cg_plan(arena, m->train, CG_TRAIN, &l, 0, NULL);
    CgPlan *def = cg_plan(arena, m->train, CG_TRAIN, &l, -1, NULL);
    CgPlan *all = cg_plan(arena, m->train, CG_TRAIN, &l, 1000000, NULL);
    cr_expect_eq(def->unroll, CG_UNROLL_DEFAULT);
    cr_expect_eq(count(none, OP_MATMUL, unrolled), 0);
    cr_expect_eq(count(all, OP_MATMUL, unrolled), count(all, OP_MATMUL, any));
    cr_expect_lt(count(def, OP_MATMUL, unrolled), count(def, OP_MATMUL, any));
}

Test(codegen, reshapes_of_unit_axes_are_views) {
    cr_expect(cg_squeeze(shape_vector(1), shape_scalar()));
    cr_expect(cg_squeeze(shape_vector(30), shape_matrix(1, 30)));
    cr_expect(cg_squeeze(shape_matrix(30, 1), shape_vector(30)));
    cr_expect_not(cg_squeeze(shape_matrix(2, 3), shape_vector(6)));
    cr_expect_not(cg_squeeze(shape_matrix(2, 3), shape_matrix(3, 2)));
    cr_expect_eq(cg_squeeze_axis(shape_matrix(1, 30), shape_vector(30), 1), 0);
    cr_expect_eq(cg_squeeze_axis(shape_matrix(1, 30), shape_vector(30), 0), -1);
}

Test(codegen, generated_trainer_names_nothing_unchecked) {
    /* A model whose name is a C keyword and whose layer name needs escaping
    ** in comments still yields identifiers of nnc's making. */
    IrModule *m = compile("model int {\n input x[2]\n dense(1, name = weird)\n}\n");
    CgOptions o = {.source = "we*/ird\\\n.nn", .source_sha256 = "00", .unroll = -1};
    CgModel *cm = cg_model(m->arena, m, &o);
    cr_assert(cm);
    const char *text = cg_c_trainer(cm);
    cr_assert(text);
    cr_expect(strstr(text, "static const NncModel m_int_abi") != NULL);
    cr_expect(strstr(text, "we* /ird_") != NULL);
    cr_expect(strstr(text, "int main(int argc, char **argv)") != NULL);
    cr_expect(strstr(text, ".name = \"int\"") != NULL);
}

/* Compiles the helpers `used` (for nnc_real = `real`) with `program`, as
** users compile generated code, with the system's cc and `flags`, and runs
** it: its exit status as system() gives it. */
static int run_with_helpers_flags(const char *real, unsigned used, const char *program, const char *flags) {
    CgText t = {.arena = arena};
    cg_c_put(&t, arena_printf(arena, "#include <math.h>\n#include <stdint.h>\n#include <stdio.h>\n"
                                     "#include <string.h>\ntypedef %s nnc_real;\n%s",
                              real, strcmp(real, "double") ? "" : "#define NNC_F64 1\n"));
    cg_c_helpers(&t, used);
    cg_c_put(&t, program);
    char dir[] = "/tmp/nnc-helpers-XXXXXX";
    cr_assert(mkdtemp(dir));
    char src[64], cmd[320];
    snprintf(src, sizeof src, "%s/s.c", dir);
    FILE *f = fopen(src, "w");
    cr_assert(f);
    fputs(cg_c_text(&t), f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -std=c99 -pedantic -Wall -Wextra -Werror -O2 %s %s -o %s/s -lm && %s/s >/dev/null",
             flags, src, dir, dir);
    int status = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
    return status;
}

static int run_with_helpers(const char *real, unsigned used, const char *program) {
    return run_with_helpers_flags(real, used, program, "");
}

/* A program whose exit status is 1 where ours(x) and libm(x) differ in
** their bits (any NaN matching any NaN) for a float x among the special
** values, the bit patterns from..to, and every 65537th pattern. */
static const char *float_program(const char *libm, const char *ours, uint32_t from, uint32_t to) {
    return arena_printf(arena,
                        "static int check(uint32_t b) {\n"
                        "    float x, want, got;\n"
                        "    memcpy(&x, &b, sizeof x);\n"
                        "    want = %s(x);\n"
                        "    got = %s(x);\n"
                        "    if (want != want) return got == got;\n"
                        "    return memcmp(&want, &got, sizeof got) != 0;\n"
                        "}\n"
                        "int main(void) {\n"
                        "    static const uint32_t special[] = {0, 0x80000000u, 1, 0x7f7fffffu, 0x7f800000u,\n"
                        "        0xff800000u, 0x7fc00000u, 0xbf800000u, 0x3f800000u, 0x807fffffu, 0x007fffffu};\n"
                        "    unsigned long bad = 0;\n"
                        "    uint64_t b;\n"
                        "    for (b = 0; b < sizeof special / sizeof *special; b++) bad += check(special[b]);\n"
                        "    for (b = %uu; b <= %uu; b++) bad += check((uint32_t)b);\n"
                        "    for (b = 0; b < 0x100000000ull; b += 65537) bad += check((uint32_t)b);\n"
                        "    return bad != 0;\n"
                        "}\n",
                        libm, ours, (unsigned)from, (unsigned)to);
}

/* The generated code's sqrt (helpers.c) against libm's correctly rounded
** sqrtf, bit for bit: every special value and every 65537th bit pattern
** (an exhaustive run of all 2^32 passed when it was written). */
Test(codegen, generated_sqrt_is_correctly_rounded, .timeout = 120) {
    int status = run_with_helpers("float", 1u << H_SQRT, float_program("sqrtf", "nnc_sqrt", 1, 0));
    cr_expect_eq(status, 0, "nnc_sqrt differs from sqrtf (or did not compile)");
}

/* nnc_exp skips libm below NNC_EXP_ZERO_BELOW: the same bits as libm's exp
** for every float from -80 down to -inf (libm's result goes from normal
** through denormal to 0 there) and the samples; in double, every 2^-20
** from -740 to -750. */
Test(codegen, generated_exp_is_libms, .timeout = 120) {
    int status = run_with_helpers("float", 1u << H_EXP, float_program("expf", "nnc_exp", 0xc2a00000u, 0xff800000u));
    cr_expect_eq(status, 0, "nnc_exp differs from expf (or did not compile)");
    status = run_with_helpers("double", 1u << H_EXP,
                 "int main(void) {\n"
                 "    unsigned long bad = 0;\n"
                 "    double x;\n"
                 "    for (x = -740; x >= -750; x -= 1.0 / 1048576) {\n"
                 "        double want = exp(x), got = nnc_exp(x);\n"
                 "        bad += memcmp(&want, &got, sizeof got) != 0;\n"
                 "    }\n"
                 "    return bad != 0;\n"
                 "}\n");
    cr_expect_eq(status, 0, "nnc_exp differs from exp in double (or did not compile)");
}

/* The vector exp and sigmoid (H_VEXP, AVX-512) lane for lane against the
** scalar nnc_exp and nnc_sigmoid, whose bits are libm's: 4, 8 and 16
** lanes, every 33rd bit pattern and the special values, built for this
** machine with contraction off (it must not matter). An exhaustive run
** of nnc_exp8 against expf, all 2^32 floats, passed when it was written.
** Without AVX-512 the helper is absent: skipped, and said so. */
Test(codegen, vector_exp_and_sigmoid_are_the_scalar_ones, .timeout = 300) {
    const char *program =
        "#ifndef NNC_VEXP16\n"
        "int main(void) { return 3; }\n"
        "#else\n"
        "static unsigned long bad;\n"
        "static void lanes(const float *x, const float *e, const float *s, int n) {\n"
        "    int l;\n"
        "    for (l = 0; l < n; l++) {\n"
        "        float we = nnc_exp(x[l]), ws = nnc_sigmoid(x[l]);\n"
        "        bad += memcmp(&we, &e[l], 4) != 0 || memcmp(&ws, &s[l], 4) != 0;\n"
        "    }\n"
        "}\n"
        "static void check(const float *x) {\n"
        "    nnc_v16 v16, e16, s16;\n"
        "    nnc_v8 v8, e8, s8;\n"
        "    nnc_v4 v4, e4, s4;\n"
        "    memcpy(&v16, x, sizeof v16), e16 = nnc_vexp16(v16), s16 = nnc_vsigmoid16(v16);\n"
        "    lanes(x, (const float *)&e16, (const float *)&s16, 16);\n"
        "    memcpy(&v8, x, sizeof v8), e8 = nnc_vexp8(v8), s8 = nnc_vsigmoid8(v8);\n"
        "    lanes(x, (const float *)&e8, (const float *)&s8, 8);\n"
        "    memcpy(&v4, x, sizeof v4), e4 = nnc_vexp4(v4), s4 = nnc_vsigmoid4(v4);\n"
        "    lanes(x, (const float *)&e4, (const float *)&s4, 4);\n"
        "}\n"
        "int main(void) {\n"
        "    static const float special[16] = {0.0f, -0.0f, 1.0f, -1.0f, 88.72283f, 88.72284f, -103.27893f,\n"
        "        -103.97208f, -104.0f, -87.33655f, 1e-30f, -1e-30f, HUGE_VALF, -HUGE_VALF, NAN, -NAN};\n"
        "    uint64_t b;\n"
        "    int l;\n"
        "    check(special);\n"
        "    for (b = 0; b < 0x100000000ull; b += 16 * 33) {\n"
        "        float x[16];\n"
        "        for (l = 0; l < 16; l++) {\n"
        "            uint32_t u = (uint32_t)(b + 33u * (unsigned)l);\n"
        "            memcpy(&x[l], &u, sizeof u);\n"
        "        }\n"
        "        check(x);\n"
        "    }\n"
        "    return bad != 0;\n"
        "}\n"
        "#endif\n";
    unsigned used = 1u << H_EXP | 1u << H_SIGMOID | 1u << H_VECTORS | 1u << H_VEXP;
    int status = run_with_helpers_flags("float", used, program, "-march=native -ffp-contract=off");
    cr_assert(WIFEXITED(status), "the vector exp check did not run");
    if (WEXITSTATUS(status) == 3) cr_skip_test("this machine has no AVX-512: no vector exp to check");
    cr_expect_eq(WEXITSTATUS(status), 0, "a vector exp or sigmoid differs from the scalar one (or did not compile)");
}
