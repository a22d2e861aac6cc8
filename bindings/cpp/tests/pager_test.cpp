// x8/pager.hpp against the emulator: every paging style read to its last page as an input range, errors
// mid-listing, page items, and the presigned fetch that carries no Authorization header.
#include <x8/pager.hpp>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace x8test {
namespace {

using PagerTest = EmulatorTest;

/// The items of every page of a listing, joined into one JSON array, and how many pages it had.
struct Listing {
    std::string items;
    std::size_t pages = 0;
    x8::PageStyle style = x8::PageStyle::Auto;
};

Listing read_all(const x8::Client& c, const std::string& path, const std::vector<x8::Header>& headers,
                 x8::PageStyle style) {
    Listing out;
    std::string joined;
    x8::Pages listing = x8::pages(c, "GET", path, headers, {}, style);
    for (const x8::Response& page : listing) {
        EXPECT_EQ(page.status(), 200) << path << ": " << page.body();
        std::size_t n = 0;
        const std::string items = x8::page_items(page, &n);
        if (n > 0) {
            if (!joined.empty()) joined += ",";
            joined += items.substr(1, items.size() - 2);
        }
        ++out.pages;
    }
    out.items = "[" + joined + "]";
    out.style = listing.style();
    return out;
}

std::string json_field(std::string_view body, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos) return {};
    std::size_t start = at + key.size();
    const bool quoted = body[start] == '"';
    if (quoted) ++start;
    const std::size_t end = body.find_first_of(quoted ? "\"" : ",}", start);
    return std::string(body.substr(start, end - start));
}

TEST_F(PagerTest, EveryPagingStyleIsReadToItsLastPage) {
    emulator().admin_post("config", R"({"report_delay_ms":0})");
    const x8::Client c = client();
    const std::string hist = "/eu/analytics/cc/v8/historical-metrics";
    const std::string summary =
        json_field(c.request("POST", hist + "/", {{"Content-Type", "application/json"}},
                             R"({"type":"queue","title":"cpp","granularity":"day"})")
                       .body(),
                   "id");
    const std::string detailed =
        json_field(c.request("POST", hist + "/detailed-reports", {{"Content-Type", "application/json"}},
                             R"({"type":"interaction-details","title":"cpp"})")
                       .body(),
                   "id");
    ASSERT_FALSE(summary.empty());
    ASSERT_FALSE(detailed.empty());
    const std::vector<x8::Header> pbx = {{"pbx", "demo-pbx"}};
    struct Case {
        std::string small, big;
        std::vector<x8::Header> headers;
        x8::PageStyle style, want;
        std::size_t pages;
    };
    const std::vector<Case> cases = {
        {std::string(kQueues) + "?size=2", std::string(kQueues) + "?size=1000", {}, x8::PageStyle::Auto,
         x8::PageStyle::PageHeaders, 4},
        {hist + "/" + summary + "/data?size=10", hist + "/" + summary + "/data?size=1000", {}, x8::PageStyle::Auto,
         x8::PageStyle::PageHeaders, 3},
        {hist + "/detailed-reports/" + detailed + "/data?size=10", hist + "/detailed-reports/" + detailed + "/data?size=1000",
         {}, x8::PageStyle::HeaderCursor, x8::PageStyle::HeaderCursor, 3},
        {"/storage/us-west/v3/objects?limit=3", "/storage/us-west/v3/objects?limit=100", {}, x8::PageStyle::Auto,
         x8::PageStyle::BodyOffset, 4},
        {"/qm/uk/v1/interactions?size=5", "/qm/uk/v1/interactions?size=100", pbx, x8::PageStyle::Auto,
         x8::PageStyle::BodyLinks, 3},
        {"/vcc/eu/chat/v2/tenant/tenant01/conversations?size=20", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=100",
         {}, x8::PageStyle::Auto, x8::PageStyle::PageObject, 3},
    };
    for (const Case& k : cases) {
        const Listing paged = read_all(c, k.small, k.headers, k.style);
        const Listing whole = read_all(c, k.big, k.headers, k.style);
        EXPECT_EQ(paged.pages, k.pages) << k.small;
        EXPECT_EQ(whole.pages, 1u) << k.big;
        EXPECT_EQ(paged.style, k.want) << k.small;
        EXPECT_GT(whole.items.size(), 2u) << k.big;
        EXPECT_EQ(paged.items, whole.items) << k.small;
    }
}

TEST_F(PagerTest, AnEmptyFirstPageIsTheWholeListing) {
    const Listing l = read_all(client(), "/storage/us-west/v3/objects?filter=type==none-of-these&limit=5", {},
                               x8::PageStyle::Auto);
    EXPECT_EQ(l.pages, 1u);
    EXPECT_EQ(l.items, "[]");
    EXPECT_EQ(l.style, x8::PageStyle::BodyOffset);
}

TEST_F(PagerTest, AFailedPageIsAskedForAgainByRangingOnceMore) {
    const x8::Client c = client();
    x8::Pages listing = x8::pages(c, "GET", std::string(kQueues) + "?size=2");
    emulator().admin_post("faults", R"({"target":"api","kind":"close","count":2,"match":{"query":{"page":"1"}}})");
    std::size_t pages = 0, failures = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        try {
            for (const x8::Response& page : listing) {
                EXPECT_EQ(page.status(), 200);
                ++pages;
            }
            break;
        } catch (const x8::Error& e) {
            EXPECT_TRUE(e.code() == X8_STATUS_TRANSPORT || e.code() == X8_STATUS_PROTOCOL) << e.what();
            ++failures;
        }
    }
    EXPECT_GE(failures, 1u);
    EXPECT_EQ(pages, 4u);  // no page lost or read twice
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
}

