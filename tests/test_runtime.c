/*
** test_runtime.c — the trainer runtime end to end (SPEC 3), driven through
** nnc_main with hand-written models whose kernels follow the kernel ABI:
**   cancer_lr: normalize(standard) -> dense(1, sigmoid), binary CE from the
**              logit, l2(1e-4) on the kernel, adam (SPEC 1.9);
**   iris_drop: normalize(minmax) -> dropout(0.2) -> dense(3, softmax),
**              sparse categorical CE, plain sgd (no optimizer state).
** Each command runs in a child process with stdout and stderr captured to
** files, so the tests check exact messages and exit statuses.
*/
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"

#define CANCER_TRAIN "examples/data/cancer_train.csv"
#define CANCER_TEST "examples/data/cancer_test.csv"
#define IRIS_TRAIN "examples/data/iris_train.csv"
#define IRIS_TEST "examples/data/iris_test.csv"

/* ---- model cancer_lr ---- */

enum { LR_IN = 30, LR_MEAN = 0, LR_VAR = 30, LR_W = 60, LR_B = 90, LR_P = 91, LR_TRAIN = 31 };

static const NncParam lr_params[] = {
    {"normalize_1.mean", 1, {30}, LR_MEAN, 30, NNC_INIT_ZEROS, 0, 0, 30, 30, NNC_ROLE_NORM_MEAN, 0},
    {"normalize_1.variance", 1, {30}, LR_VAR, 30, NNC_INIT_ONES, 0, 0, 30, 30, NNC_ROLE_NORM_VARIANCE, 0},
    {"dense_1.kernel", 2, {30, 1}, LR_W, 30, NNC_INIT_GLOROT_UNIFORM, 0, 0, 30, 1, NNC_ROLE_WEIGHT, 1},
    {"dense_1.bias", 1, {1}, LR_B, 1, NNC_INIT_ZEROS, 0, 0, 1, 1, NNC_ROLE_WEIGHT, 1},
};
static const NncLayer lr_layers[] = {
    {"normalize_1", "normalize", 1, {30}, 60},
    {"dense_1", "dense", 1, {1}, 31},
};
static const int lr_metrics[] = {NNC_MET_BINARY_ACCURACY};
static const char *const lr_metric_names[] = {"accuracy"};

static void lr_norm(const nnc_real *p, const nnc_real *x, nnc_real *xn) {
    int j;
    for (j = 0; j < LR_IN; j++)
        xn[j] = (nnc_real)((x[j] - p[LR_MEAN + j]) / sqrt((double)p[LR_VAR + j] + 1e-7));
}

static nnc_real lr_logit(const nnc_real *p, const nnc_real *xn) {
    nnc_real z = p[LR_B];
    int j;
    for (j = 0; j < LR_IN; j++)
        z += xn[j] * p[LR_W + j];
    return z;
}

static double sigmoid(double z) {
    return 1.0 / (1.0 + exp(-z));
}

/* SPEC 1.8: binary CE from the logit. */
static double bce_logit(double z, double t) {
    return (z > 0 ? z : 0) - z * t + log1p(exp(-fabs(z)));
}

static void lr_predict(const nnc_real *p, nnc_real *s, const nnc_real *x, nnc_real *y, int n) {
    int r;
    for (r = 0; r < n; r++) {
        lr_norm(p, x + r * LR_IN, s + r * LR_IN);
        y[r] = (nnc_real)sigmoid(lr_logit(p, s + r * LR_IN));
    }
}

static double lr_fb(const nnc_real *p, nnc_real *g, nnc_real *s, const nnc_real *x,
                    const nnc_real *t, int n, double scale, uint64_t seed, uint64_t first_row,
                    nnc_real *y) {
    double loss = 0;
    int r, j;
    (void)seed;
    (void)first_row;
    memset(g, 0, sizeof *g * LR_P); /* the kernel ABI writes the gradient */
    for (r = 0; r < n; r++) {
        nnc_real *xn = s + r * LR_IN, z, dz;
        lr_norm(p, x + r * LR_IN, xn);
        z = lr_logit(p, xn);
        loss += bce_logit(z, t[r]);
        dz = (nnc_real)((sigmoid(z) - t[r]) * scale);
        for (j = 0; j < LR_IN; j++)
            g[LR_W + j] += dz * xn[j];
        g[LR_B] += dz;
        if (y)
            y[r] = (nnc_real)sigmoid(z);
    }
    return loss;
}

static double lr_regularize(const nnc_real *p, nnc_real *g) {
    double loss = 0;
    int j;
    for (j = 0; j < LR_IN; j++) {
        loss += 1e-4 * p[LR_W + j] * p[LR_W + j];
        g[LR_W + j] += (nnc_real)(2e-4 * p[LR_W + j]);
    }
    return loss;
}

/* SPEC 1.9 adam: m, v for the 31 trainable values. The runtime takes so
** few parameters in one call over all of them (RT_THREAD_MIN_FLOATS). */
static void lr_update(nnc_real *p, const nnc_real *g, nnc_real *o, long step, double lr, long lo,
                      long hi) {
    double a = lr * sqrt(1 - pow(0.999, (double)step)) / (1 - pow(0.9, (double)step));
    int i;
    cr_assert(lo == 0 && hi == LR_P, "one update over every parameter");
    for (i = 0; i < LR_TRAIN; i++) {
        nnc_real gi = g[LR_W + i], *m = &o[i], *v = &o[LR_TRAIN + i];
        *m = (nnc_real)(0.9 * *m + 0.1 * gi);
        *v = (nnc_real)(0.999 * *v + 0.001 * gi * gi);
        p[LR_W + i] -= (nnc_real)(a * *m / (sqrt((double)*v) + 1e-7));
    }
}

static double lr_eval(const nnc_real *p, nnc_real *s, const nnc_real *x, const nnc_real *t,
                      int n, nnc_real *y) {
    double loss = 0;
    int r;
    for (r = 0; r < n; r++) {
        nnc_real z;
        lr_norm(p, x + r * LR_IN, s + r * LR_IN);
        z = lr_logit(p, s + r * LR_IN);
        loss += bce_logit(z, t[r]);
        if (y)
            y[r] = (nnc_real)sigmoid(z);
    }
    return loss;
}

static const NncModel lr_model = {
    .abi_version = NNC_ABI_VERSION, .name = "cancer_lr", .nnc_version = "0.1.0-test",
    .source_sha256 = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    .signature = "sig-cancer-lr", .real_bytes = sizeof(nnc_real),
    .input_rank = 1, .input_dims = {30}, .n_inputs = 30,
    .output_rank = 1, .output_dims = {1}, .n_outputs = 1,
    .target_kind = NNC_TARGET_DENSE, .target_width = 1,
    .n_params = 4, .params = lr_params, .param_floats = LR_P, .opt_floats = 2 * LR_TRAIN,
    .scratch_per_row = LR_IN, .scratch_fixed = 0,
    .n_layers = 2, .layers = lr_layers,
    .loss = NNC_LOSS_BINARY_CE, .optimizer = NNC_OPT_ADAM, .learning_rate = 0.01,
    .n_metrics = 1, .metrics = lr_metrics,
    .epochs = 20, .batch_size = 32, .validation_split = 0.25, .shuffle = 1, .seed = 42,
    .verbose = 1,
    .predict = lr_predict, .forward_backward = lr_fb, .regularize = lr_regularize,
    .update = lr_update, .eval_loss = lr_eval, .metric_names = lr_metric_names,
};

