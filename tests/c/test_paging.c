/* The C pager and the token-less fetch against the emulator: every paging style of 8x8's APIs read to its
 * last page (x8_pager_new/next/free, x8_page_items), an empty first page, a page that fails once and is asked
 * for again, a token revoked in the middle, an error status ending a listing, the page limit; and a presigned
 * Storage download that carries no Authorization header (the emulator's second origin records every header). */
#define _GNU_SOURCE
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>

#define REALTIME "/analytics/cc/v5/realtime-metrics/queues"
#define HISTORICAL "/eu/analytics/cc/v8/historical-metrics"
#define STORAGE "/storage/us-west/v3"
#define QM "/qm/uk/v1"
#define VCC "/vcc/eu/chat/v2/tenant/tenant01"

/* Appends the items of `page` (a JSON array's text) to `*all` (the items so far, joined, without brackets). */
static size_t append_items(char **all, const x8_response *page) {
    char *json = NULL;
    size_t count = 0;
    x8_error *err = NULL;
    x8_status st = x8_page_items(page, &json, &count, &err);
    if (st != X8_STATUS_OK) fprintf(stderr, "x8_page_items: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    assert_null(err);
    size_t len = strlen(json);
    assert_true(len >= 2 && json[0] == '[' && json[len - 1] == ']');
    if (count > 0) {
        size_t have = *all ? strlen(*all) : 0;
        *all = realloc(*all, have + len + 1);
        assert_non_null(*all);
        if (have) (*all)[have++] = ',';
        memcpy(*all + have, json + 1, len - 2);
        (*all)[have + len - 2] = '\0';
    }
    x8_free(json);
    return count;
}

/* Reads every page of `path` in `style` and returns the items of all pages joined (malloc'd, "" when none);
 * `*pages` receives the number of pages, `*detected` the pager's style at the end. */
static char *list_all(x8_client *c, const char *path, const char *header, uint32_t style, size_t *pages,
                      uint32_t *detected) {
    const char *headers[] = {header};
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header ? 1 : 0};
    x8_pager *pager = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_pager_new(c, "GET", path, &opts, style, 0, &pager, &err), X8_STATUS_OK);
    assert_null(err);
    char *all = NULL;
    *pages = 0;
    x8_response *page = NULL;
    x8_status st;
    while ((st = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) {
        if (x8_response_status(page) != 200)
            fprintf(stderr, "%s: HTTP %u %s\n", path, x8_response_status(page),
                    (const char *)x8_response_body(page, NULL));
        assert_int_equal(x8_response_status(page), 200);
        append_items(&all, page);
        (*pages)++;
        x8_response_free(page);
    }
    if (st != X8_STATUS_OK) fprintf(stderr, "x8_pager_next: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    /* Done stays done. */
    assert_int_equal(x8_pager_next(pager, &page, &err), X8_STATUS_OK);
    assert_null(page);
    if (detected) *detected = x8_pager_style(pager);
    x8_pager_free(pager);
    return all ? all : strdup("");
}

/* The listing read in small pages gives exactly the items of the same listing read in one big page: none lost,
 * none read twice, in order. */
static void expect_same_items_as_one_page(x8_client *c, const char *small, const char *big, const char *header,
                                          uint32_t style, uint32_t expected_style, size_t expected_pages) {
    size_t pages = 0, one = 0;
    uint32_t detected = 0;
    char *paged = list_all(c, small, header, style, &pages, &detected);
    char *whole = list_all(c, big, header, style, &one, NULL);
    assert_int_equal(one, 1);
    assert_int_equal(pages, expected_pages);
    assert_int_equal(detected, expected_style);
    assert_true(strlen(whole) > 0);
    assert_string_equal(paged, whole);
    free(paged);
    free(whole);
}

static void realtime_pages_by_headers_to_the_last(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    /* The emulator's 7 queues, 2 a page: 4 pages, the style detected from X-Total-Pages. */
    expect_same_items_as_one_page(c, REALTIME "?size=2", REALTIME "?size=1000", NULL, X8_PAGE_STYLE_AUTO,
                                  X8_PAGE_STYLE_PAGE_HEADERS, 4);
    expect_same_items_as_one_page(c, REALTIME "?size=3", REALTIME "?size=1000", NULL, X8_PAGE_STYLE_PAGE_HEADERS,
                                  X8_PAGE_STYLE_PAGE_HEADERS, 3);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);
    x8_client_free(c);
}

