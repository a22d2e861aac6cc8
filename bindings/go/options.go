package x8

// #include <stdlib.h>
// #include <stdint.h>
// #include "x8.h"
//
// // The Go logger behind a client, called through libx8's log callback (see log_export.go).
// extern void x8goLog(uintptr_t logger_id, int32_t level, char *message);
//
// // libx8 passes user_data back untouched: here it is a logger id, never a Go pointer (cgo forbids C keeping one).
// static void x8go_log_trampoline(void *user_data, int32_t level, const char *message) {
//     x8goLog((uintptr_t)user_data, level, (char *)message);
// }
//
// static x8_status x8go_set_logger(x8_options *opts, uintptr_t logger_id, int32_t max_level, x8_error **err) {
//     return x8_options_set_log_callback(opts, x8go_log_trampoline, (void *)logger_id, max_level, err);
// }
import "C"

import (
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Log levels passed to a WithLogger function (x8.h's X8_LOG_*); a smaller number is more severe.
const (
	LogError = C.X8_LOG_ERROR
	LogWarn  = C.X8_LOG_WARN
	LogInfo  = C.X8_LOG_INFO
	LogDebug = C.X8_LOG_DEBUG
)

// Defaults documented in x8.h that the binding needs to know itself.
const (
	defaultBaseURL = "https://api.8x8.com"
	defaultTimeout = 30 * time.Second
)

// ClientAuth is how the client authenticates at the token endpoint (WithClientAuth).
type ClientAuth int32

const (
	ClientAuthBasic        ClientAuth = C.X8_CLIENT_AUTH_BASIC         // 8x8's raw Basic base64(id:secret) (default)
	ClientAuthBasicRFC6749 ClientAuth = C.X8_CLIENT_AUTH_BASIC_RFC6749 // RFC 6749 §2.3.1: id and secret form-encoded first
	ClientAuthPost         ClientAuth = C.X8_CLIENT_AUTH_POST          // client_secret_post: both in the form body
)

// TLSRoots is which roots HTTPS trusts (WithTLSRoots).
type TLSRoots int32

const (
	RootsPlatform   TLSRoots = C.X8_ROOTS_PLATFORM    // the platform's verifier: the OS store (default)
	RootsCompiledIn TLSRoots = C.X8_ROOTS_COMPILED_IN // Mozilla's roots built into libx8
)

// CAMode is what the CA file does to the roots (WithCAMode).
type CAMode int32

const (
	CAAdd     CAMode = C.X8_CA_ADD     // trusted besides the roots (default)
	CAReplace CAMode = C.X8_CA_REPLACE // only its certificates are trusted
)

type pair struct{ name, value string }

type rateLimit struct {
	requests uint32
	interval time.Duration
}

// Option configures a Client (see NewClient). Options left out keep libx8's defaults.
type Option func(*config)

type retries struct {
	max            int
	base, maxDelay time.Duration
}

// config collects the options; nil means "libx8's default". Errors (a negative duration...) are reported by
// NewClient, so options stay plain functions.
type config struct {
	baseURL, tokenURL, userAgent, caFile, proxy *string
	timeout, connectTimeout, refreshMargin      *time.Duration
	maxBodyBytes                                *uint64
	retries                                     *retries
	replayOn401                                 *bool
	tokenCache, redisURL                        *string
	clientAuth                                  *ClientAuth
	tokenScope                                  *string
	tokenParams, defaultHeaders                 []pair
	tlsRoots                                    *TLSRoots
	caMode                                      *CAMode
	apiRetries                                  *uint32
	rateLimit                                   *rateLimit
	store                                       TokenStore
	logger                                      func(level int, msg string)
	logLevel                                    int
}

// WithBaseURL sets the APIs' base URL (default "https://api.8x8.com"); Do paths are relative to it and the
// token is only ever sent to its origin. http:// is accepted for loopback hosts only (the emulator).
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = &u } }

// WithTokenURL sets the token endpoint (default: the base URL's origin + "/oauth/v2/token").
func WithTokenURL(u string) Option { return func(c *config) { c.tokenURL = &u } }

// WithTimeout bounds one whole call (default 30s): a token fetch with its retries, or a request with its token
// fetch and replay. A context deadline can shorten it per call, never lengthen it.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = &d } }

// WithConnectTimeout bounds TCP + TLS connection setup (default 10s).
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = &d } }

// WithRefreshMargin sets how long before expiry the token is renewed in the background (default 5 minutes; for
// short-lived tokens at most a fifth of the lifetime). 0 renews only at the expiry safety margin.
func WithRefreshMargin(d time.Duration) Option { return func(c *config) { c.refreshMargin = &d } }

// WithUserAgent sets the User-Agent header (default "x8/<version>").
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = &ua } }

