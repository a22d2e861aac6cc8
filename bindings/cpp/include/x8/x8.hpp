// x8.hpp — header-only C++17 binding of x8 (include/x8.h): 8x8 OAuth tokens, cached and renewed ahead of
// expiry, and authenticated HTTPS requests.
//
//     x8::Client client = x8::Client::from_env();          // X8_CLIENT_ID, X8_CLIENT_SECRET, X8_BASE_URL
//     x8::Response r = client.get("/analytics/cc/v5/realtime-metrics/queues");
//     std::cout << r.status() << ' ' << r.header("X-Total-Elements").value_or("?") << '\n' << r.body();
//
// Ownership: Client, Response, Token and Options each own one C handle through a std::unique_ptr whose deleter
// is the handle's x8_*_free. They are movable, not copyable. A moved-from object holds no handle: destroying it
// is a no-op, its accessors return empty values and its fallible calls throw x8::Error(X8_STATUS_INVALID_ARGUMENT).
// string_views returned by a Response or a Token borrow from its handle: valid while that object (or the object
// it was moved into) lives.
//
// Errors: every failure throws x8::Error (a std::runtime_error) with the x8_status code, the library's message
// (which never contains the secret or a token) and the HTTP status behind it (0 if no server answered).
// An HTTP error status from the API is not an exception: it is a Response with that status().
// Destructors never throw.
//
// Threads: a Client may be used from any number of threads at once (share it by reference or shared_ptr);
// Response and Token are immutable and readable from any thread; Options is built on one thread.

#ifndef X8_X8_HPP
#define X8_X8_HPP

#include <x8.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <exception>
#include <initializer_list>
#include <istream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>
#if __has_include(<version>)
#include <version>
#endif
#if defined(__cpp_lib_jthread)
#include <stop_token>
#endif

namespace x8 {

// ---------------------------------------------------------------------------------------------------------------
// Errors

/// A failed x8 call: the x8_status code, a message for people, and the HTTP status behind it (0 when none).
class Error : public std::runtime_error {
public:
    Error(x8_status code, const std::string& message, std::uint16_t http_status = 0)
        : std::runtime_error(message), code_(code), http_status_(http_status) {}

