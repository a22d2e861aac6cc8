//! The Contact Center historical-metrics API's report flow: create a summary report, poll its
//! status until DONE (after the configurable `report_delay_ms`), read it in `page`/`size` pages
//! (`X-Page*` headers, `Link: rel="next"`) or download it as CSV; detailed reports are DONE at
//! once and paged by the `Last-Document-Id` reply header passed back as `lastDocumentId`.

use crate::http::{Incoming, Reply};
use crate::state::State;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const DEFAULT_SIZE: u64 = 100;
const MAX_SIZE: u64 = 1000;
/// The id of the first report, the guide's example.
const FIRST_ID: u64 = 2_710_192;
const QUEUES: [&str; 4] = ["Support EN", "Sales", "Billing", "VIP"];

#[derive(Debug, PartialEq)]
pub(crate) struct Route {
    /// `scheme://host/[region/]analytics/cc/vN/historical-metrics`, for the links.
    base_path: String,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    Create,
    Status(String),
    Data(String),
    Download(String),
    Links(String),
    CreateDetailed,
    DetailedData(String),
    Other,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let rest = crate::api::strip_cc_region(path)?.strip_prefix("/analytics/cc/v")?;
    let (version, rest) = rest.split_once('/')?;
    if !matches!(version.parse::<u8>(), Ok(1..=8)) {
        return None;
    }
    let rest = rest.strip_prefix("historical-metrics")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let base_path = path[..path.len() - rest.len()].to_string();
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let id = |s: &str| s.to_string();
    let action = match parts.as_slice() {
        [] => Action::Create,
        ["detailed-reports"] => Action::CreateDetailed,
        ["detailed-reports", r, "data"] => Action::DetailedData(id(r)),
        [r, "status"] => Action::Status(id(r)),
        [r, "data"] => Action::Data(id(r)),
        [r, "download"] => Action::Download(id(r)),
        [r, "links"] => Action::Links(id(r)),
        _ => Action::Other,
    };
    Some(Route { base_path, action })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Summary,
    Detailed,
}

struct Report {
    kind: Kind,
    report_type: String,
    title: String,
    rows: u64,
    grand_total: bool,
    ready_at: Instant,
}

/// The reports created so far, by id.
pub(crate) struct ReportStore {
    next_id: u64,
    reports: HashMap<u64, Report>,
    /// Makes every `Last-Document-Id` differ, as 8x8's do, even for the same position.
    cursor_calls: u64,
}

impl Default for ReportStore {
    fn default() -> ReportStore {
        ReportStore {
            next_id: FIRST_ID,
            reports: HashMap::new(),
            cursor_calls: 0,
        }
    }
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8], route: Route) -> Reply {
    let base = format!("{}{}", req.origin(state.tls), route.base_path);
    let method = req.method.as_str();
    match (&route.action, method) {
        (Action::Create, "POST") => create(state, body, &base, Kind::Summary),
        (Action::CreateDetailed, "POST") => create(state, body, &base, Kind::Detailed),
        (Action::Create | Action::CreateDetailed, _) => not_allowed("POST"),
        (Action::Other, _) => Reply::message(404, "Not found"),
        (_, "GET") => read(state, req, &base, &route.action),
        _ => not_allowed("GET"),
    }
}

fn not_allowed(allow: &str) -> Reply {
    Reply::message(405, "Method Not Allowed").header("Allow", allow)
}

