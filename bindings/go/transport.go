package x8

import (
	"bytes"
	"io"
	"net/http"
)

// Transport returns an http.RoundTripper that authenticates the requests of a plain *http.Client with this
// client's cached token, for code that wants net/http itself (streaming bodies, its own retries...):
//
//	hc := &http.Client{Transport: client.Transport(nil)}
//	resp, err := hc.Get("https://api.8x8.com/analytics/cc/v5/realtime-metrics/queues")
//
// Every request to the base URL's origin is sent as a clone carrying "Authorization: Bearer <token>" (the
// caller's request is never modified). Requests to any other origin — a redirect to a download host, say — go
// out unchanged, so the token never leaves its origin. When the API answers 401 because it rejected the token,
// the token is dropped and the request is sent once more with a new one, if its body can be replayed (no body,
// or http.Request.GetBody set, as http.NewRequest does for bytes, strings and bytes.Buffer readers). A 401 for a
// key that lacks the API's product is returned as is: a new token would not change it.
//
// base sends the requests; nil means http.DefaultTransport. The request's context bounds the token fetch as in
// AccessToken.
func (c *Client) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &roundTripper{client: c, base: base}
}

type roundTripper struct {
	client *Client
	base   http.RoundTripper
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if originOf(req.URL) != rt.client.origin {
		return rt.base.RoundTrip(req)
	}
	resp, sent, err := rt.send(req, req.Body)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if !rejectsToken(resp) {
		return resp, nil
	}
	body, ok := replayBody(req)
	if !ok {
		return resp, nil
	}
	// Only the token this request carried: a successor another goroutine already fetched stays.
	if _, err := rt.client.InvalidateToken(sent); err != nil {
		closeBody(body)
		return resp, nil // closed meanwhile: the caller gets the 401 it would have got without a replay
	}
	rt.client.countReplay()
	// Read what is left of the rejected response so that its connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp, _, err = rt.send(req, body)
	return resp, err
}

// send sends a clone of req with body and a bearer token, and returns the token it sent. Like any
// RoundTripper it closes body, also on error.
func (rt *roundTripper) send(req *http.Request, body io.ReadCloser) (*http.Response, string, error) {
	token, err := rt.client.AccessToken(req.Context())
	if err != nil {
		closeBody(body)
		return nil, "", err
	}
	out := req.Clone(req.Context())
	out.Body = body
	out.Header.Set("Authorization", "Bearer "+token)
	resp, err := rt.base.RoundTrip(out)
	return resp, token, err
}

// replayBody returns a fresh copy of req's body for a second attempt, and false when there is none to be had.
func replayBody(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return body, true
}

// productFault is the Apigee error code of a 401 that is about the key's products, not the token.
var productFault = []byte("InvalidAPICallAsNoApiProductMatchFound")

// rejectsToken reports whether a 401 is worth a new token, by peeking at the start of its body; the body stays
// readable by the caller either way.
func rejectsToken(resp *http.Response) bool {
	head, err := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return err == nil && !bytes.Contains(head, productFault)
}

func closeBody(body io.ReadCloser) {
	if body != nil {
		body.Close()
	}
}
