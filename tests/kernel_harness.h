/*
** kernel_harness.h — one harness for a model's f64 kernels against nnc's
** reference interpreter (ir_interp), in the manner of llm.c's test file:
** the same parameters and rows through both, OK / NOT OK and the largest
** relative difference per output (1e-6 relative), for every kernel of the
** ABI, at 1 row and at 37 (row tiles and their remainders), and the
** optimizer update at step 1 (the state's initial values) and step 3.
** tests/kernel_harness.c does all of it; a backend's driver only says where
** its kernels come from:
**   tests/e2e_harness.c   the C backend: a model's --emit=lib source, f64;
**   tests/llvm_harness.c  the LLVM backend: the kernels JIT-compiled in f64.
** Both drivers take the same arguments:
**   HARNESS MODEL.nn [-ON]          compare every kernel
**   HARNESS MODEL.nn [-ON] --csv N  print N rows of synthetic data for it
** -ON is the IR optimization level the kernels were generated at (-O2).
** Linked with nnc's libnncc.a (and what the driver needs besides).
*/
#ifndef NNC_TESTS_KERNEL_HARNESS_H
#define NNC_TESTS_KERNEL_HARNESS_H

#include <stdbool.h>

#include "codegen/codegen.h"
#include "ir/ir.h"
#define NNC_F64 1
#include "nnc_abi.h"

/* A model, its kernels and the rows they are checked on. */
typedef struct KhSetup {
    const IrModule *m;
    const NncModel *d;
    CgLayout layout;
    int rows;
    double *params, **pview; /* the flat buffer, and per parameter */
    double *x, *t;           /* rows inputs and rows targets */
} KhSetup;

typedef struct KhDriver {
    const char *name; /* for the usage line */
    /* The f64 kernels of m, compiled from path at level; NULL after a message. */
    const NncModel *(*kernels)(const IrModule *m, const char *path, int level);
    /* Checks of this backend only, on the rows of s (NULL: none). */
    void (*extra)(const KhSetup *s);
    /* Frees what kernels made (NULL: nothing). */
    void (*done)(void);
} KhDriver;

/* The driver's main: parses the arguments, runs every check, returns the
** exit status (1 when any check failed). */
int kh_main(int argc, char **argv, const KhDriver *driver);

/* For the drivers' own checks. */
double *kh_zeros(long n);                                      /* n + 1 zeros, calloc'd */
double *kh_scratch(const NncModel *d, int rows, long *size);   /* scratch for rows, guarded */
void kh_check_guard(const char *what, double *scratch, long size); /* and frees it */
void kh_report(bool ok, const char *what, int rows, const char *detail);

#endif