// WithCAFile trusts the CA certificates of a PEM file (a corporate or test CA), besides the roots by default
// (see WithCAMode).
func WithCAFile(path string) Option { return func(c *config) { c.caFile = &path } }

// WithCAMode sets what the CA file does: CAAdd (default) or CAReplace.
func WithCAMode(mode CAMode) Option { return func(c *config) { c.caMode = &mode } }

// WithTLSRoots chooses the roots HTTPS (and a rediss:// store) trusts: RootsPlatform (default: the OS store, on Linux the system bundle
// or SSL_CERT_FILE) or RootsCompiledIn (Mozilla's roots built into libx8).
func WithTLSRoots(roots TLSRoots) Option { return func(c *config) { c.tlsRoots = &roots } }

// WithClientAuth sets how the credentials go to the token endpoint (default ClientAuthBasic, 8x8's).
func WithClientAuth(style ClientAuth) Option { return func(c *config) { c.clientAuth = &style } }

// WithTokenScope sends an OAuth scope with each token request (none by default; 8x8 needs none).
func WithTokenScope(scope string) Option { return func(c *config) { c.tokenScope = &scope } }

// WithTokenParam adds a form parameter to each token request (audience, resource...).
func WithTokenParam(name, value string) Option {
	return func(c *config) { c.tokenParams = append(c.tokenParams, pair{name, value}) }
}

// WithDefaultHeader sends a header with every request of the client (X-Tenant-Info, QM's pbx); a header of the
// same name given to Do replaces it. Authorization, Host and the framing headers are refused by NewClient.
func WithDefaultHeader(name, value string) Option {
	return func(c *config) { c.defaultHeaders = append(c.defaultHeaders, pair{name, value}) }
}

// WithAPIRetries retries an idempotent API request (GET, HEAD, PUT, DELETE, OPTIONS) answered 429 or 503 up to
// max times (default 0, at most 20), after Retry-After or a jittered backoff, within the call's deadline; POST
// and PATCH never. Counted in Stats().APIRetries.
func WithAPIRetries(max uint32) Option { return func(c *config) { c.apiRetries = &max } }

// WithRateLimit lets at most requests API requests start per interval; callers wait their turn within their
// deadline (ErrTimeout, nothing sent, when it would come too late). Counted in Stats().RateLimitWaits.
func WithRateLimit(requests uint32, interval time.Duration) Option {
	return func(c *config) { c.rateLimit = &rateLimit{requests, interval} }
}

// WithProxy sets the HTTP(S) proxy, e.g. "http://proxy:3128". By default HTTPS_PROXY, ALL_PROXY, NO_PROXY...
// are honoured; "" disables proxies altogether.
func WithProxy(proxyURL string) Option { return func(c *config) { c.proxy = &proxyURL } }

// WithMaxBodyBytes sets the largest response body accepted (default 64 MiB); a larger one fails with
// ErrBodyTooLarge.
func WithMaxBodyBytes(n uint64) Option { return func(c *config) { c.maxBodyBytes = &n } }

// WithRetries sets how often a token fetch that failed transiently (5xx, 429, network) is retried (default 3,
// at most 20), waiting from base to maxDelay with exponential growth and jitter (defaults 250ms and 8s).
func WithRetries(max int, base, maxDelay time.Duration) Option {
	return func(c *config) { c.retries = &retries{max: max, base: base, maxDelay: maxDelay} }
}

// WithReplayOn401 sets whether a request whose token the API rejects is sent once more with a new token
// (default true).
func WithReplayOn401(enabled bool) Option { return func(c *config) { c.replayOn401 = &enabled } }

// WithTokenCache keeps the token in a cache file in dir, shared by this host's processes (also X8_TOKEN_CACHE):
// short-lived processes then reuse one token instead of fetching one each. The file has mode 0600, is written
// atomically under a file lock and never holds the secret; a folder that cannot be used falls back to the
// in-process cache with a warning, never an error. Replaces WithRedisStore.
func WithTokenCache(dir string) Option {
	return func(c *config) { c.tokenCache, c.redisURL, c.store = &dir, nil, nil }
}

// WithRedisStore keeps the token in Redis, shared by processes on many hosts (also X8_REDIS_URL): url is
// redis://[[user]:password@]host[:port][/db], rediss://... (TLS, trusted as HTTPS is: WithTLSRoots, WithCAFile,
// WithCAMode) or unix:///path/to/redis.sock. Processes that need a token at the
// same moment fetch it once; a Redis that is down makes the client fetch by itself (with a warning), never fail.
// Replaces WithTokenCache.
func WithRedisStore(url string) Option {
	return func(c *config) { c.redisURL, c.tokenCache, c.store = &url, nil, nil }
}

