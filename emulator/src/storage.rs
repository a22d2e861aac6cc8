//! The Cloud Storage Service API (`/storage/{region}/v3/...`): region discovery, object search
//! (FIQL filter, `pageKey` offset and `limit`, `lastPage`), object metadata and content (streamed,
//! or as a presigned URL on the second origin), and bulk downloads zipped on the fly.

use crate::content::random_zip_name;
use crate::fiql;
use crate::http::{Incoming, Reply};
use crate::presign::Target;
use crate::state::State;
use crate::storage_catalog::{mime_type, StorageObject, REGIONS};
use crate::zip;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 100;

/// The body of a `presignUrl=true` reply, which storage does not document: both are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresignReply {
    /// `{"presignedUrl":"https://..."}`.
    #[default]
    Json,
    /// The bare URL as text/plain.
    Text,
}

#[derive(Debug, PartialEq)]
pub(crate) struct Route {
    region: String,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    Regions,
    Search,
    Object(String),
    Content(String),
    BulkStart,
    BulkStatusAll,
    BulkStatus(String),
    BulkZip(String),
    Other,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/storage/")?;
    let (region, rest) = rest.split_once('/')?;
    if !REGIONS.contains(&region) {
        return None;
    }
    let rest = rest.strip_prefix("v3")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let s = |p: &str| p.to_string();
    let action = match parts.as_slice() {
        ["regions"] => Action::Regions,
        ["objects"] => Action::Search,
        ["objects", id] | ["objects", id, "metadata"] => Action::Object(s(id)),
        ["objects", id, "content"] => Action::Content(s(id)),
        ["bulk", "download", "start"] => Action::BulkStart,
        ["bulk", "download", "status"] => Action::BulkStatusAll,
        ["bulk", "download", "status", zip] => Action::BulkStatus(s(zip)),
        ["bulk", "download", zip] => Action::BulkZip(s(zip)),
        _ => Action::Other,
    };
    Some(Route {
        region: region.to_string(),
        action,
    })
}

/// What storage holds: the objects of every region and the bulk-download jobs.
#[derive(Default)]
pub(crate) struct StorageStore {
    pub(crate) objects: Vec<StorageObject>,
    jobs: BTreeMap<String, BulkJob>,
}

impl StorageStore {
    pub(crate) fn with_objects(objects: Vec<StorageObject>) -> StorageStore {
        StorageStore {
            objects,
            jobs: BTreeMap::new(),
        }
    }

    fn find(&self, region: &str, id: &str) -> Option<&StorageObject> {
        self.objects
            .iter()
            .find(|o| o.region == region && o.id == id)
    }
}

struct BulkJob {
    region: String,
    ids: Vec<String>,
    ready_at: Instant,
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8], route: Route) -> Reply {
    let region = route.region.as_str();
    match (&route.action, req.method.as_str()) {
        (Action::BulkStart, "POST") => bulk_start(state, region, body),
        (Action::BulkStart, _) => not_allowed("POST"),
        (Action::Other, _) => Reply::message(404, "Not found"),
        (_, "GET") => match &route.action {
            Action::Regions => Reply::json(200, &state.storage_regions),
            Action::Search => search(state, req, region),
            Action::Object(id) => match state.storage().find(region, id) {
                Some(o) => Reply::json(200, o),
                None => not_found(id),
            },
            Action::Content(id) if req.query_param("presignUrl").as_deref() == Some("true") => {
                presigned(state, region, id)
            }
            Action::Content(id) => object_content(state, region, id),
            Action::BulkStatusAll => bulk_status_all(state, region),
            Action::BulkStatus(zip) => bulk_status(state, req, region, zip),
            Action::BulkZip(zip) => match bulk_job_region(state, zip) {
                Some(r) if r == region => zip_content(state, zip),
                _ => not_found(zip),
            },
            _ => unreachable!("every GET action is matched"),
        },
        _ => not_allowed("GET"),
    }
}

fn not_allowed(allow: &str) -> Reply {
    Reply::message(405, "Method Not Allowed").header("Allow", allow)
}

