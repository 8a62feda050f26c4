/*
** main.c — the nnc command (SPEC 2): options, then the pipeline
**   source → parse → check → IR → (emit)
** with every output written atomically, and nothing written on error.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

typedef enum Emit { EMIT_C, EMIT_LIB, EMIT_INFER, EMIT_LLVM, EMIT_BC, EMIT_OBJ, EMIT_EXE,
                    EMIT_IR, EMIT_GRAD_IR, EMIT_DOT } Emit;

static const char *const emit_names[] = {"c", "lib", "infer", "llvm", "bc", "obj", "exe",
                                         "ir", "grad-ir", "dot"};

typedef struct Options {
    const char *input, *output, *header, *weights;
    Emit emit;
    bool check, verbose, werror, no_warnings, f64;
    int opt_level;
} Options;

static const char usage_text[] =
    "usage: nnc [OPTIONS] FILE.nn\n"
    "  -o FILE          output (default: <model>.c; \"-\" is standard output)\n"
    "  --emit=KIND      c | lib | infer | llvm | bc | obj | exe | ir | grad-ir | dot\n"
    "  --check          parse, check and lint only (-v adds the summary)\n"
    "  -H FILE          write the C header for lib, infer and obj\n"
    "  --weights FILE   a .safetensors file of trained weights (for infer)\n"
    "  --dtype=f32|f64  the scalar type of the generated code (default f32)\n"
    "  -O0 | -O1 | -O2  IR optimization level (default -O2)\n"
    "  -Werror, -w      warnings as errors / no warnings\n"
    "  -v               verbose: summary and pass statistics\n"
    "  --list=KIND      list the built-ins of a kind (layer, activation, function, loss,\n"
    "                   optimizer, initializer, regularizer, metric, callback)\n"
    "  --version, --help\n"
    "nnc run FILE.nn [TRAINER ARGS...]  compile in memory with LLVM's JIT and run the trainer\n"
    "nnc eval 'EXPR'                    evaluate a constant tensor expression and print it\n";

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
    const char *value = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "-o") || !strcmp(a, "-H") || !strcmp(a, "--weights")) {
        if (!value) return usage_error("option '%s' needs a value", a);
        *(!strcmp(a, "-o") ? &o->output : !strcmp(a, "-H") ? &o->header : &o->weights) = value;
        ++*i;
    } else if (!strncmp(a, "--emit=", 7)) {
        int k = 0;
        while (k <= EMIT_DOT && strcmp(emit_names[k], a + 7)) k++;
        if (k > EMIT_DOT) return usage_error("unknown --emit kind '%s'", a + 7);
        o->emit = (Emit)k;
    } else if (!strcmp(a, "--dtype=f32") || !strcmp(a, "--dtype=f64")) {
        o->f64 = a[9] == '6';
    } else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2")) {
        o->opt_level = a[2] - '0';
    } else if (!strcmp(a, "--check")) o->check = true;
    else if (!strcmp(a, "-v")) o->verbose = true;
    else if (!strcmp(a, "-Werror")) o->werror = true;
    else if (!strcmp(a, "-w")) o->no_warnings = true;
    else if (!strncmp(a, "--list=", 7)) return list_builtins(a + 7);
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        fputs(usage_text, stdout);
        return 0;
    } else if (!strcmp(a, "--version")) {
        printf("nnc %s\n", NNC_VERSION);
        return 0;
    } else if (a[0] == '-' && a[1]) {
        return usage_error("unknown option '%s'", a);
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
        return fflush(stdout) == 0;
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

static int emit(const Options *o, const IrModule *m) {
    const char *out = o->output ? o->output : "-";
    switch (o->emit) {
    case EMIT_IR: return write_output(out, write_ir, m) ? 0 : 1;
    case EMIT_DOT: return write_output(out, write_dot, m) ? 0 : 1;
    default:
        fprintf(stderr,
                "nnc: --emit=%s is not available in this build yet; use --check, --emit=ir or "
                "--emit=dot\n", emit_names[o->emit]);
        return 2;
    }
}

static int compile(const Options *o) {
    size_t len;
    char *src = read_file(o->input, &len);
    if (!src) return 1;
    Arena *arena = arena_new();
    Diag diag;
    diag_init(&diag, o->input, src, len, stderr);
    diag.werror = o->werror;
    diag.no_warnings = o->no_warnings;
    Program *p = parse_program(arena, &diag);
    IrModule *m = p && !diag_failed(&diag) ? sema_check(arena, &diag, p) : NULL;
    int status = 1;
    if (m && o->check) {
        if (o->verbose) ir_print_summary(stdout, m, m->fit.batch_size ? m->fit.batch_size : 32, o->f64 ? 8 : 4);
        status = 0;
    } else if (m) {
        status = emit(o, m);
    }
    arena_free(arena);
    free(src);
    return status;
}

int main(int argc, char **argv) {
    Options o = {.emit = EMIT_C, .opt_level = 2};
    if (argc > 1 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "eval"))) {
        fprintf(stderr, "nnc %s: not available in this build yet\n", argv[1]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        int status = parse_option(&o, argc, argv, &i);
        if (status >= 0) return status;
    }
    if (!o.input) return usage_error("%s", "no input file");
    return compile(&o);
}