/* ---- model iris_drop ---- */

enum { IR_IN = 4, IR_OUT = 3, IR_MIN = 0, IR_MAX = 4, IR_W = 8, IR_B = 20, IR_P = 23, IR_ROW = 7 };
#define IR_RATE 0.2

static const NncParam ir_params[] = {
    {"normalize_1.min", 1, {4}, IR_MIN, 4, NNC_INIT_ZEROS, 0, 0, 4, 4, NNC_ROLE_NORM_MIN, 0},
    {"normalize_1.max", 1, {4}, IR_MAX, 4, NNC_INIT_ONES, 0, 0, 4, 4, NNC_ROLE_NORM_MAX, 0},
    {"dense_1.kernel", 2, {4, 3}, IR_W, 12, NNC_INIT_GLOROT_NORMAL, 0, 0, 4, 3, NNC_ROLE_WEIGHT, 1},
    {"dense_1.bias", 1, {3}, IR_B, 3, NNC_INIT_ZEROS, 0, 0, 3, 3, NNC_ROLE_WEIGHT, 1},
};
static const NncLayer ir_layers[] = {
    {"normalize_1", "normalize", 1, {4}, 8},
    {"dropout_1", "dropout", 1, {4}, 0},
    {"dense_1", "dense", 1, {3}, 15},
};
static const int ir_metrics[] = {NNC_MET_SPARSE_CATEGORICAL_ACCURACY};
static const char *const ir_metric_names[] = {"accuracy"};

/* Forward one row: xd (dropped-out inputs) and pr (softmax) in s. */
static void ir_row(const nnc_real *p, const nnc_real *x, nnc_real *s, int train, uint64_t seed,
                   uint64_t row, double *z) {
    nnc_real *xd = s, *pr = s + IR_IN;
    double mx = -HUGE_VAL, sum = 0;
    int j, k;
    for (j = 0; j < IR_IN; j++) {
        double den = p[IR_MAX + j] - p[IR_MIN + j];
        double xn = den > 0 ? (x[j] - p[IR_MIN + j]) / den : 0;
        if (train)
            xn = nnc_uniform(seed, row, (uint64_t)j) >= IR_RATE ? xn / (1 - IR_RATE) : 0;
        xd[j] = (nnc_real)xn;
    }
    for (k = 0; k < IR_OUT; k++) {
        z[k] = p[IR_B + k];
        for (j = 0; j < IR_IN; j++)
            z[k] += xd[j] * p[IR_W + j * IR_OUT + k];
        mx = z[k] > mx ? z[k] : mx;
    }
    for (k = 0; k < IR_OUT; k++)
        sum += exp(z[k] - mx);
    for (k = 0; k < IR_OUT; k++)
        pr[k] = (nnc_real)(exp(z[k] - mx) / sum);
    z[IR_OUT] = mx + log(sum); /* logsumexp */
}

static void ir_predict(const nnc_real *p, nnc_real *s, const nnc_real *x, nnc_real *y, int n) {
    double z[IR_OUT + 1];
    int r;
    for (r = 0; r < n; r++) {
        ir_row(p, x + r * IR_IN, s + r * IR_ROW, 0, 0, 0, z);
        memcpy(y + r * IR_OUT, s + r * IR_ROW + IR_IN, sizeof(nnc_real) * IR_OUT);
    }
}

static double ir_fb(const nnc_real *p, nnc_real *g, nnc_real *s, const nnc_real *x,
                    const nnc_real *t, int n, double scale, uint64_t seed, uint64_t first_row,
                    nnc_real *y) {
    double loss = 0, z[IR_OUT + 1];
    int r, j, k;
    memset(g, 0, sizeof *g * IR_P); /* the kernel ABI writes the gradient */
    for (r = 0; r < n; r++) {
        nnc_real *xs = s + r * IR_ROW;
        int label = (int)t[r];
        ir_row(p, x + r * IR_IN, xs, 1, seed, first_row + (uint64_t)r, z);
        loss += z[IR_OUT] - z[label];
        for (k = 0; k < IR_OUT; k++) {
            nnc_real dz = (nnc_real)((xs[IR_IN + k] - (k == label)) * scale);
            for (j = 0; j < IR_IN; j++)
                g[IR_W + j * IR_OUT + k] += xs[j] * dz;
            g[IR_B + k] += dz;
        }
        if (y)
            memcpy(y + r * IR_OUT, xs + IR_IN, sizeof(nnc_real) * IR_OUT);
    }
    return loss;
}

static void ir_update(nnc_real *p, const nnc_real *g, nnc_real *o, long step, double lr, long lo,
                      long hi) {
    int i;
    (void)o;
    (void)step;
    cr_assert(lo == 0 && hi == IR_P, "one update over every parameter");
    for (i = IR_W; i < IR_P; i++)
        p[i] -= (nnc_real)(lr * g[i]);
}

static double ir_eval(const nnc_real *p, nnc_real *s, const nnc_real *x, const nnc_real *t,
                      int n, nnc_real *y) {
    double loss = 0, z[IR_OUT + 1];
    int r;
    for (r = 0; r < n; r++) {
        ir_row(p, x + r * IR_IN, s + r * IR_ROW, 0, 0, 0, z);
        loss += z[IR_OUT] - z[(int)t[r]];
        if (y)
            memcpy(y + r * IR_OUT, s + r * IR_ROW + IR_IN, sizeof(nnc_real) * IR_OUT);
    }
    return loss;
}

static const NncModel ir_model = {
    .abi_version = NNC_ABI_VERSION, .name = "iris_drop", .nnc_version = "0.1.0-test",
    .source_sha256 = "", .signature = "sig-iris-drop", .real_bytes = sizeof(nnc_real),
    .input_rank = 1, .input_dims = {4}, .n_inputs = 4,
    .output_rank = 1, .output_dims = {3}, .n_outputs = 3,
    .target_kind = NNC_TARGET_CLASS_INDEX, .target_width = 1,
    .n_params = 4, .params = ir_params, .param_floats = IR_P, .opt_floats = 0,
    .scratch_per_row = IR_ROW, .scratch_fixed = 0,
    .n_layers = 3, .layers = ir_layers,
    .loss = NNC_LOSS_SPARSE_CATEGORICAL_CE, .optimizer = NNC_OPT_SGD, .learning_rate = 0.2,
    .n_metrics = 1, .metrics = ir_metrics,
    .epochs = 10, .batch_size = 16, .validation_split = 0.2, .shuffle = 1, .seed = 7,
    .verbose = 2,
    .predict = ir_predict, .forward_backward = ir_fb, .regularize = NULL,
    .update = ir_update, .eval_loss = ir_eval, .metric_names = ir_metric_names,
};

/* ---- harness ---- */

typedef struct Run {
    int status;
    char out[1 << 16], err[1 << 16];
} Run;

static char tmpdir[64];

