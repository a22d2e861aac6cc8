package main

// The Go baseline: golang.org/x/oauth2's clientcredentials.Config, whose TokenSource is a ReuseTokenSource (a
// mutex and a time.Now() per call; callers block while it fetches), and net/http with oauth2.Transport.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// transport is what a Go service tunes for many requests to one host: without MaxIdleConnsPerHost (default 2)
// 8 concurrent callers would open new connections all the time. Loopback never goes through a proxy.
func transport() *http.Transport {
	return &http.Transport{Proxy: nil, MaxIdleConns: 64, MaxIdleConnsPerHost: 32}
}

func config() *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		TokenURL:     baseURL + "/oauth/v2/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
}

func tokenContext(t *http.Transport) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: t})
}

// bearerSource forces the "Bearer" scheme: x/oauth2 normalises only "bearer", so for 8x8's token_type
// "BearerToken" it would send "Authorization: BearerToken ...", which the API (and the emulator) refuse.
type bearerSource struct{ inner oauth2.TokenSource }

func (s bearerSource) Token() (*oauth2.Token, error) {
	t, err := s.inner.Token()
	if err != nil {
		return nil, err
	}
	fixed := *t
	fixed.TokenType = "Bearer"
	return &fixed, nil
}

const oauth2Impl = "Go x/oauth2 ReuseTokenSource"

// Row 1: a cached hit, ReuseTokenSource.Token(), on 1, 2, 8 and 32 goroutines sharing one source.
func benchOAuth2Hit() {
	setTokenLifetime(1799)
	ts := config().TokenSource(tokenContext(transport()))
	if _, err := ts.Token(); err != nil {
		die("first Token(): %v", err)
	}
	for rep := 0; rep < reps(); rep++ {
		for _, n := range []int{1, 2, 8, 32} {
			calls := make([]uint64, n)
			wall, cpu := runWorkers(n, seconds(0.4), func(i int, stop *atomic.Bool) {
				for !stop.Load() {
					for j := 0; j < 64; j++ {
						if _, err := ts.Token(); err != nil {
							die("Token(): %v", err)
						}
					}
					calls[i] += 64
				}
			})
			total := uint64(0)
			for _, c := range calls {
				total += c
			}
			emit("hit", oauth2Impl, n, fmt.Sprintf(`"ns_per_call":%.2f,"cpu_ns_per_call":%.2f,"calls_per_s":%.0f`,
				float64(wall)*float64(n)/float64(total), float64(cpu)/float64(total), float64(total)/wall.Seconds()))
		}
	}
}

// Row 2: rollover with 3 s tokens, 8 goroutines timing every Token() call, in bursts of 100 calls with a 1 ms
// pause after each, as in benches/c/rollover.c (so that a slow call means a blocked caller, not a preempted one).
// The early expiry is set to x8's safety margin for such a token (a tenth of its life): the default 10 s would
// make every call a fetch.
func benchOAuth2Rollover() {
	const threads, lifetime = 8, 3
	setTokenLifetime(lifetime)
	resetStats()
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, config().TokenSource(tokenContext(transport())), 300*time.Millisecond)
	if _, err := ts.Token(); err != nil { // a cached token first
		die("first Token(): %v", err)
	}
	hists := make([]hist, threads)
	d := seconds(15)
	runWorkers(threads, d, func(i int, stop *atomic.Bool) {
		for !stop.Load() {
			for j := 0; j < 100; j++ {
				t0 := time.Now()
				_, err := ts.Token()
				hists[i].add(time.Since(t0))
				if err != nil {
					die("Token(): %v", err)
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	var all hist
	for i := range hists {
		all.merge(&hists[i])
	}
	fetches := stat("token_requests")
	setTokenLifetime(1799)
	emit("rollover", oauth2Impl, threads, fmt.Sprintf(`"seconds":%.1f,"lifetime_s":%d,"calls":%d,"p50_ns":%d,`+
		`"p99_ns":%d,"max_ns":%d,"over_100us":%d,"over_1ms":%d,"fetches":%d,"fetches_per_lifetime":%.2f`,
		d.Seconds(), lifetime, all.n, all.quantile(0.5), all.quantile(0.99), all.max, all.over100us, all.over1ms, fetches,
		float64(fetches)*lifetime/d.Seconds()))
}

// Row 3: authenticated GETs through net/http with oauth2.Transport, 1 and 8 concurrent callers.
func benchOAuth2Get() {
	setTokenLifetime(1799)
	base := transport()
	client := &http.Client{
		Transport: &oauth2.Transport{Source: bearerSource{config().TokenSource(tokenContext(base))}, Base: base},
		Timeout:   30 * time.Second,
	}
	url := baseURL + getPath
	get := func() {
		resp, err := client.Get(url)
		if err != nil {
			die("GET: %v", err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			die("GET answered %d (%v)", resp.StatusCode, err)
		}
	}
	get() // token fetched and a connection open before anything is measured
	for rep := 0; rep < reps(); rep++ {
		for _, n := range []int{1, 8} {
			hists := make([]hist, n)
			resetStats()
			wall, cpu := runWorkers(n, seconds(1.5), func(i int, stop *atomic.Bool) {
				for !stop.Load() {
					t0 := time.Now()
					get()
					hists[i].add(time.Since(t0))
				}
			})
			emitGet("Go net/http + x/oauth2 Transport", n, hists, wall, cpu)
		}
	}
}

func emitGet(impl string, n int, hists []hist, wall, cpu time.Duration) {
	var all hist
	for i := range hists {
		all.merge(&hists[i])
	}
	emit("get", impl, n, fmt.Sprintf(`"requests":%d,"requests_per_s":%.0f,"median_us":%.1f,"p99_us":%.1f,`+
		`"max_us":%.1f,"cpu_us_per_request":%.2f,"connections":%d,"token_requests":%d`,
		all.n, float64(all.n)/wall.Seconds(), float64(all.quantile(0.5))/1e3, float64(all.quantile(0.99))/1e3,
		float64(all.max)/1e3,
		float64(cpu.Microseconds())/float64(all.n), stat("connections"), stat("token_requests")))
}
