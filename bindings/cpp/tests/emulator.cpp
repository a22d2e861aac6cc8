#include "emulator.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace x8test {
namespace {

// Bounds on waiting for the emulator, so a broken one fails the test instead of hanging it.
constexpr int kStartupTimeoutMs = 15000;
constexpr int kSocketTimeoutSecs = 15;

std::runtime_error sys_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

/// Reads one '\n'-terminated line from `fd`, waiting at most `timeout_ms` in all.
std::string read_line(int fd, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string line;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            throw std::runtime_error("x8-emulator printed no URL line in time (got '" + line + "')");
        }
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw std::runtime_error("x8-emulator exited before printing its URL (got '" + line + "')");
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
}

/// "http://127.0.0.1:40123" -> 40123 (the emulator only listens on 127.0.0.1).
std::uint16_t port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    if (url.rfind("http://127.0.0.1:", 0) != 0 || colon == std::string::npos) {
        throw std::runtime_error("unexpected emulator URL '" + url + "'");
    }
    return static_cast<std::uint16_t>(std::stoul(url.substr(colon + 1)));
}

}  // namespace

HttpReply http_request(const std::string& base_url, const std::string& method, const std::string& path,
                       const std::string& body) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw sys_error("socket");
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    timeval tv{kSocketTimeoutSecs, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_of(base_url));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw sys_error("connect to the emulator");
    }

    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                                "Content-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw sys_error("send to the emulator");
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string raw;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw sys_error("recv from the emulator");
        }
        if (n == 0) {
            break;
        }
        raw.append(buf, static_cast<std::size_t>(n));
    }

    // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"; Connection: close means the body runs to EOF.
    HttpReply reply;
    const auto space = raw.find(' ');
    const auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || space == std::string::npos || head_end == std::string::npos) {
        throw std::runtime_error("malformed reply from the emulator to " + method + " " + path);
    }
    reply.status = std::stoi(raw.substr(space + 1, 3));
    reply.body = raw.substr(head_end + 4);
    return reply;
}

Emulator::Emulator(const std::vector<std::string>& args) {
    const char* path = std::getenv("X8_EMULATOR");
    if (path == nullptr || *path == '\0') {
        throw std::runtime_error("X8_EMULATOR is not set (the path of the x8-emulator binary)");
    }

    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
        throw sys_error("pipe");
    }
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        throw sys_error("pipe");
    }

    std::vector<std::string> argv_strings = {path, "--port", "0", "--exit-on-stdin-eof"};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    // The child gets the pipes as stdin/stdout (dup2 clears O_CLOEXEC on the copies); stderr is inherited so
    // the emulator's complaints land in the test log.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const int rc = ::posix_spawn(&pid_, path, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    stdout_fd_ = out[0];
    if (rc != 0) {
        pid_ = -1;
        stop();
        throw std::runtime_error(std::string("cannot start ") + path + ": " + std::strerror(rc));
    }

    try {
        url_ = read_line(stdout_fd_, kStartupTimeoutMs);
        port_of(url_);
    } catch (...) {
        stop();
        throw;
    }
    // stdout stays open unread: the emulator prints nothing after the URL, and closing it could SIGPIPE it.
}

Emulator::~Emulator() { stop(); }

void Emulator::stop() noexcept {
    if (stdin_fd_ >= 0) {
        ::close(stdin_fd_);  // EOF on stdin already makes it exit; the kill makes sure.
        stdin_fd_ = -1;
    }
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
    if (stdout_fd_ >= 0) {
        ::close(stdout_fd_);
        stdout_fd_ = -1;
    }
}

std::uint64_t Emulator::stat(const std::string& name) const {
    const HttpReply reply = http_request(url_, "GET", "/_emulator/stats");
    const std::string key = "\"" + name + "\":";
    const auto at = reply.body.find(key);
    if (reply.status != 200 || at == std::string::npos) {
        throw std::runtime_error("emulator stats lack '" + name + "': " + reply.body);
    }
    return std::stoull(reply.body.substr(at + key.size()));
}

void Emulator::admin_post(const std::string& endpoint, const std::string& json_body) const {
    const HttpReply reply = http_request(url_, "POST", "/_emulator/" + endpoint, json_body);
    if (reply.status / 100 != 2) {
        throw std::runtime_error("POST /_emulator/" + endpoint + " answered " + std::to_string(reply.status) +
                                 ": " + reply.body);
    }
}

std::string Emulator::add_storage_object(std::uint64_t bytes) const {
    const HttpReply reply =
        http_request(url_, "POST", "/_emulator/storage/objects", "{\"bytes\":" + std::to_string(bytes) + "}");
    const std::string key = "\"id\":\"";
    const auto at = reply.body.find(key);
    if (reply.status != 200 || at == std::string::npos) {
        throw std::runtime_error("adding a storage object failed: " + reply.body);
    }
    const auto start = at + key.size();
    return "/storage/us-west/v3/objects/" + reply.body.substr(start, reply.body.find('"', start) - start) +
           "/content";
}

}  // namespace x8test
