#include "fixture.h"

#include <stdio.h>

emulator emu;

int start_emulator(void **state) {
    (void)state;
    const char *args[] = {"--client", TEST_ID ":" TEST_SECRET ":analytics realtime-api,storage,QM - API,vcc",
                          "--client", BARE_ID ":" BARE_SECRET ":", NULL};
    return emulator_start(&emu, args);
}

int stop_emulator(void **state) {
    (void)state;
    emulator_stop(&emu);
    return 0;
}

int reset_emulator(void **state) {
    (void)state;
    return emulator_admin(&emu, "POST", "/_emulator/reset", NULL, NULL, 0) == 200 ? 0 : -1;
}

x8_client *make_client(const char *id, const char *secret) {
    x8_options *opts = x8_options_new();
    x8_error *err = NULL;
    assert_non_null(opts);
    assert_int_equal(x8_options_set_base_url(opts, emu.base_url, &err), X8_STATUS_OK);
    assert_int_equal(x8_options_set_retries(opts, 2, 10, 50, &err), X8_STATUS_OK);
    x8_client *client = NULL;
    x8_status st = x8_client_new(id, secret, opts, &client, &err);
    if (st != X8_STATUS_OK) fprintf(stderr, "x8_client_new: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    assert_null(err);
    x8_options_free(opts);
    return client;
}

void expect_error(x8_error *err, x8_status code) {
    assert_non_null(err);
    const char *msg = x8_error_message(err);
    if (x8_error_code(err) != code)
        fprintf(stderr, "expected %s, got %s: %s\n", x8_status_str(code), x8_status_str(x8_error_code(err)), msg);
    assert_int_equal(x8_error_code(err), code);
    assert_true(strlen(msg) > 0);
    assert_null(strstr(msg, TEST_SECRET));
    assert_null(strstr(msg, BARE_SECRET));
    x8_error_free(err);
}
