// Command realtime_pages lists every Contact Center queue of the realtime analytics API, page by page
// (X-Page, X-Total-Pages and Link rel="next" headers), with Client.Pages and Client.Items.
//
// Credentials come from X8_CLIENT_ID and X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator).
// A European tenant's path starts with /eu (/au, /ca likewise).
package main

import (
	"context"
	"encoding/json"
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // for the whole listing
	defer cancel()

	const queues = "/analytics/cc/v5/realtime-metrics/queues?size=3"
	pages := 0
	for page, err := range client.Pages(ctx, "GET", queues, nil, nil, x8.PageAuto) {
		if err != nil {
			log.Fatal(err)
		}
		if page.StatusCode != 200 {
			log.Fatalf("HTTP %d: %s", page.StatusCode, page.Body)
		}
		pages++
		fmt.Printf("page %s of %s (%v)\n", page.Header.Get("X-Page"), page.Header.Get("X-Total-Pages"), page.PageStyle)
	}
	n := 0
	for item, err := range client.Items(ctx, "GET", queues, nil, nil, x8.PageHeaders) {
		if err != nil {
			log.Fatal(err)
		}
		var queue struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(item, &queue); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  queue %s %s\n", queue.ID, queue.Name)
		n++
	}
	fmt.Printf("%d queues in %d pages\n", n, pages)
}