    /// The status code, never X8_STATUS_OK.
    x8_status code() const noexcept { return code_; }
    /// The status code's name, e.g. "X8_STATUS_AUTH" (static string).
    const char* code_name() const noexcept { return x8_status_str(static_cast<std::int32_t>(code_)); }
    /// The HTTP status a server answered with (e.g. 401 from the token endpoint), or 0.
    std::uint16_t http_status() const noexcept { return http_status_; }

private:
    x8_status code_;
    std::uint16_t http_status_;
};

/// The library's version, e.g. "0.1.0".
inline std::string_view version() noexcept { return x8_version(); }

/// Whether the loaded library is the version this header was compiled against.
inline bool header_matches_library() noexcept { return x8_version_num() == X8_VERSION_NUM; }

enum class LogLevel : std::int32_t {
    error = X8_LOG_ERROR,
    warn = X8_LOG_WARN,
    info = X8_LOG_INFO,
    debug = X8_LOG_DEBUG,
};

/// How the client authenticates at the token endpoint (x8_options_set_client_auth).
enum class ClientAuth : std::int32_t {
    basic = X8_CLIENT_AUTH_BASIC,                  ///< 8x8's raw Basic base64(id:secret) (default)
    basic_rfc6749 = X8_CLIENT_AUTH_BASIC_RFC6749,  ///< RFC 6749 §2.3.1: id and secret form-encoded first
    post = X8_CLIENT_AUTH_POST,                    ///< client_secret_post: both in the form body
};

/// Which roots HTTPS trusts (x8_options_set_tls_roots).
enum class TlsRoots : std::int32_t {
    platform = X8_ROOTS_PLATFORM,        ///< the platform's verifier: the OS store (default)
    compiled_in = X8_ROOTS_COMPILED_IN,  ///< Mozilla's roots built into x8
};

/// What the CA file does to the roots (x8_options_set_ca_mode).
enum class CaMode : std::int32_t {
    add = X8_CA_ADD,          ///< trusted besides the roots (default)
    replace = X8_CA_REPLACE,  ///< only its certificates are trusted
};

/// Receives x8's diagnostics. Called from any thread (also x8's background refresh thread), so it must be
/// thread-safe. Exceptions it throws are swallowed: none may unwind into the library.
using LogFunction = std::function<void(LogLevel level, std::string_view message)>;

/// One request header; both parts are borrowed for the call only.
using Header = std::pair<std::string_view, std::string_view>;

/// The counters of Client::stats(); the fields are documented on x8_stats in x8.h.
using Stats = x8_stats;

namespace detail {

struct ClientFree {
    void operator()(x8_client* p) const noexcept { x8_client_free(p); }
};
struct ResponseFree {
    void operator()(x8_response* p) const noexcept { x8_response_free(p); }
};
struct TokenFree {
    void operator()(x8_token* p) const noexcept { x8_token_free(p); }
};
struct OptionsFree {
    void operator()(x8_options* p) const noexcept { x8_options_free(p); }
};
struct ErrorFree {
    void operator()(x8_error* p) const noexcept { x8_error_free(p); }
};
struct StringFree {
    void operator()(char* p) const noexcept { x8_free(p); }
};
struct CancelFree {
    void operator()(x8_cancel* p) const noexcept { x8_cancel_free(p); }
};

/// Turns a failed status and its x8_error (owned from here on) into an x8::Error.
[[noreturn]] inline void throw_error(x8_status status, x8_error* raw) {
    const std::unique_ptr<x8_error, ErrorFree> err(raw);
    if (!err) {
        throw Error(status, x8_status_str(static_cast<std::int32_t>(status)));
    }
    throw Error(x8_error_code(err.get()), x8_error_message(err.get()), x8_error_http_status(err.get()));
}

/// Runs `c_call(&err)` — one x8 call that takes `x8_error **err` last — and throws its error, if any.
/// Why a lambda instead of check(x8_fn(..., &err), err): function arguments are unsequenced, so `err` could be
/// read before the call wrote it (GCC does exactly that), losing the error and leaking it.
template <typename CCall>
void call(CCall&& c_call) {
    x8_error* err = nullptr;
    const x8_status status = c_call(&err);
    if (status != X8_STATUS_OK) {
        throw_error(status, err);
    }
    x8_error_free(err);  // NULL on success by contract; freed anyway so nothing can leak
}

/// One streamed call's callbacks and the first exception either threw (rethrown once x8_request returns: an
/// exception must not unwind through libx8's Rust frames).
struct Stream {
    const std::function<void(const std::uint8_t*, std::size_t)>* sink = nullptr;
    const std::function<std::size_t(std::uint8_t*, std::size_t)>* source = nullptr;
    std::exception_ptr error;
};

inline int stream_write(void* user, const std::uint8_t* data, std::size_t len) noexcept {
    auto* s = static_cast<Stream*>(user);
    try {
        (*s->sink)(data, len);
        return 0;
    } catch (...) {
        s->error = std::current_exception();
        return 1;
    }
}

inline int stream_read(void* user, std::uint8_t* buf, std::size_t cap, std::size_t* len) noexcept {
    auto* s = static_cast<Stream*>(user);
    try {
        *len = (*s->source)(buf, cap);
        return 0;
    } catch (...) {
        s->error = std::current_exception();
        return 1;
    }
}

/// The head callback of every streamed download: only a 2xx body goes to the sink; any other status's body is
/// held in the Response (under max_body_bytes), so an error body never lands in the caller's file or stream.
inline int stream_2xx_only(void*, const x8_response* head) noexcept {
    const std::uint16_t status = x8_response_status(head);
    return status >= 200 && status < 300 ? X8_HEAD_STREAM : X8_HEAD_HOLD;
}

/// Throws for a streamed call's failed status: the sink's or source's own exception if it threw one (not
/// X8_STATUS_ABORTED), else the x8::Error. `err` is freed either way.
[[noreturn]] inline void throw_streamed(x8_status status, x8_error* err, const Stream* stream) {
    if (stream != nullptr && stream->error) {
        x8_error_free(err);
        std::rethrow_exception(stream->error);
    }
    throw_error(status, err);
}

inline Error invalid_argument(const std::string& message) {
    return Error(X8_STATUS_INVALID_ARGUMENT, message);
}

/// The C API takes NUL-terminated strings, so a NUL inside a string_view would silently cut it short there:
/// refuse it instead, as the library refuses CR/LF.
inline std::string c_string(std::string_view text, const char* what) {
    if (text.find('\0') != std::string_view::npos) {
        throw invalid_argument(std::string(what) + " contains a NUL byte");
    }
    return std::string(text);
}

/// "Name: value" as x8_request takes it. A ':' in the name would move the split point, so it is refused.
inline std::string header_line(const Header& header) {
    const auto [name, value] = header;
    if (name.empty() || name.find(':') != std::string_view::npos) {
        throw invalid_argument("a header name must be non-empty and contain no ':'");
    }
    std::string line = c_string(name, "a header name");
    line += ": ";
    line += c_string(value, "a header value");
    return line;
}

inline std::uint32_t to_ms(std::chrono::milliseconds ms, const char* what) {
    if (ms.count() < 0 || ms.count() > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
        throw invalid_argument(std::string(what) + " must be between 0 and 2^32-1 milliseconds");
    }
    return static_cast<std::uint32_t>(ms.count());
}

/// Overwrites our copies of a secret or a token when they go out of scope, as x8 does with its own copies;
/// through a volatile pointer so that the compiler cannot drop the stores as dead.
struct WipeOnExit {
    char* data;
    std::size_t size;
    ~WipeOnExit() {
        volatile char* v = data;
        for (std::size_t i = 0; i < size; ++i) {
            v[i] = 0;
        }
    }
};

/// Why log callbacks go through a registry instead of passing a pointer to the std::function as user_data:
/// x8_client_free returns at once while a background token renewal may still be running, and that thread logs
/// when it finishes. A pointer would then dangle. So user_data is an id; messages for an id that has been
/// removed are dropped, and remove() waits for calls already running, so once the last owner (the Options and
/// every Client built from them) is gone, the function is never called again and can be destroyed.
/// The registry is deliberately never destroyed: a background thread may log during static destruction.
class LogRegistry {
public:
    static LogRegistry& instance() {
        static LogRegistry* const registry = new LogRegistry;
        return *registry;
    }