/* The trainer runs in tmpdir, where `train` saves <model>.safetensors by
** default (SPEC 3); examples/ is linked there so the data paths still work. */
static void make_tmpdir(void) {
    char cwd[400], link[512];
    strcpy(tmpdir, "/tmp/nnc-rt-XXXXXX");
    cr_assert(mkdtemp(tmpdir) != NULL);
    cr_assert(getcwd(cwd, sizeof cwd - 16) != NULL);
    strcat(cwd, "/examples");
    snprintf(link, sizeof link, "%s/examples", tmpdir);
    cr_assert(symlink(cwd, link) == 0);
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* A path in the test's directory. */
static const char *tmp(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void read_into(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* When set, the file the next run's standard input reads. */
static const char *run_stdin;

/* Runs nnc_main(model, "prog " + args split at spaces) in a child process. */
static int run(const NncModel *m, Run *r, const char *fmt, ...) {
    char line[4096], *argv[64], out[600], err[600];
    int argc = 0, fd, wstatus;
    va_list ap;
    pid_t pid;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    argv[argc++] = "prog";
    for (char *tok = strtok(line, " "); tok && argc < 63; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    snprintf(out, sizeof out, "%s/.stdout", tmpdir);
    snprintf(err, sizeof err, "%s/.stderr", tmpdir);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        close(fd);
        fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        close(fd);
        if (run_stdin) {
            fd = open(run_stdin, O_RDONLY);
            dup2(fd, 0);
            close(fd);
        }
        if (chdir(tmpdir) != 0)
            _exit(125);
        fd = nnc_main(m, argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(fd);
    }
    waitpid(pid, &wstatus, 0);
    r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    read_into(out, r->out, sizeof r->out);
    read_into(err, r->err, sizeof r->err);
    unlink(out);
    unlink(err);
    return r->status;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* A safetensors file from a header (padded here) and raw data. */
static void write_st(const char *path, const char *header, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    size_t len = strlen(header), padded = (len + 7) / 8 * 8, i;
    unsigned char hl[8];
    for (i = 0; i < 8; i++)
        hl[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    cr_assert(f != NULL);
    fwrite(hl, 1, 8, f);
    fputs(header, f);
    for (i = len; i < padded; i++)
        fputc(' ', f);
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
}

static long file_bytes(const char *path, unsigned char **data) {
    FILE *f = fopen(path, "rb");
    long n;
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n + 1);
    cr_assert(fread(*data, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return n;
}

static int same_bytes(const char *a, const char *b) {
    unsigned char *x = NULL, *y = NULL;
    long n = file_bytes(a, &x), m = file_bytes(b, &y);
    int same = n >= 0 && n == m && memcmp(x, y, (size_t)n) == 0;
    free(x);
    free(y);
    return same;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static Run R; /* large: static, one per test process */

TestSuite(runtime, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 30);

/* ---- training and evaluation ---- */

Test(runtime, trains_cancer_to_95_percent) {
    double loss, acc;
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 30 --save %s --verbose 0",
                     tmp("w.safetensors")), 0, "%s", R.err);
    cr_assert_str_eq(R.out, "");
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("w.safetensors")), 0,
                 "%s", R.err);
    cr_assert_eq(sscanf(R.out, "loss: %lf - accuracy: %lf", &loss, &acc), 2, "%s", R.out);
    cr_assert(acc >= 0.95, "test accuracy %f: %s", acc, R.out);
    cr_assert(loss > 0 && loss < 0.3, "%s", R.out);
    /* 4 decimals, one line */
    cr_assert(strlen(R.out) == strlen("loss: 0.0000 - accuracy: 0.0000\n"), "%s", R.out);
}

Test(runtime, keras_progress_lines) {
    char *line, *save = NULL;
    int epoch = 0, n;
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 3 --verbose 1"), 0, "%s", R.err);
    cr_assert_eq(count_lines(R.out), 7, "%s", R.out);
    /* SPEC 3: saved by default, and said so last */
    line = strstr(R.out, "Saved weights to cancer_lr.safetensors\n");
    cr_assert(line && line[strlen("Saved weights to cancer_lr.safetensors\n")] == '\0', "%s", R.out);
    *line = '\0';
    for (line = strtok_r(R.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char unit[8], rest[256];
        double t;
        int sec;
        if (!strncmp(line, "Epoch ", 6)) {
            cr_assert_eq(sscanf(line, "Epoch %d/3", &n), 1);
            cr_assert_eq(n, ++epoch);
            continue;
        }
        /* 426 rows, validation_split 0.25: 319 training rows, 10 batches */
        cr_assert(!strncmp(line, "10/10 [==============================] - ", 41), "%s", line);
        cr_assert_eq(sscanf(line + 41, "%ds %lf%2s/step%255[^\n]", &sec, &t, unit, rest), 4, "%s", line);
        cr_assert(!strcmp(unit, "us") || !strcmp(unit, "ms"), "%s", line);
        cr_assert_eq(strlen(rest), strlen(" - loss: 0.0000 - accuracy: 0.0000 - val_loss: 0.0000 - val_accuracy: 0.0000"), "%s", line);
        cr_assert(sscanf(rest, " - loss: %lf - accuracy: %lf - val_loss: %lf - val_accuracy: %lf", &t, &t, &t, &t) == 4, "%s", line);
    }
    cr_assert_eq(epoch, 3);
}

Test(runtime, verbose_0_and_2) {
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 2 --verbose 0"), 0);
    cr_assert_str_eq(R.out, "");
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 2 --verbose 2"), 0);
    cr_assert_eq(count_lines(R.out), 5, "%s", R.out);
}

Test(runtime, predict_writes_csv) {
    unsigned char *data;
    double v;
    char *p;
    int rows = 0;
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 5 --verbose 0 --save %s",
                     tmp("w.st")), 0);
    cr_assert_eq(run(&lr_model, &R, "predict " CANCER_TEST " --weights %s", tmp("w.st")), 0, "%s", R.err);
    cr_assert_eq(strncmp(R.out, "y0\n", 3), 0);
    cr_assert_eq(count_lines(R.out), 144);
    for (p = strchr(R.out, '\n') + 1; *p; p = strchr(p, '\n') + 1, rows++) {
        cr_assert_eq(sscanf(p, "%lf", &v), 1);
        cr_assert(v > 0 && v < 1);
    }
    cr_assert_eq(rows, 143);
    cr_assert_eq(run(&lr_model, &R, "predict " CANCER_TEST " --weights %s -o %s --threads 3",
                     tmp("w.st"), tmp("p.csv")), 0, "%s", R.err);
    cr_assert_str_eq(R.out, "");
    cr_assert(file_bytes(tmp("p.csv"), &data) > 0);
    free(data);
}

Test(runtime, iris_dropout_softmax_learns) {
    double loss, acc;
    cr_assert_eq(run(&ir_model, &R, "train " IRIS_TRAIN " --epochs 60 --save %s --verbose 0",
                     tmp("w.st")), 0, "%s", R.err);
    cr_assert_eq(run(&ir_model, &R, "eval " IRIS_TEST " --weights %s", tmp("w.st")), 0, "%s", R.err);
    cr_assert_eq(sscanf(R.out, "loss: %lf - accuracy: %lf", &loss, &acc), 2, "%s", R.out);
    cr_assert(acc >= 0.8, "%s", R.out);
}

/* ---- determinism (SPEC 3) ---- */

Test(runtime, same_seed_same_bytes) {
    const char *fmt = "train " IRIS_TRAIN " --epochs 5 --seed 3 --verbose 0 --save %s";
    cr_assert_eq(run(&ir_model, &R, fmt, tmp("a.st")), 0);
    cr_assert_eq(run(&ir_model, &R, fmt, tmp("b.st")), 0);
    cr_assert(same_bytes(tmp("a.st"), tmp("b.st")));
    cr_assert_eq(run(&ir_model, &R, "train " IRIS_TRAIN " --epochs 5 --seed 4 --verbose 0 --save %s",
                     tmp("c.st")), 0);
    cr_assert(!same_bytes(tmp("a.st"), tmp("c.st")));
}

Test(runtime, threads_do_not_change_weights) {
    /* 100-row batches are 4 chunks: the chunk sums must not depend on threads. */
    const char *fmt = "train %s --epochs 4 --batch-size %s --threads %d --verbose 0 --save %s";
    cr_assert_eq(run(&ir_model, &R, fmt, IRIS_TRAIN, "50", 1, tmp("t1.st")), 0);
    cr_assert_eq(run(&ir_model, &R, fmt, IRIS_TRAIN, "50", 2, tmp("t2.st")), 0);
    cr_assert_eq(run(&ir_model, &R, fmt, IRIS_TRAIN, "50", 3, tmp("t3.st")), 0);
    cr_assert(same_bytes(tmp("t1.st"), tmp("t2.st")));
    cr_assert(same_bytes(tmp("t1.st"), tmp("t3.st")));
    cr_assert_eq(run(&lr_model, &R, fmt, CANCER_TRAIN, "all", 1, tmp("l1.st")), 0);
    cr_assert_eq(run(&lr_model, &R, fmt, CANCER_TRAIN, "all", 4, tmp("l4.st")), 0);
    cr_assert(same_bytes(tmp("l1.st"), tmp("l4.st")));
    cr_assert_eq(run(&lr_model, &R, fmt, CANCER_TRAIN, "100", 1, tmp("m1.st")), 0);
    cr_assert_eq(run(&lr_model, &R, fmt, CANCER_TRAIN, "100", 2, tmp("m2.st")), 0);
    cr_assert(same_bytes(tmp("m1.st"), tmp("m2.st")));
}

Test(runtime, resume_is_bit_identical) {
    static const NncCallback cbs[] = {
        {NNC_CB_EARLY_STOPPING, "val_loss", NNC_MODE_AUTO, 0, 0, 0, 50, 1, 0, NULL},
        {NNC_CB_REDUCE_LR_ON_PLATEAU, "val_accuracy", NNC_MODE_AUTO, 1e-4, 0.5, 0, 1, 0, 0, NULL},
    };
    NncModel m = ir_model;
    m.callbacks = cbs;
    m.n_callbacks = 2;
    cr_assert_eq(run(&m, &R, "train " IRIS_TRAIN " --epochs 6 --verbose 0 --save %s --history %s",
                     tmp("straight.st"), tmp("h1.csv")), 0, "%s", R.err);
    cr_assert_eq(run(&m, &R, "train " IRIS_TRAIN " --epochs 3 --verbose 0 --checkpoint %s",
                     tmp("c.ckpt")), 0, "%s", R.err);
    cr_assert_eq(run(&m, &R, "train " IRIS_TRAIN " --epochs 6 --verbose 0 --resume %s --save %s "
                     "--history %s", tmp("c.ckpt"), tmp("resumed.st"), tmp("h2.csv")), 0, "%s", R.err);
    cr_assert(same_bytes(tmp("straight.st"), tmp("resumed.st")));
    cr_assert(same_bytes(tmp("h1.csv"), tmp("h2.csv")));
    /* reduce_lr_on_plateau acted, so the learning rate was part of the state */
    read_into(tmp("h1.csv"), R.out, sizeof R.out);
    cr_assert(strstr(R.out, ",0.1\n") || strstr(R.out, ",0.05\n"), "%s", R.out);
    /* the checkpoint is a weights file too */
    cr_assert_eq(run(&m, &R, "eval " IRIS_TEST " --weights %s", tmp("c.ckpt")), 0, "%s", R.err);
}

/* ---- files ---- */

Test(runtime, safetensors_header_bytes) {
    const char *start = "{\"__metadata__\":{\"nnc_model\":\"cancer_lr\",\"nnc_signature\":"
                        "\"sig-cancer-lr\",\"nnc_version\":\"0.1.0-test\",";
    unsigned char *d;
    long n;
    uint64_t hlen = 0;
    char *header, want[256];
    int i, size = (int)sizeof(nnc_real);
    run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 0 --save %s", tmp("w.st"));
    n = file_bytes(tmp("w.st"), &d);
    cr_assert_eq(R.status, 0, "%s", R.err);
    for (i = 7; i >= 0; i--)
        hlen = hlen << 8 | d[i];
    cr_assert_eq(hlen % 8, 0);
    cr_assert_eq((long)(8 + hlen + (uint64_t)(LR_P * size)), n);
    header = strndup((char *)d + 8, hlen);
    cr_assert(!strncmp(header, start, strlen(start)), "%s", header);
    snprintf(want, sizeof want, "\"normalize_1.mean\":{\"dtype\":\"%s\",\"shape\":[30],"
             "\"data_offsets\":[0,%d]}", size == 8 ? "F64" : "F32", 30 * size);
    cr_assert(strstr(header, want), "%s", header);
    snprintf(want, sizeof want, "\"dense_1.kernel\":{\"dtype\":\"%s\",\"shape\":[30,1],"
             "\"data_offsets\":[%d,%d]}", size == 8 ? "F64" : "F32", 60 * size, 90 * size);
    cr_assert(strstr(header, want), "%s", header);
    cr_assert(strstr(header, "\"seed\":\"42\""));
    cr_assert(strstr(header, "\"epochs\":\"0\""));
    /* padding is spaces, after the closing brace */
    for (i = (int)hlen - 1; header[i] == ' '; i--)
        ;
    cr_assert_eq(header[i], '}');
    /* --epochs 0 computed the statistics: the mean of column 1 */
    {
        double mean = 0, v;
        FILE *f = fopen(CANCER_TRAIN, "r");
        char line[4096];
        int rows = 0;
        float stored32;
        double stored64;
        cr_assert(fgets(line, sizeof line, f) != NULL);
        while (fgets(line, sizeof line, f) && rows < 319) {
            sscanf(line, "%lf", &v);
            mean += v;
            rows++;
        }
        fclose(f);
        mean /= rows;
        if (size == 4) {
            memcpy(&stored32, d + 8 + hlen, 4);
            cr_assert(fabs(stored32 - mean) < 1e-4, "%f vs %f", stored32, mean);
        } else {
            memcpy(&stored64, d + 8 + hlen, 8);
            cr_assert(fabs(stored64 - mean) < 1e-9);
        }
    }
    free(header);
    free(d);
}

Test(runtime, load_then_save_round_trips) {
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 3 --verbose 0 --save %s",
                     tmp("a.st")), 0);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 0 --load %s --save %s",
                     tmp("a.st"), tmp("b.st")), 0, "%s", R.err);
    cr_assert_eq(run(&lr_model, &R, "predict " CANCER_TEST " --weights %s -o %s", tmp("a.st"),
                     tmp("pa.csv")), 0);
    cr_assert_eq(run(&lr_model, &R, "predict " CANCER_TEST " --weights %s -o %s", tmp("b.st"),
                     tmp("pb.csv")), 0);
    cr_assert(same_bytes(tmp("pa.csv"), tmp("pb.csv")));
}

