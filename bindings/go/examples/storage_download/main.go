// Command storage_download finds the customer's Cloud Storage regions, searches one for call recordings
// (pageKey/limit paging until lastPage), and downloads the first through its presigned URL with
// Client.FetchURL, which sends no Authorization header (the URL's query is its own credential).
//
// Credentials come from X8_CLIENT_ID and X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log"
	"net/url"
	"time"

	x8 "github.com/x8-dev/x8/bindings/go"
)

func main() {
	client, err := x8.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Any valid region answers the list of the customer's regions.
	regionsReply, err := client.Do(ctx, "GET", "/storage/us-west/v3/regions", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	var regions []string
	if err := json.Unmarshal(regionsReply.Body, &regions); err != nil || len(regions) == 0 {
		log.Fatalf("regions: %v %s", err, regionsReply.Body)
	}
	base := "/storage/" + regions[0] + "/v3"
	fmt.Printf("regions %v; searching %s\n", regions, base)

	search := base + "/objects?limit=5&filter=" + url.QueryEscape("type==callrecording,type==callcenterrecording")
	var first struct {
		ID         string `json:"id"`
		ObjectName string `json:"objectName"`
		Checksum   string `json:"checksum"`
	}
	found := 0
	for item, err := range client.Items(ctx, "GET", search, nil, nil, x8.PageBodyOffset) {
		if err != nil {
			log.Fatal(err)
		}
		if found == 0 {
			if err := json.Unmarshal(item, &first); err != nil {
				log.Fatal(err)
			}
		}
		found++
	}
	fmt.Printf("%d recordings\n", found)
	if found == 0 {
		return
	}

	linkReply, err := client.Do(ctx, "GET", base+"/objects/"+first.ID+"/content?presignUrl=true", nil, nil)
	if err != nil || linkReply.StatusCode != 200 {
		log.Fatalf("presign: %v %v", err, linkReply)
	}
	// The reply's form is not documented: a JSON object, or the bare URL as text.
	var link struct {
		PresignedURL string `json:"presignedUrl"`
	}
	if json.Unmarshal(linkReply.Body, &link) != nil || link.PresignedURL == "" {
		link.PresignedURL = string(linkReply.Body)
	}
	content, err := client.FetchURL(ctx, "GET", link.PresignedURL, nil)
	if err != nil || content.StatusCode != 200 {
		log.Fatalf("download: %v %v", err, content)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(content.Body))
	fmt.Printf("downloaded %s: %d bytes without Authorization, SHA-256 %s (catalog says %s)\n",
		first.ObjectName, len(content.Body), sum, first.Checksum)
	if first.Checksum != "" && first.Checksum != sum {
		log.Fatal("checksum mismatch")
	}
}
