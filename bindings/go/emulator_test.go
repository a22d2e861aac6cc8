package x8

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The keys every emulator in these tests knows: one with the default products and one with none.
const (
	demoID       = "demo-client"
	demoSecret   = "demo-secret"
	bareID       = "bare-client"
	bareSecret   = "bare-secret"
	queuesPath   = "/analytics/cc/v5/realtime-metrics/queues"
	demoLifetime = 1799 * time.Second // the emulator's default expires_in
)

// shared is the emulator of the tests that neither count its requests nor inject faults; tests that do start
// their own (newEmulator), so that they can run in any order.
var shared *emulator

func TestMain(m *testing.M) {
	if os.Getenv("X8_EMULATOR") == "" {
		fmt.Fprintln(os.Stderr, "X8_EMULATOR must name the x8-emulator binary (bash bindings/go/test.sh sets it)")
		os.Exit(2)
	}
	var err error
	if shared, err = launchEmulator(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// emulator is a running x8-emulator. It exits when its stdin closes, so it never outlives the test binary.
type emulator struct {
	URL    string
	stdin  io.WriteCloser
	exited <-chan error // receives the emulator's exit
}

// newEmulator starts an emulator for one test and stops it when the test ends.
func newEmulator(t *testing.T, args ...string) *emulator {
	t.Helper()
	e, err := launchEmulator(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	return e
}

func launchEmulator(args ...string) (*emulator, error) {
	args = append([]string{"--port", "0", "--exit-on-stdin-eof",
		"--client", demoID + ":" + demoSecret, "--client", bareID + ":" + bareSecret + ":"}, args...)
	cmd := exec.Command(os.Getenv("X8_EMULATOR"), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	cmd.Stdout = &firstLine{ready: ready}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The emulator prints its URL once it accepts connections; the timer only bounds a hung emulator.
	select {
	case url := <-ready:
		return &emulator{URL: url, stdin: stdin, exited: exited}, nil
	case err := <-exited:
		return nil, fmt.Errorf("the emulator exited before printing its URL: %v", err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("the emulator printed no URL within 30s")
	}
}

// stop closes the emulator's stdin, which makes it exit, and waits for that.
func (e *emulator) stop() {
	e.stdin.Close()
	<-e.exited
}

// firstLine is the emulator's stdout: it hands the first line over and discards the rest.
type firstLine struct {
	mu    sync.Mutex
	buf   []byte
	ready chan string // receives the first line, once
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready == nil {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.ready <- strings.TrimSpace(string(f.buf[:i]))
		f.ready, f.buf = nil, nil
	}
	return len(p), nil
}

// emulatorStats is GET /_emulator/stats.
type emulatorStats struct {
	TokenRequests  uint64 `json:"token_requests"`
	TokensIssued   uint64 `json:"tokens_issued"`
	TokenFailures  uint64 `json:"token_failures"`
	APIRequests    uint64 `json:"api_requests"`
	APIRejected    uint64 `json:"api_rejected"`
	FaultsInjected uint64 `json:"faults_injected"`
	Connections    uint64 `json:"connections"`
}

// stats reads the emulator's counters with net/http, not through x8.
func (e *emulator) stats(t *testing.T) emulatorStats {
	t.Helper()
	resp, err := http.Get(e.URL + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s emulatorStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decoding /_emulator/stats: %v", err)
	}
	return s
}

// admin POSTs to one of the emulator's control endpoints (revoke, faults...).
func (e *emulator) admin(t *testing.T, path, jsonBody string) {
	t.Helper()
	resp, err := http.Post(e.URL+path, "application/json", strings.NewReader(jsonBody))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %s %s", path, resp.Status, body)
	}
}

// newTestClient makes a client for the demo key on e, closed when the test ends.
func newTestClient(t *testing.T, e *emulator, opts ...Option) *Client {
	t.Helper()
	return newKeyClient(t, e, demoID, demoSecret, opts...)
}

func newKeyClient(t *testing.T, e *emulator, id, secret string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(id, secret, append([]Option{WithBaseURL(e.URL)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