Test(runtime, weights_of_another_model) {
    static NncParam wide[4];
    NncModel m = lr_model;
    char want[256];
    memcpy(wide, lr_params, sizeof wide);
    wide[2].dims[1] = 16;
    m.params = wide;
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 0 --save %s", tmp("w.st")), 0);
    cr_assert_eq(run(&m, &R, "eval " CANCER_TEST " --weights %s", tmp("w.st")), 1);
    snprintf(want, sizeof want, "%s: tensor \"dense_1.kernel\" has shape [30, 1], this model "
             "expects [30, 16]\n", tmp("w.st"));
    cr_assert_str_eq(R.err, want);
    wide[2].dims[1] = 1;
    wide[3].name = "dense_1.b";
    cr_assert_eq(run(&m, &R, "eval " CANCER_TEST " --weights %s", tmp("w.st")), 1);
    snprintf(want, sizeof want, "%s: tensor \"dense_1.b\" is missing; this model expects [1]\n",
             tmp("w.st"));
    cr_assert_str_eq(R.err, want);
    m.params = lr_params;
    m.signature = "sig-other";
    cr_assert_eq(run(&m, &R, "eval " CANCER_TEST " --weights %s", tmp("w.st")), 1);
    snprintf(want, sizeof want, "%s: made for another model (signature sig-cancer-lr, this "
             "model's is sig-other)\n", tmp("w.st"));
    cr_assert_str_eq(R.err, want);
}