/* Creates a report (POST to `create`) and returns its id; the emulator answers DONE at once (report_delay_ms 0,
 * set by the group setup; the examples poll with a backoff). */
static long create_report(x8_client *c, const char *create, const char *body) {
    const char *headers[] = {"Content-Type: application/json"};
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = 1,
                            .body = (const uint8_t *)body, .body_len = strlen(body)};
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "POST", create, &opts, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    const char *id = strstr((const char *)x8_response_body(r, NULL), "\"id\":");
    assert_non_null(id);
    long n = strtol(id + 5, NULL, 10);
    x8_response_free(r);
    return n;
}

static void historical_summary_by_headers_and_detailed_by_cursor(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char small[256], big[256];
    long id = create_report(c, HISTORICAL "/", "{\"type\":\"queue\",\"title\":\"c\",\"granularity\":\"day\"}");
    char status[128];
    snprintf(status, sizeof status, HISTORICAL "/%ld/status", id);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", status, NULL, &r, NULL), X8_STATUS_OK);
    assert_non_null(strstr((const char *)x8_response_body(r, NULL), "DONE"));
    x8_response_free(r);
    /* 25 rows, 10 a page. */
    snprintf(small, sizeof small, HISTORICAL "/%ld/data?size=10", id);
    snprintf(big, sizeof big, HISTORICAL "/%ld/data?size=1000", id);
    expect_same_items_as_one_page(c, small, big, NULL, X8_PAGE_STYLE_AUTO, X8_PAGE_STYLE_PAGE_HEADERS, 3);

    long detailed = create_report(c, HISTORICAL "/detailed-reports", "{\"type\":\"interaction-details\",\"title\":\"d\"}");
    snprintf(small, sizeof small, HISTORICAL "/detailed-reports/%ld/data?size=10", detailed);
    snprintf(big, sizeof big, HISTORICAL "/detailed-reports/%ld/data?size=1000", detailed);
    expect_same_items_as_one_page(c, small, big, NULL, X8_PAGE_STYLE_HEADER_CURSOR, X8_PAGE_STYLE_HEADER_CURSOR, 3);
    x8_client_free(c);
}

static void storage_pages_by_body_offset_until_last_page(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    /* 12 samples in us-west, every 8th REVOKED: 10 AVAILABLE, 3 a page. */
    expect_same_items_as_one_page(c, STORAGE "/objects?limit=3", STORAGE "/objects?limit=100", NULL,
                                  X8_PAGE_STYLE_AUTO, X8_PAGE_STYLE_BODY_OFFSET, 4);
    /* The spec's form (an array of one page object) pages the same way. */
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"api_forms\":\"spec\"}", NULL, 0), 200);
    expect_same_items_as_one_page(c, STORAGE "/objects?limit=3", STORAGE "/objects?limit=100", NULL,
                                  X8_PAGE_STYLE_BODY_OFFSET, X8_PAGE_STYLE_BODY_OFFSET, 4);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"api_forms\":\"guide\"}", NULL, 0), 200);
    x8_client_free(c);
}

static void qm_follows_next_url_links(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    /* 12 interactions, 5 a page; QM wants its pbx header on every page. */
    expect_same_items_as_one_page(c, QM "/interactions?size=5", QM "/interactions?size=100", "pbx: demo-pbx",
                                  X8_PAGE_STYLE_AUTO, X8_PAGE_STYLE_BODY_LINKS, 3);
    x8_client_free(c);
}

static void vcc_counts_its_page_object(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    /* 45 conversations, 20 a page. */
    expect_same_items_as_one_page(c, VCC "/conversations?size=20", VCC "/conversations?size=100", NULL,
                                  X8_PAGE_STYLE_AUTO, X8_PAGE_STYLE_PAGE_OBJECT, 3);
    x8_client_free(c);
}

static void an_empty_first_page_is_the_whole_listing(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    size_t pages = 0;
    uint32_t style = 0;
    char *items = list_all(c, STORAGE "/objects?filter=type==nothing-of-this-type&limit=5", NULL, X8_PAGE_STYLE_AUTO,
                           &pages, &style);
    assert_int_equal(pages, 1);
    assert_string_equal(items, "");
    assert_int_equal(style, X8_PAGE_STYLE_BODY_OFFSET);
    free(items);
    x8_client_free(c);
}

