// Test scaffolding: starts x8-emulator on loopback for one test and talks to its admin endpoints over a plain
// socket (not through x8, so the counters are checked independently of the code under test).
#ifndef X8_CPP_TESTS_EMULATOR_HPP
#define X8_CPP_TESTS_EMULATOR_HPP

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace x8test {

struct HttpReply {
    int status = 0;
    std::string body;
};

/// A one-shot HTTP/1.1 exchange with Connection: close, enough for the emulator's admin endpoints.
HttpReply http_request(const std::string& base_url, const std::string& method, const std::string& path,
                       const std::string& body = "");

/// The x8-emulator named by $X8_EMULATOR, started with --port 0 --exit-on-stdin-eof and `args`. Its stdin is a
/// pipe held open for the emulator's life; its first stdout line is its base URL. The destructor closes stdin,
/// kills it and reaps it.
class Emulator {
public:
    explicit Emulator(const std::vector<std::string>& args = {});
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

    /// e.g. "http://127.0.0.1:40123"
    const std::string& url() const { return url_; }

    /// GET /_emulator/stats and return one counter ("token_requests", "api_requests", "api_rejected", ...).
    std::uint64_t stat(const std::string& name) const;
    /// POST to an admin endpoint ("revoke", "faults", ...); throws unless it answers 2xx.
    void admin_post(const std::string& endpoint, const std::string& json_body = "") const;
    /// Adds a generated Storage object of `bytes` bytes; returns its content path.
    std::string add_storage_object(std::uint64_t bytes) const;

private:
    void stop() noexcept;

    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    int stdout_fd_ = -1;
    std::string url_;
};

}  // namespace x8test

#endif