Test(runtime, corrupt_weights_are_rejected) {
    char want[256];
    write_file(tmp("short.st"), "abc");
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("short.st")), 1);
    snprintf(want, sizeof want, "%s: not a safetensors file (too short)\n", tmp("short.st"));
    cr_assert_str_eq(R.err, want);
    write_st(tmp("bad.st"), "{\"a\":1}", NULL, 0);
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("bad.st")), 1);
    snprintf(want, sizeof want, "%s: malformed safetensors header: expected '{' at byte 13\n",
             tmp("bad.st"));
    cr_assert_str_eq(R.err, want);
    write_st(tmp("off.st"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
             "abcd", 4);
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("off.st")), 1);
    snprintf(want, sizeof want, "%s: tensor \"x\" has data_offsets [0, 8] outside the 4 bytes of "
             "data\n", tmp("off.st"));
    cr_assert_str_eq(R.err, want);
    write_st(tmp("size.st"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
             "abcdefgh", 8);
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("size.st")), 1);
    snprintf(want, sizeof want, "%s: tensor \"x\" has 8 bytes of data, its dtype and shape need "
             "12\n", tmp("size.st"));
    cr_assert_str_eq(R.err, want);
    write_st(tmp("other.st"), "{\"__metadata__\":{\"k\":\"v\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],"
             "\"data_offsets\":[0,8]}}", "abcdefgh", 8);
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("other.st")), 1);
    snprintf(want, sizeof want, "%s: tensor \"normalize_1.mean\" is missing; this model expects "
             "[30]\n", tmp("other.st"));
    cr_assert_str_eq(R.err, want);
}

Test(runtime, failed_writes_leave_nothing) {
    DIR *d;
    struct dirent *e;
    char want[512];
    mkdir(tmp("out.st"), 0755);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 1 --verbose 0 --save %s",
                     tmp("out.st")), 1);
    snprintf(want, sizeof want, "%s: cannot write: Is a directory\n", tmp("out.st"));
    cr_assert_str_eq(R.err, want);
    d = opendir(tmpdir);
    while ((e = readdir(d)) != NULL)
        cr_assert(!strstr(e->d_name, ".tmp"), "left %s", e->d_name);
    closedir(d);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 0 --save %s",
                     tmp("no/such/dir/w.st")), 1);
    snprintf(want, sizeof want, "%s: cannot write: No such file or directory\n",
             tmp("no/such/dir/w.st"));
    cr_assert_str_eq(R.err, want);
}

