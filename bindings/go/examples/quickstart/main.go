// Command quickstart gets a token and calls the Contact Center realtime queues endpoint, like the C quickstart.
//
// Credentials come from X8_CLIENT_ID and X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator).
// With real credentials and no X8_BASE_URL it talks to https://api.8x8.com.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	x8 "github.com/x8-dev/x8/bindings/go"
)

func main() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token, err := client.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token expires at %s; products: %v\n", token.Expiry.UTC().Format(time.RFC3339), token.Products)

	resp, err := client.Do(ctx, "GET", "/analytics/cc/v5/realtime-metrics/queues", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GET queues -> HTTP %d, %d bytes\n%s\n", resp.StatusCode, len(resp.Body), resp.Body)
}
