// x8 from C++: a token and one realtime-metrics call.
//
//   X8_CLIENT_ID=... X8_CLIENT_SECRET=... ./x8_quickstart
//
// X8_BASE_URL (optional) points it elsewhere than https://api.8x8.com, e.g. at the emulator
// (x8-emulator prints its URL) or at a regional base such as https://api.8x8.com/eu.
#include <x8/x8.hpp>

#include <chrono>
#include <iostream>

int main() {
    try {
        const x8::Client client = x8::Client::from_env();

        // The token itself is a secret: show what it is, not what it says.
        const x8::Token token = client.token_info();
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(token.expires_at() -
                                                                           std::chrono::system_clock::now());
        std::cout << "token: " << token.value().size() << " characters, type " << token.type() << ", expires in "
                  << left.count() << " s, products:";
        for (const std::string_view product : token.products()) {
            std::cout << " [" << product << ']';
        }
        std::cout << '\n';

        // The cached token is reused here; a request never fetches one it does not need.
        const x8::Response r = client.get("/analytics/cc/v5/realtime-metrics/queues?page=0&size=100");
        std::cout << "GET queues: HTTP " << r.status() << ", " << r.header("X-Total-Elements").value_or("?")
                  << " queues\n"
                  << r.body() << '\n';
        std::cout << "stats: " << client.stats_json() << '\n';
        return r.status() == 200 ? 0 : 1;
    } catch (const x8::Error& e) {
        std::cerr << "x8 error " << e.code_name();
        if (e.http_status() != 0) {
            std::cerr << " (HTTP " << e.http_status() << ')';
        }
        std::cerr << ": " << e.what() << '\n';
        return 1;
    }
}