// WithLogger receives libx8's diagnostics at LogInfo or more severe (see WithLogLevel). Messages never contain
// the secret or a token. fn is called from any goroutine, including for libx8's background refresh thread, so
// it must be safe for concurrent use. A panic in fn is recovered and dropped: it must not unwind through libx8.
func WithLogger(fn func(level int, msg string)) Option { return func(c *config) { c.logger = fn } }

// WithLogLevel sets the least severe level passed to the WithLogger function (LogError ... LogDebug).
func WithLogLevel(level int) Option { return func(c *config) { c.logLevel = level } }

func newConfig(opts []Option) *config {
	cfg := &config{logLevel: LogInfo}
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	return cfg
}

// callTimeoutCap is the bound the client applies to every call; a context deadline may only shorten it.
func (cfg *config) callTimeoutCap() time.Duration {
	if cfg.timeout != nil && *cfg.timeout > 0 {
		return *cfg.timeout
	}
	return defaultTimeout
}

// origin is the scheme://host[:port] the token may be sent to, as libx8 decides it: X8_BASE_URL (for a client
// from the environment) over WithBaseURL over the default.
func (cfg *config) origin(envBaseURL string) string {
	base := defaultBaseURL
	if cfg.baseURL != nil {
		base = *cfg.baseURL
	}
	if envBaseURL != "" {
		base = envBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return "" // libx8 refused it already; an empty origin matches no request
	}
	return originOf(u)
}

// originOf normalises a URL's scheme, host and port so that equal origins compare equal as strings.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// cOptions builds libx8 options from cfg; the caller frees them with x8_options_free once the client exists.
// loggerID and storeID are 0 when no logger or store is installed.
func (cfg *config) cOptions(loggerID, storeID uintptr) (*C.x8_options, error) {
	opts := C.x8_options_new()
	if opts == nil {
		return nil, &Error{Code: StatusInternal, Message: "x8_options_new: out of memory"}
	}
	if err := cfg.apply(opts, loggerID, storeID); err != nil {
		C.x8_options_free(opts)
		return nil, err
	}
	return opts, nil
}