fn create(state: &State, body: &[u8], base: &str, kind: Kind) -> Reply {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Reply::message(400, "Bad request: the body must be a JSON object");
    };
    let text = |k: &str| request.get(k).and_then(Value::as_str).map(String::from);
    let report_type = text("type").unwrap_or_default();
    let mut required = vec!["type", "title"];
    if kind == Kind::Summary && report_type != "script-paths" {
        required.push("granularity");
    }
    if let Some(missing) = required
        .iter()
        .find(|k| text(k).is_none_or(|v| v.is_empty()))
    {
        return Reply::message(400, &format!("Bad request: Field '{missing}' is required"));
    }
    // v8's script-paths reports refuse what only summary tables have.
    if report_type == "script-paths" {
        let refused = ["groupBy", "granularity", "metrics", "includeSubTotal"];
        let extra = ["includeGrandTotal", "includeParticipants"];
        if let Some(k) = refused
            .iter()
            .chain(&extra)
            .find(|k| request.contains_key(**k))
        {
            return Reply::message(
                400,
                &format!("Bad request: Field '{k}' is not allowed for type script-paths"),
            );
        }
    }
    let settings = state.settings().clone();
    let delay = match kind {
        // "Successful creation always results in DONE."
        Kind::Detailed => Duration::ZERO,
        Kind::Summary => Duration::from_millis(settings.report_delay_ms),
    };
    let mut store = state.reports();
    let id = store.next_id;
    store.next_id += 1;
    store.reports.insert(
        id,
        Report {
            kind,
            report_type,
            title: text("title").unwrap_or_default(),
            rows: settings.report_rows,
            grand_total: request.get("includeGrandTotal") == Some(&Value::Bool(true)),
            ready_at: Instant::now() + delay,
        },
    );
    drop(store);
    match kind {
        Kind::Summary => Reply::json(200, &Status::new(id, "IN_PROGRESS"))
            .header("Link", format!(r#"<{base}/{id}/status>; rel="status""#)),
        Kind::Detailed if settings.api_forms.spec() => Reply::json(200, &[Status::new(id, "DONE")]),
        Kind::Detailed => Reply::json(200, &Status::new(id, "DONE")),
    }
}

#[derive(Serialize)]
struct Status {
    id: u64,
    status: &'static str,
}

impl Status {
    fn new(id: u64, status: &'static str) -> Status {
        Status { id, status }
    }
}

/// What a finished summary report offers, for `Link` and `/links`.
fn done_links(base: &str, id: u64) -> [(&'static str, String); 3] {
    [
        ("status", format!("{base}/{id}/status")),
        ("data", format!("{base}/{id}/data")),
        ("download", format!("{base}/{id}/download")),
    ]
}

fn read(state: &State, req: &Incoming, base: &str, action: &Action) -> Reply {
    let (id, wanted) = match action {
        Action::Status(id) | Action::Data(id) | Action::Download(id) | Action::Links(id) => {
            (id, Kind::Summary)
        }
        Action::DetailedData(id) => (id, Kind::Detailed),
        _ => unreachable!("creates are handled apart"),
    };
    let store = state.reports();
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|n| store.reports.get(&n).map(|r| (n, r)))
        .filter(|(_, r)| r.kind == wanted);
    let Some((id, report)) = found else {
        return Reply::message(404, &format!("Not found: report {id}"));
    };
    let done = Instant::now() >= report.ready_at;
    match action {
        Action::Status(_) => {
            let reply = Reply::json(
                200,
                &Status::new(id, if done { "DONE" } else { "IN_PROGRESS" }),
            );
            if !done {
                return reply;
            }
            let links: Vec<String> = done_links(base, id)[1..]
                .iter()
                .map(|(rel, url)| format!(r#"<{url}>; rel="{rel}""#))
                .collect();
            reply.header("Link", links.join(", "))
        }
        Action::Links(_) => {
            #[derive(Serialize)]
            struct LinkItem<'a> {
                relation: &'a str,
                link: &'a str,
            }
            let links = done_links(base, id);
            let shown = if done { &links[..] } else { &links[..1] };
            let items: Vec<LinkItem> = shown
                .iter()
                .map(|(relation, link)| LinkItem { relation, link })
                .collect();
            Reply::json(200, &items)
        }
        _ if !done => Reply::message(
            400,
            &format!("Bad request: Report {id} is not ready; its status is IN_PROGRESS"),
        ),
        Action::Data(_) if report.report_type == "script-paths" => Reply::message(
            400,
            "Bad request: script-paths reports can only be downloaded",
        ),
        Action::Data(_) => summary_page(req, base, id, report),
        Action::Download(_) => download(req, report),
        Action::DetailedData(_) => {
            let rows = report.rows;
            drop(store);
            detailed_page(state, req, base, id, rows)
        }
        _ => unreachable!("every read action is matched"),
    }
}

#[derive(Serialize)]
struct Row {
    total: Option<Total>,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Total {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "startIndex")]
    start_index: u64,
    #[serde(rename = "endIndex")]
    end_index: u64,
}

#[derive(Serialize)]
struct Item {
    key: &'static str,
    label: &'static str,
    /// "ALWAYS a string" in summaries (null for dimensions in totals); detailed reports also
    /// send objects and arrays.
    value: Value,
}

fn item(key: &'static str, label: &'static str, value: impl Into<Value>) -> Item {
    Item {
        key,
        label,
        value: value.into(),
    }
}

fn offered(i: u64) -> u64 {
    10 + i % 17
}

/// Row `i` of every summary report: a 15-minute interval of one queue.
fn summary_row(i: u64) -> Row {
    Row {
        total: None,
        items: vec![
            item(
                "startTime",
                "Start Time",
                format!("2022-08-29T{:02}:{:02}-04:00", (i / 4) % 24, (i % 4) * 15),
            ),
            item("queueName", "Queue", QUEUES[(i % 4) as usize]),
            item("offered", "Offered", offered(i).to_string()),
        ],
    }
}

fn grand_total(rows: u64) -> Row {
    Row {
        total: Some(Total {
            kind: "grandtotal",
            start_index: 0,
            end_index: rows.saturating_sub(1),
        }),
        items: vec![
            item("startTime", "Start Time", Value::Null),
            item("queueName", "Queue", Value::Null),
            item(
                "offered",
                "Offered",
                (0..rows).map(offered).sum::<u64>().to_string(),
            ),
        ],
    }
}

fn summary_rows(report: &Report) -> Vec<Row> {
    let mut rows: Vec<Row> = (0..report.rows).map(summary_row).collect();
    if report.grand_total {
        rows.push(grand_total(report.rows));
    }
    rows
}

fn size_param(req: &Incoming) -> Result<u64, Reply> {
    let size = match req.query_param("size") {
        None => DEFAULT_SIZE,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| Reply::message(400, "Bad request: Field 'size' must be a number"))?,
    };
    if !(1..=MAX_SIZE).contains(&size) {
        return Err(Reply::message(
            400,
            &format!("Bad request: Field 'size' must be between 1 and {MAX_SIZE}"),
        ));
    }
    Ok(size)
}

