//! What the connections share: the clients, the settings tests may change while the server
//! runs, the issued tokens, the pending faults and the counters.

use crate::config::{ApiForms, ClientSpec, EmulatorConfig, ReplyShape, TokenMode};
use crate::faults::FaultQueues;
use crate::historical::ReportStore;
use crate::presign::PresignStore;
use crate::stats::Recorder;
use crate::storage::{PresignReply, StorageStore};
use crate::storage_catalog;
use crate::token_log::TokenLog;
use crate::tokens::{fill_random, TokenStore};
use serde::Serialize;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};

pub(crate) struct Client {
    pub(crate) spec: ClientSpec,
    /// Apigee names each app by a UUID, sent in the Chat reply shape.
    pub(crate) application_name: String,
}

/// The part of the configuration that may change while the server runs.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Settings {
    pub(crate) token_lifetime: u64,
    pub(crate) expired_status: u16,
    pub(crate) reply_shape: ReplyShape,
    /// Every token request waits this long before it is answered.
    pub(crate) token_delay_ms: u64,
    pub(crate) token_mode: TokenMode,
    pub(crate) report_delay_ms: u64,
    pub(crate) report_rows: u64,
    pub(crate) api_forms: ApiForms,
    pub(crate) presign_reply: PresignReply,
}

pub(crate) struct State {
    pub(crate) clients: Vec<Client>,
    pub(crate) queues: usize,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) faults: FaultQueues,
    pub(crate) stats: Recorder,
    pub(crate) token_log: TokenLog,
    /// Whether clients reach this emulator over HTTPS, for the absolute URLs in replies.
    pub(crate) tls: bool,
    pub(crate) reports: Mutex<ReportStore>,
    pub(crate) storage_regions: Vec<String>,
    pub(crate) storage: Mutex<StorageStore>,
    pub(crate) presign: Mutex<PresignStore>,
    /// `scheme://127.0.0.1:port` of the second origin, which presigned URLs point to.
    pub(crate) presign_origin: String,
    pub(crate) verbose: AtomicBool,
}

impl State {
    pub(crate) fn new(cfg: &EmulatorConfig, presign_origin: &str) -> State {
        State {
            clients: cfg
                .clients
                .iter()
                .map(|spec| Client {
                    spec: spec.clone(),
                    application_name: random_uuid(),
                })
                .collect(),
            queues: cfg.queues,
            settings: Mutex::new(Settings {
                token_lifetime: cfg.token_lifetime_secs,
                expired_status: cfg.expired_status,
                reply_shape: cfg.reply_shape,
                token_delay_ms: cfg.token_delay_ms,
                token_mode: cfg.token_mode,
                report_delay_ms: cfg.report_delay_ms,
                report_rows: cfg.report_rows,
                api_forms: cfg.api_forms,
                presign_reply: cfg.presign_reply,
            }),
            storage_regions: cfg.storage_regions.clone(),
            storage: Mutex::new(StorageStore::with_objects(storage_catalog::samples(
                &cfg.storage_regions,
                cfg.storage_objects,
            ))),
            presign: Mutex::default(),
            presign_origin: presign_origin.to_string(),
            tls: cfg.tls_self_signed,
            reports: Mutex::default(),
            token_log: TokenLog::default(),
            tokens: Mutex::default(),
            faults: FaultQueues::default(),
            stats: Recorder::default(),
            verbose: AtomicBool::new(false),
        }
    }

    pub(crate) fn settings(&self) -> MutexGuard<'_, Settings> {
        lock(&self.settings)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        lock(&self.tokens)
    }

    pub(crate) fn reports(&self) -> MutexGuard<'_, ReportStore> {
        lock(&self.reports)
    }

    pub(crate) fn storage(&self) -> MutexGuard<'_, StorageStore> {
        lock(&self.storage)
    }

    pub(crate) fn presign(&self) -> MutexGuard<'_, PresignStore> {
        lock(&self.presign)
    }

    pub(crate) fn reset(&self) {
        self.presign().clear_requests();
        self.stats.reset();
        self.faults.clear();
        self.token_log.clear();
    }
}

/// A handler that panicked mid-update leaves state that is still good enough for a test double.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