TEST_F(PagerTest, ARevokedTokenMidListingIsRenewed) {
    const x8::Client c = client();
    std::size_t pages = 0;
    for (const x8::Response& page : x8::pages(c, "GET", std::string(kQueues) + "?size=2")) {
        EXPECT_EQ(page.status(), 200);
        if (++pages == 1) emulator().admin_post("revoke");
    }
    EXPECT_EQ(pages, 4u);
    EXPECT_EQ(emulator().stat("token_requests"), 2u);
}

TEST_F(PagerTest, AnErrorStatusEndsTheListingAndBadArgumentsThrow) {
    const x8::Client c = client();
    std::size_t pages = 0;
    for (const x8::Response& page : x8::pages(c, "GET", "/qm/uk/v1/interactions?size=5")) {
        EXPECT_EQ(page.status(), 400);  // no pbx header
        const auto e = error_of([&] { x8::page_items(page); });
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(e->code(), X8_STATUS_PROTOCOL);
        ++pages;
    }
    EXPECT_EQ(pages, 1u);
    const auto bad = error_of([&] { x8::pages(c, "GET", kQueues, {}, {}, static_cast<x8::PageStyle>(42)); });
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->code(), X8_STATUS_INVALID_ARGUMENT);
    x8::Pages limited = x8::pages(c, "GET", std::string(kQueues) + "?size=2", {}, {}, x8::PageStyle::Auto,
                                  std::chrono::milliseconds(0), 1);
    const auto stopped = error_of([&] {
        for (const x8::Response& page : limited) (void)page;
    });
    ASSERT_TRUE(stopped.has_value());
    EXPECT_EQ(stopped->code(), X8_STATUS_PROTOCOL);
}

TEST_F(PagerTest, APresignedDownloadCarriesNoAuthorization) {
    const x8::Client c = client();
    const std::string id = json_field(c.get("/storage/us-west/v3/objects?limit=1").body(), "id");
    ASSERT_FALSE(id.empty());
    const x8::Response direct = c.get("/storage/us-west/v3/objects/" + id + "/content");
    const std::string url =
        json_field(c.get("/storage/us-west/v3/objects/" + id + "/content?presignUrl=true").body(), "presignedUrl");
    ASSERT_TRUE(contains(url, "X-Amz-Signature="));
    const auto refused = error_of([&] { c.get(url); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code(), X8_STATUS_INVALID_ARGUMENT);

    emulator().admin_post("reset");
    const x8::Response got = x8::fetch_url(c, "GET", url);
    EXPECT_EQ(got.status(), 200);
    EXPECT_EQ(got.body(), direct.body());
    const HttpReply seen = http_request(emulator().url(), "GET", "/_emulator/presigned-requests");
    ASSERT_EQ(seen.status, 200);
    EXPECT_TRUE(contains(seen.body, "\"headers\":{"));
    std::string lower = seen.body;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_FALSE(contains(lower, "authorization")) << seen.body;
    EXPECT_EQ(emulator().stat("presigned_requests"), 1u);
    EXPECT_EQ(emulator().stat("token_requests"), 0u);

    std::ostringstream streamed;
    const x8::Response to = x8::fetch_url_to(c, url, streamed);
    EXPECT_EQ(to.status(), 200);
    EXPECT_TRUE(to.body().empty());
    EXPECT_EQ(streamed.str(), got.body());

    const auto with_auth = error_of([&] { x8::fetch_url(c, "GET", url, {{"Authorization", "Bearer x"}}); });
    ASSERT_TRUE(with_auth.has_value());
    EXPECT_EQ(with_auth->code(), X8_STATUS_INVALID_ARGUMENT);
    const std::string query = url.substr(url.find('?') + 1);
    const auto dead = error_of([&] { x8::fetch_url(c, "GET", "http://127.0.0.1:1/content?" + query); });
    ASSERT_TRUE(dead.has_value());
    EXPECT_EQ(dead->code(), X8_STATUS_TRANSPORT);
    EXPECT_FALSE(contains(dead->what(), "X-Amz-Signature")) << dead->what();
}

/// Runs an example program against the emulator and returns its stdout (the test fails on a non-zero exit).
std::string run_example(const char* path, const std::string& base_url) {
    const std::string command = std::string("X8_CLIENT_ID=") + kClientId + " X8_CLIENT_SECRET=" + kSecret +
                                " X8_BASE_URL=" + base_url + " " + path + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "popen " << path;
        return {};
    }
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    EXPECT_EQ(status, 0) << path << ":\n" << out;
    return out;
}

TEST_F(PagerTest, TheStorageAndRealtimeExamplesRun) {
    const std::string realtime = run_example(X8_REALTIME_PAGES_PATH, emulator().url());
    EXPECT_TRUE(contains(realtime, "7 queues in 3 pages")) << realtime;
    const std::string storage = run_example(X8_STORAGE_DOWNLOAD_PATH, emulator().url());
    EXPECT_TRUE(contains(storage, "without Authorization")) << storage;
    EXPECT_EQ(emulator().stat("presigned_requests"), 1u);
    EXPECT_FALSE(contains(storage, kSecret));
}

}  // namespace
}  // namespace x8test
