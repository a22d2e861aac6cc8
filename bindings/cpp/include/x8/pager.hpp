// x8 for C++: paged listings as an input range, page items, and the token-less fetch of presigned URLs.
//
//     #include <x8/pager.hpp>
//     for (const x8::Response& page : x8::pages(client, "GET", "/storage/uk/v3/objects?limit=100")) {
//         std::cout << x8::page_items(page) << "\n";      // the page's items as one JSON array
//     }
//     x8::Response file = x8::fetch_url(client, "GET", presigned_url);   // no Authorization header
//     x8::fetch_url_to(client, presigned_url, ofstream);                 // the same, streamed to a std::ostream
//
// Header-only over include/x8.h, like x8.hpp; errors are x8::Error exceptions.
#ifndef X8_PAGER_HPP
#define X8_PAGER_HPP

#include <x8/x8.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ios>
#include <iterator>
#include <ostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace x8 {

/// How a listing names its next page: the C header's x8_page_style.
enum class PageStyle : std::uint32_t {
    Auto = X8_PAGE_STYLE_AUTO,                  ///< detect from the first reply
    PageHeaders = X8_PAGE_STYLE_PAGE_HEADERS,   ///< X-Page, X-Total-Pages, Link rel="next": realtime, historical
    HeaderCursor = X8_PAGE_STYLE_HEADER_CURSOR, ///< Last-Document-Id → lastDocumentId: detailed reports
    BodyOffset = X8_PAGE_STYLE_BODY_OFFSET,     ///< pageKey until lastPage: Storage search
    BodyLinks = X8_PAGE_STYLE_BODY_LINKS,       ///< links[rel=nextUrl]: QM
    PageObject = X8_PAGE_STYLE_PAGE_OBJECT,     ///< page.pageIndex / pageCount: vcc
    Single = X8_PAGE_STYLE_SINGLE,              ///< not paged: the first reply is all
};

namespace detail {
struct PagerFree {
    void operator()(x8_pager* p) const noexcept { x8_pager_free(p); }
};
}  // namespace detail

/// A paged listing as an input range: each element is one page, a Response; the range ends after the last.
/// Each page is an ordinary request (token renewal, the replay after a 401 and the timeout apply per page). A
/// page with a non-2xx status is the last one. Reading a page that fails (x8::Error from begin() or ++) leaves
/// the listing on that page: ranging over the same Pages again (or calling begin()) asks for it once more;
/// X8_STATUS_PROTOCOL (a reply that does not read as its style, too many pages) ends the listing.
///
/// Move-only; not thread-safe (one thread at a time); the Client it was made from must outlive it. Iterators
/// are single-pass: a page is valid until the iterator is incremented.
class Pages {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Response;
        using difference_type = std::ptrdiff_t;
        using pointer = const Response*;
        using reference = const Response&;

        iterator() noexcept = default;
        reference operator*() const noexcept { return pages_->current_; }
        pointer operator->() const noexcept { return &pages_->current_; }
        iterator& operator++() {
            pages_->advance();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_end() == b.at_end(); }
        friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

    private:
        friend class Pages;
        explicit iterator(Pages* pages) noexcept : pages_(pages) {}
        bool at_end() const noexcept { return pages_ == nullptr || pages_->done_; }
        Pages* pages_ = nullptr;
    };

    /// Reads the first page (unless one is held already) and returns an iterator at it.
    iterator begin() {
        if (!done_ && !current_) {
            advance();
        }
        return iterator(this);
    }
    iterator end() noexcept { return iterator(); }

    /// The listing's style: the one asked for, or after the first page the one detected.
    PageStyle style() const noexcept { return static_cast<PageStyle>(x8_pager_style(handle_.get())); }

    /// Bounds each page read from now on (0: the client's timeout), e.g. to what is left of a deadline.
    void set_timeout(std::chrono::milliseconds timeout) {
        const std::uint32_t ms = detail::to_ms(timeout, "timeout");
        detail::call([&](x8_error** err) { return x8_pager_set_timeout(handle_.get(), ms, err); });
    }

    /// Takes ownership of a pager from x8_pager_new (x8::pages makes one).
    explicit Pages(x8_pager* handle) noexcept : handle_(handle) {}
    const x8_pager* native_handle() const noexcept { return handle_.get(); }

private:
    void advance() {
        current_ = Response(nullptr);
        x8_response* page = nullptr;
        detail::call([&](x8_error** err) { return x8_pager_next(handle_.get(), &page, err); });
        if (page == nullptr) {
            done_ = true;
        } else {
            current_ = Response(page);
        }
    }

    std::unique_ptr<x8_pager, detail::PagerFree> handle_;
    Response current_{nullptr};
    bool done_ = false;
};

