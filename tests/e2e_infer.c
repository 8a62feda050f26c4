/*
** e2e_infer.c — drives any model's --emit=infer code (through the generic
** names its header defines under NNC_INFER_GENERIC) and compares its
** predictions with the trainer's `predict` output (SPEC 4: within 1e-6
** relative). Built by tests/e2e.sh with -DNNC_INFER_GENERIC -include MODEL_infer.h.
**   e2e_infer DATA.csv PRED.csv
** Prints OK or NOT OK with the largest difference; exit status 0 or 1.
*/
/* NNC_INFER_GENERIC is defined on the command line, before the header. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The numbers of one CSV line; a header line (a non-number) gives -1. */
static int parse_line(char *line, double *out, int max) {
    int n = 0;
    for (char *tok = strtok(line, ",\r\n"); tok && n < max; tok = strtok(NULL, ",\r\n")) {
        char *end;
        out[n++] = strtod(tok, &end);
        if (end == tok) return -1;
    }
    return n;
}

static double *read_csv(const char *path, int width, long *rows) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    static char line[1 << 16];
    double vals[4096];
    double *data = NULL;
    long n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        int got = parse_line(line, vals, 4096);
        if (got < width) continue; /* the header, or a blank line */
        if (n == cap) data = realloc(data, sizeof *data * (size_t)width * (size_t)(cap = cap ? 2 * cap : 64));
        memcpy(data + n * width, vals, sizeof *data * (size_t)width);
        n++;
    }
    fclose(f);
    *rows = n;
    return data;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: e2e_infer DATA.csv PRED.csv\n");
        return 2;
    }
    long rows, prows;
    double *x = read_csv(argv[1], NNC_INFER_INPUTS, &rows);
    double *want = read_csv(argv[2], NNC_INFER_OUTPUTS, &prows);
    if (rows != prows || rows == 0) {
        printf("NOT OK: %ld data rows, %ld predictions\n", rows, prows);
        return 1;
    }
    nnc_infer_real *xr = malloc(sizeof *xr * (size_t)(rows * NNC_INFER_INPUTS));
    nnc_infer_real *y = malloc(sizeof *y * (size_t)(rows * NNC_INFER_OUTPUTS));
    for (long i = 0; i < rows * NNC_INFER_INPUTS; i++) xr[i] = (nnc_infer_real)x[i];
    nnc_infer_predict_batch(xr, y, (int)rows);
    double worst = 0;
    for (long i = 0; i < rows * NNC_INFER_OUTPUTS; i++) {
        double a = y[i], b = want[i], scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
        double err = fabs(a - b) / (scale > 1e-30 ? scale : 1);
        if (!(err <= worst)) worst = err; /* NaN is the worst */
    }
    int ok = worst <= 1e-6;
    printf("%s: infer vs predict, %ld rows, max rel diff %.3e\n", ok ? "OK" : "NOT OK", rows, worst);
    return ok ? 0 : 1;
}