fn summary_page(req: &Incoming, base: &str, id: u64, report: &Report) -> Reply {
    let size = match size_param(req) {
        Ok(size) => size,
        Err(reply) => return reply,
    };
    let page = match req.query_param("page").map(|p| p.parse::<u64>()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            return Reply::message(
                400,
                "Bad request: Field 'page' must be a non-negative number",
            )
        }
    };
    let rows = summary_rows(report);
    let total = rows.len() as u64;
    let pages = total.div_ceil(size);
    if page > 0 && page >= pages {
        return Reply::message(
            400,
            &format!("Bad request: Page {page} is out of range; there are {pages} pages"),
        );
    }
    let first = (page * size) as usize;
    let shown: Vec<&Row> = rows.iter().skip(first).take(size as usize).collect();
    let reply = Reply::json(200, &shown)
        .header("X-Page", page.to_string())
        .header("X-Page-Size", size.to_string())
        .header("X-Total-Pages", pages.to_string())
        .header("X-Total-Elements", total.to_string());
    if page + 1 < pages {
        let next = page + 1;
        reply.header(
            "Link",
            format!(r#"<{base}/{id}/data?page={next}&size={size}>; rel="next""#),
        )
    } else {
        reply
    }
}

/// Cursors are opaque to clients; here the row offset, then a per-call number so that no two
/// are alike.
fn cursor(offset: u64, call: u64) -> String {
    format!("{offset:x}-{call:x}")
}

fn cursor_offset(cursor: &str) -> Option<u64> {
    let (offset, call) = cursor.split_once('-')?;
    u64::from_str_radix(call, 16).ok()?;
    u64::from_str_radix(offset, 16).ok()
}

