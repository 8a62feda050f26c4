/*
** main.c — the nnc command (SPEC 2): options, then the pipeline
**   source → parse → check → IR → (emit)
** with every output written atomically, and nothing written on error.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "nnc_abi.h"
#include "options.h"

typedef enum Emit { EMIT_C, EMIT_LIB, EMIT_INFER, EMIT_LLVM, EMIT_BC, EMIT_OBJ, EMIT_EXE,
                    EMIT_IR, EMIT_GRAD_IR, EMIT_LOOPS, EMIT_DOT } Emit;

static const char *const emit_names[] = {"c", "lib", "infer", "llvm", "bc", "obj", "exe",
                                         "ir", "grad-ir", "loops", "dot"};

typedef struct Options {
    const char *input, *output, *header, *weights;
    Emit emit;
    bool check, verbose, werror, no_warnings, f64;
    bool mpi;             /* --mpi: the trainer is data-parallel over MPI (SPEC 6) */
    bool no_contract;     /* --fp-contract=off */
    int opt_level;
    int unroll;           /* --unroll=N, -1: from sizes */
    const char *command;  /* the command line, for generated files' header comment */
    char sha256[65];      /* of the source, for generated files */
    bool run;             /* nnc run: the trainer's arguments follow */
    int run_argc;
    char **run_argv;
} Options;

static const char usage_text[] =
    "usage: nnc [OPTIONS] FILE.nn\n"
    "  -o FILE          output (default: <model>.c for c, lib and infer, <model>.ll, .bc, .o or\n"
    "                   <model> for llvm, bc, obj and exe, standard output for ir, grad-ir,\n"
    "                   loops and dot; \"-\" is standard output)\n"
    "  --emit=KIND      c | lib | infer | llvm | bc | obj | exe | ir | grad-ir | loops | dot\n"
    "                   (default c), loops: the kernels both backends print\n"
    "  --check          parse, check and lint only (-v adds the summary and memory)\n"
    "  -H FILE          write the C header for lib, infer and obj (default: -o's name with .h,\n"
    "                   when -o ends in .c or .o)\n"
    "  --weights FILE   a .safetensors file of trained weights (for infer; no default)\n"
    "  --dtype=f32|f64  the scalar type of the generated code (default f32)\n"
    "  -O0 | -O1 | -O2  IR optimization level (default -O2)\n"
    "  --unroll=N       write out loop nests of at most N iterations (default: from sizes)\n"
    "  --fp-contract=on|off  llvm, bc, obj, exe and run: fuse a*b+c into one FMA instruction\n"
    "                   where the CPU has one, as C compilers do by default (default on); off\n"
    "                   matches C built with -ffp-contract=off bit for bit\n"
    "  -Werror, -w      warnings as errors / no warnings (default: warnings are printed)\n"
    "  --mpi            c and lib: train data-parallel under mpirun (build with mpicc; default off)\n"
    "  -v               verbose: summary and pass statistics (default off)\n"
    "  --list=KIND      list the built-ins of a kind (layer, activation, function, loss,\n"
    "                   optimizer, initializer, regularizer, metric, callback)\n"
    "  --version, --help\n"
    "A long option's value may follow '=' or a space (--emit=ir, --emit ir); options may\n"
    "come before or after the file.\n"
    "nnc run [OPTIONS] FILE.nn [TRAINER ARGS...]\n"
    "                                   compile in memory with LLVM's JIT and run the trainer\n"
    "                                   (nnc's options may come anywhere; the rest are the\n"
    "                                   trainer's: nnc run FILE.nn --help lists them)\n"
    "nnc eval 'EXPR'                    evaluate a constant tensor expression and print it\n";

/* Every option, for the closest match to a typo. */
static const char *const option_names[] = {"-o", "-H", "--weights", "--emit", "--check", "--dtype",
                                           "-O0", "-O1", "-O2", "--unroll", "--fp-contract", "-Werror", "-w", "-v", "--mpi",
                                           "--list", "--help", "--version", NULL};