/* One page fails on the network; the pager stays on it, so the next call reads it, and the listing is whole. */
static void a_page_that_fails_once_is_asked_for_again(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    size_t n = 0;
    char *whole = list_all(c, VCC "/conversations?size=100", NULL, X8_PAGE_STYLE_AUTO, &n, NULL);
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", VCC "/conversations?size=20", NULL, X8_PAGE_STYLE_PAGE_OBJECT, 0,
                                  &pager, NULL),
                     X8_STATUS_OK);
    /* Page 1 (the second) answers with a dropped connection, twice in a row: more than the transport's own
     * resend of an idempotent request on a fresh connection absorbs, so the caller sees the error. */
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults",
                                    "{\"target\":\"api\",\"kind\":\"close\",\"count\":2,"
                                    "\"match\":{\"path_contains\":\"/conversations\",\"query\":{\"page\":\"1\"}}}",
                                    NULL, 0),
                     200);
    char *all = NULL;
    x8_response *page = NULL;
    x8_error *err = NULL;
    int failures = 0, pages = 0;
    for (;;) {
        x8_status st = x8_pager_next(pager, &page, &err);
        if (st != X8_STATUS_OK) {
            assert_null(page);
            assert_true(x8_error_code(err) == X8_STATUS_TRANSPORT || x8_error_code(err) == X8_STATUS_PROTOCOL);
            x8_error_free(err);
            err = NULL;
            assert_true(++failures <= 2);
            continue;
        }
        if (!page) break;
        assert_int_equal(x8_response_status(page), 200);
        append_items(&all, page);
        pages++;
        x8_response_free(page);
    }
    assert_true(failures >= 1);
    assert_int_equal(pages, 3);
    assert_string_equal(all, whole);
    free(all);
    free(whole);
    x8_pager_free(pager);
    x8_client_free(c);
}

static void a_token_revoked_in_the_middle_is_renewed_and_the_listing_completes(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", REALTIME "?size=2", NULL, X8_PAGE_STYLE_AUTO, 0, &pager, NULL),
                     X8_STATUS_OK);
    x8_response *page = NULL;
    int pages = 0;
    char *all = NULL;
    size_t items = 0;
    while (x8_pager_next(pager, &page, NULL) == X8_STATUS_OK && page) {
        assert_int_equal(x8_response_status(page), 200);
        items += append_items(&all, page);
        x8_response_free(page);
        if (++pages == 1) assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/revoke", NULL, NULL, 0), 200);
    }
    assert_int_equal(pages, 4);
    assert_int_equal(items, 7);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 2);
    x8_stats stats = {.size = sizeof stats};
    assert_int_equal(x8_client_stats(c, &stats, NULL), X8_STATUS_OK);
    assert_int_equal(stats.replays_after_401, 1);
    free(all);
    x8_pager_free(pager);
    x8_client_free(c);
}

static void an_error_status_is_handed_out_and_ends_the_listing(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", QM "/interactions?size=5", NULL, X8_PAGE_STYLE_AUTO, 0, &pager, NULL),
                     X8_STATUS_OK);
    /* No pbx header: QM's 400 is the first page, and the last. */
    x8_response *page = NULL;
    assert_int_equal(x8_pager_next(pager, &page, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(page), 400);
    assert_non_null(strstr((const char *)x8_response_body(page, NULL), "MISSING_PBX_HEADER"));
    x8_error *err = NULL;
    assert_int_equal(x8_page_items(page, &(char *){NULL}, NULL, &err), X8_STATUS_PROTOCOL);
    expect_error(err, X8_STATUS_PROTOCOL);
    x8_response_free(page);
    assert_int_equal(x8_pager_next(pager, &page, NULL), X8_STATUS_OK);
    assert_null(page);
    x8_pager_free(pager);
    x8_client_free(c);
}

static void the_page_limit_stops_a_listing_with_an_error(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", REALTIME "?size=2", NULL, X8_PAGE_STYLE_AUTO, 2, &pager, NULL),
                     X8_STATUS_OK);
    x8_response *page = NULL;
    x8_error *err = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x8_pager_next(pager, &page, &err), X8_STATUS_OK);
        assert_non_null(page);
        x8_response_free(page);
    }
    assert_int_equal(x8_pager_next(pager, &page, &err), X8_STATUS_PROTOCOL);
    assert_null(page);
    assert_non_null(strstr(x8_error_message(err), "2 pages"));
    expect_error(err, X8_STATUS_PROTOCOL);
    assert_int_equal(x8_pager_next(pager, &page, NULL), X8_STATUS_OK);
    assert_null(page);
    x8_pager_free(pager);
    x8_client_free(c);
}