Test(runtime, history_and_plot) {
    unsigned char *svg;
    char *row, *save = NULL;
    int n = 0, commas;
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 4 --verbose 0 --history %s "
                     "--plot %s", tmp("h.csv"), tmp("p.svg")), 0, "%s", R.err);
    read_into(tmp("h.csv"), R.out, sizeof R.out);
    cr_assert(!strncmp(R.out, "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n", 56), "%s", R.out);
    for (row = strtok_r(R.out + 56, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
        int epoch;
        double lr;
        char *c;
        for (commas = 0, c = row; *c; c++)
            commas += *c == ',';
        cr_assert_eq(commas, 5, "%s", row);
        cr_assert_eq(sscanf(row, "%d,", &epoch), 1);
        cr_assert_eq(epoch, ++n);
        lr = atof(strrchr(row, ',') + 1);
        cr_assert_float_eq(lr, 0.01, 1e-12);
    }
    cr_assert_eq(n, 4);
    cr_assert(file_bytes(tmp("p.svg"), &svg) > 0);
    cr_assert(!strncmp((char *)svg, "<?xml", 5));
    cr_assert(strstr((char *)svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    cr_assert(strstr((char *)svg, "<polyline"));
    cr_assert(strstr((char *)svg, ">validation</text>"));
    cr_assert(strstr((char *)svg, ">accuracy</text>"));
    cr_assert(strstr((char *)svg, "</svg>\n"));
    free(svg);
}

/* ---- callbacks ---- */

Test(runtime, early_stopping_line) {
    static const NncCallback es[] = {
        {NNC_CB_EARLY_STOPPING, "val_loss", NNC_MODE_MIN, 10.0, 0, 0, 0, 0, 0, NULL}};
    NncModel m = lr_model;
    const char *last;
    m.callbacks = es;
    m.n_callbacks = 1;
    cr_assert_eq(run(&m, &R, "train " CANCER_TRAIN " --epochs 50 --verbose 2 --history %s",
                     tmp("h.csv")), 0, "%s", R.err);
    cr_assert_eq(count_lines(R.out), 6, "%s", R.out);
    last = strstr(R.out, "Epoch 2: early stopping\nSaved weights to cancer_lr.safetensors\n");
    cr_assert(last && last[strlen("Epoch 2: early stopping\nSaved weights to cancer_lr.safetensors\n")] == '\0',
              "%s", R.out);
    read_into(tmp("h.csv"), R.out, sizeof R.out);
    cr_assert_eq(count_lines(R.out), 3);
}

Test(runtime, missing_monitor_warns) {
    static const NncCallback es[] = {
        {NNC_CB_EARLY_STOPPING, "val_loss", NNC_MODE_AUTO, 0, 0, 0, 0, 0, 0, NULL}};
    NncModel m = lr_model;
    m.callbacks = es;
    m.n_callbacks = 1;
    cr_assert_eq(run(&m, &R, "train " CANCER_TRAIN " --epochs 3 --verbose 0 --validation-split 0"),
                 0, "%s", R.err);
    cr_assert_str_eq(R.err, "warning: Early stopping conditioned on metric `val_loss` which is not "
                            "available. Available metrics are: loss,accuracy\n");
}

Test(runtime, model_checkpoint_saves_best) {
    static NncCallback mc[] = {
        {NNC_CB_MODEL_CHECKPOINT, "val_accuracy", NNC_MODE_AUTO, 0, 0, 0, 0, 0, 1, NULL}};
    NncModel m = lr_model;
    char path[600];
    snprintf(path, sizeof path, "%s/best-{epoch:02d}.st", tmpdir);
    mc[0].path = path;
    m.callbacks = mc;
    m.n_callbacks = 1;
    cr_assert_eq(run(&m, &R, "train " CANCER_TRAIN " --epochs 2 --verbose 0"), 0, "%s", R.err);
    cr_assert_eq(access(tmp("best-01.st"), F_OK), 0);
    cr_assert_eq(run(&m, &R, "eval " CANCER_TEST " --weights %s", tmp("best-01.st")), 0, "%s", R.err);
}

Test(runtime, restore_best_weights_matches_the_best_checkpoint) {
    static NncCallback cbs[] = {
        {NNC_CB_MODEL_CHECKPOINT, "val_loss", NNC_MODE_AUTO, 0, 0, 0, 0, 0, 1, NULL},
        {NNC_CB_EARLY_STOPPING, "val_loss", NNC_MODE_AUTO, 0, 0, 0, 2, 1, 0, NULL},
    };
    NncModel m = lr_model;
    char path[600];
    snprintf(path, sizeof path, "%s/best.st", tmpdir);
    cbs[0].path = path;
    m.callbacks = cbs;
    m.n_callbacks = 2;
    char want[600], *stop, *header;
    int stopped;
    cr_assert_eq(run(&m, &R, "train " CANCER_TRAIN " --epochs 300 --learning-rate 0.3 --verbose 2 "
                     "--save %s", tmp("final.st")), 0, "%s", R.err);
    stop = strstr(R.out, ": early stopping\n");
    cr_assert(stop, "%s", R.out);
    while (stop > R.out && stop[-1] != '\n')
        stop--;
    cr_assert_eq(sscanf(stop, "Epoch %d: early stopping", &stopped), 1, "%s", R.out);
    /* Keras' line, with the epoch it went back to (patience 2), then the save */
    snprintf(want, sizeof want, "Epoch %d: early stopping\nRestoring model weights from the end of the "
             "best epoch: %d.\nSaved weights to %s\n", stopped, stopped - 2, tmp("final.st"));
    cr_assert_str_eq(stop, want);
    /* the weights file says which epoch its weights are from */
    snprintf(want, sizeof want, "\"epochs\":\"%d\"", stopped - 2);
    read_into(tmp("final.st"), R.err, sizeof R.err);
    header = R.err + 8;
    cr_assert(strstr(header, want), "%s not in %s", want, header);
    cr_assert_eq(run(&m, &R, "predict " CANCER_TEST " --weights %s -o %s", tmp("best.st"),
                     tmp("p1.csv")), 0, "%s", R.err);
    cr_assert_eq(run(&m, &R, "predict " CANCER_TEST " --weights %s -o %s", tmp("final.st"),
                     tmp("p2.csv")), 0, "%s", R.err);
    cr_assert(same_bytes(tmp("p1.csv"), tmp("p2.csv")));
}

Test(runtime, reduce_lr_on_plateau_and_val_file) {
    static const NncCallback rlr[] = {
        {NNC_CB_REDUCE_LR_ON_PLATEAU, "val_accuracy", NNC_MODE_AUTO, 0, 0.5, 0.001, 0, 0, 0, NULL}};
    NncModel m = ir_model;
    char *last;
    double lr;
    m.callbacks = rlr;
    m.n_callbacks = 1;
    /* patience 0: every epoch without a better val_accuracy halves the rate, down to min_lr */
    cr_assert_eq(run(&m, &R, "train " IRIS_TRAIN " --val " IRIS_TEST " --epochs 30 --verbose 0 "
                     "--history %s", tmp("h.csv")), 0, "%s", R.err);
    read_into(tmp("h.csv"), R.out, sizeof R.out);
    cr_assert(!strncmp(R.out, "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n", 56));
    cr_assert_eq(count_lines(R.out), 31);
    R.out[strlen(R.out) - 1] = '\0';
    last = strrchr(R.out, ',');
    lr = atof(last + 1);
    cr_assert(lr < 0.2 && lr >= 0.001, "%s", R.out);
    cr_assert_eq(run(&m, &R, "train " IRIS_TRAIN " --load %s --resume %s", tmp("a"), tmp("b")), 2);
}

/* ---- failures ---- */

Test(runtime, divergence_exits_3) {
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 5 --learning-rate %s --save %s",
                     sizeof(nnc_real) == 8 ? "1e307" : "1e38", tmp("w.st")), 3, "%s", R.err);
    cr_assert(!strncmp(R.err, "epoch 1, step ", 14), "%s", R.err);
    cr_assert(strstr(R.err, "/10: the loss is "), "%s", R.err);
    cr_assert(strstr(R.err, "; training diverged\nhint: lower the learning rate (it is 1e+"), "%s", R.err);
    cr_assert(strstr(R.err, "normalize(minmax) or normalize(standard)"), "%s", R.err);
    cr_assert_neq(access(tmp("w.st"), F_OK), 0);
}

Test(runtime, csv_errors_name_file_and_line) {
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"a,b,c,d,target\n1,2,3,4,0\n1,2,3,0\n", "%s:3: expected 5 columns, found 4\n"},
        {"1,2,3,4,0\n1,2,3,4,1\n\n1,2,3,4,2\n1,2,abc,4,0\n", "%s:5: column 3: not a number: \"abc\"\n"},
        {"a,b,c,d,t\n1,2,3,4,0\n1,2,3,4,1\n1,2,3,4,2\n1,2,3,4,2\n1,2,3,4,2\n1,2,3,4,2\n1,2,3,4,2\n"
         "1,2,3,4,12\n", "%s:9: class 12 is outside 0..2\n"},
        {"1,2,3,4,0\n1,2,3,4,1.5\n", "%s:2: class 1.5 is not an integer\n"},
        {"", "%s: empty file\n"},
        {"\n  \n\r\n", "%s: empty file\n"},
        {"a,b,c,d,target\n", "%s: no data rows\n"},
        {"1,2,3,4,5,0\n", "%s:1: expected 5 columns (4 inputs + 1 target), found 6\n"},
        {"1,2,3,4,0\n1,2,,4,0\n", "%s:2: column 3: not a number: \"\"\n"},
        {"1,2,3,4,0\n1,2,nan,4,0\n", "%s:2: column 3: not a number: \"nan\"\n"},
    };
    char want[512];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(tmp("bad.csv"), cases[i].text);
        cr_assert_eq(run(&ir_model, &R, "train %s --epochs 0", tmp("bad.csv")), 1, "case %zu", i);
        snprintf(want, sizeof want, cases[i].message, tmp("bad.csv"));
        cr_assert_str_eq(R.err, want, "case %zu", i);
    }
    cr_assert_eq(run(&ir_model, &R, "train %s", tmp("missing.csv")), 1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory\n", tmp("missing.csv"));
    cr_assert_str_eq(R.err, want);
    write_file(tmp("bce.csv"), "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,1\n"
                               "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,1.5\n");
    cr_assert_eq(run(&lr_model, &R, "train %s", tmp("bce.csv")), 1);
    snprintf(want, sizeof want, "%s:2: target 1.5 is outside [0, 1] (binary_crossentropy)\n", tmp("bce.csv"));
    cr_assert_str_eq(R.err, want);
}

