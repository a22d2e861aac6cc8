// x8::Cancel: a call blocked on a slow API or a slow token fetch throws X8_STATUS_CANCELLED soon after cancel()
// from another thread (well within a second, against 3 s answers); the cancelled connection is not reused; the
// fetch goes on for the other callers. Built as C++17 and, for std::stop_token, as C++20 too.
#include <chrono>
#include <future>
#include <thread>

#include "support.hpp"

namespace x8test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPrompt = std::chrono::seconds(1);

using CancelTest = EmulatorTest;

/// Polls an emulator counter (bounded) until it reaches `at_least`.
void wait_for_stat(const Emulator& emu, const std::string& name, std::uint64_t at_least) {
    const auto started = Clock::now();
    while (emu.stat(name) < at_least) {
        ASSERT_LT(Clock::now() - started, std::chrono::seconds(10)) << "waiting for " << name;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

/// Runs `call` on another thread; returns the status it threw (X8_STATUS_OK if none) and when it returned.
template <typename Call>
std::future<std::pair<x8_status, Clock::time_point>> run(Call call) {
    return std::async(std::launch::async, [call]() {
        x8_status status = X8_STATUS_OK;
        try {
            call();
        } catch (const x8::Error& e) {
            status = e.code();
        }
        return std::make_pair(status, Clock::now());
    });
}

TEST_F(CancelTest, AHandleIsIdempotentAndAMovedFromOneCancelsNothing) {
    x8::Cancel cancel;
    EXPECT_FALSE(cancel.cancelled());
    cancel.cancel();
    cancel.cancel();
    EXPECT_TRUE(cancel.cancelled());
    x8::Cancel moved = std::move(cancel);
    EXPECT_TRUE(moved.cancelled());
    EXPECT_EQ(cancel.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move): documented state
    cancel.cancel();
    EXPECT_FALSE(cancel.cancelled());
}

TEST_F(CancelTest, ACancelledHandleFailsEveryCallAtOnce) {
    const x8::Client c = client();
    x8::Cancel cancel;
    cancel.cancel();
    for (auto call : std::vector<std::function<void()>>{
             [&] { c.token(cancel); },
             [&] { c.token_info(std::chrono::milliseconds(0), cancel); },
             [&] { c.get("/echo/x", cancel); },
             [&] { c.request("POST", "/echo/x", {}, "{}", std::chrono::milliseconds(0), cancel); },
         }) {
        const auto err = error_of(call);
        ASSERT_TRUE(err.has_value());
        EXPECT_EQ(err->code(), X8_STATUS_CANCELLED);
    }
    EXPECT_EQ(emulator().stat("token_requests"), 0u);
    EXPECT_EQ(emulator().stat("api_requests"), 0u);
}

TEST_F(CancelTest, CancelStopsARequestBlockedOnASlowApiAndItsConnectionIsNotReused) {
    const x8::Client c = client();
    ASSERT_EQ(c.get("/echo/warm").status(), 200);
    const std::uint64_t warm = emulator().stat("connections");  // the token's is closed, the API's pooled
    emulator().admin_post("faults", R"({"target":"api","kind":"delay","ms":3000,"count":1})");
    x8::Cancel cancel;
    auto slow = run([&] { c.get("/echo/slow", cancel); });
    wait_for_stat(emulator(), "api_requests", 2);
    const auto cancelled_at = Clock::now();
    cancel.cancel();
    const auto [status, returned_at] = slow.get();
    EXPECT_EQ(status, X8_STATUS_CANCELLED);
    EXPECT_LT(returned_at - cancelled_at, kPrompt);
    ASSERT_EQ(c.get("/echo/after").status(), 200);
    EXPECT_EQ(emulator().stat("connections"), warm + 1);
}

TEST_F(CancelTest, CancelStopsAWaitForASlowTokenFetchWhichServesTheOthers) {
    emulator().admin_post("config", R"({"token_delay_ms":3000})");
    const x8::Client c = client();
    x8::Cancel cancel;
    auto cancelled = run([&] { c.token(cancel); });
    wait_for_stat(emulator(), "token_requests", 1);
    auto patient = std::async(std::launch::async, [&] { return std::string(c.token_info().value()); });
    const auto cancelled_at = Clock::now();
    cancel.cancel();
    const auto [status, returned_at] = cancelled.get();
    EXPECT_EQ(status, X8_STATUS_CANCELLED);
    EXPECT_LT(returned_at - cancelled_at, kPrompt);
    EXPECT_FALSE(patient.get().empty());
    EXPECT_EQ(emulator().stat("token_requests"), 1u);
}

#if defined(__cpp_lib_jthread)
TEST_F(CancelTest, AStopTokenCancelsTheCallsOfItsCancel) {
    const x8::Client c = client();
    ASSERT_EQ(c.get("/echo/warm").status(), 200);
    emulator().admin_post("faults", R"({"target":"api","kind":"delay","ms":3000,"count":1})");
    std::stop_source source;
    const x8::Cancel cancel(source.get_token());
    auto slow = run([&] { c.get("/echo/slow", cancel); });
    wait_for_stat(emulator(), "api_requests", 2);
    const auto stopped_at = Clock::now();
    source.request_stop();
    const auto [status, returned_at] = slow.get();
    EXPECT_EQ(status, X8_STATUS_CANCELLED);
    EXPECT_LT(returned_at - stopped_at, kPrompt);
    EXPECT_TRUE(cancel.cancelled());
}
#endif

}  // namespace
}  // namespace x8test
