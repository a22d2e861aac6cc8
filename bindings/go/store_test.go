package x8

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestVersionNumMatchesHeader(t *testing.T) {
	if VersionNum() != HeaderVersionNum {
		t.Fatalf("libx8 %d was linked, but x8.h %d compiled in", VersionNum(), HeaderVersionNum)
	}
}

// mapStore is a TokenStore in memory, shared by the clients of one test as a fleet shares Redis.
type mapStore struct {
	mu      sync.Mutex
	records map[string]string
	locked  map[string]bool
	calls   map[string]int
	fail    bool
}

func newMapStore() *mapStore {
	return &mapStore{records: map[string]string{}, locked: map[string]bool{}, calls: map[string]int{}}
}

func (s *mapStore) count(call string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[call]++
	if s.fail {
		return errors.New("the store is down")
	}
	return nil
}

func (s *mapStore) Load(key string) (string, bool, error) {
	if err := s.count("load"); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[key]
	return r, ok, nil
}

func (s *mapStore) Store(key, record string, ttl time.Duration) error {
	if err := s.count("store"); err != nil {
		return err
	}
	if ttl <= 0 {
		return errors.New("a record must have a TTL")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key] = record
	return nil
}

func (s *mapStore) Remove(key, record string) error {
	if err := s.count("remove"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records[key] == record {
		delete(s.records, key)
	}
	return nil
}

func (s *mapStore) Lock(key string, ttl time.Duration) (bool, error) {
	if err := s.count("lock"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[key] {
		return false, nil
	}
	s.locked[key] = true
	return true, nil
}

func (s *mapStore) Unlock(key string) error {
	if err := s.count("unlock"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locked, key)
	return nil
}

func TestTwoClientsShareOneTokenThroughATokenStore(t *testing.T) {
	e := newEmulator(t)
	store := newMapStore()
	ctx := context.Background()
	first, err := newTestClient(t, e, WithTokenStore(store)).AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := newTestClient(t, e, WithTokenStore(store))
	value, err := second.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if value != first {
		t.Fatal("the second client did not take the stored token")
	}
	if got := e.stats(t).TokensIssued; got != 1 {
		t.Fatalf("%d tokens issued for two clients sharing a store", got)
	}
	s, err := second.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.StoreHits != 1 || s.StoreErrors != 0 {
		t.Fatalf("store hits %d, errors %d", s.StoreHits, s.StoreErrors)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.calls["lock"] != 1 || store.calls["unlock"] != 1 {
		t.Fatalf("the locker was not used around the one fetch: %v", store.calls)
	}
}

func TestABrokenTokenStoreNeverFailsACall(t *testing.T) {
	e := newEmulator(t)
	store := newMapStore()
	store.fail = true
	c := newTestClient(t, e, WithTokenStore(store))
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatalf("a failing store failed the call: %v", err)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.StoreErrors == 0 {
		t.Fatal("the store's failures were not counted")
	}
}

type panickingStore struct{ *mapStore }

func (panickingStore) Load(string) (string, bool, error) { panic("the application's store panicked") }

func TestAPanickingTokenStoreIsAFailureNotACrash(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e, WithTokenStore(panickingStore{newMapStore()}))
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatalf("a panicking store failed the call: %v", err)
	}
}

func TestTwoClientsShareOneTokenThroughTheCacheFile(t *testing.T) {
	e := newEmulator(t)
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := newTestClient(t, e, WithTokenCache(dir)).AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	second := newTestClient(t, e, WithTokenCache(dir))
	if _, err := second.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := second.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.StoreHits != 1 || e.stats(t).TokensIssued != 1 {
		t.Fatalf("store hits %d, tokens issued %d", s.StoreHits, e.stats(t).TokensIssued)
	}
}

func TestARedisURLIsCheckedByNewClient(t *testing.T) {
	e := newEmulator(t)
	_, err := NewClient(demoID, demoSecret, WithBaseURL(e.URL), WithRedisStore("nonsense"))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("a bad Redis URL gave %v, not ErrConfig", err)
	}
}

func TestInvalidateTokenDropsOnlyTheRejectedToken(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()
	old, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dropped, err := c.InvalidateToken("not-the-current-token"); err != nil || dropped {
		t.Fatalf("a token that is not current was dropped (%v, %v)", dropped, err)
	}
	if dropped, err := c.InvalidateToken(old); err != nil || !dropped {
		t.Fatalf("the current token was not dropped (%v, %v)", dropped, err)
	}
	fresh, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old {
		t.Fatal("the dropped token was served again")
	}
}

func TestHasProductAsksTheCurrentToken(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Products) == 0 {
		t.Fatal("the emulator's demo key carries every OAuth product; a token with none means the emulator changed")
	}
	has, err := c.HasProduct(tok.Products[0])
	if err != nil || !has {
		t.Fatalf("HasProduct(%q) = %v, %v", tok.Products[0], has, err)
	}
	if has, _ := c.HasProduct("no such product"); has {
		t.Fatal("a product the token lacks was reported")
	}
}
