/*
** options.h — the command-line syntax nnc shares with the generated
** trainer (SPEC 2): a long option's value follows '=' or comes as the next
** argument (--emit=ir, --emit ir), and an unknown option is answered with
** the closest known one.
*/
#ifndef NNC_OPTIONS_H
#define NNC_OPTIONS_H

#include <stdbool.h>

/* Whether argv[*i] is the option `name` (alone, or as name=VALUE). Its
** value goes to *value: after '=', or the next argument (then *i moves on
** to it), or NULL when there is none. */
bool opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/* Whether arg is `name` or `name=...`. */
bool opt_is(const char *arg, const char *name);

/* The known option closest to arg (compared up to its '='), or NULL when
** none is near enough to be a typo of it. names ends with NULL. */
const char *opt_closest(const char *arg, const char *const *names);

#endif