    std::uintptr_t add(LogFunction fn) {
        const std::lock_guard<std::mutex> lock(mutex_);
        const std::uintptr_t id = next_id_++;
        entries_.emplace(id, Entry{std::move(fn), 0, false});
        return id;
    }

    /// Stops delivery to `id`, waits for running calls to return, then destroys the function. Must not be
    /// called from inside that function (it would wait for itself).
    void remove(std::uintptr_t id) noexcept {
        LogFunction doomed;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            const auto it = entries_.find(id);
            if (it == entries_.end()) {
                return;
            }
            it->second.removed = true;
            idle_.wait(lock, [&] { return it->second.running == 0; });
            doomed = std::move(it->second.fn);
            entries_.erase(it);
        }
        // `doomed` is destroyed here, outside the lock: its captures may do anything, even free another client.
    }

    void deliver(std::uintptr_t id, std::int32_t level, const char* message) noexcept {
        Entry* entry = nullptr;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            const auto it = entries_.find(id);
            if (it == entries_.end() || it->second.removed) {
                ++dropped_;
                return;
            }
            entry = &it->second;  // stable: entries are erased only when no call is running
            ++entry->running;
        }
        try {
            entry->fn(static_cast<LogLevel>(level), message != nullptr ? message : "");
        } catch (...) {
            // Nothing may unwind into the library; a failing log sink must not fail a token fetch.
        }
        const std::lock_guard<std::mutex> lock(mutex_);
        if (--entry->running == 0) {
            idle_.notify_all();
        }
    }

    /// Messages that arrived for an id already removed (they were dropped). For tests and diagnostics.
    std::uint64_t dropped() noexcept {
        const std::lock_guard<std::mutex> lock(mutex_);
        return dropped_;
    }

private:
    struct Entry {
        LogFunction fn;
        unsigned running;
        bool removed;
    };

    LogRegistry() = default;

    std::mutex mutex_;
    std::condition_variable idle_;
    std::unordered_map<std::uintptr_t, Entry> entries_;
    std::uintptr_t next_id_ = 1;
    std::uint64_t dropped_ = 0;
};

/// The x8_log_fn installed for every LogFunction; user_data is the registry id.
inline void log_trampoline(void* user_data, std::int32_t level, const char* message) noexcept {
    LogRegistry::instance().deliver(reinterpret_cast<std::uintptr_t>(user_data), level, message);
}

/// Shared by the Options that installed a log function and by every Client built from them; the last one to go
/// removes the function from the registry.
class LogSubscription {
public:
    explicit LogSubscription(LogFunction fn) : id_(LogRegistry::instance().add(std::move(fn))) {}
    ~LogSubscription() { LogRegistry::instance().remove(id_); }
    LogSubscription(const LogSubscription&) = delete;
    LogSubscription& operator=(const LogSubscription&) = delete;

    void* user_data() const noexcept { return reinterpret_cast<void*>(id_); }

private:
    std::uintptr_t id_;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------
// Options

/// Client options, all defaulted until set. Setters return *this for chaining:
///     x8::Options opts;
///     opts.base_url(url).timeout(std::chrono::seconds(5));
/// The client copies what it needs, so Options may be destroyed or reused after building clients.
class Options {
public:
    Options() : handle_(x8_options_new()) {
        if (!handle_) {
            throw std::bad_alloc();
        }
    }

