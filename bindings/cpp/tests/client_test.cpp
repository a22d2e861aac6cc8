// The happy paths against the emulator: token caching, requests, headers, 401 replay, threads, token snapshots.
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

#include "support.hpp"

extern char** environ;

namespace x8test {
namespace {

using ClientTest = EmulatorTest;

TEST_F(ClientTest, ManyTokenCallsFetchOnce) {
    const x8::Client c = client();
    const std::string first = c.token();
    ASSERT_FALSE(first.empty());
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(c.token(), first);
    }
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
    const x8::Stats stats = c.stats();
    EXPECT_EQ(stats.token_fetches, 1u);
    EXPECT_GE(stats.cache_hits, 100u);
    EXPECT_GT(stats.token_seconds_left, 0);
}

TEST_F(ClientTest, QueuesRequestReturnsPageWithPagingHeaders) {
    const x8::Client c = client();
    const x8::Response r = c.get(std::string(kQueues) + "?page=1&size=2");
    ASSERT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("X-Page"), "1");
    EXPECT_EQ(r.header("X-Page-Size"), "2");
    EXPECT_EQ(r.header("X-Total-Pages"), "4");  // the emulator serves 7 queues by default
    EXPECT_EQ(r.header("X-Total-Elements"), "7");
    ASSERT_FALSE(r.body().empty());
    EXPECT_EQ(r.body().front(), '[');
    EXPECT_TRUE(contains(r.body(), "\"metrics\""));
    EXPECT_EQ(emulator().stat("api_requests"), 1u);
    EXPECT_EQ(c.stats().requests, 1u);
}

TEST_F(ClientTest, HeaderLookupIgnoresCase) {
    const x8::Response r = client().get(kQueues);
    ASSERT_EQ(r.status(), 200);
    const auto exact = r.header("X-Total-Elements");
    ASSERT_TRUE(exact.has_value());
    EXPECT_EQ(r.header("x-total-elements"), exact);
    EXPECT_EQ(r.header("X-TOTAL-ELEMENTS"), exact);
    EXPECT_EQ(r.header("No-Such-Header"), std::nullopt);
    EXPECT_EQ(r.header(std::string_view("X-Page\0x", 8)), std::nullopt);

    const auto all = r.headers();
    const auto content_type = std::find_if(all.begin(), all.end(), [](const auto& h) {
        return h.first == "Content-Type" || h.first == "content-type";
    });
    ASSERT_NE(content_type, all.end());
    EXPECT_EQ(content_type->second, r.header("content-type"));
}

TEST_F(ClientTest, RequestSendsMethodHeadersBodyAndBearerToken) {
    const x8::Client c = client();
    const std::vector<x8::Header> headers = {{"X-Tenant-Info", "acme"}, {"Content-Type", "application/json"}};
    const x8::Response r = c.request("POST", "/echo/things?x=1", headers, R"({"hello":"world"})");
    ASSERT_EQ(r.status(), 200);
    const std::string_view echo = r.body();
    EXPECT_TRUE(contains(echo, R"("method":"POST")"));
    EXPECT_TRUE(contains(echo, R"("x-tenant-info":"acme")"));
    EXPECT_TRUE(contains(echo, R"(hello)"));
    // The Bearer scheme whatever token_type says ("BearerToken" for 8x8).
    EXPECT_TRUE(contains(echo, "\"authorization\":\"Bearer " + c.token() + "\""));

    const x8::Response braced = c.request("PUT", "/echo/braced", {{"X-One", "1"}, {"X-Two", "2"}});
    EXPECT_TRUE(contains(braced.body(), R"("x-two":"2")"));
}

TEST_F(ClientTest, RevokedTokenIsReplacedAndRequestReplayedOnce) {
    const x8::Client c = client();
    ASSERT_EQ(c.get(kQueues).status(), 200);
    emulator().admin_post("revoke");

    const x8::Response r = c.get(kQueues);
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(emulator().stat("token_requests"), 2u);
    EXPECT_EQ(emulator().stat("api_rejected"), 1u);
    EXPECT_EQ(c.stats().replays_after_401, 1u);
}

TEST_F(ClientTest, InvalidateFetchesANewToken) {
    const x8::Client c = client();
    const std::string before = c.token();
    c.invalidate();
    EXPECT_NE(c.token(), before);
    EXPECT_EQ(emulator().stat("token_requests"), 2u);
}

TEST_F(ClientTest, InvalidateTokenDropsOnlyTheRejectedToken) {
    const x8::Client c = client();
    const std::string before = c.token();
    EXPECT_FALSE(c.invalidate_token("not-the-current-token"));
    EXPECT_EQ(c.token(), before);
    EXPECT_TRUE(c.invalidate_token(before));
    EXPECT_NE(c.token(), before);
    EXPECT_EQ(emulator().stat("token_requests"), 2u);
}

