/* The output of a report command: FILE.tmp.XXXXXX beside FILE, renamed over
 * it when the report is complete, removed when not (no partial report is
 * ever left); "-" is standard output. */
#ifndef COINHOUND_CLI_REPORT_OUT_H
#define COINHOUND_CLI_REPORT_OUT_H

#include <stdio.h>

typedef struct report_out {
    const char *path;
    char tmp[4096];
    FILE *f;
} report_out;

/* 0 and o->f open, or 2 after saying why. */
int report_out_open(const char *cmd, report_out *o, const char *path);
/* rc 0: the file is renamed into place (or 2 after saying why it could not
 * be); rc != 0: the temporary file is removed. Returns the exit code. */
int report_out_close(const char *cmd, report_out *o, int rc);
/* The help of every report command. */
void report_usage(FILE *f);

#endif
