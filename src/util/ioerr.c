#include "util/ioerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Less than 1 MiB left where file lives (or in its folder, when the file
 * is not there yet). */
static bool nearly_full(const char *file) {
    struct statvfs v;
    if (statvfs(file, &v) != 0) {
        char dir[4096];
        size_t n = strlen(file);
        if (n >= sizeof dir) return false;
        memcpy(dir, file, n + 1);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            strcpy(dir, ".");
        if (statvfs(dir, &v) != 0) return false;
    }
    return (unsigned long long)v.f_bavail * v.f_frsize < (1u << 20);
}

int ch_reserve_file(const char *file, unsigned long bytes, ch_error *err) {
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EACCES || errno == EROFS) return 0; /* read-only: LMDB says what it can */
        return ch_io_err(err, file, "creating", NULL, errno);
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && (unsigned long long)st.st_blocks * 512 < bytes) {
        int e = posix_fallocate(fd, 0, (off_t)bytes);
        if (e != 0 && e != EINVAL && e != EOPNOTSUPP)
            rc = ch_io_err(err, file, "reserving", NULL, e);
    }
    close(fd);
    return rc;
}

int ch_io_err(ch_error *err, const char *file, const char *what, const char *reason, int errnum) {
    if (errnum == ENOSPC || ((errnum == EIO || errnum == 0) && nearly_full(file)))
        return ch_err(err, "%s: no space left on device (%s)", file, what);
    return ch_err(err, "%s: %s: %s", file, what, reason ? reason : strerror(errnum));
}
