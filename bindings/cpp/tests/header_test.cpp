// x8.hpp first and alone: it must compile without help from other includes (this whole target is built with
// -std=c++17 -Wall -Wextra -Werror -pedantic). Also checks the version agreement and the type properties the
// ownership model promises.
#include <x8/x8.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

template <typename T>
constexpr bool move_only_v = !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> &&
                             std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T> &&
                             std::is_nothrow_destructible_v<T>;

static_assert(move_only_v<x8::Client>);
static_assert(move_only_v<x8::Response>);
static_assert(move_only_v<x8::Token>);
static_assert(move_only_v<x8::Options>);
static_assert(std::is_base_of_v<std::runtime_error, x8::Error>);

TEST(Header, VersionOfHeaderMatchesLibrary) {
    EXPECT_TRUE(x8::header_matches_library());
    EXPECT_EQ(x8::version(), X8_VERSION_STRING);
}

TEST(Header, ErrorCarriesCodeNameAndHttpStatus) {
    const x8::Error e(X8_STATUS_AUTH, "credentials refused", 401);
    EXPECT_EQ(e.code(), X8_STATUS_AUTH);
    EXPECT_STREQ(e.code_name(), "X8_STATUS_AUTH");
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_STREQ(e.what(), "credentials refused");
}

}  // namespace
