/* Quality Management & Speech Analytics: list interactions page by page and read the first one's
 * transcription.
 *
 * QM lives at /qm/{us-west,us-east,uk,ap,ca}/v1 (no discovery endpoint: the region is where the customer is
 * provisioned) and wants a `pbx` header on every call, set here once as the client's default header. It pages
 * by HATEOAS links in the body, `links[rel=nextUrl]`: X8_PAGE_STYLE_BODY_LINKS.
 *
 * Credentials from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator); X8_QM_PBX
 * names the PBX (default "demo-pbx", the emulator's). */
#include "example_util.h"

#define QM "/qm/uk/v1"

int main(void) {
    const char *pbx = getenv("X8_QM_PBX") ? getenv("X8_QM_PBX") : "demo-pbx";
    char pbx_header[128];
    snprintf(pbx_header, sizeof pbx_header, "pbx: %s", pbx);
    const char *headers[] = {pbx_header, "Accept: application/json"};
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = 2};

    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);
    x8_pager *pager = NULL;
    if (x8_pager_new(client, "GET", QM "/interactions?size=2&interactionType=voiceInteraction", &opts,
                     X8_PAGE_STYLE_BODY_LINKS, 0, &pager, &err) != X8_STATUS_OK) {
        x8_client_free(client);
        return fail("x8_pager_new", err);
    }
    int rc = 0;
    size_t found = 0, pages = 0;
    char guid[128] = "";
    x8_response *page = NULL;
    x8_status st;
    while ((st = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) {
        char *items = NULL;
        size_t n = 0;
        if (x8_response_status(page) != 200 || x8_page_items(page, &items, &n, NULL) != X8_STATUS_OK) {
            fprintf(stderr, "interactions: HTTP %u %s\n", x8_response_status(page),
                    (const char *)x8_response_body(page, NULL));
            rc = 1;
        } else if (!guid[0] && n > 0) {
            json_field(items, "interactionGuid", guid, sizeof guid);
        }
        x8_free(items);
        found += n;
        pages++;
        x8_response_free(page);
    }
    if (st != X8_STATUS_OK) rc = fail("x8_pager_next", err);
    x8_pager_free(pager);
    printf("%zu interactions in %zu pages\n", found, pages);

    if (rc == 0 && guid[0]) {
        char path[256];
        snprintf(path, sizeof path, QM "/interactions/%s/transcriptions", guid);
        x8_response *r = NULL;
        if (x8_request(client, "GET", path, &opts, &r, &err) != X8_STATUS_OK) {
            rc = fail("transcriptions", err);
        } else {
            char *lines = NULL;
            size_t n = 0;
            char text[256] = "";
            if (x8_response_status(r) == 200 && x8_page_items(r, &lines, &n, NULL) == X8_STATUS_OK) {
                json_field(lines, "text", text, sizeof text);
                printf("%s: %zu transcription lines, the first \"%s\"\n", guid, n, text);
            } else {
                fprintf(stderr, "transcriptions: HTTP %u\n", x8_response_status(r));
                rc = 1;
            }
            x8_free(lines);
            x8_response_free(r);
        }
    }
    x8_client_free(client);
    return rc;
}
