/* The minimal cmocka stand-in's runner: see cmocka.h. */
#include "cmocka.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static jmp_buf *current; /* the running test's exit; NULL outside a test */

void mini_cmocka_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: error: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (current) longjmp(*current, 1);
    fprintf(stderr, "a check failed outside a test\n");
    _Exit(2);
}

void mini_cmocka_check_int(intmax_t a, intmax_t b, int equal, const char *as, const char *bs, const char *file,
                           int line) {
    if ((a == b) != equal)
        mini_cmocka_fail(file, line, "%s (%jd) %s %s (%jd)", as, a, equal ? "!=" : "==", bs, b);
}

void mini_cmocka_check_str(const char *a, const char *b, int equal, const char *as, const char *bs, const char *file,
                           int line) {
    int same = a && b ? strcmp(a, b) == 0 : a == b;
    if (same != equal)
        mini_cmocka_fail(file, line, "%s (\"%s\") %s %s (\"%s\")", as, a ? a : "(null)", equal ? "!=" : "==", bs,
                         b ? b : "(null)");
}

int mini_cmocka_run(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction setup,
                    CMFixtureFunction teardown) {
    void *group_state = NULL;
    size_t failed = 0;
    printf("[==========] %s: Running %zu test(s).\n", group, count);
    fflush(stdout);
    if (setup && setup(&group_state) != 0) {
        printf("[  ERROR   ] %s: the group setup failed\n", group);
        return (int)count;
    }
    for (size_t i = 0; i < count; i++) {
        const struct CMUnitTest *t = &tests[i];
        void *state = t->initial_state ? t->initial_state : group_state;
        jmp_buf exit_test;
        int ok = 0;
        printf("[ RUN      ] %s\n", t->name);
        fflush(stdout);
        current = &exit_test;
        if (setjmp(exit_test) == 0) {
            if (!t->setup_func || t->setup_func(&state) == 0) {
                t->test_func(&state);
                ok = 1;
            } else {
                fprintf(stderr, "%s: setup failed\n", t->name);
            }
        }
        current = NULL;
        if (t->teardown_func && t->teardown_func(&state) != 0) ok = 0;
        printf(ok ? "[       OK ] %s\n" : "[  FAILED  ] %s\n", t->name);
        fflush(stdout);
        if (!ok) failed++;
    }
    if (teardown) teardown(&group_state);
    printf("[==========] %s: %zu test(s) run.\n", group, count);
    printf("[  PASSED  ] %zu test(s).\n", count - failed);
    if (failed) printf("[  FAILED  ] %zu test(s).\n", failed);
    fflush(stdout);
    return (int)failed;
}
