/* The writer lock (see coinhound/lock.h): flock on DIR/writer.lock, the
 * holder's pid written into the file for whoever is refused. */
#include "coinhound/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/path.h"

struct ch_writer_lock {
    int fd;
};

/* The pid the holder wrote, or 0 when none is there (yet). */
static long holder_pid(int fd) {
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : 0;
}

static int refuse(const char *dir, int fd, ch_error *err) {
    long pid = holder_pid(fd);
    if (pid)
        return ch_err(err,
                      "%s is being written by another coinhound (pid %ld); try again when it ends, "
                      "or wait for it (--wait)",
                      dir, pid);
    return ch_err(err,
                  "%s is being written by another coinhound; try again when it ends, or wait for "
                  "it (--wait)",
                  dir);
}

int ch_writer_lock_take(const char *dir, bool wait, ch_writer_lock **out, ch_error *err) {
    *out = NULL;
    char path[4096];
    if (ch_path_join(path, sizeof path, dir, CH_WRITER_LOCK_FILE) != 0)
        return ch_err(err, "%.64s...: path too long", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ch_err(err, "%s: cannot open the writer lock: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) {
            ch_err(err, "%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (!wait) {
            refuse(dir, fd, err);
            close(fd);
            return -1;
        }
        long pid = holder_pid(fd);
        if (pid)
            fprintf(stderr, "coinhound: waiting for the writer of %s (pid %ld) to finish\n", dir,
                    pid);
        else
            fprintf(stderr, "coinhound: waiting for the writer of %s to finish\n", dir);
        int rc;
        while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (rc != 0) {
            ch_err(err, "%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        break;
    }
    /* ours now: say who holds it (a failure here only loses the pid) */
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n) {
        /* the lock holds without the pid */
    }
    ch_writer_lock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        return ch_err(err, "out of memory");
    }
    l->fd = fd;
    *out = l;
    return 0;
}

void ch_writer_lock_release(ch_writer_lock *l) {
    if (!l) return;
    /* no stale pid for the next one refused */
    if (ftruncate(l->fd, 0) != 0) {
        /* harmless: the next holder writes its own */
    }
    close(l->fd);
    free(l);
}
