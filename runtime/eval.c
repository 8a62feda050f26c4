/*
** eval.c — the `eval` and `predict` commands (SPEC 3), and opening the
** buffers and threads every command runs the kernels with.
*/
#include "runtime.h"

#include <stdlib.h>

int rt_exec_open(RtExec *ex, RtPlan *plan, RtBlock *block, const NncModel *m, long batch,
                 int threads, int training) {
    rt_plan(plan, m, batch, threads, training);
    ex->m = m;
    ex->plan = plan;
    ex->block = block;
    ex->pool = NULL;
    ex->fold_late = 0;
    ex->pending.n = 0;
    if (rt_block_alloc(block, plan, m) != 0)
        return -1;
    ex->pool = rt_pool_new(plan->workers);
    return ex->pool ? 0 : -1;
}

void rt_exec_close(RtExec *ex, RtBlock *block) {
    rt_pool_free(ex->pool);
    ex->pool = NULL;
    rt_block_free(block);
}

static void rt_eval_view(RtRows *r, const RtData *d) {
    r->x = d->x;
    r->t = d->t;
    r->rows = d->rows;
    r->n_x = d->n_x;
    r->n_t = d->n_t;
}

/* `loss: 0.0912 - accuracy: 0.9720`, Keras' evaluate line. */
static void rt_eval_print(const NncModel *m, double loss, const RtMetrics *mt) {
    char v[32];
    int i;
    rt_format_value(v, sizeof v, loss);
    printf("loss: %s", v);
    for (i = 0; i < mt->n; i++) {
        rt_format_value(v, sizeof v, rt_metrics_value(mt, i));
        printf(" - %s: %s", rt_metric_name(m, i), v);
    }
    printf("\n");
    fflush(stdout);
}

int rt_cmd_eval(const NncModel *m, const RtOptions *o) {
    RtData d;
    RtRows rows;
    RtPlan plan;
    RtBlock *block = rt_alloc(sizeof *block, "the buffers");
    RtExec ex;
    RtMetrics mt;
    int rc = RT_EXIT_ERROR;
    ex.pool = NULL;
    if (!block)
        return RT_EXIT_ERROR;
    if (rt_data_load(&d, o->data, m, o->label, 1) != 0) {
        free(block);
        return RT_EXIT_ERROR;
    }
    rt_eval_view(&rows, &d);
    if (rt_exec_open(&ex, &plan, block, m, 0, o->threads, 0) == 0 &&
        rt_weights_load(o->weights, m, block->params) == 0) {
        double sum, loss;
        rt_metrics_init(&mt, m);
        sum = rt_eval_rows(&ex, &rows, &mt);
        loss = sum / (double)rows.rows + rt_regularization(m, block->params, block->grads);
        rt_eval_print(m, loss, &mt);
        rc = RT_EXIT_OK;
    }
    rt_exec_close(&ex, block);
    rt_data_free(&d);
    free(block);
    return rc;
}

static int rt_predict_write(const NncModel *m, const RtOptions *o, const nnc_real *y, long rows) {
    RtFile *f = rt_alloc(sizeof *f, "a file buffer");
    long r, j;
    int rc;
    if (!f)
        return -1;
    if (o->output) {
        if (rt_file_open(f, o->output) != 0) {
            free(f);
            return -1;
        }
    } else {
        rt_file_stdout(f);
    }
    for (j = 0; j < m->n_outputs; j++)
        rt_file_printf(f, j ? ",y%ld" : "y%ld", j);
    rt_file_puts(f, "\n");
    for (r = 0; r < rows; r++) {
        for (j = 0; j < m->n_outputs; j++)
            rt_file_printf(f, sizeof(nnc_real) == 8 ? "%s%.17g" : "%s%.9g", j ? "," : "",
                           (double)y[r * m->n_outputs + j]);
        rt_file_puts(f, "\n");
    }
    rc = rt_file_commit(f);
    free(f);
    return rc;
}

int rt_cmd_predict(const NncModel *m, const RtOptions *o) {
    RtData d;
    RtRows rows;
    RtPlan plan;
    RtBlock *block = rt_alloc(sizeof *block, "the buffers");
    RtExec ex;
    nnc_real *y = NULL;
    int rc = RT_EXIT_ERROR;
    ex.pool = NULL;
    if (!block)
        return RT_EXIT_ERROR;
    /* SPEC 3: the output path is checked before any work. */
    if (o->output && rt_output_writable(o->output) != 0) {
        free(block);
        return RT_EXIT_ERROR;
    }
    if (rt_data_load(&d, o->data, m, o->label, 0) != 0) {
        free(block);
        return RT_EXIT_ERROR;
    }
    rt_eval_view(&rows, &d);
    y = rt_alloc(sizeof *y * (size_t)(d.rows * m->n_outputs), "the predictions");
    if (y && rt_exec_open(&ex, &plan, block, m, 0, o->threads, 0) == 0 &&
        rt_weights_load(o->weights, m, block->params) == 0) {
        rt_predict_rows(&ex, &rows, 0, rows.rows, y);
        rc = rt_predict_write(m, o, y, rows.rows) == 0 ? RT_EXIT_OK : RT_EXIT_ERROR;
    }
    rt_exec_close(&ex, block);
    rt_data_free(&d);
    free(y);
    free(block);
    return rc;
}
