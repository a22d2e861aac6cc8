/* What every C test file shares: one emulator per test binary, with a full key and a product-less key. */
#ifndef X8_TEST_FIXTURE_H
#define X8_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "emulator.h"
#include "x8.h"

#define TEST_ID "c-client"
#define TEST_SECRET "c-secret-4f9e!x"
#define BARE_ID "bare-client"
#define BARE_SECRET "bare-secret-77"

extern emulator emu;

/* Group setup/teardown for cmocka: start and stop the shared emulator. */
int start_emulator(void **state);
int stop_emulator(void **state);
/* Per-test setup: zero the emulator's counters and clear its faults. */
int reset_emulator(void **state);

/* A client for `id`/`secret` pointed at the emulator, with fast retries. Fails the test on error. */
x8_client *make_client(const char *id, const char *secret);

/* Asserts that an error exists, has `code`, and that its message leaks neither secret; then frees it. */
void expect_error(x8_error *err, x8_status code);

#endif