Test(runtime, csv_tolerates_crlf_blank_lines_and_long_lines) {
    char *text = malloc(300000);
    int i;
    write_file(tmp("crlf.csv"), "a,b,c,d,target\r\n5.1,3.5,1.4,0.2,0\r\n6,3,4,1,1\r\n7,3,6,2,2\r\n6.5,3,5,2,2\r\n"
                                "5,3,1,0.1,0\r\n\r\n\n");
    cr_assert_eq(run(&ir_model, &R, "train %s --epochs 1 --verbose 0 --validation-split 0",
                     tmp("crlf.csv")), 0, "%s", R.err);
    write_file(tmp("nonl.csv"), "5.1,3.5,1.4,0.2,0\n6,3,4,1,1\n7,3,6,2,2");
    cr_assert_eq(run(&ir_model, &R, "train %s --epochs 1 --verbose 0 --validation-split 0",
                     tmp("nonl.csv")), 0, "%s", R.err);
    /* a 200 kB field: 0000...06 */
    strcpy(text, "5.1,3.5,1.4,0.2,0\n  ");
    i = (int)strlen(text);
    memset(text + i, '0', 200000);
    strcpy(text + i + 200000, "6,3,4,1,1\n");
    write_file(tmp("long.csv"), text);
    cr_assert_eq(run(&ir_model, &R, "train %s --epochs 1 --verbose 0 --validation-split 0",
                     tmp("long.csv")), 0, "%s", R.err);
    free(text);
}

Test(runtime, label_picks_a_column) {
    write_file(tmp("l.csv"), "target,a,b,c,d\n0,5.1,3.5,1.4,0.2\n1,6,3,4,1\n2,7,3,6,2\n");
    cr_assert_eq(run(&ir_model, &R, "train %s --label target --epochs 1 --validation-split 0",
                     tmp("l.csv")), 0, "%s", R.err);
    cr_assert_eq(run(&ir_model, &R, "train %s --label 0 --epochs 1 --validation-split 0",
                     tmp("l.csv")), 0, "%s", R.err);
    cr_assert_eq(run(&ir_model, &R, "train %s --label species --epochs 1", tmp("l.csv")), 1);
    cr_assert(strstr(R.err, ": --label species: no such column\n"), "%s", R.err);
    cr_assert_eq(run(&ir_model, &R, "train %s --label 5 --epochs 1", tmp("l.csv")), 1);
    cr_assert(strstr(R.err, ": --label 5: the file has 5 columns (0..4)\n"), "%s", R.err);
}

Test(runtime, usage_errors_exit_2) {
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"train x.csv --foo", "prog: unknown option '--foo'\n"},
        {"train x.csv --epochs", "prog: option --epochs needs a value\n"},
        {"train x.csv --epochs abc", "prog: --epochs: expected a non-negative integer, got \"abc\"\n"},
        {"train x.csv --batch-size 0", "prog: --batch-size: expected a positive integer or \"all\", got \"0\"\n"},
        {"train x.csv --learning-rate -1", "prog: --learning-rate: expected a positive number, got \"-1\"\n"},
        {"train x.csv --validation-split 1", "prog: --validation-split: expected a number in [0, 1), got \"1\"\n"},
        {"train x.csv --verbose 3", "prog: --verbose: expected 0, 1 or 2, got \"3\"\n"},
        {"train x.csv --threads 0", "prog: --threads: expected an integer from 1 to 256, got \"0\"\n"},
        {"train", "prog: 'train' needs a data file (DATA.csv)\n"},
        {"eval x.csv", "prog: 'eval' needs --weights W.safetensors\n"},
        {"eval x.csv --weights w --epochs 3", "prog: option --epochs does not apply to 'eval'\n"},
        {"train x.csv --val v.csv --validation-split 0.1", "prog: --val and --validation-split exclude each other\n"},
        {"train x.csv y.csv", "prog: unexpected argument 'y.csv'\n"},
        {"fit x.csv", "prog: unknown command 'fit'\n"},
        {"", "prog: missing command\n"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(run(&lr_model, &R, "%s", cases[i].args), 2, "%s", cases[i].args);
        cr_assert(!strncmp(R.err, cases[i].message, strlen(cases[i].message)), "%s: %s",
                  cases[i].args, R.err);
        cr_assert(strstr(R.err, "\nusage: prog train DATA.csv"), "%s", R.err);
    }
    cr_assert_eq(run(&lr_model, &R, "--help"), 0);
    cr_assert(strstr(R.out, "usage: prog train DATA.csv [--val VAL.csv | --validation-split F]"));
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs=0 --batch-size=all"), 0, "%s", R.err);
}

/* ---- SPEC 3: nothing trained is thrown away ---- */

Test(runtime, train_saves_by_default) {
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 1 --verbose 2"), 0, "%s", R.err);
    cr_assert(strstr(R.out, "\nSaved weights to cancer_lr.safetensors\n"), "%s", R.out);
    cr_assert_eq(run(&lr_model, &R, "eval " CANCER_TEST " --weights %s", tmp("cancer_lr.safetensors")), 0,
                 "%s", R.err);
    cr_assert_eq(unlink(tmp("cancer_lr.safetensors")), 0);
    /* --no-save opts out; verbose 0 prints nothing, and still saves */
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 1 --verbose 2 --no-save"), 0, "%s", R.err);
    cr_assert(!strstr(R.out, "Saved weights"), "%s", R.out);
    cr_assert_neq(access(tmp("cancer_lr.safetensors"), F_OK), 0);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 1 --verbose 0"), 0, "%s", R.err);
    cr_assert_str_eq(R.out, "");
    cr_assert_eq(access(tmp("cancer_lr.safetensors"), F_OK), 0);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --no-save=1"), 2);
    cr_assert(strstr(R.err, "option --no-save takes no value"), "%s", R.err);
}

/* A bad output path fails before the data is read or an epoch runs. */
Test(runtime, output_paths_checked_before_training) {
    static const char *const options[] = {"--save", "--checkpoint", "--history", "--plot"};
    char want[600];
    size_t i;
    for (i = 0; i < sizeof options / sizeof *options; i++) {
        cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 5 %s %s", options[i],
                         tmp("no/such/dir/out")), 1, "%s", options[i]);
        cr_assert_str_eq(R.out, "", "%s", options[i]);
        snprintf(want, sizeof want, "%s: cannot write: No such file or directory\n", tmp("no/such/dir/out"));
        cr_assert_str_eq(R.err, want, "%s", options[i]);
    }
    /* even before a missing data file is noticed */
    cr_assert_eq(run(&lr_model, &R, "train %s --save %s", tmp("missing.csv"), tmp("no/dir/w.st")), 1);
    cr_assert(strstr(R.err, "no/dir/w.st: cannot write"), "%s", R.err);
    cr_assert_eq(run(&lr_model, &R, "predict %s --weights %s -o %s", tmp("missing.csv"), tmp("w.st"),
                     tmp("no/dir/p.csv")), 1);
    cr_assert(strstr(R.err, "no/dir/p.csv: cannot write"), "%s", R.err);
}

