/*
** fuzz_cli.c — the trainer's command line (runtime/cli.c and what it
** drives) with the model of tests/fuzz/model.nn: the input is the
** arguments, one per line. The working directory holds data.csv, so that
** commands get as far as training. Inputs that would only be slow (many
** epochs, many threads, standard input) or write outside the working
** directory (a '/' in a path) are skipped, not run.
*/
#include "runtime.h"
#include "fuzz.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ARGS = 24 };

static const char data_csv[] =
    "a,b,c,y0,y1\n1,2,3,0,1\n2,3,1,1,0\n3,1,2,0,1\n0.5,2,1,1,0\n1,1,1,0,1\n2,2,2,1,0\n"
    "3,3,3,0,1\n1,3,2,1,0\n";

/* Values that would only make a run long, or reach outside the directory. */
static int unsafe(char **argv, int argc) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        const char *eq = strchr(a, '=');
        if (strchr(a, '/') || strcmp(a, "-") == 0 || strstr(a, ".."))
            return 1;
        if (eq)
            v = eq + 1;
        if (strncmp(a, "--epochs", 8) == 0 && strlen(v) > 1)
            return 1;
        if (strncmp(a, "--threads", 9) == 0 && strlen(v) > 1)
            return 1;
        if (strncmp(a, "--batch-size", 12) == 0 && strlen(v) > 3)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text, *argv[MAX_ARGS + 2], *p;
    int argc = 0;
    static int ready;
    fuzz_enter_tmpdir();
    if (!ready) {
        fuzz_write("data.csv", (const uint8_t *)data_csv, sizeof data_csv - 1);
        ready = 1;
    }
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    argv[argc++] = "fuzzm";
    for (p = text; argc <= MAX_ARGS;) {
        char *nl = strchr(p, '\n');
        argv[argc++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    if (!unsafe(argv, argc) && strlen(text) == size)
        nnc_main(&fuzzm_model, argc, argv);
    free(text);
    return 0;
}