/* Options with a value: after '=' or as the next argument. */
static const char *const value_options[] = {"-o", "-H", "--weights", "--emit", "--dtype", "--unroll", "--fp-contract",
                                            "--list", NULL};

/* Whether argv[i] is an option whose value is the next argument. */
static bool value_follows(const char *a) {
    for (int k = 0; value_options[k]; k++)
        if (!strcmp(a, value_options[k])) return true;
    return false;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "nnc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'nnc --help' for more information.\n");
    return 2;
}

static int list_builtins(const char *kind) {
    for (int k = 0; k < BK_COUNT; k++) {
        if (strcmp(builtin_kind_name((BuiltinKind)k), kind)) continue;
        builtin_list(stdout, (BuiltinKind)k);
        return 0;
    }
    return usage_error("--list: unknown kind '%s'", kind);
}

/* Returns -1 to go on, else an exit status. */
static int parse_option(Options *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const char *value = NULL;
    for (int k = 0; value_options[k]; k++) {
        if (!opt_value(argc, argv, i, value_options[k], &value)) continue;
        if (!value) return usage_error("option '%s' needs a value", a);
        break;
    }
    if (!strcmp(a, "-o") || !strcmp(a, "-H") || opt_is(a, "--weights")) {
        *(!strcmp(a, "-o") ? &o->output : !strcmp(a, "-H") ? &o->header : &o->weights) = value;
    } else if (opt_is(a, "--emit")) {
        int k = 0;
        while (k <= EMIT_DOT && strcmp(emit_names[k], value)) k++;
        if (k > EMIT_DOT) return usage_error("unknown --emit kind '%s'", value);
        o->emit = (Emit)k;
    } else if (opt_is(a, "--dtype")) {
        if (strcmp(value, "f32") && strcmp(value, "f64"))
            return usage_error("--dtype: expected f32 or f64, got '%s'", value);
        o->f64 = value[1] == '6';
    } else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2")) {
        o->opt_level = a[2] - '0';
    } else if (opt_is(a, "--unroll")) {
        char *end;
        long n = strtol(value, &end, 10);
        if (!*value || *end || n < 0 || n > 1000000) return usage_error("--unroll: expected a count, got '%s'", value);
        o->unroll = (int)n;
    } else if (opt_is(a, "--fp-contract")) {
        if (strcmp(value, "on") && strcmp(value, "off"))
            return usage_error("--fp-contract: expected on or off, got '%s'", value);
        o->no_contract = !strcmp(value, "off");
    } else if (!strcmp(a, "--check")) o->check = true;
    else if (!strcmp(a, "--mpi")) o->mpi = true;
    else if (!strcmp(a, "-v")) o->verbose = true;
    else if (!strcmp(a, "-Werror")) o->werror = true;
    else if (!strcmp(a, "-w")) o->no_warnings = true;
    else if (opt_is(a, "--list")) return list_builtins(value);
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        fputs(usage_text, stdout);
        return 0;
    } else if (!strcmp(a, "--version")) {
        printf("nnc %s\n", NNC_VERSION);
        return 0;
    } else if (a[0] == '-' && a[1]) {
        const char *near = opt_closest(a, option_names);
        if (!near) return usage_error("unknown option '%s'", a);
        fprintf(stderr, "nnc: unknown option '%s'; did you mean '%s'?\n", a, near);
        fprintf(stderr, "Try 'nnc --help' for more information.\n");
        return 2;
    } else if (o->input) {
        return usage_error("more than one input file ('%s')", a);
    } else {
        o->input = a;
    }
    return -1;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "nnc: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    bool failed = !buf || ferror(f);
    if (f != stdin) fclose(f);
    if (failed) {
        fprintf(stderr, "nnc: cannot read '%s'\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

typedef void (*Writer)(FILE *out, const void *what);

/* Writes through a temporary file renamed into place, so a failure never
** leaves a half-written output. "-" is standard output. */
static bool write_output(const char *path, Writer write, const void *what) {
    if (!strcmp(path, "-")) {
        write(stdout, what);
        /* A write that failed midway leaves only the error flag. */
        if (fflush(stdout) == 0 && !ferror(stdout)) return true;
        fprintf(stderr, "nnc: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
        return false;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    bool ok = f != NULL;
    if (ok) {
        write(f, what);
        ok = !ferror(f);
        ok = fclose(f) == 0 && ok;
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        fprintf(stderr, "nnc: cannot write '%s': %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok;
}

static void write_ir(FILE *out, const void *m) { ir_print_module(out, m); }
static void write_dot(FILE *out, const void *m) {
    ir_print_dot(out, m, ((const IrModule *)m)->forward);
}

static void write_grad_ir(FILE *out, const void *m) { ir_print_training(out, m); }

/* --emit=loops: the kernels as the lowering made them for both backends. */
static void write_loops(FILE *out, const void *model) {
    const CgModel *cm = model;
    for (int kind = 0; kind < 5; kind++)
        if (cm->kernel[kind]) loops_dump(out, cm->kernel[kind]);
}

/* ---- --emit=c, lib, infer: the C backend (src/codegen/c) ---- */

static void write_text(FILE *out, const void *text) { fputs(text, out); }

/* --mpi: NNC_MPI defined right after the header comment turns on the
** runtime's MPI code (runtime/dist.c); without it the file never needs MPI. */
static const char *with_mpi(const Options *o, const IrModule *m, const char *text) {
    const char *end = text && o->mpi ? strstr(text, "*/\n") : NULL;
    if (!end) return text;
    int n = (int)(end + 3 - text);
    return arena_printf(m->arena, "%.*s#define NNC_MPI 1 /* --mpi: build with mpicc, run with mpirun -np K */\n%s",
                        n, text, text + n);
}

static CgOptions c_options(const Options *o) {
    return (CgOptions){.source = o->input, .source_sha256 = o->sha256, .command = o->command,
                       .header = o->header, .f64 = o->f64, .unroll = o->unroll,
                       .fp_contract = !o->no_contract};
}

/* -o, by default <model>.c; the header -H, by default beside it. */
static const char *c_output(const Options *o, const IrModule *m) {
    return o->output ? o->output : arena_printf(m->arena, "%s.c", m->name);
}

static const char *c_header(const Options *o, const IrModule *m, const char *out) {
    if (o->header) return o->header;
    size_t n = strlen(out);
    if (!strcmp(out, "-") || n < 2 || strcmp(out + n - 2, ".c")) return NULL;
    return arena_printf(m->arena, "%.*s.h", (int)(n - 2), out);
}

static int emit_c(const Options *o, const IrModule *m, const CgModel *cm) {
    const char *text = with_mpi(o, m, cg_c_trainer(cm));
    return text && write_output(c_output(o, m), write_text, text) ? 0 : 1;
}

/* Weights baked into deployed code must be numbers: a NaN or inf would
** predict NaN without a word (and inf is no C constant). */
static bool weights_finite(const char *path, const IrModule *m, const CgWeights *w) {
    for (int i = 0; i < m->params.len; i++) {
        const IrParam *p = &m->params.items[i];
        int64_t n = shape_numel(p->shape);
        for (int64_t k = 0; k < n; k++) {
            double v = w->values[i][k];
            if (isfinite(v)) continue;
            fprintf(stderr, "nnc: %s: tensor \"%s\" element %lld is %s; weights must be finite numbers\n",
                    path, p->name, (long long)k, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
            return false;
        }
    }
    return true;
}

/* --emit=infer reads the trained weights first; false after a message (status). */
static bool infer_weights(const Options *o, const IrModule *m, CgWeights *weights, int *status) {
    *status = 2;
    if (!o->weights) {
        fprintf(stderr, "nnc: --emit=infer needs the trained weights: --weights W.safetensors\n");
        return false;
    }
    *status = 1;
    return cg_weights_read(m->arena, o->weights, m, weights) && weights_finite(o->weights, m, weights);
}

/* lib and infer: a source and its header, both generated before either is written. */
static int emit_c_pair(const Options *o, const IrModule *m, const CgModel *cm) {
    bool infer = o->emit == EMIT_INFER;
    const char *out = c_output(o, m), *header = cm->o->header;
    const char *text = infer ? cg_c_infer(cm) : with_mpi(o, m, cg_c_lib(cm));
    const char *htext = infer ? cg_c_infer_header(cm) : cg_c_lib_header(cm);
    if (!text || !htext) return 1;
    if (header && !write_output(header, write_text, htext)) return 1;
    return write_output(out, write_text, text) ? 0 : 1;
}

/* ---- --emit=llvm, bc, obj, exe and nnc run: the LLVM backend (src/codegen/llvm) ---- */

static void write_bytes(FILE *out, const void *bytes) {
    const CgBytes *b = bytes;
    fwrite(b->data, 1, b->len, out);
}

/* -H, or <out>.h beside an <out>.o. */
static const char *obj_header(const Options *o, const IrModule *m, const char *out) {
    size_t n = strlen(out);
    if (o->header) return o->header;
    if (!strcmp(out, "-") || n < 2 || strcmp(out + n - 2, ".o")) return NULL;
    return arena_printf(m->arena, "%.*s.h", (int)(n - 2), out);
}

/* The object in a temporary file, linked with the runtime by cc. */
static int emit_exe(const CgModel *cm, const char *out) {
    CgBytes obj;
    if (!strcmp(out, "-")) return usage_error("%s", "--emit=exe cannot write to standard output");
    if (!cg_llvm_emit(cm, CG_LLVM_EXE, &obj)) return 1;
    const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *tmp = arena_printf(cm->arena, "%s/nnc-XXXXXX", dir); /* cc links a file of no known suffix */
    int fd = mkstemp(tmp);
    bool ok = fd >= 0 && write(fd, obj.data, obj.len) == (ssize_t)obj.len;
    if (fd >= 0) ok = close(fd) == 0 && ok;
    if (!ok) fprintf(stderr, "nnc: cannot write a temporary object in %s: %s\n", dir, strerror(errno));
    ok = ok && cg_llvm_link(tmp, out, cm->o->f64);
    if (fd >= 0) remove(tmp);
    free(obj.data);
    return ok ? 0 : 1;
}

static int emit_llvm(const Options *o, const IrModule *m, const CgModel *cm) {
    static const char *const ext[] = {".ll", ".bc", ".o", ""};
    CgLlvmKind kind = (CgLlvmKind)(o->emit - EMIT_LLVM);
    const char *out = o->output ? o->output : arena_printf(m->arena, "%s%s", m->name, ext[kind]);
    if (kind == CG_LLVM_EXE) return emit_exe(cm, out);
    const char *header = kind == CG_LLVM_OBJ ? obj_header(o, m, out) : NULL;
    CgBytes bytes;
    if (!cg_llvm_emit(cm, kind, &bytes)) return 1;
    bool ok = (!header || write_output(header, write_text, cg_llvm_header(cm))) &&
              write_output(out, write_bytes, &bytes);
    free(bytes.data);
    return ok ? 0 : 1;
}

/* The f64 runtime linked into nnc, its names prefixed by the build (Makefile). */
int nnc64_nnc_main(const struct NncModel *model, int argc, char **argv);

/* The model the printers read (model.h): the training kernels, or for
** --emit=infer the inference kernel over the trained weights. */
static const CgModel *lowered(const Options *o, IrModule *m, CgOptions *cg, CgWeights *weights, int *status) {
    *cg = c_options(o);
    if (o->emit == EMIT_LIB || o->emit == EMIT_INFER) cg->header = c_header(o, m, c_output(o, m));
    if (o->emit != EMIT_INFER || o->run) return cg_model(m->arena, m, cg);
    if (!infer_weights(o, m, weights, status)) return NULL;
    cg->weights = weights;
    return cg_model_infer(m->arena, m, cg);
}

/* The pipeline after the front end: the forward IR (ir, dot), or the
** training functions built once — autodiff, losses, optimizer, passes —
** then lowered once, then the one output asked for. */
static int emit(const Options *o, IrModule *m) {
    const char *out = o->output ? o->output : "-";
    if ((o->run || (o->emit >= EMIT_LLVM && o->emit <= EMIT_EXE)) && !cg_llvm_available()) {
        cg_llvm_unavailable(o->run ? "nnc run" : arena_printf(m->arena, "--emit=%s", emit_names[o->emit]));
        return 1;
    }
    if (o->emit == EMIT_IR && !o->run) return write_output(out, write_ir, m) ? 0 : 1;
    if (o->emit == EMIT_DOT && !o->run) return write_output(out, write_dot, m) ? 0 : 1;
    ir_build_training(m, o->opt_level);
    if (o->emit == EMIT_GRAD_IR && !o->run) return write_output(out, write_grad_ir, m) ? 0 : 1;
    CgOptions cg;
    CgWeights weights;
    int status = 1;
    const CgModel *cm = lowered(o, m, &cg, &weights, &status);
    if (!cm) return status;
    if (o->run) return cg_llvm_run(cm, o->f64 ? nnc64_nnc_main : nnc_main, o->run_argc, o->run_argv);
    switch (o->emit) {
    case EMIT_C: return emit_c(o, m, cm);
    case EMIT_LLVM: case EMIT_BC: case EMIT_OBJ: case EMIT_EXE: return emit_llvm(o, m, cm);
    case EMIT_LIB: case EMIT_INFER: return emit_c_pair(o, m, cm);
    case EMIT_LOOPS: return write_output(out, write_loops, cm) ? 0 : 1;
    default: die("--emit kind %d", (int)o->emit);
    }
}

/* --check -v: the trainer's own `summary` on the descriptor the backends
** write, so the memory figures are exactly what `train` allocates (SPEC 3). */
static int print_summary(const Options *o, IrModule *m) {
    ir_build_training(m, o->opt_level);
    CgOptions cg = c_options(o);
    CgModel *cm = cg_model(m->arena, m, &cg);
    if (!cm) return 1;
    char *argv[] = {(char *)m->name, "summary", NULL};
    fflush(stdout);
    return (o->f64 ? nnc64_nnc_main : nnc_main)(&cm->desc, 2, argv);
}

/* -v: what the passes did to each training function. */
static void print_opt_stats(const Options *o, const IrModule *m) {
    for (int i = 0; i < m->opt_stats.len; i++) {
        const IrOptStat *st = &m->opt_stats.items[i];
        fprintf(stderr, "nnc: -O%d: %s: %d -> %d ops\n", o->opt_level, st->func, st->before, st->after);
    }
}

static int compile(Options *o) {
    size_t len;
    char *src = read_file(o->input, &len);
    if (!src) return 1;
    cg_sha256_hex(src, len, o->sha256);
    Arena *arena = arena_new();
    Diag diag;
    diag_init(&diag, o->input, src, len, stderr);
    diag.werror = o->werror;
    diag.no_warnings = o->no_warnings;
    Program *p = parse_program(arena, &diag);
    IrModule *m = p && !diag_failed(&diag) ? sema_check(arena, &diag, p) : NULL;
    int status = 1;
    if (m && o->check) {
        status = o->verbose ? print_summary(o, m) : 0;
    } else if (m) {
        m->count_ops = o->verbose;
        status = emit(o, m);
        if (o->verbose) print_opt_stats(o, m);
    }
    arena_free(arena);
    free(src);
    return status;
}

/* nnc eval 'EXPR' (SPEC 2): src/eval.c. */
static int eval_command(const char *src) {
    return nnc_eval(src, stdout, stderr);
}

/* "nnc examples/cancer.nn -o cancer.c", for the header comment. */
static const char *command_line(int argc, char **argv) {
    size_t n = 4;
    for (int i = 1; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    strcpy(s, "nnc");
    for (int i = 1; i < argc; i++) strcat(strcat(s, " "), argv[i]);
    return s;
}

/* nnc's options that the trainer does not have: in `nnc run`, these are
** nnc's wherever they come; every other argument after the file is the
** trainer's. Returns 0 (not one), 1 (one argument) or 2 (with its value). */
static int run_option_width(int argc, char **argv, int i) {
    const char *a = argv[i];
    if (!strcmp(a, "-w") || !strcmp(a, "-Werror") || !strcmp(a, "-v") || !strcmp(a, "-O0") ||
        !strcmp(a, "-O1") || !strcmp(a, "-O2"))
        return 1;
    if (opt_is(a, "--dtype") || opt_is(a, "--unroll") || opt_is(a, "--fp-contract"))
        return strchr(a, '=') || i + 1 >= argc ? 1 : 2;
    return 0;
}

/* nnc [OPTIONS] run [OPTIONS] FILE.nn [TRAINER ARGS and OPTIONS...] (SPEC
** 2): nnc's options anywhere, the trainer's after the file; the trainer's
** argv[0] reads "nnc run FILE.nn" in its usage messages. */
static int run_command(Options *o, int argc, char **argv, int word) {
    int i = word + 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        int status = parse_option(o, argc, argv, &i);
        if (status >= 0) return status;
    }
    if (i >= argc) return usage_error("%s", "run needs a model: nnc run FILE.nn [TRAINER ARGS...]");
    if (o->mpi) return usage_error("%s", "nnc run has no --mpi: write the trainer with --emit=c --mpi and build it with mpicc");
    o->input = argv[i];
    o->run = true;
    char **targv = malloc(sizeof *targv * (size_t)(argc - i + 1));
    char *prog = malloc(strlen(argv[i]) + 9);
    if (!targv || !prog) {
        free(targv);
        free(prog);
        return 1;
    }
    sprintf(prog, "nnc run %s", argv[i]);
    int targc = 0;
    targv[targc++] = prog;
    for (int k = i + 1; k < argc; k++) {
        int width = run_option_width(argc, argv, k);
        if (!width) {
            targv[targc++] = argv[k];
            continue;
        }
        int status = parse_option(o, argc, argv, &k);
        if (status >= 0) {
            free(targv);
            free(prog);
            return status;
        }
    }
    targv[targc] = NULL;
    o->run_argc = targc;
    o->run_argv = targv;
    o->command = command_line(argc, argv);
    int status = compile(o);
    free(targv);
    free(prog);
    free((void *)o->command);
    return status;
}

/* Whatever went to standard output (eval, --list, --help, -o -) must have
** arrived: `nnc eval ... > /dev/full` is an error, not a silent success. */
static int finish(int status) {
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return status;
    if (status == 0) fprintf(stderr, "nnc: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
    return status ? status : 1;
}

/* The first argument that is neither an option nor an option's value: the
** file, or the word run or eval. */
static int first_operand(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || !argv[i][1]) return i;
        if (value_follows(argv[i])) i++;
    }
    return argc;
}

static int dispatch(int argc, char **argv) {
    Options o = {.emit = EMIT_C, .opt_level = 2, .unroll = -1};
    int word = first_operand(argc, argv);
    bool command = word < argc && (!strcmp(argv[word], "run") || !strcmp(argv[word], "eval"));
    for (int i = 1; i < (command ? word : argc); i++) {
        int status = parse_option(&o, argc, argv, &i);
        if (status >= 0) return status;
    }
    if (command && !strcmp(argv[word], "eval")) { /* the expression first: it may start with '-' */
        if (word + 1 >= argc) return usage_error("%s", "eval takes one expression: nnc eval 'EXPR'");
        for (int i = word + 2; i < argc; i++) {
            if (argv[i][0] != '-' || !argv[i][1])
                return usage_error("%s", "eval takes one expression: nnc eval 'EXPR'");
            int status = parse_option(&o, argc, argv, &i);
            if (status >= 0) return status;
        }
        return eval_command(argv[word + 1]);
    }
    if (command) return run_command(&o, argc, argv, word);
    if (!o.input) return usage_error("%s", "no input file");
    if (o.mpi && o.emit != EMIT_C && o.emit != EMIT_LIB)
        return usage_error("--mpi needs --emit=c or --emit=lib, not --emit=%s", emit_names[o.emit]);
    o.command = command_line(argc, argv);
    int status = compile(&o);
    free((void *)o.command);
    return status;
}

int main(int argc, char **argv) {
    return finish(dispatch(argc, argv));
}
