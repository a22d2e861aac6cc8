/* Test scaffolding for Windows (mingw, run under Wine): emulator.c's functions with CreateProcess, anonymous
 * pipes and Winsock instead of posix_spawn and BSD sockets. $X8_EMULATOR is the Windows build of the emulator. */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winsock2.h>
#include <windows.h>

/* Appends `arg` to `cmd` quoted the way CommandLineToArgvW splits it back. */
static void append_arg(char *cmd, size_t cap, const char *arg) {
    size_t n = strlen(cmd);
    if (n && n + 1 < cap) cmd[n++] = ' ';
    if (n + 1 < cap) cmd[n++] = '"';
    for (const char *p = arg; *p && n + 3 < cap; p++) {
        if (*p == '"' || *p == '\\') cmd[n++] = '\\';
        cmd[n++] = *p;
    }
    if (n + 1 < cap) cmd[n++] = '"';
    cmd[n] = '\0';
}

int emulator_start(emulator *emu, const char *const *args) {
    const char *bin = getenv("X8_EMULATOR");
    if (!bin) bin = "x8-emulator.exe";
    char cmd[4096] = "";
    const char *fixed[] = {bin, "--port", "0", "--exit-on-stdin-eof"};
    for (size_t i = 0; i < 4; i++) append_arg(cmd, sizeof cmd, fixed[i]);
    for (; args && *args; args++) append_arg(cmd, sizeof cmd, *args);

    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE in_read, in_write, out_read, out_write;
    if (!CreatePipe(&in_read, &in_write, &sa, 0) || !CreatePipe(&out_read, &out_write, &sa, 0)) return -1;
    /* Only the child's ends are inherited. */
    SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_read;
    si.hStdOutput = out_write;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    BOOL ok = CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    CloseHandle(in_read);
    CloseHandle(out_write);
    if (!ok) {
        fprintf(stderr, "cannot start %s: error %lu\n", bin, (unsigned long)GetLastError());
        CloseHandle(in_write);
        CloseHandle(out_read);
        return -1;
    }
    CloseHandle(pi.hThread);
    emu->process = pi.hProcess;
    emu->stdin_handle = in_write;
    emu->pid = (pid_t)pi.dwProcessId;
    emu->stdin_fd = -1;
    /* Read the first line byte by byte: it arrives once the emulator is ready, so no sleep is needed. */
    size_t len = 0;
    char c;
    DWORD got;
    while (len + 1 < sizeof emu->base_url && ReadFile(out_read, &c, 1, &got, NULL) && got == 1 && c != '\n')
        if (c != '\r') emu->base_url[len++] = c;
    emu->base_url[len] = '\0';
    CloseHandle(out_read);
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
    CloseHandle(emu->stdin_handle); /* end of stdin: the emulator exits */
    if (WaitForSingleObject(emu->process, 10000) != WAIT_OBJECT_0) TerminateProcess(emu->process, 1);
    WaitForSingleObject(emu->process, INFINITE);
    CloseHandle(emu->process);
    emu->pid = 0;
}

int emulator_admin(const emulator *emu, const char *method, const char *path, const char *json, char *out, size_t out_len) {
    static int started;
    if (!started) {
        WSADATA wsa;
        if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return -1;
        started = 1;
    }
    SOCKET fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd == INVALID_SOCKET) return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((u_short)emu->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        closesocket(fd);
        return -1;
    }
    char req[1024];
    const char *body = json ? json : "";
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
                       "Content-Length: %u\r\n\r\n%s",
                       method, path, (unsigned)strlen(body), body);
    if (send(fd, req, len, 0) != len) {
        closesocket(fd);
        return -1;
    }
    char reply[16384];
    size_t got = 0;
    int r;
    while (got + 1 < sizeof reply && (r = recv(fd, reply + got, (int)(sizeof reply - 1 - got), 0)) > 0) got += (size_t)r;
    closesocket(fd);
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

int setenv(const char *name, const char *value, int overwrite) {
    if (!overwrite && GetEnvironmentVariableA(name, NULL, 0) > 0) return 0;
    return SetEnvironmentVariableA(name, value) ? 0 : -1;
}

int unsetenv(const char *name) {
    return SetEnvironmentVariableA(name, NULL) || GetLastError() == ERROR_ENVVAR_NOT_FOUND ? 0 : -1;
}
