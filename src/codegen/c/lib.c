/*
** lib.c — --emit=lib: the trainer's kernels and runtime without main, and
** a thin C API over them (create, fit, predict, evaluate, save, load),
** documented in the header. One model per context, no global state, so
** contexts on different threads do not interfere. The API is real C written
** once in runtime/lib/ (lib_api.h, lib_api.c), compiled by the build and
** embedded as templates in which nncM stands for the model's identifier and
** NNCM for its upper case; here only the model's names and numbers go in.
*/
#include "cgen.h"
#include "runtime.h" /* rt_plan_real: the memory macros are summary's figures */

#include <string.h>

/* Writes tmpl with "nncM" replaced by prefix and "NNCM" by its upper case. */
static void expand(CgText *t, const char *tmpl, const char *prefix) {
    const char *upper = cg_upper(t->arena, prefix);
    for (const char *p = tmpl; *p;) {
        const char *lo = strstr(p, "nncM"), *up = strstr(p, "NNCM");
        const char *hit = !lo ? up : !up ? lo : lo < up ? lo : up;
        if (!hit) {
            cg_c_put(t, p);
            break;
        }
        cg_c_printf(t, "%.*s%s", (int)(hit - p), p, *hit == 'n' ? prefix : upper);
        p = hit + 4;
    }
}

/* The -H header after its comment: the model's numbers as macros, then
** lib_api.h. The library has the same text above its definitions. */
/* SPEC 3: the bytes `summary` reports, at the fit block's batch size and
** one thread, from the same plan (runtime/plan.c). */
static void memory_macros(CgFile *cf, CgText *t, const char *up) {
    const NncModel *d = &cf->model->desc;
    RtPlan plan;
    rt_plan_real(&plan, d, d->batch_size, 1, 1, cf->o->f64 ? sizeof(double) : sizeof(float));
    cg_c_printf(t, "/* The trainer's memory at batch size %s%.0ld, one thread, in bytes (summary) */\n",
                d->batch_size > 0 ? "" : "all", d->batch_size > 0 ? (long)d->batch_size : 0L);
    cg_c_printf(t, "#define %s_BATCH_SIZE %ld /* 0: all rows */\n", up, (long)d->batch_size);
    cg_c_printf(t, "#define %s_PARAM_BYTES %zu\n#define %s_GRAD_BYTES %zu\n#define %s_OPT_BYTES %zu\n", up,
                plan.params, up, plan.grads, up, plan.opt);
    cg_c_printf(t, "#define %s_ACTIVATION_BYTES %zu\n#define %s_BATCH_BUFFER_BYTES %zu\n", up, plan.scratch,
                up, plan.io);
    cg_c_printf(t, "#define %s_BEST_BYTES %zu\n#define %s_TRAIN_BYTES %zu /* all of them, one allocation */\n\n",
                up, plan.best, up, plan.total);
}

static void api_header(CgFile *cf, CgText *t) {
    const NncModel *d = &cf->model->desc;
    const char *up = cg_upper(cf->arena, cf->prefix);
    cg_c_printf(t, "#ifndef NNC_LIB_%s_H\n#define NNC_LIB_%s_H\n\n#include <stdint.h>\n\n", up, up);
    cg_c_printf(t, "#define %s_INPUTS %ld\n#define %s_OUTPUTS %ld\n#define %s_TARGETS %ld\n", up, d->n_inputs, up,
                d->n_outputs, up, d->target_width);
    cg_c_printf(t, "#define %s_PARAMS %ld /* parameter count */\n#define %s_PARAM_FLOATS %ld\n", up,
                cf->model->param_count, up, d->param_floats);
    cg_c_printf(t, "#define %s_REAL %s\n", up, cf->o->f64 ? "double" : "float");
    memory_macros(cf, t, up);
    expand(t, cg_c_lib_api_h, cf->prefix);
    cg_c_printf(t, "\n#endif\n");
}

const char *cg_c_lib(const CgModel *cm) {
    Arena *a = cm->arena;
    const CgOptions *o = cm->o;
    CgFile cf;
    cg_c_file_init(&cf, cm);
    CgText t = {.arena = a};
    cg_c_header_comment(&cf, &t, "A C library");
    cg_c_printf(&t, "** API: %s. Build: cc -O2 -c %s.c, link with -lm.\n*/\n",
                o->header ? cg_comment(a, o->header) : "the header written with -H", cf.prefix);
    cg_c_prologue(&cf, &t);
    cg_c_put(&t, "\n/* ==== the runtime (runtime/, embedded by the build) ==== */\n");
    cg_c_put(&t, cg_runtime_text);
    cg_c_model_section(&cf, &t);
    cg_c_put(&t, "\n/* ==== the C API: the header's text (-H), then its definitions ==== */\n\n");
    api_header(&cf, &t);
    cg_c_put(&t, "\n");
    expand(&t, cg_c_lib_api_c, cf.prefix);
    return cg_c_text(&t);
}

const char *cg_c_lib_header(const CgModel *cm) {
    CgFile cf;
    cg_c_file_init(&cf, cm);
    CgText t = {.arena = cm->arena};
    cg_c_header_comment(&cf, &t, "The C API of a library");
    cg_c_put(&t, "*/\n");
    api_header(&cf, &t);
    return cg_c_text(&t);
}
