/* x8 quickstart: get a token, show its expiry and products, call the Contact Center realtime queues endpoint.
 *
 * Credentials come from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator). With
 * real credentials and no X8_BASE_URL it talks to https://api.8x8.com. */
#include <stdio.h>
#include <time.h>

#include "x8.h"

static int fail(const char *what, x8_error *err) {
    fprintf(stderr, "%s failed (%s): %s\n", what, x8_status_str(x8_error_code(err)), x8_error_message(err));
    x8_error_free(err);
    return 1;
}

int main(void) {
    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);

    x8_token *token = NULL;
    if (x8_client_token(client, 0, &token, &err) != X8_STATUS_OK) {
        x8_client_free(client);
        return fail("x8_client_token", err);
    }
    time_t expires = (time_t)(x8_token_expires_at_ms(token) / 1000);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&expires));
    printf("token expires at %s (lifetime %llu s); products:", when, (unsigned long long)x8_token_lifetime_secs(token));
    for (size_t i = 0; i < x8_token_product_count(token); i++) printf("%s %s", i ? "," : "", x8_token_product(token, i));
    printf("\n");
    x8_token_free(token);

    x8_response *response = NULL;
    if (x8_request(client, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &response, &err) !=
        X8_STATUS_OK) {
        x8_client_free(client);
        return fail("x8_request", err);
    }
    size_t len = 0;
    const uint8_t *body = x8_response_body(response, &len);
    printf("GET queues -> HTTP %u, %zu bytes\n%s\n", x8_response_status(response), len, (const char *)body);
    int status = x8_response_status(response) == 200 ? 0 : 1;
    x8_response_free(response);
    x8_client_free(client);
    return status;
}
