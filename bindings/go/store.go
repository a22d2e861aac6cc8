package x8

// #include <stdbool.h>
// #include <stdint.h>
// #include "x8.h"
//
// // The Go TokenStore behind a client, called through libx8's x8_token_store (see store_export.go).
// extern int32_t x8goStoreLoad(uintptr_t store_id, char *key, char *buf, size_t buf_len, size_t *record_len);
// extern int32_t x8goStoreSave(uintptr_t store_id, char *key, char *record, int64_t ttl_ms);
// extern int32_t x8goStoreLock(uintptr_t store_id, char *key, int64_t ttl_ms);
// extern int32_t x8goStoreUnlock(uintptr_t store_id, char *key);
// extern int32_t x8goStoreRemove(uintptr_t store_id, char *key, char *record);
//
// // user_data is a store id, never a Go pointer (cgo forbids C keeping one).
// static int32_t x8go_store_load(void *ud, const char *key, char *buf, size_t buf_len, size_t *record_len) {
//     return x8goStoreLoad((uintptr_t)ud, (char *)key, buf, buf_len, record_len);
// }
// static int32_t x8go_store_save(void *ud, const char *key, const char *record, int64_t ttl_ms) {
//     return x8goStoreSave((uintptr_t)ud, (char *)key, (char *)record, ttl_ms);
// }
// static int32_t x8go_store_lock(void *ud, const char *key, int64_t ttl_ms) {
//     return x8goStoreLock((uintptr_t)ud, (char *)key, ttl_ms);
// }
// static int32_t x8go_store_unlock(void *ud, const char *key) {
//     return x8goStoreUnlock((uintptr_t)ud, (char *)key);
// }
// static int32_t x8go_store_remove(void *ud, const char *key, const char *record) {
//     return x8goStoreRemove((uintptr_t)ud, (char *)key, (char *)record);
// }
//
// static x8_status x8go_set_store(x8_options *opts, uintptr_t store_id, bool locking, x8_error **err) {
//     x8_token_store s = {sizeof s, (void *)store_id, x8go_store_load, x8go_store_save,
//                         locking ? x8go_store_lock : NULL, locking ? x8go_store_unlock : NULL, x8go_store_remove};
//     return x8_options_set_token_store(opts, &s, err);
// }
import "C"

import (
	"sync"
	"sync/atomic"
	"time"
)

// TokenStore is the application's own store for the token its processes share, on one host or many (Redis,
// memcached, a database), behind libx8's x8_token_store. Keys are short ASCII strings ("x8:token:" and 64 hex
// digits); records are JSON text holding the access token and its expiry, never the secret, so keep them where
// only the application's processes can read them.
//
// Methods are called from any goroutine, concurrently, including for libx8's background renewal; they must not
// call the Client that calls them. An error (or a panic, which is recovered) makes the client fetch the token
// by itself with a warning through WithLogger: a broken store never fails a request.
type TokenStore interface {
	// Load returns the record under key, or found == false when there is none (or it expired).
	Load(key string) (record string, found bool, err error)
	// Store saves record under key, replacing any other; it may be forgotten after ttl, when its token expires.
	Store(key, record string, ttl time.Duration) error
	// Remove deletes the record under key only if it is still exactly record (the API refused its token).
	Remove(key, record string) error
}

// TokenStoreLocker is implemented by a TokenStore that can hold a lock per key, so that processes needing a
// token at the same moment fetch it once: Lock takes it without waiting (taken == false when someone else holds
// it) and it must free itself after ttl even if its holder dies; Unlock releases it.
type TokenStoreLocker interface {
	Lock(key string, ttl time.Duration) (taken bool, err error)
	Unlock(key string) error
}

// WithTokenStore keeps the shared token in the application's store (see TokenStore; a store that also
// implements TokenStoreLocker is locked around fetches). Replaces WithTokenCache and WithRedisStore.
func WithTokenStore(s TokenStore) Option {
	return func(c *config) { c.store, c.tokenCache, c.redisURL = s, nil, nil }
}

// The stores of live clients, by the id libx8 hands back to the x8goStore* functions; removed when the client
// is freed, after which libx8 calls none of its callbacks.
var (
	stores      sync.Map // uintptr -> TokenStore
	lastStoreID atomic.Uintptr
)

func registerStore(s TokenStore) uintptr {
	if s == nil {
		return 0
	}
	id := lastStoreID.Add(1)
	stores.Store(id, s)
	return id
}

func unregisterStore(id uintptr) {
	if id != 0 {
		stores.Delete(id)
	}
}

func storeOf(id C.uintptr_t) (TokenStore, bool) {
	s, ok := stores.Load(uintptr(id))
	if !ok {
		return nil, false
	}
	return s.(TokenStore), true
}

func setStore(opts *C.x8_options, id uintptr, s TokenStore, cerr **C.x8_error) C.x8_status {
	_, locking := s.(TokenStoreLocker)
	return C.x8go_set_store(opts, C.uintptr_t(id), C.bool(locking), cerr)
}

func millisOf(ms C.int64_t) time.Duration { return time.Duration(ms) * time.Millisecond }
