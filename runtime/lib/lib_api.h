/*
** lib_api.h — the C API of --emit=lib, as the -H header declares it and
** documents it for users. A template, written once and compiled by the
** build (lib_api.c includes it): in every generated header and library,
** nncM stands for the model's identifier and NNCM for its upper case
** (src/codegen/c/lib.c substitutes them; scripts/embed.sh embeds the text
** between the nnc-embed lines). The header's NNCM_INPUTS ... NNCM_REAL
** macros, the model's numbers, are written by lib.c above this text.
*/
/* nnc-embed: begin */
/*
** Usage:
**   nncM_model *m = nncM_create(seed);          initialized as the trainer would
**   nncM_fit(m, x, t, rows, epochs, batch);     x: rows x NNCM_INPUTS, t: rows x NNCM_TARGETS
**   nncM_predict(m, x, y, rows);                y: rows x NNCM_OUTPUTS
**   nncM_save(m, "w.safetensors");  nncM_free(m);
** Rows are contiguous and row-major; targets are laid out as the trainer's
** kernels read them (a class index for sparse categorical cross-entropy,
** one number per output otherwise). Functions returning int return 0 on
** success and -1 after a message on stderr; doubles are NaN on failure.
** A context is used by one thread at a time; contexts are independent.
*/

typedef NNCM_REAL nncM_real;
typedef struct nncM_model nncM_model;

/* A model with fresh parameters drawn from seed (SPEC 1.4); NULL if out of memory. */
nncM_model *nncM_create(uint64_t seed);
void nncM_free(nncM_model *model);
/* Weights from a safetensors file of this model (normalization included). */
int nncM_load(nncM_model *model, const char *path);
int nncM_save(const nncM_model *model, const char *path);
/* normalize()'s statistics from rows of x; fit does it on its first call
** unless adapt or load did. */
int nncM_adapt(nncM_model *model, const nncM_real *x, long rows);
/* One optimizer step on rows (one batch); returns the batch's loss. */
double nncM_train_batch(nncM_model *model, const nncM_real *x, const nncM_real *t, long rows);
/* epochs over rows, shuffled each epoch as the trainer shuffles, in batches
** of batch_size (0: all rows); returns the last epoch's mean loss. */
double nncM_fit(nncM_model *model, const nncM_real *x, const nncM_real *t, long rows, int epochs,
    long batch_size);
/* Predictions, dropout off. */
void nncM_predict(nncM_model *model, const nncM_real *x, nncM_real *y, long rows);
/* Mean loss over rows plus regularization, dropout off. */
double nncM_evaluate(nncM_model *model, const nncM_real *x, const nncM_real *t, long rows);
/* The parameter buffer, NNCM_PARAM_FLOATS numbers laid out as the
** descriptor's parameter table says. */
nncM_real *nncM_parameters(nncM_model *model);
void nncM_set_learning_rate(nncM_model *model, double learning_rate);
/* The kernel ABI's descriptor (runtime/nnc_abi.h), for tools and tests. */
const struct NncModel *nncM_descriptor(void);

/* Generic names for tools that drive any model's library (tests). */
#ifdef NNC_LIB_GENERIC
#define nnc_lib_real nncM_real
#define nnc_lib_model nncM_model
#define nnc_lib_create nncM_create
#define nnc_lib_free nncM_free
#define nnc_lib_load nncM_load
#define nnc_lib_save nncM_save
#define nnc_lib_adapt nncM_adapt
#define nnc_lib_train_batch nncM_train_batch
#define nnc_lib_fit nncM_fit
#define nnc_lib_predict nncM_predict
#define nnc_lib_evaluate nncM_evaluate
#define nnc_lib_parameters nncM_parameters
#define nnc_lib_descriptor nncM_descriptor
#endif
/* nnc-embed: end */
