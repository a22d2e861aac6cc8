// Streamed bodies: a download into a std::ostream and through a callback, uploads from a std::istream with a
// length and chunked, callbacks whose exceptions come back out of the call, and error replies whose body is
// held in the Response instead of delivered to the sink or stream.
#include <x8/pager.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace x8test {
namespace {

using StreamTest = EmulatorTest;

TEST_F(StreamTest, DownloadWritesTheSameBytesAsABufferedGet) {
    const x8::Client c = client();
    const std::string path = emulator().add_storage_object(3u << 20);
    const x8::Response whole = c.get(path);
    std::ostringstream out;
    const x8::Response head = c.download(path, out);
    EXPECT_EQ(head.status(), 200);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(head.header("content-length").value_or(""), std::to_string(3u << 20));
    EXPECT_EQ(out.str().size(), 3u << 20);
    EXPECT_TRUE(out.str() == whole.body());
}

TEST_F(StreamTest, AnExceptionFromTheSinkComesOutOfTheCall) {
    const x8::Client c = client();
    const std::string path = emulator().add_storage_object(2u << 20);
    std::size_t seen = 0;
    const x8::Client::BodySink sink = [&seen](const std::uint8_t*, std::size_t len) {
        seen += len;
        if (seen > 100000) {
            throw std::runtime_error("disk full");
        }
    };
    try {
        c.request_streamed("GET", path, {}, x8::Client::BodySource(), 0, sink);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "disk full");
    }
    EXPECT_LT(seen, 2u << 20);
    EXPECT_EQ(c.get("/storage/us-west/v3/regions").status(), 200) << "the client goes on";
}

TEST_F(StreamTest, UploadsFromAnIstreamWithALengthOrChunked) {
    const x8::Client c = client();
    const std::string data(2u << 20, 'x');
    std::istringstream known(data);
    const x8::Response a = c.upload("PUT", "/upload/cpp-known", known, data.size(),
                                    {{"Content-Type", "application/octet-stream"}});
    EXPECT_NE(a.body().find("\"bytes\":" + std::to_string(data.size())), std::string_view::npos) << a.body();
    EXPECT_NE(a.body().find("\"content_length\":" + std::to_string(data.size())), std::string_view::npos);
    std::istringstream chunked(data);
    const x8::Response b = c.upload("PUT", "/upload/cpp-chunked", chunked, 0);
    EXPECT_NE(b.body().find("\"bytes\":" + std::to_string(data.size())), std::string_view::npos) << b.body();
    EXPECT_NE(b.body().find("\"transfer_encoding\":\"chunked\""), std::string_view::npos);
}

TEST_F(StreamTest, AnExceptionFromTheSourceComesOutOfTheCall) {
    const x8::Client c = client();
    const x8::Client::BodySource source = [](std::uint8_t*, std::size_t) -> std::size_t {
        throw std::runtime_error("the file went away");
    };
    try {
        c.request_streamed("PUT", "/upload/cpp-fail", {}, source, 0, x8::Client::BodySink());
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "the file went away");
    }
    // A source that ends before its announced length fails with x8's own error.
    std::istringstream short_one(std::string(10, 'y'));
    try {
        c.upload("PUT", "/upload/cpp-short", short_one, 20);
        FAIL() << "no exception";
    } catch (const x8::Error& e) {
        EXPECT_EQ(e.code(), X8_STATUS_ABORTED);
    }
}

TEST_F(StreamTest, AnErrorBodyIsHeldInTheResponseAndNeverReachesTheSinkOrStream) {
    const x8::Client c = client();
    std::size_t written = 0;
    const x8::Client::BodySink sink = [&written](const std::uint8_t*, std::size_t len) { written += len; };
    const std::string missing = "/storage/us-west/v3/objects/nope/content";
    const x8::Response r = c.request_streamed("GET", missing, {}, x8::Client::BodySource(), 0, sink);
    EXPECT_EQ(r.status(), 404);
    EXPECT_TRUE(contains(r.body(), "{")) << r.body();
    EXPECT_EQ(written, 0u);
    std::ostringstream out;
    const x8::Response d = c.download(missing, out);
    EXPECT_EQ(d.status(), 404);
    EXPECT_FALSE(d.body().empty());
    EXPECT_TRUE(out.str().empty()) << out.str();

    // An expired (here: tampered) presigned link's 403 is held too; the good link streams.
    const std::string path = emulator().add_storage_object(300000);
    const std::string link(c.get(path + "?presignUrl=true").body());
    const std::string key = "\"presignedUrl\":\"";
    const std::size_t start = link.find(key) + key.size();
    std::string url = link.substr(start, link.find('"', start) - start);
    std::ostringstream good;
    EXPECT_EQ(x8::fetch_url_to(c, url, good).status(), 200);
    EXPECT_EQ(good.str().size(), 300000u);
    const std::size_t at = url.find("Signature=") + std::string("Signature=").size();
    url[at] = url[at] == '0' ? '1' : '0';
    std::ostringstream denied;
    const x8::Response expired = x8::fetch_url_to(c, url, denied);
    EXPECT_EQ(expired.status(), 403);
    EXPECT_TRUE(contains(expired.body(), "SignatureDoesNotMatch")) << expired.body();
    EXPECT_TRUE(denied.str().empty());
}

}  // namespace
}  // namespace x8test
