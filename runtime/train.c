/*
** train.c — the `train` command (SPEC 3): settings, data, the one
** allocation, initial weights, the epoch loop, and what is written at the
** end.
**
** Per batch (SPEC 1.8, 1.9): gradients of the mean loss over the batch's
** rows (scale 1/rows), plus the regularizers' gradient, then one optimizer
** step. The epoch's loss is Keras' running mean: each batch's loss (mean
** over its rows plus regularization) weighted by its rows.
*/
#include "runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *rt_optimizer_name(int optimizer) {
    static const char *const names[] = {"sgd", "rmsprop", "adagrad", "adadelta",
                                        "adam", "adamax", "adamw"};
    return optimizer >= 0 && optimizer <= NNC_OPT_ADAMW ? names[optimizer] : "optimizer";
}

void rt_train_meta(const RtTrainer *tr, RtMeta *meta) {
    rt_meta_model(meta, tr->m);
    rt_meta_fmt(meta, "seed", "%llu", (unsigned long long)tr->seed);
    rt_meta_fmt(meta, "epochs", "%d", tr->epoch);
    if (tr->batch_size)
        rt_meta_fmt(meta, "batch_size", "%ld", tr->batch_size);
    else
        rt_meta_str(meta, "batch_size", "all");
    rt_meta_fmt(meta, "learning_rate", "%.17g", tr->lr);
    rt_meta_str(meta, "loss", rt_loss_name(tr->m->loss));
    rt_meta_str(meta, "optimizer", rt_optimizer_name(tr->m->optimizer));
    if (tr->o->val)
        rt_meta_str(meta, "validation_data", tr->o->val);
    else
        rt_meta_fmt(meta, "validation_split", "%.17g", tr->validation_split);
    rt_meta_str(meta, "shuffle", tr->shuffle ? "true" : "false");
}

/* The descriptor's fit defaults, overridden by the command line. */
static void rt_train_settings(RtTrainer *tr, const NncModel *m, const RtOptions *o) {
    tr->seed = o->set & RT_SET_SEED ? o->seed : m->seed;
    tr->batch_size = o->set & RT_SET_BATCH ? o->batch_size : m->batch_size;
    tr->epochs = o->set & RT_SET_EPOCHS ? o->epochs : m->epochs;
    tr->validation_split = o->set & RT_SET_SPLIT ? o->validation_split : m->validation_split;
    tr->lr = o->set & RT_SET_LR ? o->learning_rate : m->learning_rate;
    tr->shuffle = m->shuffle;
}

static void rt_train_rows(RtRows *r, const RtData *d, long first, long rows) {
    r->x = d->x + first * d->n_x;
    r->t = d->t + first * d->n_t;
    r->rows = rows;
    r->n_x = d->n_x;
    r->n_t = d->n_t;
}

/* --val FILE, or Keras' validation_split: the last rows, before shuffling. */
static int rt_train_data(RtTrainer *tr) {
    const RtOptions *o = tr->o;
    long rows, split;
    if (rt_data_load(&tr->data, o->data, tr->m, o->label, 1) != 0)
        return -1;
    rows = tr->data.rows;
    if (o->val) {
        if (rt_data_load(&tr->val_data, o->val, tr->m, o->label, 1) != 0)
            return -1;
        rt_train_rows(&tr->train, &tr->data, 0, rows);
        rt_train_rows(&tr->val, &tr->val_data, 0, tr->val_data.rows);
        tr->has_val = 1;
        return 0;
    }
    split = rows;
    if (tr->validation_split > 0) {
        split = (long)floor((double)rows * (1.0 - tr->validation_split));
        if (split <= 0 || split >= rows) {
            rt_error("%s: %ld rows are too few to split with validation_split = %g", o->data, rows,
                     tr->validation_split);
            return -1;
        }
        rt_train_rows(&tr->val, &tr->data, split, rows - split);
        tr->has_val = 1;
    }
    rt_train_rows(&tr->train, &tr->data, 0, split);
    return 0;
}

