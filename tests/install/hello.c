/* Built against an installed x8 through pkg-config: gets a token and calls the queues endpoint. */
#include <stdio.h>
#include <x8.h>

int main(void) {
    x8_error *err = NULL;
    x8_client *client = NULL;
    x8_response *r = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK ||
        x8_request(client, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, &err) !=
            X8_STATUS_OK) {
        fprintf(stderr, "x8: %s\n", x8_error_message(err));
        x8_error_free(err);
        x8_client_free(client);
        return 1;
    }
    printf("x8 %s: HTTP %u\n", x8_version(), x8_response_status(r));
    int ok = x8_response_status(r) == 200;
    x8_response_free(r);
    x8_client_free(client);
    return ok ? 0 : 1;
}
