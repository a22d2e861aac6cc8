//! The command line. Every command and flag is documented here, and clap turns these docs into `--help`.

use std::path::PathBuf;

use clap::{ArgAction, Args as ClapArgs, Parser, Subcommand};

/// Shown at the end of `x8 --help`: the contract scripts rely on. Keep in step with `exit.rs` and README.md.
const AFTER_HELP: &str = "\
Credentials (never from a flag, which would show the secret in `ps`):
  X8_CLIENT_ID and X8_CLIENT_SECRET, both set; otherwise client_id and client_secret from the config file:
  --config PATH, else $X8_CONFIG, else $XDG_CONFIG_HOME/x8/config.toml (~/.config/x8/config.toml). The file is
  TOML and must be private (chmod 600): x8 refuses it when group or others may read or write it.
      client_id = \"...\"
      client_secret = \"...\"
      base_url = \"https://api.8x8.com\"     # optional
      token_url = \"https://.../token\"      # optional
      ca_file = \"ca.pem\"                   # optional; relative to the file
      client_auth = \"basic\"                # optional: basic (8x8's), basic-rfc6749 or post
      scope = \"...\"                        # optional; no scope is sent unless set

Other settings: --base-url, else X8_BASE_URL, else base_url in the file, else https://api.8x8.com.
  --token-url, else X8_TOKEN_URL, else token_url. --ca-file overrides ca_file. --client-auth, else
  X8_CLIENT_AUTH, else client_auth; X8_TOKEN_SCOPE overrides scope. A token shared with other processes:
  --token-cache / X8_TOKEN_CACHE (this host) or --redis / X8_REDIS_URL (many hosts); a broken store only
  means fetching a token of our own. Trust: --tls-roots / X8_TLS_ROOTS (platform, the default, or
  compiled-in), --ca-mode / X8_CA_MODE (add, the default, or replace) for the CA file. Throttling:
  --api-retries / X8_API_RETRIES (429/503 of GET and other idempotent calls retried after Retry-After; 3 with
  --all-pages, else 0) and --rate-limit / X8_RATE_LIMIT (e.g. 10/60: at most 10 requests a minute).

Exit codes:
  0  success
  1  internal error, or stdout could not be written
  2  usage: bad arguments, malformed header, unreadable --data file, path on another origin
  3  config: missing or invalid credentials or settings, config file unreadable, malformed or not private
  4  auth: the token endpoint refused the client id and secret
  5  unavailable: network, DNS, TLS, timeout, token endpoint failing (5xx, 429), or an unusable reply
  6  HTTP status: the API answered 400 or more (the body goes to stderr)
  7  product missing: `x8 check` found the product absent, or the API refused the call for lack of one";