Test(runtime, resume_of_a_finished_run_says_so) {
    char want[600];
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 2 --verbose 0 --no-save --checkpoint %s",
                     tmp("c.ckpt")), 0, "%s", R.err);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epochs 2 --resume %s --save %s", tmp("c.ckpt"),
                     tmp("w.st")), 0, "%s", R.err);
    snprintf(want, sizeof want, "%s: this run already finished: 2 of 2 epochs; nothing to train (--epochs N "
             "trains on to epoch N)\nSaved weights to %s\n", tmp("c.ckpt"), tmp("w.st"));
    cr_assert_str_eq(R.out, want);
}

/* SPEC 3 "Data files": standard input, and gzip recognised by its bytes. */
Test(runtime, data_from_stdin_and_gzip) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -c " CANCER_TRAIN " > %s", tmp("train.data"));
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(run(&lr_model, &R, "train %s --epochs 1 --verbose 2 --save %s", tmp("train.data"), tmp("a.st")),
                 0, "%s", R.err);
    cr_assert(strstr(R.out, "10/10 ["), "%s", R.out);
    run_stdin = CANCER_TRAIN;
    cr_assert_eq(run(&lr_model, &R, "train - --epochs 1 --verbose 2 --save %s", tmp("b.st")), 0, "%s", R.err);
    run_stdin = NULL;
    cr_assert(same_bytes(tmp("a.st"), tmp("b.st")));
    /* not gzip after all: gzip's failure is a data error, not a crash */
    write_file(tmp("bad.gz"), "\x1f\x8b garbage");
    cr_assert_eq(run(&lr_model, &R, "train %s --epochs 1 --no-save", tmp("bad.gz")), 1);
    cr_assert(strstr(R.err, "bad.gz: gzip -dc failed"), "%s", R.err);
}

/* The option syntax nnc shares (SPEC 2): options before the command too,
** a typo answered with the closest option, every default in --help. */
Test(runtime, options_anywhere_closest_and_defaults) {
    cr_assert_eq(run(&lr_model, &R, "--epochs 1 --verbose=2 train --no-save " CANCER_TRAIN), 0, "%s", R.err);
    cr_assert_eq(count_lines(R.out), 2, "%s", R.out);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --epoch 3"), 2);
    cr_assert(!strncmp(R.err, "prog: unknown option '--epoch'; did you mean '--epochs'?\n", 57), "%s", R.err);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --learning 3"), 2);
    cr_assert(strstr(R.err, "did you mean '--learning-rate'?"), "%s", R.err);
    cr_assert_eq(run(&lr_model, &R, "train " CANCER_TRAIN " --help"), 0);
    cr_assert(strstr(R.out, "(default 1)\n") && strstr(R.out, "--threads N"), "%s", R.out);
    cr_assert(strstr(R.out, "--save W.safetensors    where train saves the weights (default "
                            "cancer_lr.safetensors)\n"), "%s", R.out);
    cr_assert(strstr(R.out, "--epochs N              epochs to train (default "), "%s", R.out);
}

/* ---- summary, gradcheck ---- */

/* A param is a tensor, not a per-sample value: no batch axis. */
Test(runtime, summary_param_shapes) {
    static const NncLayer layers[] = {
        {"w", "param", 2, {4, 2}, 8}, {"s", "param", 0, {0}, 1}, {"v", "param", 1, {4}, 4},
        {"dense_1", "dense", 1, {1}, 31}};
    NncModel m = lr_model;
    m.layers = layers;
    m.n_layers = 4;
    cr_assert_eq(run(&m, &R, "summary"), 0, "%s", R.err);
    cr_assert(strstr(R.out, "\n w (Param)                   (4, 2)                    8\n"), "%s", R.out);
    cr_assert(strstr(R.out, "\n s (Param)                   ()                        1\n"), "%s", R.out);
    cr_assert(strstr(R.out, "\n v (Param)                   (4,)                      4\n"), "%s", R.out);
    cr_assert(strstr(R.out, "\n dense_1 (Dense)             (None, 1)                 31\n"), "%s", R.out);
}

Test(runtime, summary_layout) {
    const char *want =
        "Model: \"cancer_lr\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #\n"
        "=================================================================\n"
        " normalize_1 (Normalize)     (None, 30)                60\n"
        "\n"
        " dense_1 (Dense)             (None, 1)                 31\n"
        "\n"
        "=================================================================\n";
    char total[128];
    cr_assert_eq(run(&lr_model, &R, "summary"), 0, "%s", R.err);
    cr_assert(!strncmp(R.out, want, strlen(want)), "%s", R.out);
    snprintf(total, sizeof total, "Total params: 91 (%s)\nTrainable params: 31 (%s)\n"
             "Non-trainable params: 60 (%s)\n",
             sizeof(nnc_real) == 8 ? "728.00 Byte" : "364.00 Byte",
             sizeof(nnc_real) == 8 ? "248.00 Byte" : "124.00 Byte",
             sizeof(nnc_real) == 8 ? "480.00 Byte" : "240.00 Byte");
    cr_assert(strstr(R.out, total), "%s", R.out);
    cr_assert(strstr(R.out, "Trainer memory ("), "%s", R.out);
    cr_assert(strstr(R.out, " parameters "), "%s", R.out);
    cr_assert(strstr(R.out, " optimizer state "), "%s", R.out);
    cr_assert(strstr(R.out, " activations "), "%s", R.out);
    cr_assert(strstr(R.out, "bytes per row of the data file"), "%s", R.out);
}

/* A kernel with a bug: the bias gradient twice what it should be. */
static double lr_fb_broken(const nnc_real *p, nnc_real *g, nnc_real *s, const nnc_real *x,
                           const nnc_real *t, int n, double scale, uint64_t seed,
                           uint64_t first_row, nnc_real *y) {
    double loss = lr_fb(p, g, s, x, t, n, scale, seed, first_row, y);
    g[LR_B] *= 2;
    return loss;
}

Test(runtime, gradcheck_passes_and_catches_a_bug) {
    NncModel broken = lr_model;
    cr_assert_eq(run(&lr_model, &R, "gradcheck " CANCER_TRAIN), 0, "%s%s", R.out, R.err);
    cr_assert(!strncmp(R.out, "gradcheck: 8 rows, ", 19), "%s", R.out);
    cr_assert(strstr(R.out, " dense_1.kernel "), "%s", R.out);
    cr_assert(strstr(R.out, "\nPASS\n"), "%s", R.out);
    cr_assert_eq(run(&ir_model, &R, "gradcheck " IRIS_TRAIN " --seed 5"), 0, "%s%s", R.out, R.err);
    cr_assert(strstr(R.out, "\nPASS\n"), "%s", R.out);
    broken.forward_backward = lr_fb_broken;
    cr_assert_eq(run(&broken, &R, "gradcheck " CANCER_TRAIN), 1, "%s", R.out);
    cr_assert(strstr(R.out, "  FAIL\nFAIL\n"), "%s", R.out);
    cr_assert(strstr(R.out, "  ok\n"), "%s", R.out);
}
