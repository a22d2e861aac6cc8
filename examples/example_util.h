/* What the API examples share: error reporting, a monotonic clock, and pulling one field out of a JSON reply.
 * The field helpers are enough for these replies, not a JSON parser: a real program would use its own
 * (cJSON, jansson, ...). x8_page_items hands out a page's items as one JSON array for exactly that. */
#ifndef X8_EXAMPLE_UTIL_H
#define X8_EXAMPLE_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x8.h"

/* Prints what failed and x8's message (which never holds the secret or a token), frees the error. */
static inline int fail(const char *what, x8_error *err) {
    fprintf(stderr, "%s failed (%s): %s\n", what, x8_status_str(x8_error_code(err)), x8_error_message(err));
    x8_error_free(err);
    return 1;
}

/* Milliseconds on a monotonic clock: deadlines must not move when the wall clock does. */
static inline int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Copies the value of the first `"name":` in `json` into `out` (a string without its quotes, or a number as
 * text); returns 0, or -1 when absent or too long. */
static inline int json_field(const char *json, const char *name, char *out, size_t out_len) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(json, key);
    if (!at) return -1;
    at += strlen(key);
    while (*at == ' ') at++;
    size_t n;
    if (*at == '"') {
        at++;
        n = strcspn(at, "\"");
    } else {
        n = strcspn(at, ",}] \n");
    }
    if (n == 0 || n >= out_len) return -1;
    memcpy(out, at, n);
    out[n] = '\0';
    return 0;
}

#endif