fn not_found(what: &str) -> Reply {
    Reply::message(404, &format!("Not found: {what}"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchPage<'a> {
    last_page: bool,
    page_key: u64,
    page_size: usize,
    /// The spec's form only: "total number of available pages".
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    content: Vec<&'a StorageObject>,
}

fn search(state: &State, req: &Incoming, region: &str) -> Reply {
    let number = |name: &str, default: u64| match req.query_param(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| Reply::message(400, &format!("Bad request: {name} must be a number"))),
    };
    let (page_key, limit) = match (number("pageKey", 0), number("limit", DEFAULT_LIMIT)) {
        (Ok(k), Ok(l)) => (k, l),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Reply::message(
            400,
            &format!("Bad request: limit must be between 1 and {MAX_LIMIT}"),
        );
    }
    let filter = match req.query_param("filter").filter(|f| !f.is_empty()) {
        None => None,
        Some(text) => match fiql::parse(&text) {
            Ok(f) => Some(f),
            Err(e) => return Reply::message(400, &format!("Bad request: invalid filter: {e}")),
        },
    };
    // "Only AVAILABLE objects are returned unless the filter asks for others."
    let any_state = filter.as_ref().is_some_and(|f| f.mentions("objectState"));
    let sort_field = req
        .query_param("sortField")
        .unwrap_or_else(|| "createdTime".to_string());
    if ![
        "createdTime",
        "updatedTime",
        "objectName",
        "storedBytes",
        "type",
        "id",
    ]
    .contains(&sort_field.as_str())
    {
        return Reply::message(400, &format!("Bad request: cannot sort by {sort_field}"));
    }
    let descending = match req.query_param("sortDirection").as_deref() {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => return Reply::message(400, &format!("Bad request: sortDirection {other}")),
    };
    let store = state.storage();
    let mut hits: Vec<&StorageObject> = store
        .objects
        .iter()
        .filter(|o| o.region == region)
        .filter(|o| any_state || o.object_state == "AVAILABLE")
        .filter(|o| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|field| o.field(field)))
        })
        .collect();
    let numeric = matches!(
        sort_field.as_str(),
        "createdTime" | "updatedTime" | "storedBytes"
    );
    hits.sort_by(|a, b| {
        let (x, y) = (a.field(&sort_field), b.field(&sort_field));
        let order = if numeric {
            let n = |v: Option<String>| v.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            n(x).cmp(&n(y))
        } else {
            x.cmp(&y)
        };
        order.then_with(|| a.id.cmp(&b.id))
    });
    if descending {
        hits.reverse();
    }
    let total = hits.len() as u64;
    let content: Vec<&StorageObject> = hits
        .into_iter()
        .skip(usize::try_from(page_key).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect();
    let spec = state.settings().api_forms.spec();
    let page = SearchPage {
        last_page: page_key + limit >= total,
        // The guide: the reply's pageKey is the next request's (an offset), even on the last page.
        page_key: page_key + limit,
        page_size: content.len(),
        total: spec.then(|| total.div_ceil(limit)),
        content,
    };
    if spec {
        Reply::json(200, &[page])
    } else {
        Reply::json(200, &page)
    }
}

/// An object's bytes, streamed; shared with the second origin.
pub(crate) fn object_content(state: &State, region: &str, id: &str) -> Reply {
    let store = state.storage();
    let Some(o) = store.find(region, id) else {
        return not_found(id);
    };
    if o.object_state != "AVAILABLE" {
        return Reply::message(
            400,
            &format!(
                "Bad request: object {id} is {}; only AVAILABLE objects can be downloaded",
                o.object_state
            ),
        );
    }
    let name = o.object_name.replace(['"', '\\', '\r', '\n'], "_");
    Reply::stream(mime_type(&o.object_type), o.content.len, o.content.chunks()).header(
        "Content-Disposition",
        format!("attachment; filename=\"{name}\""),
    )
}

fn presigned(state: &State, region: &str, id: &str) -> Reply {
    let name = {
        let store = state.storage();
        match store.find(region, id) {
            None => return not_found(id),
            Some(o) if o.object_state != "AVAILABLE" => return object_content(state, region, id),
            Some(o) => o.object_name.clone(),
        }
    };
    let target = Target::Object {
        region: region.to_string(),
        id: id.to_string(),
    };
    let url = state.presign().grant(&state.presign_origin, target, &name);
    presign_reply(state, url)
}

fn presign_reply(state: &State, url: String) -> Reply {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Presigned {
        presigned_url: String,
    }
    match state.settings().presign_reply {
        PresignReply::Json => Reply::json(200, &Presigned { presigned_url: url }),
        PresignReply::Text => Reply::raw(200, "text/plain", url),
    }
}