    /// Base URL of the APIs (default "https://api.8x8.com"); http:// only for loopback (the emulator).
    Options& base_url(std::string_view url) { return set(x8_options_set_base_url, url, "base_url"); }
    /// Token endpoint (default: the base URL's origin + "/oauth/v2/token").
    Options& token_url(std::string_view url) { return set(x8_options_set_token_url, url, "token_url"); }
    Options& user_agent(std::string_view ua) { return set(x8_options_set_user_agent, ua, "user_agent"); }
    /// A PEM file of CA certificates to trust (HTTPS and a rediss:// store), besides the roots by default
    /// (see ca_mode).
    Options& ca_file(std::string_view path) { return set(x8_options_set_ca_file, path, "ca_file"); }
    Options& ca_mode(CaMode mode) { return set(x8_options_set_ca_mode, static_cast<std::int32_t>(mode)); }
    /// The platform's verifier (default) or the compiled-in Mozilla roots, for HTTPS and a rediss:// store.
    Options& tls_roots(TlsRoots roots) { return set(x8_options_set_tls_roots, static_cast<std::int32_t>(roots)); }
    /// The token endpoint's client authentication (default ClientAuth::basic, 8x8's).
    Options& client_auth(ClientAuth style) {
        return set(x8_options_set_client_auth, static_cast<std::int32_t>(style));
    }
    /// An OAuth scope for the token request (none by default); "" sends none.
    Options& token_scope(std::string_view scope) { return set(x8_options_set_token_scope, scope, "token_scope"); }
    /// An extra form parameter of the token request (audience, resource...).
    Options& token_param(std::string_view name, std::string_view value) {
        return set_pair(x8_options_add_token_param, name, value);
    }
    /// A header sent with every request of the client (X-Tenant-Info, pbx); a per-call header of the same name
    /// replaces it. Authorization, Host and the framing headers are refused.
    Options& default_header(std::string_view name, std::string_view value) {
        return set_pair(x8_options_add_default_header, name, value);
    }
    /// Retries of an idempotent API request answered 429/503 (default 0), after Retry-After or a backoff,
    /// within the call's timeout; POST and PATCH never.
    Options& api_retries(std::uint32_t max_retries) { return set(x8_options_set_api_retries, max_retries); }
    /// At most `requests` API requests per `interval`; callers wait their turn within their deadline. 0 removes it.
    Options& rate_limit(std::uint32_t requests, std::chrono::milliseconds interval) {
        const std::uint32_t ms = detail::to_ms(interval, "interval");
        detail::call([&](x8_error** err) { return x8_options_set_rate_limit(handle_.get(), requests, ms, err); });
        return *this;
    }
    /// "http://proxy:3128"; "" disables proxies (by default HTTPS_PROXY etc. are honoured).
    Options& proxy(std::string_view url) { return set(x8_options_set_proxy, url, "proxy"); }

    Options& connect_timeout(std::chrono::milliseconds t) {
        return set(x8_options_set_connect_timeout_ms, detail::to_ms(t, "connect_timeout"));
    }
    /// Bound on one whole call (token fetch with retries, or request with its fetch and replay).
    Options& timeout(std::chrono::milliseconds t) {
        return set(x8_options_set_timeout_ms, detail::to_ms(t, "timeout"));
    }
    /// How long before expiry the token is renewed in the background.
    Options& refresh_margin(std::chrono::milliseconds t) {
        return set(x8_options_set_refresh_margin_ms, detail::to_ms(t, "refresh_margin"));
    }
    Options& max_body_bytes(std::uint64_t bytes) { return set(x8_options_set_max_body_bytes, bytes); }
    Options& replay_on_401(bool enabled) { return set(x8_options_set_replay_on_401, enabled); }
    /// A cache file in `dir` shares the token between this host's processes (see x8_options_set_token_cache).
    /// One shared store per client: this replaces redis_store and token_store.
    Options& token_cache(std::string_view dir) { return set(x8_options_set_token_cache, dir, "token_cache"); }
    /// Redis shares the token between processes on many hosts (see x8_options_set_redis_store).
    Options& redis_store(std::string_view url) { return set(x8_options_set_redis_store, url, "redis_store"); }
    /// The application's own store, as the C callbacks of x8.h (copied; see x8_token_store for the contract
    /// its callbacks and user_data must keep).
    Options& token_store(const x8_token_store& store) {
        detail::call([&](x8_error** err) { return x8_options_set_token_store(handle_.get(), &store, err); });
        return *this;
    }

    Options& retries(std::uint32_t max_retries, std::chrono::milliseconds base_delay,
                     std::chrono::milliseconds max_delay) {
        const std::uint32_t base_ms = detail::to_ms(base_delay, "base_delay");
        const std::uint32_t max_ms = detail::to_ms(max_delay, "max_delay");
        detail::call([&](x8_error** err) {
            return x8_options_set_retries(handle_.get(), max_retries, base_ms, max_ms, err);
        });
        return *this;
    }

    /// Sends diagnostics at `max_level` or more severe to `fn`; an empty `fn` removes it. The function is kept
    /// alive by these Options and by every Client built from them, and is destroyed after the last of them,
    /// once no call to it is running; it is never called after that (not even by a background renewal that
    /// outlives its client). Do not destroy the last owner from inside `fn`.
    Options& log(LogLevel max_level, LogFunction fn) {
        std::shared_ptr<const detail::LogSubscription> subscription;
        if (fn) {
            subscription = std::make_shared<const detail::LogSubscription>(std::move(fn));
        }
        detail::call([&](x8_error** err) {
            return x8_options_set_log_callback(handle_.get(), subscription ? &detail::log_trampoline : nullptr,
                                               subscription ? subscription->user_data() : nullptr,
                                               static_cast<std::int32_t>(max_level), err);
        });
        log_ = std::move(subscription);
        return *this;
    }

    const x8_options* native_handle() const noexcept { return handle_.get(); }

private:
    friend class Client;

    template <typename Setter>
    Options& set(Setter setter, std::string_view text, const char* what) {
        const std::string c = detail::c_string(text, what);
        detail::call([&](x8_error** err) { return setter(handle_.get(), c.c_str(), err); });
        return *this;
    }

