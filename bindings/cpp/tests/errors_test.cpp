// Failures become x8::Error with the right code, HTTP status and a message that leaks nothing.
#include "support.hpp"

namespace x8test {
namespace {

using ErrorsTest = EmulatorTest;

TEST_F(ErrorsTest, BadSecretIsAuthWith401AndNoSecretInMessage) {
    const char* wrong_secret = "wrong-secret-5d8c1f";
    const x8::Client c = client(kClientId, wrong_secret);

    const auto e = error_of([&] { c.token(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_AUTH) << e->code_name() << ": " << e->what();
    EXPECT_EQ(e->http_status(), 401);
    EXPECT_FALSE(contains(e->what(), wrong_secret));
    EXPECT_FALSE(std::string_view(e->what()).empty());

    // The same failure through a request, and catchable as a plain std::runtime_error.
    EXPECT_THROW(c.get(kQueues), std::runtime_error);
    EXPECT_EQ(emulator().stat("api_requests"), 0u);
}

TEST_F(ErrorsTest, ConfigErrorsComeFromTheConstructor) {
    const auto colon = error_of([&] { x8::Client("id:with-colon", kSecret, options()); });
    ASSERT_TRUE(colon);
    EXPECT_EQ(colon->code(), X8_STATUS_CONFIG);

    const auto empty = error_of([&] { x8::Client(kClientId, "", options()); });
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->code(), X8_STATUS_CONFIG);

    // Plain http is for loopback only.
    const auto bad_url = error_of([] { x8::Client(kClientId, kSecret, x8::Options().base_url("http://example.com")); });
    ASSERT_TRUE(bad_url);
    EXPECT_EQ(bad_url->code(), X8_STATUS_CONFIG);
}

TEST_F(ErrorsTest, FromEnvWithoutKeyNamesTheMissingVariable) {
    ::unsetenv("X8_CLIENT_ID");
    ::unsetenv("X8_CLIENT_SECRET");
    const auto e = error_of([] { x8::Client::from_env(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_CONFIG);
    EXPECT_TRUE(contains(e->what(), "X8_CLIENT_ID"));
}

TEST_F(ErrorsTest, CrLfOrNulInRequestPartsIsInvalidArgument) {
    const x8::Client c = client();
    const auto expect_invalid = [&](auto&& call, const char* what) {
        const auto e = error_of(call);
        ASSERT_TRUE(e) << what;
        EXPECT_EQ(e->code(), X8_STATUS_INVALID_ARGUMENT) << what << ": " << e->what();
    };
    // Refused by x8 itself:
    expect_invalid([&] { c.get("/echo/a", {{"X-Evil", "1\r\nX-Injected: 2"}}); }, "CR/LF in a header value");
    expect_invalid([&] { c.get("/echo/a", {{"X-Evil\r\nX-Injected", "2"}}); }, "CR/LF in a header name");
    expect_invalid([&] { c.get("/echo/a\r\nX-Injected: 2"); }, "CR/LF in the path");
    expect_invalid([&] { c.request("GET\r\n", "/echo/a"); }, "CR/LF in the method");
    expect_invalid([&] { c.get("/echo/a", {{"Authorization", "Bearer mine"}}); }, "a header x8 sets itself");
    // Refused by the binding, before a C string would silently cut the text at the NUL:
    expect_invalid([&] { c.get("/echo/a", {{"X-A", std::string_view("1\0X", 3)}}); }, "NUL in a header");
    expect_invalid([&] { c.get(std::string_view("/echo/a\0/b", 10)); }, "NUL in the path");
    expect_invalid([&] { c.get("/echo/a", {{"X-A: b", "c"}}); }, "':' in a header name");
    EXPECT_EQ(emulator().stat("api_requests"), 0u);
}

TEST_F(ErrorsTest, AnotherOriginIsInvalidArgumentAndGetsNoToken) {
    const x8::Client c = client();
    const std::string other_port = "http://127.0.0.1:1/echo/a";
    for (const std::string& url : {std::string("https://example.com/echo/a"), other_port}) {
        const auto e = error_of([&] { c.get(url); });
        ASSERT_TRUE(e) << url;
        EXPECT_EQ(e->code(), X8_STATUS_INVALID_ARGUMENT) << url << ": " << e->what();
    }
    // An absolute URL on the client's own origin is fine.
    EXPECT_EQ(c.get(emulator().url() + kQueues).status(), 200);
    EXPECT_EQ(emulator().stat("api_requests"), 1u);
}

TEST_F(ErrorsTest, OptionValuesAreChecked) {
    x8::Options opts;
    const auto negative = error_of([&] { opts.timeout(std::chrono::milliseconds(-1)); });
    ASSERT_TRUE(negative);
    EXPECT_EQ(negative->code(), X8_STATUS_INVALID_ARGUMENT);

    const auto nul = error_of([&] { opts.base_url(std::string_view("http://127.0.0.1\0:1", 19)); });
    ASSERT_TRUE(nul);
    EXPECT_EQ(nul->code(), X8_STATUS_INVALID_ARGUMENT);

    const auto level = error_of([&] { opts.log(static_cast<x8::LogLevel>(9), [](x8::LogLevel, std::string_view) {}); });
    ASSERT_TRUE(level);
    EXPECT_EQ(level->code(), X8_STATUS_INVALID_ARGUMENT);
}

TEST_F(ErrorsTest, TimeoutOfOneRequestIsTimeout) {
    const x8::Client c = client();
    c.token();  // so that only the API call is slow
    emulator().admin_post("faults", R"({"target":"api","kind":"delay","ms":5000,"count":1})");
    const auto e = error_of([&] { c.get(kQueues, {}, std::chrono::milliseconds(200)); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_TIMEOUT) << e->what();
}

class NotEntitledTest : public EmulatorTest {
protected:
    std::vector<std::string> emulator_args() const override {
        return {"--client", "demo-client:demo-secret", "--client", "bare-client:bare-secret:"};
    }
};

TEST_F(NotEntitledTest, KeyWithoutProductIsNotEntitled) {
    const x8::Client bare = client("bare-client", "bare-secret");
    const x8::Token t = bare.token_info();
    EXPECT_TRUE(t.products().empty());
    EXPECT_FALSE(t.has_product("analytics realtime-api"));
    EXPECT_FALSE(bare.has_product("analytics realtime-api"));

    const auto e = error_of([&] { bare.get(kQueues); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), X8_STATUS_NOT_ENTITLED) << e->what();
    EXPECT_FALSE(contains(e->what(), "bare-secret"));

    // The entitled key on the same emulator works, so the failure is about the product.
    EXPECT_EQ(client().get(kQueues).status(), 200);
}

}  // namespace
}  // namespace x8test
