// Command x8bench measures what a Go programmer would otherwise use, golang.org/x/oauth2's clientcredentials
// with ReuseTokenSource and net/http, and x8 called directly through cgo, against the emulator at $BENCH_URL.
// It prints one JSON line per measurement, in the format of benches/c/bench.c, for benches/table.py.
//
// Usage: x8bench hit|rollover|get|cgo-hit|cgo-get
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	clientID = "demo-client"
	secret   = "demo-secret"
	getPath  = "/analytics/cc/v5/realtime-metrics/queues?size=5"
)

var baseURL = os.Getenv("BENCH_URL")

func main() {
	if baseURL == "" || len(os.Args) != 2 {
		die("usage: BENCH_URL=http://127.0.0.1:PORT x8bench hit|rollover|get|cgo-hit|cgo-get")
	}
	benches := map[string]func(){
		"hit": benchOAuth2Hit, "rollover": benchOAuth2Rollover, "get": benchOAuth2Get,
		"cgo-hit": benchCgoHit, "cgo-get": benchCgoGet,
	}
	run, ok := benches[os.Args[1]]
	if !ok {
		die("unknown benchmark %q", os.Args[1])
	}
	run()
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "x8bench: "+format+"\n", args...)
	os.Exit(1)
}

// ---- knobs shared with the C benchmarks ----

func envNumber(name string, dflt float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return dflt
}

func reps() int { return int(envNumber("BENCH_REPS", 5)) }
func seconds(dflt float64) time.Duration {
	return time.Duration(dflt * envNumber("BENCH_SCALE", 1) * 1e9)
}

// ---- the emulator's admin endpoints, on a client of their own so the measured pools are untouched ----

var admin = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}

func adminCall(method, path, body string) []byte {
	req, _ := http.NewRequest(method, baseURL+"/_emulator/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := admin.Do(req)
	if err != nil {
		die("emulator %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		die("emulator %s %s answered %d: %s", method, path, resp.StatusCode, b)
	}
	return b
}

func stat(name string) int64 {
	var stats map[string]int64
	if err := json.Unmarshal(adminCall("GET", "stats", ""), &stats); err != nil {
		die("emulator stats: %v", err)
	}
	return stats[name]
}

func resetStats() { adminCall("POST", "reset", "") }
func setTokenLifetime(secs int) {
	adminCall("POST", "config", fmt.Sprintf(`{"token_lifetime":%d}`, secs))
}

// ---- measuring ----

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runWorkers runs n goroutines until d has passed (each polls stop), and returns the wall and CPU time used.
func runWorkers(n int, d time.Duration, work func(i int, stop *atomic.Bool)) (wall, cpu time.Duration) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	cpu0, t0 := cpuTime(), time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); work(i, &stop) }(i)
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return time.Since(t0), cpuTime() - cpu0
}

func emit(bench, impl string, threads int, metrics string) {
	fmt.Printf("{\"bench\":%q,\"impl\":%q,\"threads\":%d,%s}\n", bench, impl, threads, metrics)
}

// hist is the latency histogram of benches/c/bench.c: 32 buckets per power of two, exact max.
type hist struct {
	count                      [32 + 40*32]uint64
	n, max, over100us, over1ms uint64
}

func (h *hist) add(d time.Duration) {
	v := uint64(d)
	idx := int(v)
	if v >= 32 {
		e := 63 - bits.LeadingZeros64(v)
		idx = min(32+(e-5)*32+int((v>>(e-5))&31), len(h.count)-1)
	}
	h.count[idx]++
	h.n++
	h.max = max(h.max, v)
	if v > 1e5 {
		h.over100us++
	}
	if v > 1e6 {
		h.over1ms++
	}
}

func (h *hist) merge(o *hist) {
	for i := range h.count {
		h.count[i] += o.count[i]
	}
	h.n += o.n
	h.over100us += o.over100us
	h.over1ms += o.over1ms
	h.max = max(h.max, o.max)
}

func (h *hist) quantile(q float64) uint64 {
	want, seen := uint64(q*float64(h.n)), uint64(0)
	for i, c := range h.count {
		seen += c
		if seen > want {
			if i < 32 {
				return uint64(i)
			}
			e, sub := (i-32)/32+5, uint64((i-32)%32)
			mid := (32+sub)<<(e-5) + (1<<(e-5))/2
			return min(mid, h.max)
		}
	}
	return h.max
}
