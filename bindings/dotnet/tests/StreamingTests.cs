// SendStreamed against the emulator: a download larger than MaxBodyBytes into a Stream (hashed against the
// emulator's object), uploads from a seekable and a non-seekable Stream, streams that throw, and error replies
// whose body is held in the response instead of written to the Stream (SendStreamed, FetchUrlTo).

using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class StreamingTests : EmulatorFixture
    {
        private static string Hex(byte[] hash)
        {
            return string.Concat(hash.Select(b => b.ToString("x2")));
        }

        /// <summary>Hashes what is written, keeping nothing.</summary>
        private sealed class HashingStream : Stream
        {
            internal readonly SHA256 Sha = SHA256.Create();
            internal long Count;
            public override bool CanRead { get { return false; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return true; } }
            public override long Length { get { throw new NotSupportedException(); } }
            public override long Position { get { return Count; } set { throw new NotSupportedException(); } }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
            public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
            public override void Write(byte[] buffer, int offset, int count)
            {
                Sha.TransformBlock(buffer, offset, count, null, 0);
                Count += count;
            }
            internal string Finish()
            {
                Sha.TransformFinalBlock(new byte[0], 0, 0);
                return Hex(Sha.Hash);
            }
        }

        /// <summary>A stream that hides its length, so the upload goes chunked.</summary>
        private sealed class Unseekable : MemoryStream
        {
            internal Unseekable(byte[] data) : base(data) { }
            public override bool CanSeek { get { return false; } }
        }

        private sealed class Failing : MemoryStream
        {
            public override void Write(byte[] buffer, int offset, int count) { throw new IOException("disk full"); }
            public override int Read(byte[] buffer, int offset, int count) { throw new IOException("the file went away"); }
            public override bool CanSeek { get { return false; } }
        }

        [Test]
        public void ADownloadLargerThanMaxBodyBytesStreamsIntoTheStream()
        {
            var options = emulator.Options();
            options.MaxBodyBytes = 1 << 20;
            using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, options))
            {
                var obj = emulator.AddStorageObject(12 << 20);
                var sink = new HashingStream();
                var response = client.SendStreamed("GET", obj[0], null, sink);
                Assert.AreEqual(200, response.StatusCode);
                Assert.AreEqual(0, response.Body.Length);
                Assert.AreEqual((12 << 20).ToString(), response.Headers["Content-Length"]);
                Assert.AreEqual(12 << 20, sink.Count);
                Assert.AreEqual(obj[1], sink.Finish());
                var e = Assert.Throws<X8Exception>(() => client.Send("GET", obj[0]));
                Assert.AreEqual(X8Status.BodyTooLarge, e.Status);
            }
        }

        [Test]
        public void UploadsStreamWithALengthOrChunked()
        {
            var data = new byte[3 << 20];
            new Random(7).NextBytes(data);
            string sha;
            using (var h = SHA256.Create())
                sha = Hex(h.ComputeHash(data));
            using (var client = emulator.NewClient())
            {
                var known = client.SendStreamed("PUT", "/upload/dotnet-known", new MemoryStream(data), null);
                StringAssert.Contains("\"bytes\":" + data.Length, known.BodyText);
                StringAssert.Contains("\"content_length\":" + data.Length, known.BodyText);
                StringAssert.Contains(sha, known.BodyText);
                var reply = new MemoryStream();
                var chunked = client.SendStreamed("PUT", "/upload/dotnet-chunked", new Unseekable(data), reply);
                Assert.AreEqual(200, chunked.StatusCode);
                var text = System.Text.Encoding.UTF8.GetString(reply.ToArray());
                StringAssert.Contains("\"transfer_encoding\":\"chunked\"", text);
                StringAssert.Contains(sha, text);
            }
        }

        [Test]
        public void AStreamThatThrowsAbortsWithItsException()
        {
            using (var client = emulator.NewClient())
            {
                var obj = emulator.AddStorageObject(2 << 20);
                var e = Assert.Throws<X8Exception>(() => client.SendStreamed("GET", obj[0], null, new Failing()));
                Assert.AreEqual(X8Status.Aborted, e.Status);
                Assert.IsInstanceOf<IOException>(e.InnerException);
                StringAssert.Contains("disk full", e.InnerException.Message);
                e = Assert.Throws<X8Exception>(() => client.SendStreamed("PUT", "/upload/dotnet-fail", new Failing(), null));
                Assert.AreEqual(X8Status.Aborted, e.Status);
                StringAssert.Contains("the file went away", e.InnerException.Message);
                Assert.AreEqual(200, client.Send("GET", "/storage/us-west/v3/regions").StatusCode, "the client goes on");
            }
        }

        [Test]
        public void SendStreamedAsyncWritesTheSameBytes()
        {
            using (var client = emulator.NewClient())
            {
                var obj = emulator.AddStorageObject(1 << 20);
                var sink = new HashingStream();
                var response = client.SendStreamedAsync("GET", obj[0], null, sink).Result;
                Assert.AreEqual(200, response.StatusCode);
                Assert.AreEqual(obj[1], sink.Finish());
            }
        }

        [Test]
        public void AnErrorBodyIsHeldInTheResponseAndNotWrittenToTheStream()
        {
            using (var client = emulator.NewClient())
            {
                var sink = new HashingStream();
                var missing = client.SendStreamed("GET", "/storage/us-west/v3/objects/nope/content", null, sink);
                Assert.AreEqual(404, missing.StatusCode);
                StringAssert.Contains("{", missing.BodyText);
                Assert.AreEqual(0, sink.Count, "nothing of the 404 was written");

                var obj = emulator.AddStorageObject(300000);
                var link = client.Send("GET", obj[0] + "?presignUrl=true").BodyText;
                var url = Regex.Match(link, "\"presignedUrl\":\"([^\"]+)\"").Groups[1].Value;
                StringAssert.Contains("X-Amz-Signature=", url);
                var good = new HashingStream();
                Assert.AreEqual(200, client.FetchUrlTo(url, good).StatusCode);
                Assert.AreEqual(obj[1], good.Finish());

                var at = url.IndexOf("Signature=", StringComparison.Ordinal) + "Signature=".Length;
                var tampered = url.Substring(0, at) + (url[at] == '0' ? "1" : "0") + url.Substring(at + 1);
                var denied = new HashingStream();
                var expired = client.FetchUrlToAsync(tampered, denied).Result;
                Assert.AreEqual(403, expired.StatusCode);
                StringAssert.Contains("SignatureDoesNotMatch", expired.BodyText);
                Assert.AreEqual(0, denied.Count, "nothing of the 403 was written");
            }
        }
    }
}
