/*
** test_runtime_units.c — the runtime's parts one by one: the generator and
** initializers, CSV targets and domain checks, the safetensors reader and
** writer, metrics and number formats, and the sum of a batch's chunk
** gradients, added before the update or by it.
*/
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

static char udir[64];

static void units_init(void) {
    strcpy(udir, "/tmp/nnc-rtu-XXXXXX");
    cr_assert(mkdtemp(udir) != NULL);
}

static void units_fini(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", udir);
    cr_assert_eq(system(cmd), 0);
}

static const char *upath(const char *name) {
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", udir, name);
    return p;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Runs the loader in this process with stderr sent to a file, returns its
** result and leaves the message in msg. */
static int load_quiet(RtData *d, const char *path, const NncModel *m, const char *label,
                      int targets, char *msg, size_t size) {
    FILE *saved;
    int fd = dup(2), rc;
    fflush(stderr);
    saved = freopen(upath("err.txt"), "w", stderr);
    cr_assert(saved != NULL);
    rc = rt_data_load(d, path, m, label, targets);
    fflush(stderr);
    dup2(fd, 2);
    close(fd);
    {
        FILE *f = fopen(upath("err.txt"), "r");
        size_t n = fread(msg, 1, size - 1, f);
        msg[n] = '\0';
        fclose(f);
    }
    return rc;
}

TestSuite(rt_units, .init = units_init, .fini = units_fini, .timeout = 20);

/* ---- rng.c ---- */

Test(rt_units, uniform_is_a_pure_function_on_0_1) {
    double sum = 0, sq = 0;
    long i, n = 200000;
    cr_assert_eq(nnc_uniform(1, 2, 3), nnc_uniform(1, 2, 3));
    cr_assert_neq(nnc_uniform(1, 2, 3), nnc_uniform(1, 3, 2));
    cr_assert_neq(nnc_uniform(1, 2, 3), nnc_uniform(2, 2, 3));
    for (i = 0; i < n; i++) {
        double u = nnc_uniform(42, 7, (uint64_t)i);
        cr_assert(u >= 0 && u < 1);
        sum += u;
        sq += u * u;
    }
    cr_assert_float_eq(sum / n, 0.5, 0.005);
    cr_assert_float_eq(sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
}

Test(rt_units, normals) {
    double sum = 0, sq = 0;
    long i, n = 100000;
    for (i = 0; i < n; i++) {
        double z = rt_normal(9, 1, (uint64_t)i), t = rt_truncated_normal(9, 2, (uint64_t)i);
        sum += z;
        sq += z * z;
        cr_assert(fabs(t) <= 2.0);
    }
    cr_assert_float_eq(sum / n, 0.0, 0.02);
    cr_assert_float_eq(sq / n, 1.0, 0.02);
}

Test(rt_units, initializers_follow_spec_1_4) {
    static nnc_real w[600];
    NncParam p = {"k", 2, {20, 30}, 0, 600, NNC_INIT_GLOROT_UNIFORM, 0, 0, 20, 30, NNC_ROLE_WEIGHT, 1};
    double limit = sqrt(6.0 / 50), sq = 0, sd;
    int i;
    rt_init_param(&p, 0, 1, w);
    for (i = 0; i < 600; i++)
        cr_assert(fabs(w[i]) <= limit);
    p.init = NNC_INIT_HE_NORMAL;
    rt_init_param(&p, 0, 1, w);
    /* truncated, stddev sqrt(2 / fan_in) after Keras' correction */
    sd = sqrt(2.0 / 20);
    for (i = 0; i < 600; i++) {
        cr_assert(fabs(w[i]) <= 2 * sd / 0.87962566103423978 + 1e-6);
        sq += w[i] * w[i];
    }
    cr_assert_float_eq(sqrt(sq / 600), sd, 0.1 * sd);
    p.init = NNC_INIT_CONSTANT;
    p.init_a = 0.5;
    rt_init_param(&p, 0, 1, w);
    cr_assert_eq(w[599], (nnc_real)0.5);
    p.init = NNC_INIT_RANDOM_UNIFORM;
    p.init_a = -2;
    p.init_b = -1;
    rt_init_param(&p, 0, 1, w);
    for (i = 0; i < 600; i++)
        cr_assert(w[i] >= -2 && w[i] <= -1);
    p.init = NNC_INIT_RANDOM_NORMAL;
    p.init_a = 10;
    p.init_b = 0.01;
    rt_init_param(&p, 0, 1, w);
    cr_assert_float_eq(w[0], 10, 0.1);
}

Test(rt_units, permutations) {
    long a[100], b[100], seen[100] = {0};
    int i, same = 1;
    rt_permutation(a, 100, 5, 0, 1);
    rt_permutation(b, 100, 5, 1, 1);
    for (i = 0; i < 100; i++) {
        seen[a[i]]++;
        same &= a[i] == b[i];
    }
    for (i = 0; i < 100; i++)
        cr_assert_eq(seen[i], 1);
    cr_assert(!same);
    rt_permutation(a, 100, 5, 0, 0);
    for (i = 0; i < 100; i++)
        cr_assert_eq(a[i], i);
}

/* ---- csv.c ---- */

static NncModel csv_model(int loss, int kind, long width, long outputs) {
    NncModel m;
    memset(&m, 0, sizeof m);
    m.name = "m";
    m.n_inputs = 2;
    m.output_rank = 1;
    m.output_dims[0] = (int)outputs;
    m.n_outputs = outputs;
    m.target_kind = kind;
    m.target_width = width;
    m.loss = loss;
    return m;
}

Test(rt_units, hinge_targets) {
    NncModel m = csv_model(NNC_LOSS_HINGE, NNC_TARGET_DENSE, 1, 1);
    RtData d;
    char msg[512], want[512];
    put(upath("h01.csv"), "x,y,t\n1,2,0\n3,4,1\n5,6,0\n");
    cr_assert_eq(load_quiet(&d, upath("h01.csv"), &m, NULL, 1, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(d.t[0], -1);
    cr_assert_eq(d.t[1], 1);
    cr_assert_eq(d.t[2], -1);
    rt_data_free(&d);
    put(upath("hpm.csv"), "1,2,-1\n3,4,1\n");
    cr_assert_eq(load_quiet(&d, upath("hpm.csv"), &m, NULL, 1, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(d.t[0], -1);
    cr_assert_eq(d.t[1], 1);
    rt_data_free(&d);
    put(upath("hmix.csv"), "1,2,0\n3,4,1\n3,4,-1\n");
    cr_assert_eq(load_quiet(&d, upath("hmix.csv"), &m, NULL, 1, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:3: target -1, but line 1 has 0: hinge targets are all 0/1 or "
             "all -1/+1\n", upath("hmix.csv"));
    cr_assert_str_eq(msg, want);
    put(upath("hbad.csv"), "1,2,0.5\n");
    m.loss = NNC_LOSS_SQUARED_HINGE;
    cr_assert_eq(load_quiet(&d, upath("hbad.csv"), &m, NULL, 1, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:1: target 0.5 is not 0/1 or -1/+1 (squared_hinge)\n",
             upath("hbad.csv"));
    cr_assert_str_eq(msg, want);
}

Test(rt_units, one_hot_targets) {
    NncModel m = csv_model(NNC_LOSS_CATEGORICAL_CE, NNC_TARGET_ONE_HOT, 3, 3);
    RtData d;
    char msg[512], want[512];
    /* one integer column, one-hot encoded; a BOM and a quoted header */
    put(upath("idx.csv"), "\xEF\xBB\xBF\"a\",\"b\",\"class\"\n1,2,2\n3,4,0\n");
    cr_assert_eq(load_quiet(&d, upath("idx.csv"), &m, NULL, 1, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(d.rows, 2);
    cr_assert_eq(d.t[0] + d.t[1] * 2 + d.t[2] * 4, 4);
    cr_assert_eq(d.t[3] + d.t[4] * 2 + d.t[5] * 4, 1);
    rt_data_free(&d);
    cr_assert_eq(load_quiet(&d, upath("idx.csv"), &m, "class", 1, msg, sizeof msg), 0, "%s", msg);
    rt_data_free(&d);
    /* n one-hot columns, checked to lie in [0, 1] */
    put(upath("oh.csv"), "1,2,0,1,0\n3,4,0.2,0.3,0.5\n3,4,0,2,0\n");
    cr_assert_eq(load_quiet(&d, upath("oh.csv"), &m, NULL, 1, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:3: target 2 is outside [0, 1] (categorical_crossentropy)\n",
             upath("oh.csv"));
    cr_assert_str_eq(msg, want);
    put(upath("cols.csv"), "1,2,0,1\n");
    cr_assert_eq(load_quiet(&d, upath("cols.csv"), &m, NULL, 1, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:1: expected 3 columns (2 inputs + 1 class index) or 5 (2 "
             "inputs + 3 one-hot targets), found 4\n", upath("cols.csv"));
    cr_assert_str_eq(msg, want);
}

Test(rt_units, msle_and_features_only) {
    NncModel m = csv_model(NNC_LOSS_MSLE, NNC_TARGET_DENSE, 1, 1);
    RtData d;
    char msg[512], want[512];
    put(upath("msle.csv"), "1,2,3\n1,2,-1\n");
    cr_assert_eq(load_quiet(&d, upath("msle.csv"), &m, NULL, 1, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:2: target -1 is not greater than -1 "
             "(mean_squared_logarithmic_error)\n", upath("msle.csv"));
    cr_assert_str_eq(msg, want);
    /* predict: features only, the target column (even a bad one) ignored */
    cr_assert_eq(load_quiet(&d, upath("msle.csv"), &m, NULL, 0, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(d.n_t, 0);
    cr_assert_eq(d.x[3], 2);
    rt_data_free(&d);
    put(upath("one.csv"), "1\n");
    cr_assert_eq(load_quiet(&d, upath("one.csv"), &m, NULL, 0, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:1: expected at least 2 columns (2 inputs), found 1\n",
             upath("one.csv"));
    cr_assert_str_eq(msg, want);
}

/* ---- safetensors.c ---- */

static const double st_values[5] = {1.5, -2.25, 3e-8, 0, 1e30};

static void st_tensor(const void *ctx, int i, RtTensorOut *out) {
    (void)ctx;
    out->name = i == 0 ? "a\"b\\c\xc3\xa9" : "scalar";
    out->rank = i == 0 ? 2 : 0;
    out->dims[0] = 2;
    out->dims[1] = 2;
    out->dtype = i == 0 ? RT_DT_F32 : RT_DT_F64;
    out->f64 = st_values + (i == 0 ? 0 : 4);
}

Test(rt_units, safetensors_round_trip) {
    RtMeta meta;
    RtStFile f;
    const RtStTensor *t;
    double back[4];
    long dims[2] = {2, 2};
    meta.n = 0;
    rt_meta_str(&meta, "note", "line\nbreak \"quoted\"");
    rt_meta_fmt(&meta, "n", "%d", 7);
    cr_assert_eq(rt_st_write(upath("rt.st"), 2, st_tensor, NULL, &meta), 0);
    cr_assert_eq(rt_st_open(&f, upath("rt.st")), 0);
    cr_assert_eq(f.n_tensors, 2);
    cr_assert_str_eq(rt_st_meta(&f, "note"), "line\nbreak \"quoted\"");
    cr_assert_str_eq(rt_st_meta(&f, "n"), "7");
    cr_assert_eq(rt_st_expect(&f, "a\"b\\c\xc3\xa9", RT_DT_F32, 2, dims, &t), 0);
    rt_st_read_f64(&f, t, back);
    cr_assert_eq(back[0], 1.5);
    cr_assert_eq(back[1], -2.25);
    cr_assert_eq(back[2], (double)(float)3e-8);
    t = rt_st_find(&f, "scalar");
    cr_assert(t && t->rank == 0 && t->dtype == RT_DT_F64);
    rt_st_read_f64(&f, t, back);
    cr_assert_eq(back[0], 1e30);
    cr_assert_eq((f.data_start - 8) % 8, 0);
    rt_st_close(&f);
}

static int st_open_quiet(const char *header, size_t data) {
    FILE *f = fopen(upath("x.st"), "wb"), *saved;
    size_t len = strlen(header), i;
    RtStFile st;
    int rc, fd;
    for (i = 0; i < 8; i++)
        fputc((int)((len >> (8 * i)) & 0xff), f);
    fputs(header, f);
    for (i = 0; i < data; i++)
        fputc(0, f);
    fclose(f);
    fd = dup(2);
    fflush(stderr);
    saved = freopen("/dev/null", "w", stderr);
    cr_assert(saved != NULL);
    rc = rt_st_open(&st, upath("x.st"));
    fflush(stderr);
    dup2(fd, 2);
    close(fd);
    if (rc == 0)
        rt_st_close(&st);
    return rc;
}

Test(rt_units, safetensors_reader_is_strict) {
    cr_assert_eq(st_open_quiet("{}", 0), 0);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4), 0);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"extra\":[1,{\"a\":null}]}}", 4), 0);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 8), -1); /* gap at end */
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                               "\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}", 8), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                               "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), -1);
    cr_assert_eq(st_open_quiet("{\"__metadata__\":{\"a\":1}}", 0), -1);
    cr_assert_eq(st_open_quiet("{\"__metadata__\":{\"a\":\"\\ud83d\\ude00\"}}", 0), 0);
    cr_assert_eq(st_open_quiet("{\"__metadata__\":{\"a\":\"\\ud83d\"}}", 0), -1);
    cr_assert_eq(st_open_quiet("{} x", 0), -1);
    cr_assert_eq(st_open_quiet("{", 0), -1);
    cr_assert_eq(st_open_quiet("{\"a\":\"unterminated}", 0), -1);
}

/* ---- metrics.c ---- */

Test(rt_units, binary_metrics) {
    static const int kinds[] = {NNC_MET_BINARY_ACCURACY, NNC_MET_PRECISION, NNC_MET_RECALL,
                                NNC_MET_MAE, NNC_MET_MSE};
    static const nnc_real y[] = {0.9f, 0.2f, 0.7f, 0.4f}, t[] = {1, 0, 0, 1};
    NncModel m = csv_model(NNC_LOSS_BINARY_CE, NNC_TARGET_DENSE, 1, 1);
    RtMetrics mt;
    m.metrics = kinds;
    m.n_metrics = 5;
    rt_metrics_init(&mt, &m);
    rt_metrics_add(&mt, &m, y, t, 4);
    cr_assert_float_eq(rt_metrics_value(&mt, 0), 0.5, 1e-12);
    cr_assert_float_eq(rt_metrics_value(&mt, 1), 0.5, 1e-12);  /* tp 1, fp 1 */
    cr_assert_float_eq(rt_metrics_value(&mt, 2), 0.5, 1e-12);  /* tp 1, fn 1 */
    cr_assert_float_eq(rt_metrics_value(&mt, 3), (0.1 + 0.2 + 0.7 + 0.6) / 4, 1e-6);
    cr_assert_float_eq(rt_metrics_value(&mt, 4), (0.01 + 0.04 + 0.49 + 0.36) / 4, 1e-6);
    cr_assert_str_eq(rt_metric_name(&m, 0), "binary_accuracy");
    cr_assert(rt_metric_higher_is_better("val_accuracy"));
    cr_assert(rt_metric_higher_is_better("precision"));
    cr_assert(!rt_metric_higher_is_better("val_loss"));
    cr_assert(!rt_metric_higher_is_better("mae"));
}

Test(rt_units, class_metrics) {
    static const int kinds[] = {NNC_MET_ACCURACY};
    static const nnc_real y[] = {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f}, idx[] = {1, 2},
                          oh[] = {0, 1, 0, 1, 0, 0};
    NncModel m = csv_model(NNC_LOSS_SPARSE_CATEGORICAL_CE, NNC_TARGET_CLASS_INDEX, 1, 3);
    RtMetrics mt;
    m.metrics = kinds;
    m.n_metrics = 1;
    rt_metrics_init(&mt, &m);
    cr_assert_eq(mt.kind[0], NNC_MET_SPARSE_CATEGORICAL_ACCURACY);
    rt_metrics_add(&mt, &m, y, idx, 2);
    cr_assert_float_eq(rt_metrics_value(&mt, 0), 0.5, 1e-12);
    m = csv_model(NNC_LOSS_CATEGORICAL_CE, NNC_TARGET_ONE_HOT, 3, 3);
    m.metrics = kinds;
    m.n_metrics = 1;
    rt_metrics_init(&mt, &m);
    cr_assert_eq(mt.kind[0], NNC_MET_CATEGORICAL_ACCURACY);
    rt_metrics_add(&mt, &m, y, oh, 2);
    cr_assert_float_eq(rt_metrics_value(&mt, 0), 1.0, 1e-12);
}

/* ---- batch.c and update.c: the chunk gradients' sum ---- */

/* A model whose gradient is known: element i of the gradient of a chunk
** is Σ_rows x_r · (i % 7 + 1) / 3, and the update subtracts it. Rows far
** apart in magnitude make the order of the chunks' additions show in the
** bits. */
static long fake_floats;

static double fake_forward_backward(const nnc_real *params, nnc_real *grads, nnc_real *scratch,
                                    const nnc_real *x, const nnc_real *t, int n, double scale,
                                    uint64_t seed, uint64_t first_row, nnc_real *y) {
    long i;
    int r;
    (void)params, (void)scratch, (void)t, (void)scale, (void)seed, (void)first_row, (void)y;
    for (i = 0; i < fake_floats; i++) {
        nnc_real g = 0;
        for (r = 0; r < n; r++)
            g += x[r] * (nnc_real)(i % 7 + 1) / 3;
        grads[i] = g;
    }
    return 0;
}

static void fake_update(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,
                        double learning_rate, long lo, long hi) {
    (void)opt, (void)step, (void)learning_rate;
    for (; lo < hi; lo++)
        params[lo] -= grads[lo];
}

/* The parameters after one step on rows x[0..n), with `threads` workers,
** the last round's chunks added by the update or before it. */
static void fake_step(long floats, const nnc_real *x, long n, int threads, int fold_late,
                      nnc_real *out) {
    NncModel m;
    RtPlan plan;
    RtBlock block;
    RtExec ex;
    RtRows rows = {x, x, n, 1, 1};
    memset(&m, 0, sizeof m);
    m.name = "fake";
    m.n_inputs = m.n_outputs = m.target_width = 1;
    m.param_floats = floats;
    m.forward_backward = fake_forward_backward;
    m.update = fake_update;
    fake_floats = floats;
    cr_assert_eq(rt_exec_open(&ex, &plan, &block, &m, n, threads, 1), 0);
    memset(block.params, 0, sizeof(nnc_real) * (size_t)floats);
    ex.fold_late = fold_late;
    rt_batch_gradients(&ex, &rows, NULL, n, 0, NULL);
    cr_assert(fold_late || ex.pending.n == 0);
    rt_update_range(&ex, 1, 0.1, 0, floats);
    cr_assert_eq(ex.pending.n, 0);
    memcpy(out, block.params, sizeof(nnc_real) * (size_t)floats);
    rt_exec_close(&ex, &block);
}

Test(rt_units, chunk_gradients_sum_in_chunk_order_before_or_in_the_update) {
    static const long floats[] = {64, RT_BIG_PARAMS + 4 * NNC_RANGE_ALIGN};
    static const long batches[] = {20, 6 * RT_BIG_CHUNK_ROWS, 7 * RT_BIG_CHUNK_ROWS + 5};
    nnc_real x[7 * RT_BIG_CHUNK_ROWS + 5];
    long i, f, b, r;
    for (r = 0; r < 7 * RT_BIG_CHUNK_ROWS + 5; r++)
        x[r] = r % 3 == 0 ? (nnc_real)1e6 + (nnc_real)r : (nnc_real)0.1 * (nnc_real)r;
    for (f = 0; f < 2; f++)
        for (b = 0; b < 3; b++) {
            long n = batches[b], chunk = floats[f] >= RT_BIG_PARAMS ? RT_BIG_CHUNK_ROWS : RT_CHUNK_ROWS;
            nnc_real *want = malloc(sizeof(nnc_real) * (size_t)floats[f]);
            nnc_real *got = malloc(sizeof(nnc_real) * (size_t)floats[f]);
            int threads, late;
            cr_assert(want && got);
            for (i = 0; i < floats[f]; i++) {
                nnc_real sum = 0;
                long c0;
                for (c0 = 0; c0 < n; c0 += chunk) {
                    nnc_real g = 0;
                    for (r = c0; r < n && r < c0 + chunk; r++)
                        g += x[r] * (nnc_real)(i % 7 + 1) / 3;
                    sum = c0 == 0 ? g : sum + g;
                }
                want[i] = 0 - sum;
            }
            for (threads = 1; threads <= 3; threads++)
                for (late = 0; late <= 1; late++) {
                    fake_step(floats[f], x, n, threads, late, got);
                    cr_assert(memcmp(want, got, sizeof(nnc_real) * (size_t)floats[f]) == 0,
                              "%ld floats, %ld rows, %d threads, fold_late %d", floats[f], n,
                              threads, late);
                }
            free(want);
            free(got);
        }
}

/* An update that scales by 0.3: from the smallest normal number, a result
** that underflows (inexact and below it: exact ones are never flushed). */
static void shrinking_update(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,
                             double learning_rate, long lo, long hi) {
    (void)grads, (void)opt, (void)step, (void)learning_rate;
    for (; lo < hi; lo++)
        params[lo] *= (nnc_real)0.3;
}

/* Read at run time, so that the compiler cannot fold shrink() before the
** mode it is to run under is set. */
static volatile nnc_real smallest_normal;

static nnc_real shrink(void) {
    return smallest_normal * (nnc_real)0.3;
}

Test(rt_units, the_step_flushes_denormals_and_leaves_the_callers_mode) {
    const nnc_real smallest = sizeof(nnc_real) == sizeof(float) ? (nnc_real)FLT_MIN : (nnc_real)DBL_MIN;
    nnc_real params[2] = {smallest, 1};
    NncModel m;
    smallest_normal = smallest;
    memset(&m, 0, sizeof m);
    m.param_floats = 2;
    m.update = shrinking_update;
    rt_optimizer_step(&m, params, params, NULL, 1, 0.1, 0, 2);
    cr_assert_eq(params[1], (nnc_real)0.3, "a normal result is untouched");
#if defined(__SSE__)
    cr_assert_eq(params[0], 0, "the step flushes a denormal result to zero");
#else
    cr_assert_eq(params[0], shrink(), "no flush mode: gradual underflow");
#endif
    cr_assert_neq(shrink(), 0, "the caller keeps gradual underflow after the step");
#if defined(__SSE__)
    _mm_setcsr(_mm_getcsr() | _MM_FLUSH_ZERO_ON);
    rt_optimizer_step(&m, params, params, NULL, 1, 0.1, 0, 2);
    cr_assert_eq(_mm_getcsr() & _MM_FLUSH_ZERO_MASK, _MM_FLUSH_ZERO_ON, "a caller's flush mode stays on");
    _mm_setcsr(_mm_getcsr() & ~(unsigned)_MM_FLUSH_ZERO_MASK);
#endif
}

/* ---- util.c ---- */

/* Big buffers are zeroed like rt_alloc's, and on Linux start on a 2 MB
** boundary, where a huge page can map them. */
Test(rt_units, big_buffers_are_zeroed_and_on_huge_page_boundaries) {
    static const size_t sizes[] = {1, 4096, ((size_t)2 << 20) - 1, (size_t)2 << 20, ((size_t)5 << 20) + 3};
    size_t k, i;
    long before = rt_heap_allocs;
    for (k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *p = rt_alloc_big(sizes[k], "a test buffer");
        cr_assert(p != NULL);
        for (i = 0; i < sizes[k]; i += 4093)
            cr_assert_eq(p[i], 0);
        cr_assert_eq(p[sizes[k] - 1], 0);
#ifdef __linux__
        if (sizes[k] >= (size_t)2 << 20)
            cr_assert_eq((uintptr_t)p % ((uintptr_t)2 << 20), 0, "%zu bytes at %p", sizes[k], (void *)p);
#endif
        memset(p, 0xff, sizes[k]);
        free(p);
    }
    cr_assert_eq(rt_heap_allocs - before, 5);
}

Test(rt_units, number_formats) {
    char buf[64];
    rt_format_value(buf, sizeof buf, 0.68071);
    cr_assert_str_eq(buf, "0.6807");
    rt_format_value(buf, sizeof buf, 0.00012345);
    cr_assert_str_eq(buf, "1.2345e-04");
    rt_format_value(buf, sizeof buf, 12.5);
    cr_assert_str_eq(buf, "12.5000");
    rt_format_count(buf, sizeof buf, 1234567);
    cr_assert_str_eq(buf, "1,234,567");
    rt_format_count(buf, sizeof buf, 999);
    cr_assert_str_eq(buf, "999");
}
