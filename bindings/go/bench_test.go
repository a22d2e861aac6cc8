package x8

import (
	"context"
	"testing"
)

// go test -run '^$' -bench . (with the environment test.sh sets): the cost of a cache hit through cgo.

func BenchmarkAccessTokenCached(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.AccessToken(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The same hit under a context that can be cancelled: each call carries an x8_cancel (see cancelFor).
func BenchmarkAccessTokenCachedCancellableContext(b *testing.B) {
	c := benchClient(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.AccessToken(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTokenSnapshotCached(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func benchClient(b *testing.B) *Client {
	c, err := NewClient(demoID, demoSecret, WithBaseURL(shared.URL))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.AccessToken(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}