    template <typename Setter>
    Options& set_pair(Setter setter, std::string_view name, std::string_view value) {
        const std::string n = detail::c_string(name, "name");
        const std::string v = detail::c_string(value, "value");
        detail::call([&](x8_error** err) { return setter(handle_.get(), n.c_str(), v.c_str(), err); });
        return *this;
    }

    template <typename Setter, typename Value>
    Options& set(Setter setter, Value value) {
        detail::call([&](x8_error** err) { return setter(handle_.get(), value, err); });
        return *this;
    }

    std::unique_ptr<x8_options, detail::OptionsFree> handle_;
    std::shared_ptr<const detail::LogSubscription> log_;
};

// ---------------------------------------------------------------------------------------------------------------
// Response

/// An API's answer. Any HTTP status is a Response; check status().
class Response {
public:
    /// Takes ownership of a response from x8_request (NULL gives an empty Response).
    explicit Response(x8_response* handle) noexcept : handle_(handle) {}

    /// 200, 404, ...; 0 for a moved-from Response.
    std::uint16_t status() const noexcept { return x8_response_status(handle_.get()); }

    /// The first value of header `name`, compared case-insensitively; nullopt when absent.
    std::optional<std::string_view> header(std::string_view name) const {
        if (name.find('\0') != std::string_view::npos) {
            return std::nullopt;  // no header name can contain NUL
        }
        const char* value = x8_response_header(handle_.get(), std::string(name).c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string_view(value);
    }

    /// Every header line in the order received, names as the server sent them.
    std::vector<std::pair<std::string_view, std::string_view>> headers() const {
        std::vector<std::pair<std::string_view, std::string_view>> all;
        const std::size_t count = x8_response_header_count(handle_.get());
        all.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            const char* name = nullptr;
            const char* value = nullptr;
            if (x8_response_header_at(handle_.get(), i, &name, &value)) {
                all.emplace_back(name, value);
            }
        }
        return all;
    }

    /// The body's bytes (may contain NULs when the body is binary); empty for a moved-from Response.
    std::string_view body() const noexcept {
        std::size_t len = 0;
        const std::uint8_t* bytes = x8_response_body(handle_.get(), &len);
        if (bytes == nullptr) {
            return {};
        }
        return std::string_view(reinterpret_cast<const char*>(bytes), len);
    }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const x8_response* native_handle() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<x8_response, detail::ResponseFree> handle_;
};

// ---------------------------------------------------------------------------------------------------------------
// Token

/// An immutable snapshot of one token; unaffected by later renewals or by the client's destruction.
class Token {
public:
    /// Takes ownership of a snapshot from x8_client_token (NULL gives an empty Token).
    explicit Token(x8_token* handle) noexcept : handle_(handle) {}

    /// The access token. Borrowed rather than copied so that the only copy stays in x8, which wipes it.
    std::string_view value() const noexcept { return x8_token_value(handle_.get()); }
    /// The endpoint's token_type ("BearerToken" for 8x8); requests use "Bearer" regardless.
    std::string_view type() const noexcept { return x8_token_type(handle_.get()); }

    /// Expiry by the local wall clock (receipt time + expires_in).
    std::chrono::system_clock::time_point expires_at() const noexcept {
        const std::chrono::milliseconds since_epoch(x8_token_expires_at_ms(handle_.get()));
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
    }

    /// The lifetime the endpoint granted (expires_in).
    std::chrono::seconds lifetime() const noexcept {
        return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(x8_token_lifetime_secs(handle_.get())));
    }

    /// The API products the token carries, e.g. "analytics realtime-api".
    std::vector<std::string_view> products() const {
        std::vector<std::string_view> all;
        const std::size_t count = x8_token_product_count(handle_.get());
        all.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            if (const char* product = x8_token_product(handle_.get(), i)) {
                all.emplace_back(product);
            }
        }
        return all;
    }

    /// Whether the token carries `product`, ignoring ASCII case.
    bool has_product(std::string_view product) const {
        if (product.find('\0') != std::string_view::npos) {
            return false;
        }
        return x8_token_has_product(handle_.get(), std::string(product).c_str());
    }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const x8_token* native_handle() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<x8_token, detail::TokenFree> handle_;
};

// ---------------------------------------------------------------------------------------------------------------
// Client

// ---------------------------------------------------------------------------------------------------------------
// Cancellation

/// A cancellation handle (x8_cancel): pass it to Client::request, get, token or token_info, and call cancel()
/// from any thread to make those calls throw x8::Error(X8_STATUS_CANCELLED) promptly — a request blocked on the
/// network has its connection closed (never reused); a call waiting for the shared token fetch stops waiting
/// while the fetch goes on for the other callers. One Cancel may serve any number of calls at once; once
/// cancelled it stays so (every later call given it throws at once): make a new one for new work.
///
/// cancel() and cancelled() may be called from any thread while calls use it. The Cancel must outlive every call
/// it was passed to. Movable, not copyable; a moved-from Cancel holds no handle (cancel() does nothing and calls
/// given it cannot be cancelled).
///
/// Under C++20, `x8::Cancel cancel(stop_token)` also cancels when the std::stop_token is stopped (a
/// std::jthread's, a std::stop_source's) for as long as the Cancel lives.
class Cancel {
public:
    Cancel() : handle_(x8_cancel_new()) {
        if (!handle_) {
            throw Error(X8_STATUS_INTERNAL, "x8_cancel_new failed");
        }
    }

#if defined(__cpp_lib_jthread)
    explicit Cancel(std::stop_token token) : Cancel() {
        // Declared after handle_, so destroyed before it: std::stop_callback's destructor waits for a callback
        // running on another thread, and the handle it triggers is freed only after that.
        stop_ = std::make_unique<std::stop_callback<Trigger>>(std::move(token), Trigger{handle_.get()});
    }
#endif

