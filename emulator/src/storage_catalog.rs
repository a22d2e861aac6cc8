//! The Cloud Storage objects the emulator holds: a deterministic sample per customer region, plus
//! any a test adds (e.g. a 200 MB recording), whose content is generated, never stored.

use crate::content::{fnv1a, Content};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Every region storage serves; a customer has objects only in its own.
pub(crate) const REGIONS: [&str; 5] = ["us-west", "us-east", "uk", "ap", "ca"];
/// Objects up to this size carry their checksum in the metadata; above it the checksum is null
/// (hashing would stall the reply), and `/_emulator/storage/objects/{id}/sha256` computes it.
const CHECKSUM_UP_TO: u64 = 64 << 20;
/// 2022-06-24T05:22:35Z, the guide's example, in epoch ms: the first sample's createdTime.
const FIRST_CREATED_MS: u64 = 1_656_048_155_000;

const SAMPLE_TYPES: [&str; 6] = [
    "callrecording",
    "callcenterrecording",
    "transcription",
    "screenrecording",
    "agentnotes",
    "callcentervoicemail",
];

/// What a test asks for through `Emulator::add_storage_object` or
/// `POST /_emulator/storage/objects`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    /// One of us-west, us-east, uk, ap, ca; default us-west.
    #[serde(default)]
    pub region: Option<String>,
    /// The object type, e.g. callrecording (the default).
    #[serde(default, rename = "type")]
    pub object_type: Option<String>,
    /// The content's size.
    pub bytes: u64,
    #[serde(default, rename = "objectName")]
    pub object_name: Option<String>,
    /// AVAILABLE by default.
    #[serde(default, rename = "objectState")]
    pub object_state: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub(crate) struct StorageObject {
    pub(crate) id: String,
    pub(crate) region: String,
    pub(crate) object_type: String,
    pub(crate) object_name: String,
    pub(crate) object_state: String,
    pub(crate) created_ms: u64,
    pub(crate) bucket_id: String,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) content: Content,
    checksum: Arc<OnceLock<String>>,
}

pub(crate) fn mime_type(object_type: &str) -> &'static str {
    match object_type {
        "callrecording" | "callcenterrecording" | "callcentervoicemail" => "audio/mpeg",
        "voicecommentrecording" => "audio/wav",
        "screenrecording" => "video/mp4",
        "agentnotes" => "text/plain",
        "transcription" | "postcallsurvey" | "sentimentScore" | "summary" => "application/json",
        _ => "application/octet-stream",
    }
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "audio/mpeg" => "mp3",
        "audio/wav" => "wav",
        "video/mp4" => "mp4",
        "text/plain" => "txt",
        "application/json" => "json",
        _ => "bin",
    }
}

