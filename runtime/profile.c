/*
** profile.c — --profile (SPEC 3): after the run, per generated kernel and
** for the data pipeline (gathering a batch's rows, metrics) and, under MPI,
** the gradient and parameter exchanges between ranks, the time, its
** share, the GFLOP/s counted from the operations the compiler counted on
** the kernel's loops (NncModel.flops), and the heap allocations made inside
** the training steps, which must be 0. Times are summed over threads; the
** training steps' wall time and rate close the table.
*/
#include "runtime.h"

RtProfile rt_prof;

static const char *const rt_prof_names[RT_PROF_COUNT] = {
    "predict", "forward_backward", "eval_loss", "regularize", "update", "data",
    "exchange (MPI)"};

/* One call of `kind` that took `seconds` and did `part` of the kernel's
** operations over `rows` rows. */
static void rt_prof_add(const NncModel *m, int kind, double seconds, long rows, double part) {
    if (!rt_prof.on)
        return;
    rt_prof.seconds[kind] += seconds;
    rt_prof.calls[kind]++;
    if (kind < RT_PROF_DATA)
        rt_prof.flops[kind] += (m->flops[2 * kind] + m->flops[2 * kind + 1] * (double)rows) * part;
}

/* One call of kernel `kind` over `rows` rows that took `seconds`. */
void rt_prof_kernel(const NncModel *m, int kind, double seconds, long rows) {
    rt_prof_add(m, kind, seconds, rows, 1);
}

/* The optimizer step over [lo, hi) that began at t0: under MPI a rank
** updates its segment, so the step's operations count in proportion. */
void rt_prof_update(const NncModel *m, double t0, long lo, long hi) {
    if (rt_prof.on)
        rt_prof_add(m, RT_PROF_UPDATE, rt_now() - t0, 0, (double)(hi - lo) / (double)m->param_floats);
}

double rt_prof_clock(void) {
    return rt_prof.on ? rt_now() : 0;
}

void rt_prof_since(const NncModel *m, int kind, double t0, long rows) {
    if (rt_prof.on)
        rt_prof_kernel(m, kind, rt_now() - t0, rows);
}

void rt_prof_chunk(const NncModel *m, int kind, double kernel_s, double data_s, long rows) {
    rt_prof_kernel(m, kind, kernel_s, rows);
    rt_prof_kernel(m, RT_PROF_DATA, data_s, 0);
}

void rt_prof_print(FILE *out) {
    double total = 0;
    int k;
    if (!rt_prof.on)
        return;
    for (k = 0; k < RT_PROF_COUNT; k++)
        total += rt_prof.seconds[k];
    fprintf(out, "\nprofile (--profile), time summed over threads:\n");
    fprintf(out, "%-18s %10s %7s %10s %9s\n", "kernel", "time (s)", "share", "calls", "GFLOP/s");
    for (k = 0; k < RT_PROF_COUNT; k++) {
        if (!rt_prof.calls[k])
            continue;
        fprintf(out, "%-18s %10.4f %6.1f%% %10ld ", rt_prof_names[k], rt_prof.seconds[k],
                total > 0 ? 100 * rt_prof.seconds[k] / total : 0.0, rt_prof.calls[k]);
        if (k < RT_PROF_DATA && rt_prof.seconds[k] > 0)
            fprintf(out, "%9.2f\n", rt_prof.flops[k] / rt_prof.seconds[k] * 1e-9);
        else
            fprintf(out, "%9s\n", "-");
    }
    if (!rt_prof.steps)
        return;
    fprintf(out, "heap allocations during %ld training steps: %ld\n", rt_prof.steps,
            rt_prof.step_allocs);
    /* The steps alone, without loading and validation: what the benchmark's
    ** peers time. */
    if (rt_prof.steps_seconds > 0)
        fprintf(out, "training steps: %ld rows in %.4f s wall, %.0f samples/s\n",
                rt_prof.steps_rows, rt_prof.steps_seconds,
                (double)rt_prof.steps_rows / rt_prof.steps_seconds);
}
