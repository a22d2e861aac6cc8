package x8

import (
	"context"
	"fmt"
	"time"
)

// OAuth2Token has the field names and types of golang.org/x/oauth2's Token that a bearer token needs, so that
// code built on oauth2 can use x8 without this package depending on oauth2. TokenType is always "Bearer": 8x8
// sends "BearerToken", which oauth2 would put into the Authorization header as is, and 8x8 expects "Bearer".
type OAuth2Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time
}

// String describes the token without its value.
func (t OAuth2Token) String() string {
	return fmt.Sprintf("x8.OAuth2Token{TokenType: %q, Expiry: %s, AccessToken: <redacted>}",
		t.TokenType, t.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the value too.
func (t OAuth2Token) GoString() string { return t.String() }

// TokenSource has the shape of golang.org/x/oauth2's TokenSource.
type TokenSource interface {
	Token() (*OAuth2Token, error)
}

// TokenSource returns a source of this client's token for code built on golang.org/x/oauth2 (anything that
// takes an oauth2.TokenSource). Every call asks the client, which answers from its cache and renews the token
// ahead of expiry, so there is no need to wrap it in oauth2.ReuseTokenSource, which would keep serving a token
// that x8 has dropped as revoked (oauth2.NewClient wraps it so; build the oauth2.Transport directly). Token has
// no context: each call is bounded by the client's WithTimeout.
//
// Adapting it to oauth2 takes a few lines:
//
//	type x8Source struct{ src x8.TokenSource }
//
//	func (s x8Source) Token() (*oauth2.Token, error) {
//		t, err := s.src.Token()
//		if err != nil {
//			return nil, err
//		}
//		return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
//	}
//
//	httpClient := &http.Client{Transport: &oauth2.Transport{Source: x8Source{client.TokenSource()}}}
func (c *Client) TokenSource() TokenSource { return tokenSource{c} }

type tokenSource struct{ c *Client }

func (s tokenSource) Token() (*OAuth2Token, error) {
	t, err := s.c.Token(context.Background())
	if err != nil {
		return nil, err
	}
	return &OAuth2Token{AccessToken: t.Value, TokenType: "Bearer", Expiry: t.Expiry}, nil
}
