//! Helpers shared by the integration tests: a started emulator, an HTTP agent that reports error
//! statuses as replies, and the token dance.
#![allow(dead_code)] // each test file uses its own subset

use base64::Engine;
use serde_json::Value;
use std::time::Duration;
use ureq::http::Response;
use ureq::{Agent, Body};
use x8_emulator::{Emulator, EmulatorConfig};

pub const ID: &str = "demo-client";
pub const SECRET: &str = "demo-secret";

pub fn start() -> Emulator {
    start_with(EmulatorConfig::default())
}

pub fn start_with(cfg: EmulatorConfig) -> Emulator {
    Emulator::start(cfg).expect("emulator starts")
}

/// Every test gets a generous global timeout so a broken emulator fails the test instead of
/// hanging it.
pub fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

pub fn basic(id: &str, secret: &str) -> String {
    let creds = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {creds}")
}

pub fn token_reply(agent: &Agent, emu: &Emulator, id: &str, secret: &str) -> Response<Body> {
    agent
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(id, secret))
        .send_form([("grant_type", "client_credentials")])
        .expect("token request is answered")
}

/// A token for `id`, which must succeed.
pub fn token_for(agent: &Agent, emu: &Emulator, id: &str, secret: &str) -> String {
    let (status, body) = json(token_reply(agent, emu, id, secret));
    assert_eq!(status, 200, "token reply: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

pub fn token(agent: &Agent, emu: &Emulator) -> String {
    token_for(agent, emu, ID, SECRET)
}

pub fn get(agent: &Agent, url: &str, authorization: Option<&str>) -> Response<Body> {
    let mut rq = agent.get(url);
    if let Some(a) = authorization {
        rq = rq.header("Authorization", a);
    }
    rq.call().expect("request is answered")
}

pub fn queues_url(emu: &Emulator) -> String {
    format!("{}/analytics/cc/v5/realtime-metrics/queues", emu.base_url())
}

/// Status and JSON body; panics with the raw body if it is not JSON.
pub fn json(mut reply: Response<Body>) -> (u16, Value) {
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().expect("body reads");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

pub fn header(reply: &Response<Body>, name: &str) -> Option<String> {
    reply
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}