fn bulk_start(state: &State, region: &str, body: &[u8]) -> Reply {
    let ids: Vec<String> = match serde_json::from_slice(body) {
        Ok(ids) => ids,
        Err(_) => {
            return Reply::message(
                400,
                "Bad request: the body must be a JSON array of object ids",
            )
        }
    };
    if ids.is_empty() {
        return Reply::message(400, "Bad request: no object ids");
    }
    let settings = state.settings().clone();
    let mut store = state.storage();
    let total: u64 = ids
        .iter()
        .filter_map(|id| store.find(region, id))
        .map(|o| o.content.len)
        .sum();
    if total > zip::MAX_TOTAL {
        return Reply::message(400, "Bad request: a bulk download is limited to 2 GB");
    }
    let zip_name = random_zip_name();
    store.jobs.insert(
        zip_name.clone(),
        BulkJob {
            region: region.to_string(),
            ids,
            ready_at: Instant::now() + Duration::from_millis(settings.report_delay_ms),
        },
    );
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Started {
        zip_name: String,
        status: &'static str,
    }
    let started = Started {
        zip_name,
        status: "NOT_STARTED",
    };
    if settings.api_forms.spec() {
        Reply::json(200, &[started])
    } else {
        Reply::json(200, &started)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkStatus {
    content: Vec<ItemStatus>,
    status: &'static str,
    url: Option<String>,
    zip_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemStatus {
    object_id: String,
    status: &'static str,
}

fn job_status(store: &StorageStore, zip_name: &str, job: &BulkJob) -> BulkStatus {
    let done = Instant::now() >= job.ready_at;
    let content: Vec<ItemStatus> = job
        .ids
        .iter()
        .map(|id| {
            let ok = store
                .find(&job.region, id)
                .is_some_and(|o| o.object_state == "AVAILABLE");
            ItemStatus {
                object_id: id.clone(),
                status: match (done, ok) {
                    (false, _) => "IN_PROGRESS",
                    (true, true) => "DONE",
                    (true, false) => "FAILED",
                },
            }
        })
        .collect();
    let failed = content.iter().filter(|c| c.status == "FAILED").count();
    let status = match (done, failed) {
        (false, _) => "IN_PROGRESS",
        (true, 0) => "DONE",
        (true, n) if n == content.len() => "FAILED",
        (true, _) => "PARTIAL_DONE",
    };
    BulkStatus {
        content,
        status,
        url: None,
        zip_name: zip_name.to_string(),
    }
}

fn bulk_status(state: &State, req: &Incoming, region: &str, zip_name: &str) -> Reply {
    let mut status = {
        let store = state.storage();
        match store.jobs.get(zip_name).filter(|j| j.region == region) {
            Some(job) => job_status(&store, zip_name, job),
            None => return not_found(zip_name),
        }
    };
    let ready = matches!(status.status, "DONE" | "PARTIAL_DONE");
    if ready && req.query_param("presignUrl").as_deref() == Some("true") {
        let target = Target::Zip(zip_name.to_string());
        status.url = Some(
            state
                .presign()
                .grant(&state.presign_origin, target, zip_name),
        );
    }
    if state.settings().api_forms.spec() {
        Reply::json(200, &[status])
    } else {
        Reply::json(200, &status)
    }
}

fn bulk_status_all(state: &State, region: &str) -> Reply {
    let store = state.storage();
    let all: Vec<BulkStatus> = store
        .jobs
        .iter()
        .filter(|(_, j)| j.region == region)
        .map(|(name, job)| job_status(&store, name, job))
        .collect();
    Reply::json(200, &all)
}

fn bulk_job_region(state: &State, zip_name: &str) -> Option<String> {
    state.storage().jobs.get(zip_name).map(|j| j.region.clone())
}

/// A finished bulk download's zip, streamed: its AVAILABLE objects, named by objectName.
pub(crate) fn zip_content(state: &State, zip_name: &str) -> Reply {
    let store = state.storage();
    let Some(job) = store.jobs.get(zip_name) else {
        return not_found(zip_name);
    };
    let status = job_status(&store, zip_name, job).status;
    if !matches!(status, "DONE" | "PARTIAL_DONE") {
        return Reply::message(
            400,
            &format!("Bad request: bulk download {zip_name} is {status}"),
        );
    }
    let entries: Vec<zip::Entry> = job
        .ids
        .iter()
        .filter_map(|id| store.find(&job.region, id))
        .filter(|o| o.object_state == "AVAILABLE")
        .map(|o| zip::Entry {
            name: o.object_name.clone(),
            content: o.content,
        })
        .collect();
    let len = zip::length(&entries);
    Reply::stream("application/zip", len, zip::stream(entries)).header(
        "Content-Disposition",
        format!("attachment; filename=\"{zip_name}\""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("/storage/uk/v3/objects/abc/content").unwrap();
        assert_eq!(
            (r.region.as_str(), r.action),
            ("uk", Action::Content("abc".into()))
        );
        assert_eq!(
            route("/storage/us-west/v3/bulk/download/status/x.zip")
                .unwrap()
                .action,
            Action::BulkStatus("x.zip".into())
        );
        assert_eq!(
            route("/storage/ap/v3/objects/abc/metadata").unwrap().action,
            Action::Object("abc".into())
        );
        assert!(route("/storage/eu/v3/regions").is_none());
        assert!(route("/storage/uk/v3x/regions").is_none());
    }
}