    Cancel(Cancel&&) noexcept = default;
    Cancel& operator=(Cancel&& other) noexcept {
        if (this != &other) {
#if defined(__cpp_lib_jthread)
            stop_.reset();  // waits for a trigger in progress, before the handle it triggers is freed
#endif
            handle_ = std::move(other.handle_);
#if defined(__cpp_lib_jthread)
            stop_ = std::move(other.stop_);
#endif
        }
        return *this;
    }
    Cancel(const Cancel&) = delete;
    Cancel& operator=(const Cancel&) = delete;

    /// Cancels every call given this handle, now and later. Idempotent; any thread; never blocks on the calls.
    void cancel() const noexcept { x8_cancel_trigger(handle_.get()); }

    /// Whether cancel() was called (or the stop_token stopped).
    bool cancelled() const noexcept { return x8_cancel_is_triggered(handle_.get()); }

    const x8_cancel* native_handle() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<x8_cancel, detail::CancelFree> handle_;
#if defined(__cpp_lib_jthread)
    struct Trigger {
        const x8_cancel* handle;
        void operator()() const noexcept { x8_cancel_trigger(handle); }
    };
    std::unique_ptr<std::stop_callback<Trigger>> stop_;
#endif
};

/// A client for one API key: caches its token, renews it ahead of expiry, keeps connections alive.
/// Every method may be called from any number of threads at once; the destructor must be the last call.
class Client {
public:
    /// A client for the key (client id and secret from 8x8 Admin Console). No network traffic until needed.
    Client(std::string_view client_id, std::string_view secret) : Client(client_id, secret, nullptr) {}
    Client(std::string_view client_id, std::string_view secret, const Options& options)
        : Client(client_id, secret, &options) {}

    /// The key from X8_CLIENT_ID and X8_CLIENT_SECRET; X8_BASE_URL / X8_TOKEN_URL override the options.
    static Client from_env() { return from_env(nullptr); }
    static Client from_env(const Options& options) { return from_env(&options); }

    /// A valid access token: the cached one while fresh, else a new one (one fetch however many threads ask).
    std::string token() const {
        char buf[X8_TOKEN_BUFFER_SIZE];
        std::size_t len = 0;
        detail::call([&](x8_error** err) { return x8_get_token(handle_.get(), buf, sizeof buf, &len, err); });
        const detail::WipeOnExit wipe_buf{buf, len};
        return std::string(buf, len);
    }

    /// token() that `cancel` can stop while it waits for a token fetch (x8::Error X8_STATUS_CANCELLED).
    std::string token(const Cancel& cancel) const {
        char buf[X8_TOKEN_BUFFER_SIZE];
        std::size_t len = 0;
        detail::call([&](x8_error** err) {
            return x8_get_token_ex(handle_.get(), 0, cancel.native_handle(), buf, sizeof buf, &len, err);
        });
        const detail::WipeOnExit wipe_buf{buf, len};
        return std::string(buf, len);
    }

    /// A snapshot of the current token with its type, expiry and products (fetching one if needed), waiting at
    /// most `timeout` (0: the client's timeout).
    Token token_info(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        const std::uint32_t timeout_ms = detail::to_ms(timeout, "timeout");
        x8_token* out = nullptr;  // NULL on failure, by contract
        detail::call([&](x8_error** err) { return x8_client_token(handle_.get(), timeout_ms, &out, err); });
        return Token(out);
    }

    /// token_info() that `cancel` can stop while it waits for a token fetch (X8_STATUS_CANCELLED).
    Token token_info(std::chrono::milliseconds timeout, const Cancel& cancel) const {
        const std::uint32_t timeout_ms = detail::to_ms(timeout, "timeout");
        x8_token* out = nullptr;
        detail::call([&](x8_error** err) {
            return x8_client_token_ex(handle_.get(), timeout_ms, cancel.native_handle(), &out, err);
        });
        return Token(out);
    }

    /// Whether the current token (fetched if needed) carries the API product, ignoring ASCII case.
    bool has_product(std::string_view product) const {
        const std::string c = detail::c_string(product, "product");
        bool has = false;
        detail::call([&](x8_error** err) { return x8_client_has_product(handle_.get(), c.c_str(), &has, err); });
        return has;
    }