fn detailed_row(i: u64) -> Row {
    Row {
        total: None,
        items: vec![
            item(
                "interactionId",
                "Interaction ID",
                format!("int-{:012x}-phone-{:02}-tenant01", 0x18a_c000 + i, i % 100),
            ),
            item(
                "media",
                "Media",
                serde_json::json!({"value": "Phone", "ongoing": i.is_multiple_of(5)}),
            ),
            item(
                "queues",
                "Queues",
                serde_json::json!([QUEUES[(i % 4) as usize], QUEUES[((i + 1) % 4) as usize]]),
            ),
        ],
    }
}

fn detailed_page(state: &State, req: &Incoming, base: &str, id: u64, rows: u64) -> Reply {
    let size = match size_param(req) {
        Ok(size) => size,
        Err(reply) => return reply,
    };
    let offset = match req.query_param("lastDocumentId") {
        None => 0,
        Some(c) => match cursor_offset(&c).filter(|&o| o <= rows) {
            Some(o) => o,
            None => return Reply::message(400, "Bad request: Invalid lastDocumentId"),
        },
    };
    let end = (offset + size).min(rows);
    let shown: Vec<Record> = (offset..end)
        .map(|i| Record {
            items: detailed_row(i).items,
        })
        .collect();
    let reply = Reply::json(200, &shown)
        .header("X-Page-Size", size.to_string())
        .header("X-Total-Pages", rows.div_ceil(size).to_string())
        .header("X-Total-Elements", rows.to_string());
    // The last page has neither Link nor Last-Document-Id.
    if end >= rows {
        return reply;
    }
    let call = {
        let mut store = state.reports();
        store.cursor_calls += 1;
        store.cursor_calls
    };
    let next = cursor(end, call);
    reply
        .header(
            "Link",
            format!(
                r#"<{base}/detailed-reports/{id}/data?size={size}&lastDocumentId={next}>; rel="next""#
            ),
        )
        .header("Last-Document-Id", next)
}

/// A detailed record: `{"items":[...]}`, no totals.
#[derive(Serialize)]
struct Record {
    items: Vec<Item>,
}

fn download(req: &Incoming, report: &Report) -> Reply {
    let accept = req.header("Accept").unwrap_or("*/*").to_ascii_lowercase();
    let csv = ["text/csv", "*/*", "text/*"]
        .iter()
        .any(|m| accept.contains(m));
    if !csv {
        return Reply::message(406, "Not Acceptable: the emulator writes text/csv only");
    }
    let rows = summary_rows(report);
    let mut out = String::new();
    if let Some(first) = rows.first() {
        let labels: Vec<String> = first.items.iter().map(|i| csv_field(i.label)).collect();
        out.push_str(&labels.join(","));
        out.push_str("\r\n");
    }
    for row in &rows {
        let values: Vec<String> = row
            .items
            .iter()
            .map(|i| csv_field(i.value.as_str().unwrap_or("")))
            .collect();
        out.push_str(&values.join(","));
        out.push_str("\r\n");
    }
    let filename = report.title.replace(['"', '\\', '\r', '\n'], "_");
    Reply::raw(200, "text/csv", out).header(
        "Content-Disposition",
        format!(r#"attachment; filename="{filename}.csv""#),
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("/eu/analytics/cc/v8/historical-metrics/2710192/data").unwrap();
        assert_eq!(r.base_path, "/eu/analytics/cc/v8/historical-metrics");
        assert_eq!(r.action, Action::Data("2710192".into()));
        assert_eq!(
            route("/analytics/cc/v4/historical-metrics/")
                .unwrap()
                .action,
            Action::Create
        );
        assert_eq!(
            route("/analytics/cc/v8/historical-metrics/detailed-reports/9/data")
                .unwrap()
                .action,
            Action::DetailedData("9".into())
        );
        assert!(route("/analytics/cc/v9/historical-metrics").is_none());
        assert!(route("/analytics/cc/v8/historical-metricsX").is_none());
    }

    #[test]
    fn cursors_carry_the_offset_and_never_repeat() {
        assert_ne!(cursor(10, 1), cursor(10, 2));
        assert_eq!(cursor_offset(&cursor(300, 7)), Some(300));
        assert_eq!(cursor_offset("nope"), None);
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
