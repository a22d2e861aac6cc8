/* A minimal stand-in for the part of cmocka's API that tests/c uses, for the cross-built C suites (Windows under
 * Wine, arm64 under qemu, musl), where no cmocka library for the target is at hand. Same macros, same output
 * shape ("[  PASSED  ] N test(s)."), one implementation file (cmocka.c) compiled with each test program.
 * Assertions must be called from the test's own thread, as with the real cmocka. Test scaffolding only. */
#ifndef X8_MINI_CMOCKA_H
#define X8_MINI_CMOCKA_H

#include <stddef.h>
#include <stdint.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
    CMFixtureFunction setup_func;
    CMFixtureFunction teardown_func;
    void *initial_state;
};

#define cmocka_unit_test(f) {#f, f, NULL, NULL, NULL}
#define cmocka_unit_test_setup(f, setup) {#f, f, setup, NULL, NULL}
#define cmocka_unit_test_teardown(f, teardown) {#f, f, NULL, teardown, NULL}
#define cmocka_unit_test_setup_teardown(f, setup, teardown) {#f, f, setup, teardown, NULL}

int mini_cmocka_run(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction setup,
                    CMFixtureFunction teardown);
#define cmocka_run_group_tests_name(name, tests, setup, teardown) \
    mini_cmocka_run(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)
#define cmocka_run_group_tests(tests, setup, teardown) cmocka_run_group_tests_name(#tests, tests, setup, teardown)

/* Reports a failed check at file:line and leaves the running test. */
void mini_cmocka_fail(const char *file, int line, const char *fmt, ...);
void mini_cmocka_check_int(intmax_t a, intmax_t b, int equal, const char *as, const char *bs, const char *file, int line);
void mini_cmocka_check_str(const char *a, const char *b, int equal, const char *as, const char *bs, const char *file,
                           int line);

#define fail() mini_cmocka_fail(__FILE__, __LINE__, "fail()")
#define fail_msg(...) mini_cmocka_fail(__FILE__, __LINE__, __VA_ARGS__)
#define assert_true(c) ((c) ? (void)0 : mini_cmocka_fail(__FILE__, __LINE__, "%s is false", #c))
#define assert_false(c) (!(c) ? (void)0 : mini_cmocka_fail(__FILE__, __LINE__, "%s is true", #c))
#define assert_non_null(p) ((p) != NULL ? (void)0 : mini_cmocka_fail(__FILE__, __LINE__, "%s is NULL", #p))
#define assert_null(p) ((p) == NULL ? (void)0 : mini_cmocka_fail(__FILE__, __LINE__, "%s is not NULL", #p))
#define assert_int_equal(a, b) mini_cmocka_check_int((intmax_t)(a), (intmax_t)(b), 1, #a, #b, __FILE__, __LINE__)
#define assert_int_not_equal(a, b) mini_cmocka_check_int((intmax_t)(a), (intmax_t)(b), 0, #a, #b, __FILE__, __LINE__)
#define assert_string_equal(a, b) mini_cmocka_check_str((a), (b), 1, #a, #b, __FILE__, __LINE__)
#define assert_string_not_equal(a, b) mini_cmocka_check_str((a), (b), 0, #a, #b, __FILE__, __LINE__)

#endif
