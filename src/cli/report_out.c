/* Report output files (report_out.h). */
#include "cli/report_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_util.h"

int report_out_open(const char *cmd, report_out *o, const char *path) {
    o->path = path;
    if (!strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    if (snprintf(o->tmp, sizeof o->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof o->tmp)
        return cli_failf(cmd, "--out: path too long");
    int fd = mkstemp(o->tmp);
    if (fd < 0) return cli_failf(cmd, "cannot write %s: %s", path, strerror(errno));
    mode_t um = umask(0); /* mkstemp makes 0600: a report is as readable as any file */
    umask(um);
    fchmod(fd, 0666 & ~um);
    if (!(o->f = fdopen(fd, "w"))) {
        close(fd);
        unlink(o->tmp);
        return cli_failf(cmd, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

int report_out_close(const char *cmd, report_out *o, int rc) {
    if (!o->f) return rc;
    if (o->f == stdout) {
        if (fflush(stdout) && rc == 0) rc = cli_failf(cmd, "cannot write the output");
        return rc;
    }
    if (fclose(o->f) != 0 && rc == 0) rc = cli_failf(cmd, "cannot write %s", o->path);
    o->f = NULL;
    if (rc == 0 && rename(o->tmp, o->path) != 0)
        rc = cli_failf(cmd, "cannot write %s: %s", o->path, strerror(errno));
    if (rc != 0) unlink(o->tmp);
    return rc;
}