static int rt_train_log_names(RtTrainer *tr) {
    const NncModel *m = tr->m;
    int i, n = 0, pass;
    if (m->n_metrics > RT_MAX_METRICS) {
        rt_error("%s: at most %d metrics are supported", m->name ? m->name : "model",
                 RT_MAX_METRICS);
        return -1;
    }
    for (pass = 0; pass < 1 + tr->has_val; pass++) {
        const char *prefix = pass ? "val_" : "";
        snprintf(tr->log_name[n++], RT_NAME_MAX, "%sloss", prefix);
        for (i = 0; i < m->n_metrics; i++)
            snprintf(tr->log_name[n++], RT_NAME_MAX, "%s%s", prefix, rt_metric_name(m, i));
    }
    tr->n_logs = n;
    return 0;
}

static int rt_train_alloc(RtTrainer *tr) {
    long rows = tr->train.rows;
    tr->batch_rows = tr->batch_size > 0 && tr->batch_size < rows ? tr->batch_size : rows;
    if (rt_exec_open(&tr->exec, &tr->plan, &tr->block, tr->m, tr->batch_rows, tr->o->threads, 1) != 0)
        return -1;
    tr->exec.fold_late = rt_update_can_fold(tr->m); /* every batch's gradient goes to the update */
    tr->index = rt_alloc(sizeof *tr->index * (size_t)rows, "the shuffle order");
    tr->history_cap = tr->epochs > 0 ? tr->epochs : 1;
    tr->history = rt_alloc(sizeof *tr->history * (size_t)(tr->history_cap * (tr->n_logs + 1)),
                           "the history");
    return tr->index && tr->history ? 0 : -1;
}

/* Weights: resumed, loaded, or initialized with statistics from the data. */
static int rt_train_weights(RtTrainer *tr) {
    const RtOptions *o = tr->o;
    if (o->resume)
        return rt_checkpoint_load(tr, o->resume);
    if (o->load)
        return rt_weights_load(o->load, tr->m, tr->block.params);
    rt_init_params(tr->m, tr->seed, tr->block.params);
    return rt_norm_stats(tr->m, tr->block.params, &tr->train);
}

/* SPEC 3: every output path is checked before the data is read and the
** first epoch runs; train saves to <model>.safetensors unless told. */
static int rt_train_check_outputs(RtTrainer *tr) {
    const RtOptions *o = tr->o;
    tr->save = o->no_save ? NULL
                          : o->save ? o->save
                                    : rt_default_save_path(tr->m, tr->save_default, sizeof tr->save_default);
    if (tr->save && rt_output_writable(tr->save) != 0)
        return -1;
    if (o->checkpoint && rt_output_writable(o->checkpoint) != 0)
        return -1;
    if (o->history && rt_output_writable(o->history) != 0)
        return -1;
    if (o->plot && rt_output_writable(o->plot) != 0)
        return -1;
    return 0;
}

static int rt_train_setup(RtTrainer *tr, const NncModel *m, const RtOptions *o) {
    tr->m = m;
    tr->o = o;
    if (rt_train_check_outputs(tr) != 0)
        return -1;
    rt_train_settings(tr, m, o);
    if (o->resume && rt_checkpoint_settings(tr, o->resume) != 0)
        return -1;
    if (rt_train_data(tr) != 0 || rt_train_log_names(tr) != 0 || rt_train_alloc(tr) != 0)
        return -1;
    if (rt_dist_train_open(&tr->exec, &tr->train, tr->has_val ? &tr->val : NULL, tr->batch_rows) != 0)
        return -1;
    rt_metrics_init(&tr->metrics, m);
    if (rt_callbacks_init(tr) != 0)
        return -1;
    if (rt_train_weights(tr) != 0)
        return -1;
    return rt_dist_shard(tr); /* SPEC 6: each rank keeps its share of the rows */
}

static void rt_train_metric_logs(RtTrainer *tr, const RtMetrics *mt, int first, double loss) {
    int i;
    tr->logs[first] = loss;
    for (i = 0; i < mt->n; i++)
        tr->logs[first + 1 + i] = rt_metrics_value(mt, i);
}

