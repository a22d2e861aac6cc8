// Shared pieces of the C++ binding's tests: the emulator fixture, the demo key, and error capture.
#ifndef X8_CPP_TESTS_SUPPORT_HPP
#define X8_CPP_TESTS_SUPPORT_HPP

#include <gtest/gtest.h>
#include <x8/x8.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator.hpp"

namespace x8test {

// The emulator's default key and its products.
inline constexpr const char* kClientId = "demo-client";
inline constexpr const char* kSecret = "demo-secret";
inline constexpr const char* kQueues = "/analytics/cc/v5/realtime-metrics/queues";

/// Starts a fresh emulator for each test; subclasses pass extra emulator arguments through emulator_args().
class EmulatorTest : public ::testing::Test {
protected:
    virtual std::vector<std::string> emulator_args() const { return {}; }

    void SetUp() override { emulator_ = std::make_unique<Emulator>(emulator_args()); }
    void TearDown() override { emulator_.reset(); }

    Emulator& emulator() { return *emulator_; }

    /// Options pointed at the emulator, with proxies off so that a CI proxy variable cannot capture loopback,
    /// and a timeout well under ctest's so that a stall fails as an x8::Error naming it.
    x8::Options options() const {
        x8::Options opts;
        opts.base_url(emulator_->url()).proxy("").timeout(std::chrono::seconds(10));
        return opts;
    }

    x8::Client client(const char* id = kClientId, const char* secret = kSecret) const {
        return x8::Client(id, secret, options());
    }

private:
    std::unique_ptr<Emulator> emulator_;
};

/// Runs `call`, which must throw x8::Error, and returns that error (nullopt, with a test failure, otherwise).
template <typename Call>
std::optional<x8::Error> error_of(Call&& call) {
    try {
        call();
    } catch (const x8::Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an x8::Error, but the call succeeded";
    return std::nullopt;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace x8test

#endif
