/*
** progress.c — Keras' progress output (SPEC 3 Output), after
** tf.keras.utils.Progbar:
**   Epoch 1/600
**   14/14 [==============================] - 0s 86us/step - loss: 0.6807 - ...
** verbose 1 on a terminal redraws the bar in place (at most every 50 ms,
** like Keras); otherwise, and with verbose 2, only the finished line.
*/
#include "runtime.h"

#include <string.h>

void rt_progress_begin(RtProgress *p, int verbose, int epoch, int epochs, long steps) {
    memset(p, 0, sizeof *p);
    p->verbose = verbose;
    p->tty = verbose == 1 && rt_dist_stdout_tty();
    p->steps = steps;
    p->start = rt_now();
    if (verbose > 0) {
        printf("Epoch %d/%d\n", epoch, epochs);
        if (!p->tty)
            fflush(stdout);
    }
}

/* Appends to line at *len, never past size. */
static void rt_progress_add(char *line, size_t size, size_t *len, const char *fmt, ...)
    RT_PRINTF(4, 5);
static void rt_progress_add(char *line, size_t size, size_t *len, const char *fmt, ...) {
    va_list ap;
    int n;
    if (*len >= size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

static void rt_progress_bar(char *line, size_t size, size_t *len, long current, long target) {
    int digits = 1, width = 30, filled = (int)(width * (double)current / (double)target), i;
    long t;
    for (t = target; t >= 10; t /= 10)
        digits++;
    rt_progress_add(line, size, len, "%*ld/%ld [", digits, current, target);
    for (i = 0; i < filled - 1; i++)
        rt_progress_add(line, size, len, "=");
    if (filled > 0)
        rt_progress_add(line, size, len, current < target ? ">" : "=");
    for (i = filled; i < width; i++)
        rt_progress_add(line, size, len, ".");
    rt_progress_add(line, size, len, "]");
}

static void rt_progress_time(char *line, size_t size, size_t *len, double per_step) {
    if (per_step >= 1 || per_step == 0)
        rt_progress_add(line, size, len, " %.0fs/step", per_step);
    else if (per_step >= 1e-3)
        rt_progress_add(line, size, len, " %.0fms/step", per_step * 1e3);
    else
        rt_progress_add(line, size, len, " %.0fus/step", per_step * 1e6);
}

static void rt_progress_eta(char *line, size_t size, size_t *len, double eta) {
    long s = (long)eta;
    if (eta > 3600)
        rt_progress_add(line, size, len, " - ETA: %ld:%02ld:%02ld", s / 3600, s % 3600 / 60, s % 60);
    else if (eta > 60)
        rt_progress_add(line, size, len, " - ETA: %ld:%02ld", s / 60, s % 60);
    else
        rt_progress_add(line, size, len, " - ETA: %lds", s);
}

static void rt_progress_draw(RtProgress *p, long current, int done, int n_logs,
                             char names[][RT_NAME_MAX], const double *values) {
    char line[2048];
    size_t len = 0;
    double elapsed = rt_now() - p->start, per_step = current > 0 ? elapsed / (double)current : 0;
    int i;
    rt_progress_bar(line, sizeof line, &len, current, p->steps);
    if (done) {
        rt_progress_add(line, sizeof line, &len, " - %.0fs", elapsed);
        rt_progress_time(line, sizeof line, &len, per_step);
    } else {
        rt_progress_eta(line, sizeof line, &len, per_step * (double)(p->steps - current));
    }
    for (i = 0; i < n_logs; i++) {
        char v[32];
        rt_format_value(v, sizeof v, values[i]);
        rt_progress_add(line, sizeof line, &len, " - %s: %s", names[i], v);
    }
    if (p->tty) {
        /* Redraw in place; blank out what a longer previous line left. */
        printf("\r%s%*s", line, p->drawn > (int)len ? p->drawn - (int)len : 0, "");
        p->drawn = (int)len;
    } else {
        fputs(line, stdout);
    }
    if (done)
        putchar('\n');
    fflush(stdout);
}

void rt_progress_step(RtProgress *p, long step, int n_logs, char names[][RT_NAME_MAX],
                      const double *values) {
    double now;
    if (!p->tty || step >= p->steps)
        return;
    now = rt_now();
    if (p->last_draw > 0 && now - p->last_draw < 0.05)
        return;
    p->last_draw = now;
    rt_progress_draw(p, step, 0, n_logs, names, values);
}

void rt_progress_end(RtProgress *p, int n_logs, char names[][RT_NAME_MAX],
                     const double *values) {
    if (p->verbose > 0)
        rt_progress_draw(p, p->steps, 1, n_logs, names, values);
}

/* Training stopped mid-epoch (divergence): end the bar's line first. */
void rt_progress_abort(RtProgress *p) {
    if (p->tty && p->drawn) {
        putchar('\n');
        fflush(stdout);
    }
}