static int rt_train_diverged(RtTrainer *tr, RtProgress *pg, long step, long steps, double loss,
                             const char *what) {
    rt_progress_abort(pg);
    rt_error("epoch %d, step %ld/%ld: the %s is %s; training diverged", tr->epoch + 1, step,
             steps, what, isnan(loss) ? "nan" : "infinite");
    rt_error("hint: lower the learning rate (it is %g), and check that the inputs are "
             "normalized (normalize(minmax) or normalize(standard) as the first layer)",
             tr->lr);
    return RT_EXIT_DIVERGED;
}

/* One pass over the training rows; the logs hold the epoch's loss and metrics. */
static int rt_train_batches(RtTrainer *tr, RtProgress *pg) {
    const NncModel *m = tr->m;
    long n = tr->train.rows, bs = tr->batch_rows, steps = (n + bs - 1) / bs, b;
    double total = 0, began = rt_prof_clock();
    rt_permutation(tr->index, n, tr->seed, tr->epoch, tr->shuffle);
    rt_dist_epoch(tr->index);
    rt_metrics_reset(&tr->metrics);
    for (b = 0; b < steps; b++) {
        long first = b * bs, rows = n - first < bs ? n - first : bs;
        uint64_t drop = rt_subseed(tr->seed, RT_STREAM_DROPOUT, (uint64_t)tr->step + 1);
        double sum, loss;
        long allocs = rt_heap_allocs;
        sum = rt_dist_batch_gradients(&tr->exec, &tr->train, tr->index + first, rows, drop,
                                      &tr->metrics);
        loss = sum / (double)rows + rt_regularization(m, tr->block.params, tr->block.grads);
        if (!isfinite(loss))
            return rt_train_diverged(tr, pg, b + 1, steps, loss, "loss");
        tr->step++;
        rt_dist_update(&tr->exec, tr->step, tr->lr);
        if (rt_prof.on) {
            rt_prof.steps++;
            rt_prof.step_allocs += rt_heap_allocs - allocs;
        }
        total += loss * (double)rows;
        rt_train_metric_logs(tr, &tr->metrics, 0, total / (double)(first + rows));
        rt_progress_step(pg, b + 1, 1 + tr->metrics.n, tr->log_name, tr->logs);
    }
    if (rt_prof.on) {
        rt_prof.steps_seconds += rt_now() - began;
        rt_prof.steps_rows += n;
    }
    return RT_EXIT_OK;
}

/* val_loss includes the regularization, as Keras' evaluate does. */
static int rt_train_validate(RtTrainer *tr, RtProgress *pg) {
    RtMetrics vm;
    double sum, loss;
    if (!tr->has_val)
        return RT_EXIT_OK;
    rt_metrics_init(&vm, tr->m);
    sum = rt_dist_eval_rows(&tr->exec, &tr->val, &vm);
    loss = sum / (double)tr->val.rows + rt_regularization(tr->m, tr->block.params, tr->block.grads);
    if (!isfinite(loss))
        return rt_train_diverged(tr, pg, pg->steps, pg->steps, loss, "validation loss");
    rt_train_metric_logs(tr, &vm, 1 + vm.n, loss);
    return RT_EXIT_OK;
}

static void rt_train_record(RtTrainer *tr, double lr) {
    int cols = tr->n_logs + 1;
    double *row;
    if (tr->history_rows >= tr->history_cap)
        return;
    row = tr->history + (size_t)tr->history_rows * (size_t)cols;
    memcpy(row, tr->logs, sizeof *row * (size_t)tr->n_logs);
    row[tr->n_logs] = lr;
    tr->history_rows++;
}

/* --checkpoint: rank 0 writes it once every rank has sent it the optimizer
** state of its segment (SPEC 6). */
static int rt_train_checkpoint(RtTrainer *tr) {
    if (!tr->checkpointing)
        return 0;
    rt_dist_opt_gather(&tr->exec);
    return tr->o->checkpoint ? rt_checkpoint_save(tr, tr->o->checkpoint) : 0;
}

