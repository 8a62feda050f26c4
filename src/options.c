/*
** options.c — option syntax shared by nnc's commands (options.h). The
** generated trainer follows the same rules in runtime/cli.c, which cannot
** link this file (it is pasted into dependency-free C).
*/
#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

bool opt_is(const char *arg, const char *name) {
    size_t n = strlen(name);
    return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

bool opt_value(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (!opt_is(arg, name)) return false;
    if (arg[n] == '=') *value = arg + n + 1;
    else if (*i + 1 < argc) *value = argv[++*i];
    else *value = NULL;
    return true;
}

const char *opt_closest(const char *arg, const char *const *names) {
    char key[64];
    size_t len = strcspn(arg, "=");
    if (len >= sizeof key) return NULL;
    memcpy(key, arg, len);
    key[len] = '\0';
    /* A typo, not another word: at most 2 edits, fewer than half the length. */
    const char *best = NULL;
    int best_d = 3;
    for (int k = 0; names[k]; k++) {
        int d = edit_distance(key, names[k]);
        if (d < best_d && 2 * d < (int)len) {
            best_d = d;
            best = names[k];
        }
    }
    return best;
}
