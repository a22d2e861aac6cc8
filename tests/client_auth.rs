//! Client authentication styles against servers that insist on each (issue 16 §1): 8x8's raw Basic, RFC 6749's
//! form-encoded Basic and `client_secret_post`, with a scope and extra parameters only when asked for.

mod common;

use common::*;
use x8::{Client, ClientAuth, Credentials, ErrorKind};
use x8_emulator::{ClientSpec, Emulator, TokenMode, REDACTED};

/// An id and a secret holding the characters that form encoding escapes.
const RFC_ID: &str = "ci:client/1";
const RFC_SECRET: &str = "s3cr:t/%+ &x";

fn rfc_server() -> Emulator {
    emulator_with(|c| {
        c.token_mode = TokenMode::Rfc6749;
        c.clients.push(ClientSpec::new(RFC_ID, RFC_SECRET, &[]));
    })
}

fn client_in(emu: &Emulator, style: ClientAuth, id: &str, secret: &str) -> x8::Result<Client> {
    let mut o = options(emu);
    o.client_auth = style;
    Client::new(Credentials::new(id, secret).unwrap(), o)
}

#[test]
fn the_rfc6749_styles_get_tokens_where_the_server_insists_on_them() {
    let emu = rfc_server();
    for style in [ClientAuth::BasicRfc6749, ClientAuth::Post] {
        let c = client_in(&emu, style, RFC_ID, RFC_SECRET).unwrap();
        let t = c
            .token(None)
            .unwrap_or_else(|e| panic!("{}: {e}", style.name()));
        assert_eq!(t.token_type(), "Bearer");
    }
    let sent = emu.token_requests();
    assert_eq!(sent.len(), 2);
    // Form-encoded before base64: the id's ':' and '/' arrive escaped.
    assert_eq!(sent[0].authorization_scheme.as_deref(), Some("Basic"));
    assert_eq!(sent[0].basic_user.as_deref(), Some("ci%3Aclient%2F1"));
    assert!(!sent[0].form.contains_key("client_id"));
    // client_secret_post: nothing in the header, both in the body.
    assert_eq!(sent[1].authorization_scheme, None);
    assert_eq!(
        sent[1].form.get("client_id").map(String::as_str),
        Some(RFC_ID)
    );
    assert_eq!(
        sent[1].form.get("client_secret").map(String::as_str),
        Some(REDACTED)
    );
    for request in &sent {
        assert_eq!(
            request.form.get("grant_type").map(String::as_str),
            Some("client_credentials")
        );
        assert!(!request.form.contains_key("scope"), "no scope unless asked");
    }
}

#[test]
fn raw_basic_against_a_strict_server_is_told_to_encode_not_to_check_the_key() {
    let emu = rfc_server();
    // The id has no ':' so 8x8's style can send it; the secret's characters break the strict server's rule.
    drop(emu);
    let emu = emulator_with(|cfg| {
        cfg.token_mode = TokenMode::Rfc6749;
        cfg.clients
            .push(ClientSpec::new("plainid", RFC_SECRET, &[]));
    });
    let e = client_in(&emu, ClientAuth::Basic, "plainid", RFC_SECRET)
        .unwrap()
        .token(None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.message().contains("basic-rfc6749"), "{e}");
    assert!(!e.message().contains("8x8 Admin Console"), "{e}");
    no_secrets(&e, &[]);
    assert!(!format!("{e} {e:?}").contains(RFC_SECRET), "{e}");
}

#[test]
fn wrong_credentials_in_an_rfc_style_say_so_without_8x8_advice() {
    let emu = rfc_server();
    let e = client_in(&emu, ClientAuth::Post, RFC_ID, "not-the-secret")
        .unwrap()
        .token(None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.message().contains("invalid_client"), "{e}");
    assert!(e.message().contains("post client authentication"), "{e}");
    assert!(!e.message().contains("Admin Console"), "{e}");
}

#[test]
fn a_colon_in_the_id_is_refused_only_where_it_cannot_be_sent() {
    let emu = rfc_server();
    let e = client_in(&emu, ClientAuth::Basic, RFC_ID, RFC_SECRET)
        .err()
        .expect("8x8's raw Basic cannot carry ':' in the id");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("basic-rfc6749"), "{e}");
    assert!(client_in(&emu, ClientAuth::BasicRfc6749, RFC_ID, RFC_SECRET).is_ok());
}

#[test]
fn scope_and_extra_parameters_are_sent_only_when_set() {
    let emu = rfc_server();
    let mut o = options(&emu);
    o.client_auth = ClientAuth::Post;
    o.token_scope = Some("read write".into());
    o.token_params = vec![
        ("audience".into(), "https://api.example/".into()),
        ("resource".into(), "urn:x8&test".into()),
    ];
    let c = Client::new(Credentials::new(RFC_ID, RFC_SECRET).unwrap(), o).unwrap();
    c.token(None).unwrap();
    let sent = &emu.token_requests()[0];
    assert_eq!(
        sent.form.get("scope").map(String::as_str),
        Some("read write")
    );
    assert_eq!(
        sent.form.get("audience").map(String::as_str),
        Some("https://api.example/")
    );
    assert_eq!(
        sent.form.get("resource").map(String::as_str),
        Some("urn:x8&test")
    );
    // 8x8's style against 8x8's gateway sends exactly what 8x8's document shows.
    let emu = emulator();
    client(&emu).token(None).unwrap();
    let sent = &emu.token_requests()[0];
    assert_eq!(sent.basic_user.as_deref(), Some(ID));
    assert_eq!(sent.form.len(), 1, "{:?}", sent.form);
}

#[test]
fn parameters_x8_sets_itself_are_refused_as_extras() {
    let emu = emulator();
    for name in ["grant_type", "client_secret", "Scope"] {
        let mut o = options(&emu);
        o.token_params = vec![(name.into(), "x".into())];
        let e = Client::new(Credentials::new(ID, SECRET).unwrap(), o)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Config, "{name}");
    }
    let mut o = options(&emu);
    o.token_scope = Some("a\r\nb".into());
    assert!(Client::new(Credentials::new(ID, SECRET).unwrap(), o).is_err());
}

#[test]
fn style_names_round_trip_and_unknown_ones_are_config_errors() {
    for (name, style) in ClientAuth::NAMES {
        assert_eq!(ClientAuth::from_name(name).unwrap(), style);
        assert_eq!(style.name(), name);
    }
    assert_eq!(
        ClientAuth::from_name("oauth").unwrap_err().kind(),
        ErrorKind::Config
    );
}