func (cfg *config) apply(opts *C.x8_options, loggerID, storeID uintptr) error {
	var cerr *C.x8_error
	check := func(status C.x8_status) error {
		if status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		return nil
	}
	setString := func(name string, v *string, set func(*C.char) C.x8_status) error {
		if v == nil {
			return nil
		}
		cs, err := cString(name, *v)
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(cs))
		return check(set(cs))
	}
	setPairs := func(name string, pairs []pair, add func(n, v *C.char) C.x8_status) error {
		for _, p := range pairs {
			cn, err := cString(name+" name", p.name)
			if err != nil {
				return err
			}
			cv, err := cString(name+" value", p.value)
			if err != nil {
				C.free(unsafe.Pointer(cn))
				return err
			}
			status := add(cn, cv)
			C.free(unsafe.Pointer(cn))
			C.free(unsafe.Pointer(cv))
			if err := check(status); err != nil {
				return err
			}
		}
		return nil
	}
	setMS := func(name string, d *time.Duration, set func(C.uint32_t) C.x8_status) error {
		if d == nil {
			return nil
		}
		ms, err := millis(name, *d)
		if err != nil {
			return err
		}
		return check(set(ms))
	}

	steps := []func() error{
		func() error {
			return setString("WithBaseURL", cfg.baseURL, func(s *C.char) C.x8_status { return C.x8_options_set_base_url(opts, s, &cerr) })
		},
		func() error {
			return setString("WithTokenURL", cfg.tokenURL, func(s *C.char) C.x8_status { return C.x8_options_set_token_url(opts, s, &cerr) })
		},
		func() error {
			return setString("WithUserAgent", cfg.userAgent, func(s *C.char) C.x8_status { return C.x8_options_set_user_agent(opts, s, &cerr) })
		},
		func() error {
			return setString("WithCAFile", cfg.caFile, func(s *C.char) C.x8_status { return C.x8_options_set_ca_file(opts, s, &cerr) })
		},
		func() error {
			return setString("WithProxy", cfg.proxy, func(s *C.char) C.x8_status { return C.x8_options_set_proxy(opts, s, &cerr) })
		},
		func() error {
			return setMS("WithTimeout", cfg.timeout, func(ms C.uint32_t) C.x8_status { return C.x8_options_set_timeout_ms(opts, ms, &cerr) })
		},
		func() error {
			return setMS("WithConnectTimeout", cfg.connectTimeout, func(ms C.uint32_t) C.x8_status { return C.x8_options_set_connect_timeout_ms(opts, ms, &cerr) })
		},
		func() error {
			return setMS("WithRefreshMargin", cfg.refreshMargin, func(ms C.uint32_t) C.x8_status { return C.x8_options_set_refresh_margin_ms(opts, ms, &cerr) })
		},
		func() error {
			return setString("WithTokenCache", cfg.tokenCache, func(s *C.char) C.x8_status { return C.x8_options_set_token_cache(opts, s, &cerr) })
		},
		func() error {
			return setString("WithRedisStore", cfg.redisURL, func(s *C.char) C.x8_status { return C.x8_options_set_redis_store(opts, s, &cerr) })
		},
		func() error {
			if storeID == 0 {
				return nil
			}
			return check(setStore(opts, storeID, cfg.store, &cerr))
		},
		func() error {
			if cfg.maxBodyBytes == nil {
				return nil
			}
			return check(C.x8_options_set_max_body_bytes(opts, C.uint64_t(*cfg.maxBodyBytes), &cerr))
		},
		func() error {
			if cfg.retries == nil {
				return nil
			}
			if cfg.retries.max < 0 || uint64(cfg.retries.max) > math.MaxUint32 {
				return &Error{Code: StatusConfig, Message: "WithRetries: the retry count must be between 0 and 20"}
			}
			base, err := millis("WithRetries base", cfg.retries.base)
			if err != nil {
				return err
			}
			maxDelay, err := millis("WithRetries maxDelay", cfg.retries.maxDelay)
			if err != nil {
				return err
			}
			return check(C.x8_options_set_retries(opts, C.uint32_t(cfg.retries.max), base, maxDelay, &cerr))
		},
		func() error {
			if cfg.clientAuth == nil {
				return nil
			}
			return check(C.x8_options_set_client_auth(opts, C.int32_t(*cfg.clientAuth), &cerr))
		},
		func() error {
			return setString("WithTokenScope", cfg.tokenScope, func(s *C.char) C.x8_status { return C.x8_options_set_token_scope(opts, s, &cerr) })
		},
		func() error {
			return setPairs("WithTokenParam", cfg.tokenParams, func(n, v *C.char) C.x8_status { return C.x8_options_add_token_param(opts, n, v, &cerr) })
		},
		func() error {
			return setPairs("WithDefaultHeader", cfg.defaultHeaders, func(n, v *C.char) C.x8_status { return C.x8_options_add_default_header(opts, n, v, &cerr) })
		},
		func() error {
			if cfg.tlsRoots == nil {
				return nil
			}
			return check(C.x8_options_set_tls_roots(opts, C.int32_t(*cfg.tlsRoots), &cerr))
		},
		func() error {
			if cfg.caMode == nil {
				return nil
			}
			return check(C.x8_options_set_ca_mode(opts, C.int32_t(*cfg.caMode), &cerr))
		},
		func() error {
			if cfg.apiRetries == nil {
				return nil
			}
			return check(C.x8_options_set_api_retries(opts, C.uint32_t(*cfg.apiRetries), &cerr))
		},
		func() error {
			if cfg.rateLimit == nil {
				return nil
			}
			ms, err := millis("WithRateLimit interval", cfg.rateLimit.interval)
			if err != nil {
				return err
			}
			return check(C.x8_options_set_rate_limit(opts, C.uint32_t(cfg.rateLimit.requests), ms, &cerr))
		},
		func() error {
			if cfg.replayOn401 == nil {
				return nil
			}
			return check(C.x8_options_set_replay_on_401(opts, C.bool(*cfg.replayOn401), &cerr))
		},
		func() error {
			if loggerID == 0 {
				return nil
			}
			return check(C.x8go_set_logger(opts, C.uintptr_t(loggerID), C.int32_t(cfg.logLevel), &cerr))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// millis converts a duration to whole milliseconds for libx8, rounding up so that a short positive duration
// never becomes 0 (which some options read as "off" or "default").
func millis(name string, d time.Duration) (C.uint32_t, error) {
	if d < 0 {
		return 0, &Error{Code: StatusConfig, Message: name + ": the duration must not be negative"}
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return 0, &Error{Code: StatusConfig, Message: name + ": the duration is too long (at most about 49 days)"}
	}
	return C.uint32_t(ms), nil
}

// The loggers of live clients, by the id libx8 hands back to x8goLog. A client's entry is removed when the
// client is freed; a message arriving after that (libx8 lets a background renewal finish after
// x8_client_free) finds no entry and is dropped instead of reaching freed state.
var (
	loggers      sync.Map // uintptr -> func(level int, msg string)
	lastLoggerID atomic.Uintptr
)

func registerLogger(fn func(level int, msg string)) uintptr {
	if fn == nil {
		return 0
	}
	id := lastLoggerID.Add(1)
	loggers.Store(id, fn)
	return id
}

func unregisterLogger(id uintptr) {
	if id != 0 {
		loggers.Delete(id)
	}
}