static int rt_train_epoch(RtTrainer *tr) {
    RtProgress pg;
    long steps = (tr->train.rows + tr->batch_rows - 1) / tr->batch_rows;
    double lr = tr->lr;
    int rc;
    rt_progress_begin(&pg, tr->o->verbose, tr->epoch + 1, tr->epochs, steps);
    rc = rt_train_batches(tr, &pg);
    if (rc == RT_EXIT_OK)
        rc = rt_train_validate(tr, &pg);
    if (rc != RT_EXIT_OK)
        return rc;
    rt_progress_end(&pg, tr->n_logs, tr->log_name, tr->logs);
    rt_train_record(tr, lr);
    tr->epoch++; /* completed: what model_checkpoint's files record */
    if (rt_callbacks_epoch_end(tr, tr->epoch - 1) != 0)
        return RT_EXIT_ERROR;
    if (rt_train_checkpoint(tr) != 0)
        return RT_EXIT_ERROR;
    return RT_EXIT_OK;
}

static int rt_train_fit(RtTrainer *tr) {
    int rc = RT_EXIT_OK, ran = 0;
    if (tr->o->resume && (tr->stop || tr->epoch >= tr->epochs) && tr->o->verbose > 0) {
        if (tr->stop && tr->stopped_epoch > 0)
            printf("%s: this run already finished: early stopping at epoch %d; nothing to train\n",
                   tr->o->resume, tr->stopped_epoch);
        else
            printf("%s: this run already finished: %d of %d epochs; nothing to train (--epochs N "
                   "trains on to epoch N)\n", tr->o->resume, tr->epoch, tr->epochs);
    }
    if (tr->epoch >= tr->epochs && rt_train_checkpoint(tr) != 0)
        return RT_EXIT_ERROR;
    for (; tr->epoch < tr->epochs && !tr->stop && rc == RT_EXIT_OK; ran++)
        rc = rt_train_epoch(tr);
    /* Keras prints this at the end of training (on_train_end). */
    if (rc == RT_EXIT_OK && ran && tr->stop && tr->stopped_epoch > 0 && tr->o->verbose > 0)
        printf("Epoch %d: early stopping\n", tr->stopped_epoch);
    if (rc == RT_EXIT_OK && ran && tr->restored_epoch > 0 && tr->o->verbose > 0)
        printf("Restoring model weights from the end of the best epoch: %d.\n", tr->restored_epoch);
    fflush(stdout);
    return rc;
}

static int rt_train_outputs(RtTrainer *tr) {
    const RtOptions *o = tr->o;
    RtMeta meta;
    int i;
    meta.n = 0;
    rt_train_meta(tr, &meta);
    /* restore_best_weights went back: the weights are that epoch's. */
    for (i = 0; i < meta.n && tr->restored_epoch > 0; i++)
        if (strcmp(meta.key[i], "epochs") == 0) {
            snprintf(meta.buf[i], sizeof meta.buf[0], "%d", tr->restored_epoch);
            meta.value[i] = meta.buf[i];
        }
    if (tr->save && rt_weights_save(tr->save, tr->m, tr->block.params, &meta) != 0)
        return RT_EXIT_ERROR;
    if (tr->save && o->verbose > 0)
        printf("Saved weights to %s\n", tr->save);
    if (o->history && rt_history_write(tr, o->history) != 0)
        return RT_EXIT_ERROR;
    if (o->plot && rt_plot_write(tr, o->plot) != 0)
        return RT_EXIT_ERROR;
    return RT_EXIT_OK;
}

int rt_cmd_train(const NncModel *m, const RtOptions *options) {
    RtTrainer *tr = rt_alloc(sizeof *tr, "the trainer");
    RtOptions mine = *options, *o = &mine;
    int rc;
    if (!tr)
        return RT_EXIT_ERROR;
    tr->checkpointing = o->checkpoint != NULL;
    rt_dist_options(o); /* SPEC 6: only rank 0 prints and writes */
    rc = rt_train_setup(tr, m, o) != 0 ? RT_EXIT_ERROR : RT_EXIT_OK;
    if (rc == RT_EXIT_OK)
        rc = rt_train_fit(tr);
    if (rc == RT_EXIT_OK)
        rc = rt_train_outputs(tr);
    rt_dist_train_close();
    rt_exec_close(&tr->exec, &tr->block);
    free(tr->index);
    free(tr->history);
    rt_data_free(&tr->data);
    rt_data_free(&tr->val_data);
    free(tr);
    return rc;
}
