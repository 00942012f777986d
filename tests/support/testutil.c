#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Resolved once to an absolute path: tests chdir and make symlinks into temp
 * folders, where a relative fixture path would dangle. When the folder is
 * absent the path stays as given, so the skip messages name it. */
const char *tu_fixtures_dir(void) {
    static char resolved[PATH_MAX];
    if (resolved[0]) return resolved;
    const char *d = getenv("COINHOUND_FIXTURES");
    if (!d || !*d) d = "../shared/fixtures";
    if (!realpath(d, resolved)) snprintf(resolved, sizeof resolved, "%s", d);
    return resolved;
}

const char *tu_fixture(const char *relpath) {
    static char path[PATH_MAX + 4096];
    snprintf(path, sizeof path, "%s/%s", tu_fixtures_dir(), relpath);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "skipped: fixture %s is absent (set COINHOUND_FIXTURES)\n", path);
        return NULL;
    }
    return path;
}

uint8_t *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

char *tu_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/coinhound-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void tu_rmrf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            tu_rmrf(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *tu_run(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) out = realloc(out, cap *= 2);
    }
    out[len] = 0;
    int st = pclose(p);
    if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

const char *tu_bin(const char *name) {
    static char path[4096];
    const char *b = getenv("BUILD");
    snprintf(path, sizeof path, "%s/%s", b && *b ? b : "build", name);
    return path;
}

char *tu_read_text(const char *path) {
    size_t len;
    return (char *)tu_read_file(path, &len);
}

int tu_count_in(const char *path, const char *text) {
    char *s = tu_read_text(path);
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, text)); p += strlen(text))
        n++;
    free(s);
    return n;
}

void tu_assert_file_says(const char *path, const char *const *texts) {
    char *s = tu_read_text(path);
    if (!s) fail_msg("%s: cannot be read", path);
    for (; *texts; texts++)
        if (!strstr(s, *texts)) fail_msg("%s does not say '%s'", path, *texts);
    free(s);
}

void tu_msleep(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t tu_spawn(char *const argv[], const char *out_path, const char *err_path) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (o < 0 || e < 0) _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}
