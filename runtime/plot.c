/*
** plot.c — --plot P.svg (SPEC 3): the loss and metric curves, train and
** validation, one panel each, in one self-contained SVG (no scripts, fonts
** or styles from outside).
*/
#include "runtime.h"

#include <math.h>
#include <stdlib.h>

/* Panel geometry, in SVG user units. */
typedef struct RtPlotBox {
    double x, y, w, h;          /* the plotting area inside the panel */
    double x0, x1, y0, y1;      /* data ranges */
} RtPlotBox;

static void rt_plot_text(RtFile *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': rt_file_puts(f, "&amp;"); break;
        case '<': rt_file_puts(f, "&lt;"); break;
        case '>': rt_file_puts(f, "&gt;"); break;
        case '"': rt_file_puts(f, "&quot;"); break;
        default: rt_file_write(f, s, 1); break;
        }
    }
}

/* 1, 2 or 5 times a power of ten, near range (Heckbert's nice numbers). */
static double rt_plot_nice(double range, int round) {
    double e = floor(log10(range)), f = range / pow(10, e), n;
    if (round)
        n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return n * pow(10, e);
}

static double rt_plot_step(double *lo, double *hi, int integer) {
    double step;
    if (!(*hi > *lo)) {
        double pad = *lo != 0 ? fabs(*lo) * 0.1 : 0.5;
        *lo -= pad;
        *hi += pad;
    }
    step = rt_plot_nice(rt_plot_nice(*hi - *lo, 0) / 4, 1);
    if (integer && step < 1)
        step = 1;
    *lo = floor(*lo / step) * step;
    *hi = ceil(*hi / step) * step;
    return step;
}

static double rt_plot_px(const RtPlotBox *b, double v) {
    return b->x + (v - b->x0) / (b->x1 - b->x0) * b->w;
}

static double rt_plot_py(const RtPlotBox *b, double v) {
    return b->y + b->h - (v - b->y0) / (b->y1 - b->y0) * b->h;
}

static void rt_plot_axes(RtFile *f, const RtPlotBox *b, double xs, double ys, const char *name) {
    double v;
    int decimals = ys >= 1 ? 0 : (int)ceil(-log10(ys) - 1e-9);
    rt_file_printf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                      "stroke=\"#888\"/>\n", b->x, b->y, b->w, b->h);
    for (v = b->y0; v <= b->y1 + ys * 1e-6; v += ys) {
        double y = rt_plot_py(b, v);
        rt_file_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
                       b->x, y, b->x + b->w, y);
        rt_file_printf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                       b->x - 6, y + 4, decimals, fabs(v) < ys * 1e-6 ? 0.0 : v);
    }
    for (v = b->x0; v <= b->x1 + 1e-6; v += xs) {
        double x = rt_plot_px(b, v);
        rt_file_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                       x, b->y + b->h, x, b->y + b->h + 4);
        rt_file_printf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", x,
                       b->y + b->h + 17, v);
    }
    rt_file_printf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n",
                   b->x + b->w / 2, b->y + b->h + 34);
    rt_file_printf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">",
                   b->x - 48, b->y + b->h / 2);
    rt_plot_text(f, name);
    rt_file_puts(f, "</text>\n<text font-weight=\"bold\" font-size=\"14\" text-anchor=\"middle\" ");
    rt_file_printf(f, "x=\"%.1f\" y=\"%.1f\">", b->x + b->w / 2, b->y - 12);
    rt_plot_text(f, name);
    rt_file_puts(f, "</text>\n");
}

static void rt_plot_curve(RtFile *f, const RtTrainer *tr, const RtPlotBox *b, int col,
                          const char *color, const char *dash) {
    int r, cols = tr->n_logs + 1;
    rt_file_printf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", color,
                   dash);
    for (r = 0; r < tr->history_rows; r++)
        rt_file_printf(f, "%s%.2f,%.2f", r ? " " : "", rt_plot_px(b, r + 1),
                       rt_plot_py(b, tr->history[r * cols + col]));
    rt_file_puts(f, "\"/>\n");
    if (tr->history_rows == 1)
        rt_file_printf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", rt_plot_px(b, 1),
                       rt_plot_py(b, tr->history[col]), color);
}