    /// Sends an authenticated request. `path` is relative to the base URL or an absolute URL on its origin;
    /// `headers` is a braced list ({{"X-Tenant-Info", "acme"}}) or a std::vector<x8::Header>; `body` is sent as
    /// bytes; `timeout` bounds the whole call (0: the client's timeout). Any HTTP status is returned as a
    /// Response; when the API rejects the token, x8 renews it and replays the request once.
    Response request(std::string_view method, std::string_view path, std::initializer_list<Header> headers = {},
                     std::string_view body = {},
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return send(method, path, headers.begin(), headers.size(), body, timeout);
    }
    Response request(std::string_view method, std::string_view path, const std::vector<Header>& headers,
                     std::string_view body = {},
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return send(method, path, headers.data(), headers.size(), body, timeout);
    }

    Response get(std::string_view path, std::initializer_list<Header> headers = {},
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return send("GET", path, headers.begin(), headers.size(), {}, timeout);
    }
    Response get(std::string_view path, const std::vector<Header>& headers,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return send("GET", path, headers.data(), headers.size(), {}, timeout);
    }

    /// request() and get() that `cancel` can stop while they run: they throw x8::Error(X8_STATUS_CANCELLED)
    /// promptly, the request's connection closed (never reused).
    Response request(std::string_view method, std::string_view path, std::initializer_list<Header> headers,
                     std::string_view body, std::chrono::milliseconds timeout, const Cancel& cancel) const {
        return send(method, path, headers.begin(), headers.size(), body, timeout, cancel.native_handle());
    }
    Response request(std::string_view method, std::string_view path, const std::vector<Header>& headers,
                     std::string_view body, std::chrono::milliseconds timeout, const Cancel& cancel) const {
        return send(method, path, headers.data(), headers.size(), body, timeout, cancel.native_handle());
    }
    Response get(std::string_view path, const Cancel& cancel,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return send("GET", path, nullptr, 0, {}, timeout, cancel.native_handle());
    }

    /// Receives a streamed response body, chunk by chunk (at most 64 KiB each; the bytes are borrowed for the
    /// call). Throw to stop the transfer: the exception comes out of the request call.
    using BodySink = std::function<void(const std::uint8_t* data, std::size_t len)>;
    /// Writes up to `cap` bytes of a streamed request body to `buf` and returns how many; 0 ends the body.
    /// Throw to stop the transfer: the exception comes out of the request call.
    using BodySource = std::function<std::size_t(std::uint8_t* buf, std::size_t cap)>;

    /// `request` for bodies too large to hold. `upload`, if set, supplies the request body as it is sent:
    /// `upload_len` bytes (sent as Content-Length; a source giving fewer or more fails with
    /// X8_STATUS_ABORTED), or 0 when unknown (sent chunked). `download`, if set, receives the response body as
    /// it arrives, in constant memory and with no max_body_bytes limit; the Response then has the status and
    /// headers and an empty body. Only a 2xx body is delivered to `download`: for any other status (a 404, a 500)
    /// `download` is never called and the error body is held in the Response's body() as by `request` (under
    /// max_body_bytes), so check status(). A 401 that x8 answers by replaying is never seen. Once `upload`
    /// has given a byte the request is never sent again (not after a 401, which is then returned). Both run on
    /// the calling thread during the call only and may use this client. `timeout` bounds the whole transfer.
    Response request_streamed(std::string_view method, std::string_view path, const std::vector<Header>& headers,
                              const BodySource& upload, std::uint64_t upload_len, const BodySink& download,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        detail::Stream stream;
        stream.sink = download ? &download : nullptr;
        stream.source = upload ? &upload : nullptr;
        return send(method, path, headers.data(), headers.size(), {}, timeout, nullptr, &stream, upload_len);
    }

