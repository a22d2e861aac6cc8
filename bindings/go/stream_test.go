package x8

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// addObject adds a generated Storage object of n bytes to e and returns its content path and SHA-256.
func addObject(t *testing.T, e *emulator, n int) (string, string) {
	t.Helper()
	resp, err := http.Post(e.URL+"/_emulator/storage/objects", "application/json",
		strings.NewReader(`{"bytes":`+itoa(n)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(e.URL + "/_emulator/storage/objects/" + o.ID + "/sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return "/storage/us-west/v3/objects/" + o.ID + "/content", h.SHA256
}

func itoa(n int) string { return jsonNumber(n) }

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDoStreamWritesALargeBodyToTheWriter(t *testing.T) {
	c := newTestClient(t, shared, WithMaxBodyBytes(1<<20))
	path, want := addObject(t, shared, 12<<20)
	h := sha256.New()
	var n countingWriter
	resp, err := c.DoStream(context.Background(), "GET", path, nil, nil, 0, io.MultiWriter(h, &n))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(resp.Body) != 0 {
		t.Fatalf("HTTP %d, %d body bytes held", resp.StatusCode, len(resp.Body))
	}
	if n != 12<<20 || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("got %d bytes, sha256 %x, want %s", n, h.Sum(nil), want)
	}
	// The same object through Do is over the limit.
	if _, err := c.Do(context.Background(), "GET", path, nil, nil); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("Do: %v, want ErrBodyTooLarge", err)
	}
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		return 0, errDiskFull
	}
	w.after -= len(p)
	return len(p), nil
}

func TestDoStreamStopsWhenTheWriterFails(t *testing.T) {
	c := newTestClient(t, shared)
	path, _ := addObject(t, shared, 4<<20)
	_, err := c.DoStream(context.Background(), "GET", path, nil, nil, 0, &failingWriter{after: 1 << 20})
	if !errors.Is(err, ErrAborted) || !errors.Is(err, errDiskFull) {
		t.Fatalf("got %v, want ErrAborted and the writer's error", err)
	}
}

type panickingWriter struct{}

func (panickingWriter) Write([]byte) (int, error) { panic("boom") }

func TestDoStreamRecoversAWriterPanic(t *testing.T) {
	c := newTestClient(t, shared)
	path, _ := addObject(t, shared, 1<<20)
	_, err := c.DoStream(context.Background(), "GET", path, nil, nil, 0, panickingWriter{})
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

type uploadRecord struct {
	Bytes            int64  `json:"bytes"`
	SHA256           string `json:"sha256"`
	ContentLength    *int64 `json:"content_length"`
	TransferEncoding string `json:"transfer_encoding"`
	Complete         bool   `json:"complete"`
}

func TestDoStreamUploadsFromAReader(t *testing.T) {
	c := newTestClient(t, shared)
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	sum := sha256.Sum256(data)
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	for _, size := range []int64{int64(len(data)), 0} {
		resp, err := c.DoStream(context.Background(), "PUT", "/upload/go", hdr, bytes.NewReader(data), size, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rec uploadRecord
		if err := json.Unmarshal(resp.Body, &rec); err != nil {
			t.Fatalf("%v: %s", err, resp.Body)
		}
		if rec.Bytes != int64(len(data)) || rec.SHA256 != hex.EncodeToString(sum[:]) || !rec.Complete {
			t.Fatalf("size %d: %+v", size, rec)
		}
		if size > 0 && (rec.ContentLength == nil || *rec.ContentLength != size) {
			t.Fatalf("Content-Length not sent: %+v", rec)
		}
		if size == 0 && rec.TransferEncoding != "chunked" {
			t.Fatalf("not chunked: %+v", rec)
		}
	}
}

type failingReader struct{}

var errGone = errors.New("the file went away")

func (failingReader) Read([]byte) (int, error) { return 0, errGone }

func TestDoStreamStopsWhenTheReaderFails(t *testing.T) {
	c := newTestClient(t, shared)
	_, err := c.DoStream(context.Background(), "PUT", "/upload/go-fail", nil, failingReader{}, 0, nil)
	if !errors.Is(err, ErrAborted) || !errors.Is(err, errGone) {
		t.Fatalf("got %v, want ErrAborted and the reader's error", err)
	}
}

// An error reply's body is held in the Response, never written into the caller's stream: a 404 through
// DoStream, an expired (here: tampered) presigned link's 403 through FetchURLTo.
func TestStreamingHoldsAnErrorBodyInsteadOfWritingIt(t *testing.T) {
	c := newTestClient(t, shared)
	ctx := context.Background()
	var n countingWriter
	resp, err := c.DoStream(ctx, "GET", "/storage/us-west/v3/objects/nope/content", nil, nil, 0, &n)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || !bytes.Contains(resp.Body, []byte("{")) || n != 0 {
		t.Fatalf("HTTP %d, body %q held, %d bytes written", resp.StatusCode, resp.Body, n)
	}

	path, want := addObject(t, shared, 300_000)
	link, err := c.Do(ctx, "GET", path+"?presignUrl=true", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var presigned struct{ PresignedURL string }
	if err := json.Unmarshal(link.Body, &presigned); err != nil {
		t.Fatalf("%v %s", err, link.Body)
	}
	h := sha256.New()
	ok, err := c.FetchURLTo(ctx, "GET", presigned.PresignedURL, nil, h)
	if err != nil || ok.StatusCode != 200 || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("FetchURLTo: %v %v", err, ok)
	}
	at := strings.Index(presigned.PresignedURL, "Signature=") + len("Signature=")
	tampered := presigned.PresignedURL[:at] + "0" + presigned.PresignedURL[at+1:]
	if tampered == presigned.PresignedURL {
		tampered = presigned.PresignedURL[:at] + "1" + presigned.PresignedURL[at+1:]
	}
	n = 0
	denied, err := c.FetchURLTo(ctx, "GET", tampered, nil, &n)
	if err != nil {
		t.Fatal(err)
	}
	if denied.StatusCode != 403 || !bytes.Contains(denied.Body, []byte("SignatureDoesNotMatch")) || n != 0 {
		t.Fatalf("HTTP %d, body %q held, %d bytes written", denied.StatusCode, denied.Body, n)
	}
}