/* Top right, or bottom right when the curves end high (accuracies). */
static void rt_plot_legend(RtFile *f, const RtPlotBox *b, int has_val, double last) {
    double x = b->x + b->w - 110, y = b->y + 8;
    if (rt_plot_py(b, last) < b->y + b->h / 2)
        y = b->y + b->h - 8 - (has_val ? 40 : 22);
    rt_file_printf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"102\" height=\"%d\" fill=\"white\" "
                      "fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n", x, y, has_val ? 40 : 22);
    rt_file_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1f77b4\" "
                      "stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.1f\">train</text>\n",
                   x + 6, y + 11, x + 28, y + 11, x + 34, y + 15);
    if (has_val)
        rt_file_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ff7f0e\" "
                          "stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
                          "<text x=\"%.1f\" y=\"%.1f\">validation</text>\n",
                       x + 6, y + 29, x + 28, y + 29, x + 34, y + 33);
}

/* Panel p shows log p (loss or a metric) and its val_ twin. */
static void rt_plot_panel(RtFile *f, const RtTrainer *tr, int p, double ox, double oy) {
    int nm = tr->has_val ? tr->n_logs / 2 : tr->n_logs, cols = tr->n_logs + 1, r, c;
    RtPlotBox b;
    double xs, ys;
    b.x = ox + 72;
    b.y = oy + 36;
    b.w = 460 - 72 - 16;
    b.h = 300 - 36 - 48;
    b.x0 = 1;
    b.x1 = tr->history_rows > 1 ? tr->history_rows : 1;
    b.y0 = HUGE_VAL;
    b.y1 = -HUGE_VAL;
    for (r = 0; r < tr->history_rows; r++)
        for (c = p; c < cols - 1; c += nm) {
            double v = tr->history[r * cols + c];
            b.y0 = v < b.y0 ? v : b.y0;
            b.y1 = v > b.y1 ? v : b.y1;
            if (!tr->has_val)
                break;
        }
    if (tr->history_rows == 0)
        b.y0 = 0, b.y1 = 1;
    xs = rt_plot_step(&b.x0, &b.x1, 1);
    ys = rt_plot_step(&b.y0, &b.y1, 0);
    rt_plot_axes(f, &b, xs, ys, tr->log_name[p]);
    if (tr->history_rows > 0) {
        rt_plot_curve(f, tr, &b, p, "#1f77b4", "");
        if (tr->has_val)
            rt_plot_curve(f, tr, &b, p + nm, "#ff7f0e", " stroke-dasharray=\"6 3\"");
    }
    rt_plot_legend(f, &b, tr->has_val,
                   tr->history_rows ? tr->history[(tr->history_rows - 1) * cols + p] : b.y0);
}

int rt_plot_write(const RtTrainer *tr, const char *path) {
    RtFile *f = rt_alloc(sizeof *f, "a file buffer");
    int panels = tr->has_val ? tr->n_logs / 2 : tr->n_logs, columns = panels < 2 ? 1 : 2;
    int rows = (panels + columns - 1) / columns, p, rc;
    if (!f)
        return -1;
    if (rt_file_open(f, path) != 0) {
        free(f);
        return -1;
    }
    rt_file_printf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "
                      "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                   460 * columns, 300 * rows, 460 * columns, 300 * rows);
    rt_file_puts(f, "<title>");
    rt_plot_text(f, tr->m->name ? tr->m->name : "model");
    rt_file_puts(f, ": training history</title>\n");
    rt_file_puts(f, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    for (p = 0; p < panels; p++)
        rt_plot_panel(f, tr, p, 460.0 * (p % columns), 300.0 * (p / columns));
    rt_file_puts(f, "</svg>\n");
    rc = rt_file_commit(f);
    free(f);
    return rc;
}