    /// GET `path` with the body written to `out` as it arrives (e.g. a std::ofstream opened in binary mode).
    /// A non-2xx reply writes nothing to `out`: its body is in the returned Response (check status()).
    /// A stream that fails (badbit or failbit) stops the transfer with std::ios_base::failure.
    Response download(std::string_view path, std::ostream& out, const std::vector<Header>& headers = {},
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        const BodySink sink = [&out](const std::uint8_t* data, std::size_t len) {
            out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(len));
            if (!out) {
                throw std::ios_base::failure("x8: writing the response body to the stream failed");
            }
        };
        return request_streamed("GET", path, headers, BodySource(), 0, sink, timeout);
    }

    /// Sends `in` as the request body as it is read (`len` bytes, or 0 when unknown: chunked); the response
    /// body is held as by `request`. A stream that goes bad stops the transfer with std::ios_base::failure.
    Response upload(std::string_view method, std::string_view path, std::istream& in, std::uint64_t len,
                    const std::vector<Header>& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        const BodySource source = [&in](std::uint8_t* buf, std::size_t cap) -> std::size_t {
            in.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(cap));
            if (in.bad()) {
                throw std::ios_base::failure("x8: reading the request body from the stream failed");
            }
            return static_cast<std::size_t>(in.gcount());
        };
        return request_streamed(method, path, headers, source, len, BodySink(), timeout);
    }

    /// Drops the cached token so the next call fetches a new one (after the key's products changed, or when
    /// the token is known to be revoked).
    /// Drops the cached token only if it is still `rejected`, a token the API refused (e.g. an HTTP client that
    /// attaches token() itself and got a 401). When many threads see the same token refused at once, the first
    /// call drops it and the others leave its successor alone, so one fetch follows. Returns whether it was dropped.
    bool invalidate_token(std::string_view rejected) const {
        const std::string c_rejected = detail::c_string(rejected, "rejected");
        bool dropped = false;
        detail::call([&](x8_error** err) {
            return x8_client_invalidate_token(handle_.get(), c_rejected.c_str(), &dropped, err);
        });
        return dropped;
    }

    void invalidate() const {
        detail::call([&](x8_error** err) { return x8_client_invalidate(handle_.get(), err); });
    }

    /// Counts in stats().replays_after_401 a request your own HTTP client sent again after invalidate_token.
    void count_replay() const {
        detail::call([&](x8_error** err) { return x8_client_count_replay(handle_.get(), err); });
    }

    /// The client's counters (cheap atomic reads).
    Stats stats() const {
        Stats stats{};
        stats.size = sizeof stats;
        detail::call([&](x8_error** err) { return x8_client_stats(handle_.get(), &stats, err); });
        return stats;
    }

    /// The same counters as one JSON object, for logs.
    std::string stats_json() const {
        char* out = nullptr;
        detail::call([&](x8_error** err) { return x8_client_stats_json(handle_.get(), &out, err); });
        const std::unique_ptr<char, detail::StringFree> json(out);
        return std::string(json.get());
    }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const x8_client* native_handle() const noexcept { return handle_.get(); }

private:
    Client(x8_client* handle, std::shared_ptr<const detail::LogSubscription> log) noexcept
        : log_(std::move(log)), handle_(handle) {}

    Client(std::string_view client_id, std::string_view secret, const Options* options)
        : log_(options != nullptr ? options->log_ : nullptr) {
        const std::string c_id = detail::c_string(client_id, "client_id");
        std::string c_secret = detail::c_string(secret, "secret");
        const detail::WipeOnExit wipe_secret{c_secret.data(), c_secret.size()};
        const x8_options* opts = options != nullptr ? options->handle_.get() : nullptr;
        x8_client* out = nullptr;
        detail::call([&](x8_error** err) { return x8_client_new(c_id.c_str(), c_secret.c_str(), opts, &out, err); });
        handle_.reset(out);
    }

    Response send(std::string_view method, std::string_view path, const Header* headers, std::size_t header_count,
                  std::string_view body, std::chrono::milliseconds timeout, const x8_cancel* cancel = nullptr,
                  detail::Stream* stream = nullptr, std::uint64_t upload_len = 0) const {
        const std::string c_method = detail::c_string(method, "method");
        const std::string c_path = detail::c_string(path, "path");
        std::vector<std::string> lines;
        lines.reserve(header_count);
        for (std::size_t i = 0; i < header_count; ++i) {
            lines.push_back(detail::header_line(headers[i]));
        }
        std::vector<const char*> line_ptrs;
        line_ptrs.reserve(lines.size());
        for (const std::string& line : lines) {
            line_ptrs.push_back(line.c_str());
        }
        const auto* body_bytes = reinterpret_cast<const std::uint8_t*>(body.data());
        const std::uint32_t timeout_ms = detail::to_ms(timeout, "timeout");
        x8_response* out = nullptr;
        x8_request_opts opts{};
        opts.size = sizeof opts;
        opts.headers = line_ptrs.empty() ? nullptr : line_ptrs.data();
        opts.header_count = line_ptrs.size();
        opts.body = body.empty() ? nullptr : body_bytes;
        opts.body_len = body.size();
        opts.timeout_ms = timeout_ms;
        opts.cancel = cancel;
        if (stream != nullptr && stream->sink != nullptr) {
            opts.write = detail::stream_write;
            opts.write_user = stream;
            opts.head = detail::stream_2xx_only;
        }
        if (stream != nullptr && stream->source != nullptr) {
            opts.read = detail::stream_read;
            opts.read_user = stream;
            opts.upload_len = upload_len;
        }
        x8_error* err = nullptr;
        const x8_status status = x8_request(handle_.get(), c_method.c_str(), c_path.c_str(), &opts, &out, &err);
        if (status != X8_STATUS_OK) {
            detail::throw_streamed(status, err, stream);
        }
        x8_error_free(err);
        return Response(out);
    }

    static Client from_env(const Options* options) {
        const x8_options* opts = options != nullptr ? options->handle_.get() : nullptr;
        x8_client* out = nullptr;
        detail::call([&](x8_error** err) { return x8_client_new_from_env(opts, &out, err); });
        return Client(out, options != nullptr ? options->log_ : nullptr);
    }

    // Declared before handle_ so that it is destroyed after it: the client is freed first, then (if this was
    // the last owner) the log function is removed.
    std::shared_ptr<const detail::LogSubscription> log_;
    std::unique_ptr<x8_client, detail::ClientFree> handle_;
};

}  // namespace x8

#endif  // X8_X8_HPP
