/*
** outputs.c — SPEC 3 "Nothing trained is thrown away": where train saves
** by default, and every output path checked for writability before the
** first epoch, so that a typo fails in a second, not after an hour.
*/
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* <model>.safetensors in the current directory. */
const char *rt_default_save_path(const NncModel *m, char *buf, size_t size) {
    snprintf(buf, size, "%s.safetensors", m->name && m->name[0] ? m->name : "model");
    return buf;
}

/* Whether path can be written as rt_file_open will (a temporary beside it,
** renamed onto it): its directory exists and takes a new file, and path is
** not a directory. Creates nothing that outlives the check. */
int rt_output_writable(const char *path) {
    char probe[RT_PATH_MAX + 64];
    struct stat st;
    int fd;
    if (strlen(path) > RT_PATH_MAX) {
        rt_error("%s: cannot write: path too long", path);
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rt_error("%s: cannot write: %s", path, strerror(EISDIR));
        return -1;
    }
    snprintf(probe, sizeof probe, "%s.tmp-%ld-probe", path, (long)getpid());
    fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) {
        rt_error("%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    return 0;
}
