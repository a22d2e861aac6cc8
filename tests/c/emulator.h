/* Test scaffolding: runs the x8 emulator as a child process and talks to its admin endpoints. */
#ifndef X8_TEST_EMULATOR_H
#define X8_TEST_EMULATOR_H

#include <stddef.h>
#include <sys/types.h>

typedef struct emulator {
    pid_t pid;
    int stdin_fd; /* kept open: the emulator exits when it closes (--exit-on-stdin-eof) */
#ifdef _WIN32
    void *process, *stdin_handle; /* emulator_win.c's: the same, as Windows handles */
#endif
    char base_url[128];
    int port;
} emulator;

/* Starts $X8_EMULATOR with the given extra arguments (NULL-terminated) and waits for its first stdout line
 * (the base URL), which it prints once it accepts connections. Returns 0 on success. */
int emulator_start(emulator *emu, const char *const *args);
void emulator_stop(emulator *emu);

/* Sends `method path` with an optional JSON body to the emulator's admin endpoint; copies the reply body into
 * `out` (may be NULL). Returns the HTTP status, or -1. */
int emulator_admin(const emulator *emu, const char *method, const char *path, const char *json, char *out, size_t out_len);

/* A counter from GET /_emulator/stats, e.g. "token_requests"; -1 on failure. */
long emulator_stat(const emulator *emu, const char *name);

#ifdef _WIN32
/* POSIX's setenv/unsetenv, which mingw lacks (emulator_win.c): they change the Win32 environment, which is
 * the one the library reads. */
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);
#endif

#endif
