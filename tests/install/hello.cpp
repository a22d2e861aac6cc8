// Built against an installed x8 through CMake's find_package(x8): gets a token and calls the queues endpoint.
#include <x8.h>

#include <cstdio>

int main() {
    x8_error *err = nullptr;
    x8_client *client = nullptr;
    if (x8_client_new_from_env(nullptr, &client, &err) != X8_STATUS_OK) {
        std::fprintf(stderr, "x8: %s\n", x8_error_message(err));
        x8_error_free(err);
        return 1;
    }
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_status st = x8_get_token(client, token, sizeof token, nullptr, &err);
    if (st != X8_STATUS_OK) std::fprintf(stderr, "x8: %s\n", x8_error_message(err));
    x8_error_free(err);
    x8_client_free(client);
    std::printf("x8 %s from C++: %s\n", x8_version(), st == X8_STATUS_OK ? "token ok" : "failed");
    return st == X8_STATUS_OK ? 0 : 1;
}