TEST_F(ClientTest, TwoClientsShareOneTokenThroughTheCacheFile) {
    char dir[] = "/tmp/x8-cpp-cache-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string cache = std::string(dir) + "/tokens";
    {
        x8::Options first_opts = options();
        first_opts.token_cache(cache);
        const x8::Client first(kClientId, kSecret, first_opts);
        x8::Options second_opts = options();
        second_opts.token_cache(cache);
        const x8::Client second(kClientId, kSecret, second_opts);
        const std::string fetched = first.token();  // first, then second: EXPECT_EQ's order is unspecified
        EXPECT_EQ(second.token(), fetched);
        EXPECT_EQ(second.stats().store_hits, 1u);
        EXPECT_EQ(emulator().stat("tokens_issued"), 1u);
    }
    const std::string cleanup = "rm -rf '" + std::string(dir) + "'";
    EXPECT_EQ(std::system(cleanup.c_str()), 0);
}

/// The C hook through x8::Options::token_store: one record in memory, no lock.
struct MemoryStore {
    std::mutex mu;
    std::string record;
    int stores = 0;
};

extern "C" int32_t memory_load(void* ud, const char*, char* buf, size_t buf_len, size_t* record_len) {
    auto* s = static_cast<MemoryStore*>(ud);
    const std::lock_guard<std::mutex> lock(s->mu);
    if (s->record.empty()) {
        return X8_STORE_NOT_FOUND;
    }
    *record_len = s->record.size();
    if (s->record.size() > buf_len) {
        return X8_STORE_BUFFER_TOO_SMALL;
    }
    std::copy(s->record.begin(), s->record.end(), buf);
    return X8_STORE_OK;
}

extern "C" int32_t memory_store(void* ud, const char*, const char* record, int64_t) {
    auto* s = static_cast<MemoryStore*>(ud);
    const std::lock_guard<std::mutex> lock(s->mu);
    s->record = record;
    ++s->stores;
    return X8_STORE_OK;
}

TEST_F(ClientTest, TwoClientsShareOneTokenThroughTheApplicationsStore) {
    MemoryStore memory;
    x8_token_store hooks{};
    hooks.size = sizeof hooks;
    hooks.user_data = &memory;
    hooks.load = memory_load;
    hooks.store = memory_store;
    x8::Options opts = options();
    opts.token_store(hooks);
    const x8::Client first(kClientId, kSecret, opts);
    const x8::Client second(kClientId, kSecret, opts);
    const std::string fetched = first.token();  // first, then second: EXPECT_EQ's order is unspecified
    EXPECT_EQ(second.token(), fetched);
    EXPECT_EQ(memory.stores, 1);
    EXPECT_EQ(second.stats().store_hits, 1u);
    EXPECT_EQ(emulator().stat("tokens_issued"), 1u);
}

/// Runs `work` on `n` threads released at the same moment, and returns their results.
template <typename Work>
auto on_threads_at_once(int n, Work work) {
    std::promise<void> start;
    const std::shared_future<void> go = start.get_future().share();
    std::vector<std::future<decltype(work())>> futures;
    for (int i = 0; i < n; ++i) {
        futures.push_back(std::async(std::launch::async, [go, &work] {
            go.wait();
            return work();
        }));
    }
    start.set_value();
    std::vector<decltype(work())> results;
    for (auto& f : futures) {
        results.push_back(f.get());
    }
    return results;
}

constexpr int kThreads = 16;

TEST_F(ClientTest, SixteenThreadsAskingForTheTokenShareOneFetch) {
    const x8::Client c = client();
    const std::vector<std::string> tokens = on_threads_at_once(kThreads, [&c] { return c.token(); });
    EXPECT_TRUE(std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) { return t == tokens[0]; }));
    EXPECT_FALSE(tokens[0].empty());
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
    EXPECT_EQ(c.stats().token_fetches, 1u);
}

// The realistic first touch: every thread makes a request with no token cached yet.
TEST_F(ClientTest, SixteenThreadsRequestingAtOnceShareOneFetch) {
    const x8::Client c = client();
    const std::vector<int> statuses =
        on_threads_at_once(kThreads, [&c] { return static_cast<int>(c.get(kQueues).status()); });
    EXPECT_EQ(statuses, std::vector<int>(kThreads, 200));
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
    EXPECT_EQ(emulator().stat("api_requests"), static_cast<std::uint64_t>(kThreads));
    EXPECT_EQ(c.stats().token_fetches, 1u);
}

TEST_F(ClientTest, TokenInfoHasProductsTypeAndPlausibleExpiry) {
    const x8::Client c = client();
    const x8::Token t = c.token_info();
    EXPECT_EQ(t.value(), c.token());
    EXPECT_EQ(t.type(), "BearerToken");
    EXPECT_EQ(t.lifetime(), std::chrono::seconds(1799));  // the emulator's default expires_in

    const auto now = std::chrono::system_clock::now();
    EXPECT_GT(t.expires_at(), now);
    EXPECT_LE(t.expires_at(), now + t.lifetime() + std::chrono::seconds(1));

    const std::vector<std::string_view> expected = {"analytics realtime-api", "storage", "QM - API", "vcc"};
    EXPECT_EQ(t.products(), expected);
    EXPECT_TRUE(t.has_product("analytics realtime-api"));
    EXPECT_TRUE(t.has_product("ANALYTICS Realtime-API"));
    EXPECT_FALSE(t.has_product("Chat"));
    EXPECT_TRUE(c.has_product("storage"));
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
}

