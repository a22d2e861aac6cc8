//! Row 3's floor: authenticated GETs with ureq used directly, the way x8's transport configures it (one agent
//! shared by every caller, keep-alive pool, no proxy, statuses as replies), the token fetched once by hand and
//! the bearer header built once. Whatever x8 costs above this is x8's own work: its cache lookup, request
//! checks, header copies and the C boundary.
//!
//! It runs twice: with ureq's default resolver, exactly as x8 uses it, and with a resolver that answers an IP
//! literal without a thread. ureq resolves the host on every request, pooled connection or not, and with a
//! timeout configured (x8 sets one) its default resolver does so on a new thread: one thread spawned per
//! request. The second run shows what the transport costs without that.
//!
//! Prints one JSON line per measurement (the format of benches/c/bench.c) for benches/table.py.
//! Needs $BENCH_URL, the emulator's base URL. `ureq-floor --profile [literal-ip]` makes 2000 GETs in `get_loop`
//! only (with the default resolver, or the thread-free one), for `valgrind --tool=callgrind
//! --toggle-collect=get_loop` or `strace -c`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

const GET_PATH: &str = "/analytics/cc/v5/realtime-metrics/queues?size=5";
/// Basic base64("demo-client:demo-secret"), the emulator's default key.
const BASIC_AUTH: &str = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=";

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(us(ru.ru_utime) + us(ru.ru_stime))
}

/// Answers a URL whose host is an IP address at once, on the caller's thread; asks the default resolver (a
/// thread per lookup when a timeout is set) for host names.
#[derive(Debug, Default)]
struct LiteralIpResolver(DefaultResolver);

impl Resolver for LiteralIpResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let ip = uri.host().and_then(|h| {
            h.trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .ok()
        });
        match (ip, uri.port_u16()) {
            (Some(ip), Some(port)) => {
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(ip, port));
                Ok(addrs)
            }
            _ => self.0.resolve(uri, config, timeout),
        }
    }
}

/// An agent configured as x8's `Transport::new` configures its own; optionally with the thread-free resolver.
fn new_agent(literal_ip_resolver: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(30)))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent("ureq-floor")
        .proxy(None)
        .max_idle_connections(64)
        .max_idle_connections_per_host(32)
        .build();
    if literal_ip_resolver {
        ureq::Agent::with_parts(
            config,
            DefaultConnector::default(),
            LiteralIpResolver::default(),
        )
    } else {
        config.new_agent()
    }
}

/// The access token from one client-credentials POST, cut out of the JSON reply.
fn fetch_token(agent: &ureq::Agent, base: &str) -> String {
    let mut reply = agent
        .post(format!("{base}/oauth/v2/token"))
        .header("Authorization", BASIC_AUTH)
        .content_type("application/x-www-form-urlencoded")
        .send("grant_type=client_credentials")
        .expect("token request");
    let body = reply.body_mut().read_to_string().expect("token reply");
    let after = body
        .split("\"access_token\"")
        .nth(1)
        .expect("access_token in the reply");
    after
        .split('"')
        .nth(1)
        .expect("access_token value")
        .to_owned()
}

fn admin(agent: &ureq::Agent, base: &str, method: &str, path: &str) -> String {
    let url = format!("{base}/_emulator/{path}");
    let mut reply = if method == "POST" {
        agent.post(&url).send_empty()
    } else {
        agent.get(&url).call()
    }
    .expect("emulator admin request");
    reply
        .body_mut()
        .read_to_string()
        .expect("emulator admin reply")
}

fn stat(agent: &ureq::Agent, base: &str, name: &str) -> u64 {
    let body = admin(agent, base, "GET", "stats");
    let after = body
        .split(&format!("\"{name}\":"))
        .nth(1)
        .expect("counter in stats");
    after
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

fn get(agent: &ureq::Agent, url: &str, bearer: &str) {
    let mut reply = agent
        .get(url)
        .header("Authorization", bearer)
        .call()
        .expect("GET");
    let body = reply.body_mut().read_to_vec().expect("GET body");
    assert_eq!(reply.status(), 200, "GET answered {}", reply.status());
    std::hint::black_box(body);
}

/// The loop callgrind measures; unmangled so that --toggle-collect can name it.
#[no_mangle]
#[inline(never)]
pub fn get_loop(agent: &ureq::Agent, url: &str, bearer: &str, n: usize) {
    for _ in 0..n {
        get(agent, url, bearer);
    }
}

fn main() {
    let base = std::env::var("BENCH_URL").expect("BENCH_URL, the emulator's base URL");
    let reps = env_number("BENCH_REPS", 5.0) as usize;
    let run_for = Duration::from_secs_f64(1.5 * env_number("BENCH_SCALE", 1.0));
    let control = new_agent(false); // admin calls on a pool of their own
    let url: Arc<str> = format!("{base}{GET_PATH}").into();
    let bearer: Arc<str> = format!("Bearer {}", fetch_token(&control, &base)).into();

    if std::env::args().nth(1).as_deref() == Some("--profile") {
        let agent = new_agent(std::env::args().nth(2).as_deref() == Some("literal-ip"));
        get(&agent, &url, &bearer);
        get_loop(&agent, &url, &bearer, 2000);
        return;
    }

    for (impl_name, literal_ip_resolver) in [
        ("ureq used directly (Rust)", false),
        ("ureq, resolver without a thread (Rust)", true),
    ] {
        let agent = new_agent(literal_ip_resolver);
        get(&agent, &url, &bearer);
        for _ in 0..reps {
            for callers in [1usize, 8] {
                measure(
                    impl_name, &agent, &control, &base, &url, &bearer, callers, run_for,
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn measure(
    impl_name: &str,
    agent: &ureq::Agent,
    control: &ureq::Agent,
    base: &str,
    url: &Arc<str>,
    bearer: &Arc<str>,
    callers: usize,
    run_for: Duration,
) {
    admin(control, base, "POST", "reset");
    let stop = Arc::new(AtomicBool::new(false));
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let workers: Vec<_> = (0..callers)
        .map(|_| {
            let (agent, url, bearer, stop) =
                (agent.clone(), url.clone(), bearer.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(100_000);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    get(&agent, &url, &bearer);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    let (wall, cpu) = (t0.elapsed(), cpu_time() - cpu0);
    latencies.sort_unstable();
    let n = latencies.len();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{{\"bench\":\"get\",\"impl\":\"{impl_name}\",\"threads\":{callers},\"requests\":{n},\
         \"requests_per_s\":{:.0},\"median_us\":{:.1},\"p99_us\":{:.1},\"max_us\":{:.1},\
         \"cpu_us_per_request\":{:.2},\"connections\":{},\"token_requests\":{}}}",
        n as f64 / wall.as_secs_f64(),
        us(latencies[n / 2]),
        us(latencies[n * 99 / 100]),
        us(latencies[n - 1]),
        cpu.as_secs_f64() * 1e6 / n as f64,
        stat(control, base, "connections"),
        stat(control, base, "token_requests"),
    );
}