/// The pages of `method` `path` (relative to the base URL, or an absolute URL on its origin), with `headers`,
/// `body` and a per-page `timeout` (0: the client's), in `style` (Auto detects it), stopping with an x8::Error
/// after `max_pages` (0: x8's default). Nothing is sent until begin(). Throws x8::Error (INVALID_ARGUMENT).
inline Pages pages(const Client& client, std::string_view method, std::string_view path,
                   const std::vector<Header>& headers = {}, std::string_view body = {},
                   PageStyle style = PageStyle::Auto,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(0), std::uint64_t max_pages = 0) {
    const std::string c_method = detail::c_string(method, "method");
    const std::string c_path = detail::c_string(path, "path");
    std::vector<std::string> lines;
    lines.reserve(headers.size());
    for (const Header& h : headers) {
        lines.push_back(detail::header_line(h));
    }
    std::vector<const char*> line_ptrs;
    line_ptrs.reserve(lines.size());
    for (const std::string& line : lines) {
        line_ptrs.push_back(line.c_str());
    }
    const std::uint32_t timeout_ms = detail::to_ms(timeout, "timeout");
    x8_pager* out = nullptr;
    detail::call([&](x8_error** err) {
        x8_request_opts opts{};
        opts.size = sizeof opts;
        opts.headers = line_ptrs.empty() ? nullptr : line_ptrs.data();
        opts.header_count = line_ptrs.size();
        opts.body = body.empty() ? nullptr : reinterpret_cast<const std::uint8_t*>(body.data());
        opts.body_len = body.size();
        opts.timeout_ms = timeout_ms;
        return x8_pager_new(client.native_handle(), c_method.c_str(), c_path.c_str(), &opts,
                            static_cast<std::uint32_t>(style), max_pages, &out, err);
    });
    return Pages(out);
}

/// The items of one page as a JSON array, whatever the API's shape (the body itself when it is an array, else
/// its content, data or items array); `count`, if given, receives how many. Throws x8::Error
/// (X8_STATUS_PROTOCOL when the page is not JSON or holds no list of items).
inline std::string page_items(const Response& page, std::size_t* count = nullptr) {
    char* out = nullptr;
    std::size_t n = 0;
    detail::call([&](x8_error** err) { return x8_page_items(page.native_handle(), &out, &n, err); });
    const std::unique_ptr<char, detail::StringFree> json(out);
    if (count != nullptr) {
        *count = n;
    }
    return std::string(json.get());
}

namespace detail {

/// fetch_url, with the body delivered to `stream`'s sink when it is not null.
inline Response fetch(const Client& client, std::string_view method, std::string_view url,
                      const std::vector<Header>& headers, std::chrono::milliseconds timeout, Stream* stream) {
    const std::string c_method = c_string(method, "method");
    const std::string c_url = c_string(url, "url");
    std::vector<std::string> lines;
    lines.reserve(headers.size());
    for (const Header& h : headers) {
        lines.push_back(header_line(h));
    }
    std::vector<const char*> line_ptrs;
    line_ptrs.reserve(lines.size());
    for (const std::string& line : lines) {
        line_ptrs.push_back(line.c_str());
    }
    x8_request_opts opts{};
    opts.size = sizeof opts;
    opts.headers = line_ptrs.empty() ? nullptr : line_ptrs.data();
    opts.header_count = line_ptrs.size();
    opts.timeout_ms = to_ms(timeout, "timeout");
    if (stream != nullptr) {
        opts.write = stream_write;
        opts.write_user = stream;
        opts.head = stream_2xx_only;
    }
    x8_response* out = nullptr;
    x8_error* err = nullptr;
    const x8_status status = x8_fetch_url(client.native_handle(), c_method.c_str(), c_url.c_str(), &opts, &out, &err);
    if (status != X8_STATUS_OK) {
        throw_streamed(status, err, stream);
    }
    x8_error_free(err);
    return Response(out);
}

}  // namespace detail

/// Fetches an absolute URL without the client's token — no Authorization header, no 8x8 credential — for the
/// presigned download links of Storage (?presignUrl=true). GET or HEAD; https, or http on loopback only; the
/// URL's query never appears in an error. Any HTTP status is a Response. Throws x8::Error.
inline Response fetch_url(const Client& client, std::string_view method, std::string_view url,
                          const std::vector<Header>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    return detail::fetch(client, method, url, headers, timeout, nullptr);
}

/// fetch_url GET for bodies too large to hold: the body goes to `sink` as it arrives (in constant memory, no
/// max_body_bytes limit) and the Response has the status and headers and an empty body. Only a 2xx body is
/// delivered: for any other status (an expired link's 403) `sink` is never called and the error body is held in
/// the Response's body(). `sink` runs on the calling thread during the call only; its exception comes out of the
/// call. `timeout` bounds the whole transfer.
inline Response fetch_url_to(const Client& client, std::string_view url, const Client::BodySink& sink,
                             const std::vector<Header>& headers = {},
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    if (!sink) {
        throw detail::invalid_argument("fetch_url_to needs a sink");
    }
    detail::Stream stream;
    stream.sink = &sink;
    return detail::fetch(client, "GET", url, headers, timeout, &stream);
}

/// fetch_url_to writing the body to `out` (e.g. a std::ofstream opened in binary mode). A stream that fails
/// (badbit or failbit) stops the transfer with std::ios_base::failure.
inline Response fetch_url_to(const Client& client, std::string_view url, std::ostream& out,
                             const std::vector<Header>& headers = {},
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    const Client::BodySink sink = [&out](const std::uint8_t* data, std::size_t len) {
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(len));
        if (!out) {
            throw std::ios_base::failure("x8: writing the response body to the stream failed");
        }
    };
    return fetch_url_to(client, url, sink, headers, timeout);
}

}  // namespace x8

#endif  // X8_PAGER_HPP
