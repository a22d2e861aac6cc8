package x8_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	x8 "github.com/x8-dev/x8/bindings/go"
)

// These examples talk to api.8x8.com with a real key, so they are compiled but not run.

func ExampleNewClient() {
	client, err := x8.NewClient(os.Getenv("X8_CLIENT_ID"), os.Getenv("X8_CLIENT_SECRET"),
		x8.WithTimeout(10*time.Second),
		x8.WithLogger(func(level int, msg string) { log.Printf("x8[%d]: %s", level, msg) }))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	token, err := client.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("realtime metrics allowed:", token.HasProduct("analytics realtime-api"), "until", token.Expiry)
}

func ExampleNewClientFromEnv() {
	// X8_CLIENT_ID and X8_CLIENT_SECRET, and optionally X8_BASE_URL (e.g. https://api.8x8.com/eu).
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}

func ExampleClient_Do() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := client.Do(ctx, "GET", "/analytics/cc/v5/realtime-metrics/queues?page=0&size=100", nil,
		http.Header{"X-Tenant-Info": {"acme"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, "page", resp.Header.Get("X-Page"), "of", resp.Header.Get("X-Total-Pages"))
}

func ExampleClient_Transport() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	hc := &http.Client{Transport: client.Transport(nil), Timeout: 30 * time.Second}
	resp, err := hc.Get("https://api.8x8.com/analytics/cc/v5/realtime-metrics/queues")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
}

func ExampleClient_AccessToken() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	token, err := client.AccessToken(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest("GET", "https://api.8x8.com/storage/us-west/v3/regions", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

func ExampleClient_TokenSource() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// Anything that wants an oauth2.TokenSource gets an adapter like this one (see TokenSource's doc).
	var src x8.TokenSource = client.TokenSource()
	tok, err := src.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, "token valid until", tok.Expiry)
}

func ExampleError() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.Do(context.Background(), "GET", "/analytics/cc/v5/realtime-metrics/queues", nil, nil)
	var xe *x8.Error
	switch {
	case errors.Is(err, x8.ErrAuth) && errors.As(err, &xe):
		log.Fatalf("the API key was refused (HTTP %d): %s", xe.HTTPStatus, xe.Message)
	case errors.Is(err, x8.ErrNotEntitled):
		log.Fatal("add the analytics realtime-api product to the key in 8x8 Admin Console: ", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, x8.ErrTimeout):
		log.Print("8x8 did not answer in time; try again later")
	case err != nil:
		log.Fatal(err)
	}
}
