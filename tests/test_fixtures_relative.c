/* The suite's fixture tests pass from a temporary copy of the fixtures
 * named by a relative path.
 *
 * A test that hands a fixture path to something that resolves it from
 * another directory (a symlink made in a temp dir, a child started
 * elsewhere) works with the absolute paths of a developer's environment and
 * breaks on a fresh machine, where the default ../shared/fixtures is
 * relative. This test copies the fixtures to a temp dir (under the build
 * directory), sets
 * COINHOUND_FIXTURES to a relative path to the copy (from the working
 * directory the tests run in, the repository root), and runs every test
 * binary whose source reads fixtures: each must pass, and none may skip a
 * fixture as absent. */
#include "support/testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The path of `to` relative to the directory `from` (both absolute and
 * resolved, neither the root): up from `from` to the last component they
 * share, then down to `to`. */
static void relative_path(const char *from, const char *to, char *out, size_t cap) {
    size_t common = 0; /* the last index where both are at a component's end */
    for (size_t i = 0;; i++) {
        bool fe = from[i] == '\0' || from[i] == '/', te = to[i] == '\0' || to[i] == '/';
        if (fe && te) common = i;
        if (from[i] != to[i] || from[i] == '\0') break;
    }
    out[0] = '\0';
    for (const char *p = from + common; *p; p++)
        if (*p == '/') strncat(out, "../", cap - strlen(out) - 1);
    const char *rest = to + common;
    if (*rest == '/') rest++;
    strncat(out, rest, cap - strlen(out) - 1);
}

/* Does tests/<name> read fixtures (its source calls tu_fixture)? */
static bool reads_fixtures(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "tests/%s", name);
    size_t len;
    char *src = (char *)tu_read_file(path, &len);
    if (!src) return false;
    bool yes = strstr(src, "tu_fixture(") != NULL;
    free(src);
    return yes;
}

static char *g_copy; /* the temp copy, removed by the teardown even after a failure */

static int remove_copy(void **state) {
    (void)state;
    if (g_copy) tu_rmrf(g_copy);
    free(g_copy);
    g_copy = NULL;
    return 0;
}

static void test_fixture_tests_pass_from_a_relative_temp_copy(void **state) {
    (void)state;
    struct stat st;
    if (stat(tu_fixtures_dir(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "skipped: fixtures %s are absent (set COINHOUND_FIXTURES)\n",
                tu_fixtures_dir());
        skip();
    }
    /* The copy goes under the build directory, so that its relative name
     * ("build/fixtures-copy-XXXXXX/fixtures") leads nowhere from any other
     * directory: a name under /tmp would reach the copy from a temp dir too,
     * since ".." stops at the root, and hide the fault. */
    const char *build = getenv("BUILD");
    if (!build || !*build) build = "build";
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/fixtures-copy-XXXXXX", build);
    assert_non_null(mkdtemp(tmpl));
    char *tmp = g_copy = realpath(tmpl, NULL);
    assert_non_null(tmp);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cp -R '%s' '%s/fixtures' && chmod -R u+w '%s/fixtures'",
             tu_fixtures_dir(), tmp, tmp);
    int status;
    free(tu_run(cmd, &status));
    assert_int_equal(status, 0);

    char cwd[PATH_MAX], copy[PATH_MAX], rel[PATH_MAX * 2];
    assert_non_null(realpath(".", cwd));
    snprintf(cmd, sizeof cmd, "%s/fixtures", tmp);
    assert_non_null(realpath(cmd, copy));
    relative_path(cwd, copy, rel, sizeof rel);
    assert_true(rel[0] != '/');
    assert_int_equal(stat(rel, &st), 0); /* it does lead to the copy */
    print_message("fixtures copied to %s, named as %s\n", copy, rel);

    DIR *d = opendir("tests");
    assert_non_null(d);
    struct dirent *e;
    int ran = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "test_", 5) || n < 3 || strcmp(e->d_name + n - 2, ".c")) continue;
        if (!strcmp(e->d_name, "test_fixtures_relative.c") || !reads_fixtures(e->d_name)) continue;
        char bin[4096];
        snprintf(bin, sizeof bin, "%s/tests/%.*s", build, (int)(n - 2), e->d_name);
        if (access(bin, X_OK) != 0) fail_msg("%s is not built", bin);
        snprintf(cmd, sizeof cmd, "COINHOUND_FIXTURES='%s' '%s' 2>&1", rel, bin);
        char *out = tu_run(cmd, &status);
        assert_non_null(out);
        bool failed = status != 0 || strstr(out, "[  FAILED  ]"),
             skipped = strstr(out, "skipped: fixture") != NULL;
        if (failed || skipped) {
            fputs(out, stderr); /* its own report: the messages say what went wrong */
            fail_msg("%s %s with COINHOUND_FIXTURES=%s (exit %d)", bin,
                     failed ? "failed" : "skipped a fixture", rel, status);
        }
        free(out);
        ran++;
    }
    closedir(d);
    print_message("%d fixture-reading test binaries pass from the relative copy\n", ran);
    assert_true(ran >= 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixture_tests_pass_from_a_relative_temp_copy, remove_copy),
    };
    return cmocka_run_group_tests_name("fixtures_relative", tests, NULL, NULL);
}
