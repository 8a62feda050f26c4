/*
** history.c — --history H.csv (SPEC 3): one row per epoch,
**   epoch,loss,<metrics>,val_loss,val_<metrics>,learning_rate
** epochs from 1, numbers as %.9g (enough digits to round-trip a float).
*/
#include "runtime.h"

#include <stdlib.h>

int rt_history_write(const RtTrainer *tr, const char *path) {
    RtFile *f = rt_alloc(sizeof *f, "a file buffer");
    int r, k, rc;
    if (!f)
        return -1;
    if (rt_file_open(f, path) != 0) {
        free(f);
        return -1;
    }
    rt_file_puts(f, "epoch");
    for (k = 0; k < tr->n_logs; k++)
        rt_file_printf(f, ",%s", tr->log_name[k]);
    rt_file_puts(f, ",learning_rate\n");
    for (r = 0; r < tr->history_rows; r++) {
        const double *row = tr->history + (size_t)r * (size_t)(tr->n_logs + 1);
        rt_file_printf(f, "%d", r + 1);
        for (k = 0; k <= tr->n_logs; k++)
            rt_file_printf(f, ",%.9g", row[k]);
        rt_file_puts(f, "\n");
    }
    rc = rt_file_commit(f);
    free(f);
    return rc;
}