#[derive(Parser, Debug)]
#[command(
    name = "x8",
    version,
    about = "8x8 XCaaS OAuth tokens and authenticated API calls, for operators and shell scripts",
    after_help = AFTER_HELP,
    arg_required_else_help = true
)]
pub struct Args {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ClapArgs, Debug)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file (TOML; must be chmod 600) [default: $X8_CONFIG, else $XDG_CONFIG_HOME/x8/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// API base URL, e.g. the emulator's http://127.0.0.1:PORT [default: $X8_BASE_URL, else https://api.8x8.com]
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Token endpoint URL [default: $X8_TOKEN_URL, else token_url in the config file, else the base URL's
    /// origin + /oauth/v2/token]
    #[arg(long, global = true, value_name = "URL")]
    pub token_url: Option<String>,
    /// How the credentials go to the token endpoint: basic (8x8's raw Basic), basic-rfc6749 (form-encoded
    /// before base64) or post (client_secret_post) [default: $X8_CLIENT_AUTH, else client_auth, else basic]
    #[arg(long, global = true, value_name = "STYLE", value_parser = parse_client_auth)]
    pub client_auth: Option<x8::ClientAuth>,
    /// PEM file of CA certificates to trust (corporate TLS inspection), besides the roots unless
    /// --ca-mode replace
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// What the CA file does: add (to the roots) or replace (them) [default: $X8_CA_MODE, else add]
    #[arg(long, global = true, value_name = "MODE", value_parser = parse_ca_mode)]
    pub ca_mode: Option<x8::CaMode>,
    /// Roots HTTPS trusts: platform (the system's store) or compiled-in (Mozilla's, built into x8)
    /// [default: $X8_TLS_ROOTS, else platform]
    #[arg(long, global = true, value_name = "ROOTS", value_parser = parse_tls_roots)]
    pub tls_roots: Option<x8::TlsRoots>,
    /// Retries of a GET (or other idempotent call) answered 429 or 503, after its Retry-After, within
    /// --timeout [default: $X8_API_RETRIES, else 3 with --all-pages, else 0]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub api_retries: Option<u32>,
    /// At most REQUESTS API requests per SECONDS (e.g. 10/60); calls wait their turn within --timeout
    /// [default: $X8_RATE_LIMIT, else none]
    #[arg(long, global = true, value_name = "REQUESTS/SECONDS", value_parser = parse_rate_limit)]
    pub rate_limit: Option<x8::RateLimit>,
    /// Folder of the token cache shared by this host's processes, so each run reuses one token
    /// [default: $X8_TOKEN_CACHE, else none]
    #[arg(long, global = true, value_name = "DIR")]
    pub token_cache: Option<PathBuf>,
    /// Redis that shares the token among processes on many hosts, e.g. redis://redis.internal:6379/0
    /// (put a URL with a password in $X8_REDIS_URL instead: flags show in `ps`) [default: $X8_REDIS_URL, else
    /// none]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        conflicts_with = "token_cache"
    )]
    pub redis: Option<String>,
    /// Limit on each call, token fetch and retries included; fractions are fine (0.5)
    #[arg(long, global = true, value_name = "SECONDS", default_value = "30", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    /// Tell on stderr what happens (token fetches, retries, HTTP status); -vv for more
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

fn parse_ca_mode(name: &str) -> Result<x8::CaMode, String> {
    x8::CaMode::from_name(name).map_err(|e| e.message().to_owned())
}

fn parse_tls_roots(name: &str) -> Result<x8::TlsRoots, String> {
    x8::TlsRoots::from_name(name).map_err(|e| e.message().to_owned())
}

fn parse_rate_limit(text: &str) -> Result<x8::RateLimit, String> {
    x8::RateLimit::parse(text).map_err(|e| e.message().to_owned())
}

fn parse_client_auth(name: &str) -> Result<x8::ClientAuth, String> {
    x8::ClientAuth::from_name(name).map_err(|e| e.message().to_owned())
}

/// Seconds, whole or fractional, from 1 ms to a day.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.001..=86_400.0).contains(&secs) {
        return Err("must be between 0.001 and 86400 seconds".to_owned());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a current access token, and nothing else
    #[command(
        after_help = "Examples:\n  curl -H \"Authorization: Bearer $(x8 token)\" https://api.8x8.com/...\n  \
                            x8 token --json | jq .seconds_left"
    )]
    Token(TokenArgs),
    /// List the API products the key's token carries, one per line
    Products(ProductsArgs),
    /// Exit 0 when the key's token carries every PRODUCT, 7 with a message when not
    #[command(after_help = "Example:\n  x8 check 'analytics realtime-api' || exit 1")]
    Check(CheckArgs),
    /// GET an API path and print the body; exit 6 on HTTP status >= 400
    #[command(
        after_help = "Examples:\n  x8 get /analytics/cc/v5/realtime-metrics/queues\n  \
                            x8 get '/analytics/cc/v5/realtime-metrics/queues?size=1000' --all-pages | jq length\n  \
                            x8 --timeout 3600 get /storage/uk/v3/objects/ID/content -o recording.wav"
    )]
    Get(GetArgs),
    /// Call an API with any method and print the body; exit 6 on HTTP status >= 400
    #[command(
        after_help = "Examples:\n  x8 request POST /some/api --data @body.json\n  \
                            echo '{\"a\":1}' | x8 request PUT /some/api --data - -H 'X-Tenant-Info: acme'"
    )]
    Request(RequestArgs),
}