TEST_F(ClientTest, SnapshotOutlivesRenewalAndClient) {
    std::optional<x8::Token> kept;
    std::string renewed;
    {
        const x8::Client c = client();
        kept.emplace(c.token_info());
        c.invalidate();
        renewed = c.token();
    }
    ASSERT_TRUE(*kept);
    EXPECT_NE(kept->value(), renewed);
    EXPECT_FALSE(kept->value().empty());
}

TEST_F(ClientTest, StatsJsonHasTheCounters) {
    const x8::Client c = client();
    c.token();
    const std::string json = c.stats_json();
    EXPECT_TRUE(contains(json, "\"token_fetches\":1"));
    EXPECT_TRUE(contains(json, "\"cache_hits\""));
}

TEST_F(ClientTest, FromEnvReadsKeyAndBaseUrl) {
    ::setenv("X8_CLIENT_ID", kClientId, 1);
    ::setenv("X8_CLIENT_SECRET", kSecret, 1);
    ::setenv("X8_BASE_URL", emulator().url().c_str(), 1);
    const x8::Client c = x8::Client::from_env(x8::Options().proxy(""));
    EXPECT_EQ(c.get(kQueues).status(), 200);
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
    ::unsetenv("X8_CLIENT_ID");
    ::unsetenv("X8_CLIENT_SECRET");
    ::unsetenv("X8_BASE_URL");
}

// The example must work as documented: key and base URL from the environment, exit status 0.
TEST_F(ClientTest, QuickstartExampleRunsAgainstTheEmulator) {
    std::vector<std::string> env_strings = {std::string("X8_CLIENT_ID=") + kClientId,
                                            std::string("X8_CLIENT_SECRET=") + kSecret,
                                            "X8_BASE_URL=" + emulator().url()};
    std::vector<char*> env;
    for (std::string& s : env_strings) {
        env.push_back(s.data());
    }
    env.push_back(nullptr);
    std::string path = X8_QUICKSTART_PATH;
    char* argv[] = {path.data(), nullptr};

    pid_t pid = -1;
    ASSERT_EQ(::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, env.data()), 0) << path;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        ASSERT_EQ(errno, EINTR);
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
    EXPECT_EQ(emulator().stat("api_requests"), 1u);
}

// Issue 16: client authentication styles, token form, default headers, API retries and the rate limit.
class RfcServerTest : public EmulatorTest {
protected:
    // A secret that form encoding changes, so raw Basic is refused as "not properly encoded".
    std::vector<std::string> emulator_args() const override {
        return {"--rfc6749", "--client", "rfc-client:s3cr/t%x"};
    }
    x8::Client rfc_client(x8::ClientAuth style) const {
        x8::Options o = options();
        o.client_auth(style).token_scope("read").token_param("audience", "https://api.example");
        return x8::Client("rfc-client", "s3cr/t%x", o);
    }
};

TEST_F(RfcServerTest, EachRfcStyleGetsATokenAndRawBasicIsRefused) {
    EXPECT_FALSE(rfc_client(x8::ClientAuth::basic_rfc6749).token().empty());
    EXPECT_FALSE(rfc_client(x8::ClientAuth::post).token().empty());
    const auto e = error_of([&] { rfc_client(x8::ClientAuth::basic).token(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_AUTH);
    EXPECT_NE(std::string(e->what()).find("basic-rfc6749"), std::string::npos) << e->what();
    const HttpReply sent = http_request(emulator().url(), "GET", "/_emulator/token-requests");
    EXPECT_NE(sent.body.find("audience"), std::string::npos) << sent.body;
    EXPECT_NE(sent.body.find("\"scope\""), std::string::npos) << sent.body;
}

TEST_F(ClientTest, DefaultHeadersGoWithEveryRequestAndAuthorizationIsRefused) {
    x8::Options o = options();
    o.default_header("X-Tenant-Info", "acme-tenant");
    const x8::Client c(kClientId, kSecret, o);
    const x8::Response r = c.get("/echo/headers");
    ASSERT_EQ(r.status(), 200);
    EXPECT_NE(std::string(r.body()).find("acme-tenant"), std::string::npos) << r.body();
    const auto e = error_of([] { x8::Options().default_header("Authorization", "Bearer x"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_INVALID_ARGUMENT);
}

TEST_F(ClientTest, A429WithRetryAfterIsWaitedOutWhenApiRetriesAreOn) {
    x8::Options o = options();
    o.api_retries(2).rate_limit(100, std::chrono::seconds(1)).tls_roots(x8::TlsRoots::platform);
    const x8::Client c(kClientId, kSecret, o);
    ASSERT_EQ(c.get(kQueues).status(), 200);
    emulator().admin_post("faults", R"({"target":"api","kind":"status","status":429,"retry_after":"1"})");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(c.get(kQueues).status(), 200);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
    EXPECT_EQ(c.stats().api_retries, 1u);
    c.count_replay();
    EXPECT_EQ(c.stats().replays_after_401, 1u);
}

}  // namespace
}  // namespace x8test