static void bad_pager_arguments_are_refused(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_pager *pager = (x8_pager *)c; /* overwritten with NULL on failure */
    x8_error *err = NULL;
    assert_int_equal(x8_pager_new(c, "GET", REALTIME, NULL, 77, 0, &pager, &err), X8_STATUS_INVALID_ARGUMENT);
    assert_null(pager);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_pager_new(NULL, "GET", REALTIME, NULL, 0, 0, &pager, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_pager_new(c, NULL, REALTIME, NULL, 0, 0, &pager, NULL), X8_STATUS_INVALID_ARGUMENT);
    x8_request_opts unsized = {0};
    assert_int_equal(x8_pager_new(c, "GET", REALTIME, &unsized, 0, 0, &pager, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_pager_new(c, "GET", REALTIME, NULL, 0, 0, NULL, NULL), X8_STATUS_INVALID_ARGUMENT);
    x8_response *page = NULL;
    assert_int_equal(x8_pager_next(NULL, &page, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_pager_style(NULL), X8_PAGE_STYLE_AUTO);
    assert_int_equal(x8_page_items(NULL, &(char *){NULL}, NULL, NULL), X8_STATUS_INVALID_ARGUMENT);
    x8_pager_free(NULL);
    /* A method with CR/LF is refused when the page is sent, as x8_request refuses it. */
    assert_int_equal(x8_pager_new(c, "GET\r\nX: y", REALTIME, NULL, 0, 0, &pager, NULL), X8_STATUS_OK);
    assert_int_equal(x8_pager_next(pager, &page, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    x8_pager_free(pager);
    assert_int_equal(x8_pager_set_timeout(NULL, 5, NULL), X8_STATUS_INVALID_ARGUMENT);
    /* A pager abandoned mid-listing frees cleanly; a page timeout set between pages applies to the next. */
    assert_int_equal(x8_pager_new(c, "GET", REALTIME "?size=1", NULL, 0, 0, &pager, NULL), X8_STATUS_OK);
    assert_int_equal(x8_pager_next(pager, &page, NULL), X8_STATUS_OK);
    x8_response_free(page);
    assert_int_equal(x8_pager_set_timeout(pager, 50, NULL), X8_STATUS_OK);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults",
                                    "{\"target\":\"api\",\"kind\":\"delay\",\"ms\":2000}", NULL, 0),
                     200);
    assert_int_equal(x8_pager_next(pager, &page, &err), X8_STATUS_TIMEOUT);
    expect_error(err, X8_STATUS_TIMEOUT);
    assert_int_equal(x8_pager_set_timeout(pager, 0, NULL), X8_STATUS_OK);
    x8_pager_free(pager);
    x8_client_free(c);
}

/* The presigned URL from a Storage reply {"presignedUrl":"..."}, copied into `url`. */
static void presigned_url(x8_client *c, const char *object_id, char *url, size_t url_len) {
    char path[256];
    snprintf(path, sizeof path, STORAGE "/objects/%s/content?presignUrl=true", object_id);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", path, NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    const char *at = strstr((const char *)x8_response_body(r, NULL), "\"presignedUrl\":\"");
    assert_non_null(at);
    at += strlen("\"presignedUrl\":\"");
    size_t n = strcspn(at, "\"");
    assert_true(n < url_len);
    memcpy(url, at, n);
    url[n] = '\0';
    x8_response_free(r);
}

static void a_presigned_download_carries_no_authorization(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char id[64] = "", body[512];
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/storage/objects",
                                    "{\"region\":\"us-west\",\"type\":\"callrecording\",\"bytes\":300000}", body,
                                    sizeof body),
                     200);
    const char *at = strstr(body, "\"id\":\"");
    assert_non_null(at);
    sscanf(at + 6, "%63[^\"]", id);

    char direct_path[256];
    snprintf(direct_path, sizeof direct_path, STORAGE "/objects/%s/content", id);
    x8_response *direct = NULL;
    assert_int_equal(x8_request(c, "GET", direct_path, NULL, &direct, NULL), X8_STATUS_OK);
    size_t direct_len = 0;
    const uint8_t *direct_body = x8_response_body(direct, &direct_len);
    assert_int_equal(direct_len, 300000);

    char url[2048];
    presigned_url(c, id, url, sizeof url);
    assert_non_null(strstr(url, "X-Amz-Signature="));
    /* x8_request never sends the token to another origin. */
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", url, NULL, &r, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);

    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/reset", NULL, NULL, 0), 200);
    x8_response *fetched = NULL;
    assert_int_equal(x8_fetch_url(c, "GET", url, NULL, &fetched, &err), X8_STATUS_OK);
    assert_null(err);
    assert_int_equal(x8_response_status(fetched), 200);
    size_t len = 0;
    const uint8_t *bytes = x8_response_body(fetched, &len);
    assert_int_equal(len, direct_len);
    assert_memory_equal(bytes, direct_body, len);
    x8_response_free(fetched);
    x8_response_free(direct);

    char seen[8192];
    assert_int_equal(emulator_admin(&emu, "GET", "/_emulator/presigned-requests", NULL, seen, sizeof seen), 200);
    assert_non_null(strstr(seen, "\"headers\":{"));
    assert_non_null(strstr(seen, "/content/EPS/"));
    assert_null(strcasestr(seen, "authorization"));
    assert_null(strstr(seen, "Bearer"));
    assert_int_equal(emulator_stat(&emu, "presigned_requests"), 1);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 0);

    /* Other methods, a body and an Authorization header are refused before anything is sent. */
    assert_int_equal(x8_fetch_url(c, "POST", url, NULL, &fetched, &err), X8_STATUS_INVALID_ARGUMENT);
    assert_null(fetched);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    const char *auth[] = {"Authorization: Bearer sneaky"};
    x8_request_opts with_auth = {.size = sizeof with_auth, .headers = auth, .header_count = 1};
    assert_int_equal(x8_fetch_url(c, "GET", url, &with_auth, &fetched, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    x8_request_opts with_body = {.size = sizeof with_body, .body = (const uint8_t *)"x", .body_len = 1};
    assert_int_equal(x8_fetch_url(c, "GET", url, &with_body, &fetched, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_fetch_url(c, "GET", "http://example.com/o?X-Amz-Signature=s3cr3t", NULL, &fetched, &err),
                     X8_STATUS_INVALID_ARGUMENT);
    assert_null(strstr(x8_error_message(err), "s3cr3t"));
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(emulator_stat(&emu, "presigned_requests"), 1);

    /* A failure names the URL without its query: the signature is a credential. */
    const char *query = strchr(url, '?');
    char dead[2200];
    snprintf(dead, sizeof dead, "http://127.0.0.1:1/content/EPS/%s%s", id, query);
    assert_int_equal(x8_fetch_url(c, "GET", dead, NULL, &fetched, &err), X8_STATUS_TRANSPORT);
    assert_null(strstr(x8_error_message(err), query + 1));
    assert_null(strstr(x8_error_message(err), "X-Amz-Signature"));
    expect_error(err, X8_STATUS_TRANSPORT);
    x8_client_free(c);
}

static int setup_group(void **state) {
    if (start_emulator(state) != 0) return -1;
    return emulator_admin(&emu, "POST", "/_emulator/config", "{\"report_delay_ms\":0}", NULL, 0) == 200 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(realtime_pages_by_headers_to_the_last, reset_emulator),
        cmocka_unit_test_setup(historical_summary_by_headers_and_detailed_by_cursor, reset_emulator),
        cmocka_unit_test_setup(storage_pages_by_body_offset_until_last_page, reset_emulator),
        cmocka_unit_test_setup(qm_follows_next_url_links, reset_emulator),
        cmocka_unit_test_setup(vcc_counts_its_page_object, reset_emulator),
        cmocka_unit_test_setup(an_empty_first_page_is_the_whole_listing, reset_emulator),
        cmocka_unit_test_setup(a_page_that_fails_once_is_asked_for_again, reset_emulator),
        cmocka_unit_test_setup(a_token_revoked_in_the_middle_is_renewed_and_the_listing_completes, reset_emulator),
        cmocka_unit_test_setup(an_error_status_is_handed_out_and_ends_the_listing, reset_emulator),
        cmocka_unit_test_setup(the_page_limit_stops_a_listing_with_an_error, reset_emulator),
        cmocka_unit_test_setup(bad_pager_arguments_are_refused, reset_emulator),
        cmocka_unit_test_setup(a_presigned_download_carries_no_authorization, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C pager and presigned fetch", tests, setup_group, stop_emulator);
}