#[derive(ClapArgs, Debug)]
pub struct TokenArgs {
    /// Print JSON: access_token, token_type, expires_at (RFC 3339), expires_at_ms, seconds_left, products
    #[arg(long)]
    pub json: bool,
    /// With --json: add the client's counters (token fetches, retries, failures...)
    #[arg(long, requires = "json")]
    pub stats: bool,
}

#[derive(ClapArgs, Debug)]
pub struct ProductsArgs {
    /// Print a JSON array instead of one product per line
    #[arg(long)]
    pub json: bool,
}

#[derive(ClapArgs, Debug)]
pub struct CheckArgs {
    /// Product names, compared ignoring case (e.g. 'analytics realtime-api', storage)
    #[arg(required = true, value_name = "PRODUCT")]
    pub products: Vec<String>,
}

#[derive(ClapArgs, Debug)]
pub struct GetArgs {
    /// Path relative to the base URL (may carry a query), or an absolute URL on the same origin
    pub path: String,
    #[command(flatten)]
    pub call: CallArgs,
}

#[derive(ClapArgs, Debug)]
pub struct RequestArgs {
    /// HTTP method (GET, POST, PUT, PATCH, DELETE...); sent in upper case
    pub method: String,
    /// Path relative to the base URL (may carry a query), or an absolute URL on the same origin
    pub path: String,
    /// Request body: @FILE reads a file (streamed as it is sent when larger than 1 MiB), - (or @-) reads
    /// stdin, anything else is sent as is. Content-Type defaults to application/json.
    #[arg(short, long, value_name = "@FILE|-|TEXT", allow_hyphen_values = true)]
    pub data: Option<String>,
    #[command(flatten)]
    pub call: CallArgs,
}

/// What `get` and `request` share.
#[derive(ClapArgs, Debug)]
pub struct CallArgs {
    /// Extra request header, repeatable (Authorization is x8's own)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Print the status line and the response headers before the body
    #[arg(short, long)]
    pub include: bool,
    /// Follow the listing's paging to its last page and print every page's items as one JSON array. Starts
    /// at the page the path asks for (`?page=2` reads pages 2 to the last). Shows progress on stderr when it
    /// is a terminal
    #[arg(long, conflicts_with = "include")]
    pub all_pages: bool,
    /// Write the body to FILE as it arrives (any size, constant memory) instead of stdout, with a progress bar
    /// on stderr when it is a terminal. On HTTP status >= 400 the file is not created and the body goes to
    /// stderr; a transfer that fails midway removes the partial file. Raise --timeout for a large download:
    /// it bounds the whole transfer
    #[arg(short, long, value_name = "FILE", conflicts_with = "all_pages")]
    pub output: Option<std::path::PathBuf>,
    /// How the listing pages, for --all-pages: auto (read from the first reply), page-headers (realtime,
    /// historical summary), header-cursor (detailed reports), body-offset (storage), body-links (QM),
    /// page-object (vcc chat)
    #[arg(long, value_name = "STYLE", default_value = "auto", value_parser = parse_page_style, requires = "all_pages")]
    pub paging: x8::PageStyle,
}

fn parse_page_style(name: &str) -> Result<x8::PageStyle, String> {
    x8::PageStyle::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = x8::PageStyle::NAMES.iter().map(|(n, _)| *n).collect();
        format!("not a paging style; one of: {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn help_lists_every_exit_code() {
        let help = Args::command().render_long_help().to_string();
        for code in 0..=7 {
            assert!(help.contains(&format!("\n  {code}  ")), "exit code {code}");
        }
    }
}
