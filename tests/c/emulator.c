/* Test scaffolding: runs the x8 emulator as a child process and talks to its admin endpoints over a plain
 * socket (not through x8, so the tests observe x8 from the outside). */
#define _GNU_SOURCE
#include "emulator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int emulator_start(emulator *emu, const char *const *args) {
    const char *bin = getenv("X8_EMULATOR");
    if (!bin) bin = "target/release/x8-emulator";
    const char *argv[32] = {bin, "--port", "0", "--exit-on-stdin-eof"};
    size_t n = 4;
    for (; args && *args && n < 31; args++) argv[n++] = *args;
    argv[n] = NULL;

    int in_pipe[2], out_pipe[2];
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_addclose(&fa, in_pipe[1]);
    posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
    int rc = posix_spawn(&emu->pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in_pipe[0]);
    close(out_pipe[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", bin, strerror(rc));
        return -1;
    }
    emu->stdin_fd = in_pipe[1];
    /* Read the first line byte by byte: it arrives once the emulator is ready, so no sleep is needed. */
    size_t len = 0;
    char c;
    while (len + 1 < sizeof emu->base_url && read(out_pipe[0], &c, 1) == 1 && c != '\n') emu->base_url[len++] = c;
    emu->base_url[len] = '\0';
    close(out_pipe[0]);
    const char *colon = strrchr(emu->base_url, ':');
    emu->port = colon ? atoi(colon + 1) : 0;
    if (emu->port <= 0) {
        fprintf(stderr, "emulator printed no URL (got \"%s\")\n", emu->base_url);
        emulator_stop(emu);
        return -1;
    }
    return 0;
}

void emulator_stop(emulator *emu) {
    if (emu->pid <= 0) return;
    close(emu->stdin_fd);
    kill(emu->pid, SIGTERM);
    waitpid(emu->pid, NULL, 0);
    emu->pid = 0;
}

int emulator_admin(const emulator *emu, const char *method, const char *path, const char *json, char *out, size_t out_len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)emu->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    const char *body = json ? json : "";
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       method, path, strlen(body), body);
    if (write(fd, req, (size_t)len) != len) {
        close(fd);
        return -1;
    }
    char reply[16384];
    size_t got = 0;
    ssize_t r;
    while (got + 1 < sizeof reply && (r = read(fd, reply + got, sizeof reply - 1 - got)) > 0) got += (size_t)r;
    close(fd);
    reply[got] = '\0';
    int status = -1;
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1) return -1;
    if (out && out_len) {
        const char *start = strstr(reply, "\r\n\r\n");
        snprintf(out, out_len, "%s", start ? start + 4 : "");
    }
    return status;
}

long emulator_stat(const emulator *emu, const char *name) {
    char body[4096], key[64];
    if (emulator_admin(emu, "GET", "/_emulator/stats", NULL, body, sizeof body) != 200) return -1;
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(body, key);
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}
