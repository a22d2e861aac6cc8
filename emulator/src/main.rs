//! `x8-emulator`: the emulator as a process, for tests written in other languages.

use clap::{Parser, ValueEnum};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use x8_emulator::{ClientSpec, Emulator, EmulatorConfig, ReplyShape, TokenMode};

/// A loopback emulator of 8x8's OAuth token endpoint and realtime-metrics API.
///
/// Listens on 127.0.0.1 only. Once it accepts connections it prints its base URL
/// (e.g. http://127.0.0.1:40123) as the first line of stdout; read that line rather than
/// sleeping.
///
/// Endpoints: POST /oauth/v2/token (Basic auth, form grant_type=client_credentials);
/// GET [/eu|/au|/ca]/analytics/cc/v5/realtime-metrics/queues[/{id}] (Bearer token, product
/// "analytics realtime-api", query page and size); ANY /echo/... (Bearer token; replies with
/// the request it received).
///
/// Control over HTTP (not counted in the stats): GET /_emulator/stats (counters, incl.
/// requests_by_path and max_token_requests_in_flight); GET /_emulator/token-requests (what
/// each token request sent: auth scheme, Basic user as sent, form with client_secret
/// redacted); POST /_emulator/reset, /_emulator/revoke, /_emulator/expire; POST
/// /_emulator/config {"token_lifetime":3, "expired_status":500, "reply_shape":"chat",
/// "token_delay_ms":100, "token_mode":"8x8"|"rfc6749"}; POST /_emulator/faults
/// {"target":"token"|"api", "count":1, "match":{"path_contains":"/data",
/// "query":{"page":"2"}}, "kind":...} where kind is status {status, retry_after?, body?} |
/// retry_at_date {status, secs, body?} (Retry-After: the HTTP date secs from now) |
/// raw {status, content_type?, body} | delay {ms} | close | endless | oversized {bytes}.
/// "match" (optional) aims the fault at the requests it matches, e.g. one page once.
#[derive(Parser, Debug)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// An API key, as ID:SECRET[:PRODUCT,PRODUCT...]; repeat for several. Replaces the default
    /// demo-client:demo-secret. Without products a key has "analytics realtime-api", "storage",
    /// "QM - API" and "vcc"; "ID:SECRET:" has none.
    #[arg(long = "client", value_name = "ID:SECRET[:PRODUCTS]")]
    clients: Vec<ClientSpec>,

    /// Lifetime of issued tokens, sent as expires_in.
    #[arg(long, value_name = "SECS", default_value_t = 1799)]
    token_lifetime: u64,

    /// Token reply shape: doc (the OAuth document's) or chat (the Chat spec's AuthResponse).
    #[arg(long, value_enum, default_value_t = Shape::Doc)]
    reply_shape: Shape,

    /// Number of queues in the sample realtime-metrics data.
    #[arg(long, value_name = "N", default_value_t = 7)]
    queues: usize,

    /// HTTP status of the "Access Token expired" fault (some Apigee deployments send 500).
    #[arg(long, value_name = "CODE", default_value_t = 401)]
    expired_status: u16,

    /// Every token request waits this long before it is answered, so concurrent fetches
    /// overlap (see max_token_requests_in_flight in the stats).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    token_delay_ms: u64,

    /// Answer as a strict RFC 6749 server instead of 8x8's gateway: Basic credentials must be
    /// form-urlencoded before base64 (RFC 6749 §2.3.1; a raw id or secret containing e.g.
    /// ":/%" gets 400 invalid_request "client_id and client_secret in the authorization header
    /// are not properly encoded", wrong ones 401 invalid_client), client_secret_post (client_id
    /// and client_secret in the form body) is accepted, and the reply is
    /// {"access_token","token_type":"Bearer","expires_in":<number>[,"scope"]} with no product
    /// lists. Errors are {"error","error_description"}. Switch at run time with POST
    /// /_emulator/config {"token_mode":"rfc6749"|"8x8"}.
    #[arg(long)]
    rfc6749: bool,

    /// How long a historical summary report stays IN_PROGRESS, and a storage bulk download
    /// before it is DONE.
    #[arg(long, value_name = "MS", default_value_t = 300)]
    report_delay_ms: u64,

    /// Rows in every historical report (summary and detailed).
    #[arg(long, value_name = "N", default_value_t = 25)]
    report_rows: u64,

    /// Where 8x8's specs and guides disagree, answer in the specs' array forms (storage search
    /// and bulk replies, detailed-report creation) instead of the guides' single objects.
    #[arg(long)]
    spec_forms: bool,

    /// A storage region of the customer (what /storage/{region}/v3/regions lists); repeat for
    /// several. Default: us-west and uk.
    #[arg(long = "storage-region", value_name = "REGION")]
    storage_regions: Vec<String>,

    /// Sample objects in each of the customer's storage regions.
    #[arg(long, value_name = "N", default_value_t = 12)]
    storage_objects: usize,

    /// Body of presignUrl=true replies: json ({"presignedUrl":URL}) or text (the bare URL).
    #[arg(long, value_enum, default_value_t = Presign::Json)]
    presign_reply: Presign,

    /// Worker threads answering requests.
    #[arg(long, value_name = "N", default_value_t = 8)]
    threads: usize,

    /// Serve HTTPS with a freshly made certificate for 127.0.0.1 and localhost.
    #[arg(long)]
    tls_self_signed: bool,

    /// With --tls-self-signed, write the CA certificate (PEM) to trust to FILE before the URL
    /// is printed.
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    write_ca: Option<PathBuf>,

    /// Exit when stdin closes, so an emulator started by a test never outlives it.
    #[arg(long)]
    exit_on_stdin_eof: bool,

    /// Log one line per request to stderr.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Presign {
    Json,
    Text,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Shape {
    Doc,
    Chat,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("x8-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> io::Result<()> {
    let defaults = EmulatorConfig::default();
    let cfg = EmulatorConfig {
        clients: if args.clients.is_empty() {
            defaults.clients
        } else {
            args.clients
        },
        token_lifetime_secs: args.token_lifetime,
        reply_shape: match args.reply_shape {
            Shape::Doc => ReplyShape::Doc,
            Shape::Chat => ReplyShape::Chat,
        },
        queues: args.queues,
        expired_status: args.expired_status,
        tls_self_signed: args.tls_self_signed,
        port: args.port,
        threads: args.threads,
        token_delay_ms: args.token_delay_ms,
        report_delay_ms: args.report_delay_ms,
        storage_regions: if args.storage_regions.is_empty() {
            defaults.storage_regions
        } else {
            args.storage_regions
        },
        storage_objects: args.storage_objects,
        presign_reply: match args.presign_reply {
            Presign::Json => x8_emulator::PresignReply::Json,
            Presign::Text => x8_emulator::PresignReply::Text,
        },
        report_rows: args.report_rows,
        api_forms: if args.spec_forms {
            x8_emulator::ApiForms::Spec
        } else {
            x8_emulator::ApiForms::Guide
        },
        token_mode: if args.rfc6749 {
            TokenMode::Rfc6749
        } else {
            TokenMode::Apigee8x8
        },
    };
    let emulator = Emulator::start(cfg)?;
    emulator.set_verbose(args.verbose);
    if let (Some(path), Some(pem)) = (&args.write_ca, emulator.ca_cert_pem()) {
        std::fs::write(path, pem)
            .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))?;
    }
    if args.exit_on_stdin_eof {
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            let mut stdin = io::stdin().lock();
            // Whatever the parent writes is ignored; only the end of stdin matters.
            loop {
                match stdin.read(&mut sink) {
                    Ok(0) => break,
                    Err(e) if e.kind() != io::ErrorKind::Interrupted => break,
                    _ => {}
                }
            }
            std::process::exit(0);
        });
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{}", emulator.base_url())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