/// A UUID-shaped id that is the same in every run for the same name.
fn stable_uuid(name: &str) -> String {
    let a = fnv1a(name.as_bytes());
    let b = fnv1a(format!("{name}#").as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

impl StorageObject {
    pub(crate) fn new(id: String, spec: NewObject, created_ms: u64) -> StorageObject {
        let region = spec.region.unwrap_or_else(|| "us-west".to_string());
        let object_type = spec
            .object_type
            .unwrap_or_else(|| "callrecording".to_string());
        let call = format!("int-{:012x}-phone-00-tenant01", fnv1a(id.as_bytes()) >> 16);
        let object_name = spec
            .object_name
            .unwrap_or_else(|| format!("{call}.{}", extension(mime_type(&object_type))));
        let mut tags = vec![("callId".to_string(), call)];
        tags.extend(spec.tags);
        StorageObject {
            content: Content::named(&id, spec.bytes),
            bucket_id: stable_uuid(&format!("bucket-{region}")),
            id,
            region,
            object_type,
            object_name,
            object_state: spec.object_state.unwrap_or_else(|| "AVAILABLE".to_string()),
            created_ms,
            tags,
            checksum: Arc::default(),
        }
    }

    /// The value FIQL and sorting see for `field`; unknown names are tag keys.
    pub(crate) fn field(&self, field: &str) -> Option<String> {
        Some(match field {
            "id" | "objectId" => self.id.clone(),
            "type" => self.object_type.clone(),
            "mimeType" => mime_type(&self.object_type).to_string(),
            "objectName" => self.object_name.clone(),
            "objectState" => self.object_state.clone(),
            "bucketId" => self.bucket_id.clone(),
            "createdTime" | "updatedTime" => self.created_ms.to_string(),
            "storedBytes" => self.content.len.to_string(),
            tag => {
                return self
                    .tags
                    .iter()
                    .find(|(k, _)| k == tag)
                    .map(|(_, v)| v.clone())
            }
        })
    }

    pub(crate) fn sha256(&self) -> String {
        self.checksum
            .get_or_init(|| self.content.sha256_hex())
            .clone()
    }
}

/// Field for field the guide's search result item.
impl Serialize for StorageObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tag<'a> {
            key: &'a str,
            value: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            object_type: &'a str,
            mime_type: &'a str,
            object_name: &'a str,
            checksum_type: &'a str,
            checksum: Option<String>,
            stored_bytes: u64,
            created_time: String,
            object_state: &'a str,
            bucket_id: &'a str,
            tags: Vec<Tag<'a>>,
            shared: bool,
        }
        Wire {
            id: &self.id,
            object_type: &self.object_type,
            mime_type: mime_type(&self.object_type),
            object_name: &self.object_name,
            checksum_type: "SHA-256",
            checksum: (self.content.len <= CHECKSUM_UP_TO).then(|| self.sha256()),
            stored_bytes: self.content.len,
            created_time: utc_timestamp(self.created_ms),
            object_state: &self.object_state,
            bucket_id: &self.bucket_id,
            tags: self
                .tags
                .iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
            shared: false,
        }
        .serialize(s)
    }
}

/// `count` sample objects in each of `regions`: mixed types, small sizes, every 8th REVOKED (so
/// the AVAILABLE-only default of search shows), one minute apart.
pub(crate) fn samples(regions: &[String], count: usize) -> Vec<StorageObject> {
    let mut out = Vec::new();
    for region in regions {
        for i in 0..count {
            let object_type = SAMPLE_TYPES[i % SAMPLE_TYPES.len()];
            let mut tags = BTreeMap::new();
            if object_type == "transcription" {
                tags.insert("sourceObjectType".to_string(), "callrecording".to_string());
            }
            let spec = NewObject {
                region: Some(region.clone()),
                object_type: Some(object_type.to_string()),
                bytes: 1024 + 4099 * i as u64,
                object_name: None,
                object_state: Some(if i % 8 == 7 { "REVOKED" } else { "AVAILABLE" }.to_string()),
                tags,
            };
            let id = stable_uuid(&format!("{region}/{i}"));
            out.push(StorageObject::new(
                id,
                spec,
                FIRST_CREATED_MS + 60_000 * i as u64,
            ));
        }
    }
    out
}

/// `YYYY-MM-DDThh:mm:ss` in UTC, as storage writes times (no zone).
pub(crate) fn utc_timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        (rest / 60) % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_without_a_zone() {
        assert_eq!(utc_timestamp(FIRST_CREATED_MS), "2022-06-24T05:22:35");
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29T00:00:00");
    }

    #[test]
    fn samples_are_stable_and_mixed() {
        let regions = vec!["us-west".to_string(), "uk".to_string()];
        let a = samples(&regions, 8);
        let b = samples(&regions, 8);
        assert_eq!(a.len(), 16);
        assert_eq!(a[0].id, b[0].id);
        assert_ne!(a[0].id, a[8].id);
        assert_eq!(a[7].object_state, "REVOKED");
        assert_eq!(
            a[2].field("sourceObjectType").as_deref(),
            Some("callrecording")
        );
        assert_eq!(a[0].field("mimeType").as_deref(), Some("audio/mpeg"));
        let v = serde_json::to_value(&a[0]).unwrap();
        assert_eq!(v["createdTime"], "2022-06-24T05:22:35");
        assert_eq!(v["storedBytes"], 1024);
        assert_eq!(v["checksum"].as_str().unwrap().len(), 64);
    }
}
