//! x8: 8x8 XCaaS OAuth tokens, cached and renewed ahead of expiry, and authenticated HTTPS requests with them.
//!
//! The safe Rust API is [`Client`]; the C ABI in [`ffi`] is a thin layer over it (see `include/x8.h`).

mod cache;
mod client;
mod clock;
mod config;
mod error;
mod fork;
mod log;
mod oauth;
mod origin;
mod response;
mod stats;
mod token;
mod transport;

pub mod ffi;

pub use cache::{Fetched, TokenSource};
pub use client::{Client, Request};
pub use config::{Credentials, Options, ProxySetting, DEFAULT_BASE_URL};
pub use error::{Error, ErrorKind, Result};
pub use log::{Level, LogFn, Logger};
pub use response::Response;
pub use stats::StatsSnapshot;
pub use token::{parse_token_reply, Token};
pub use transport::Deadline;
