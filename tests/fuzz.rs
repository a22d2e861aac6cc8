//! Bounded fuzzing, run by the test command: the token-reply parser and the C entry points must turn any input
//! into a result or a clear error — never a panic, a crash, or a leaked secret.

use proptest::prelude::*;
use std::ffi::{c_char, CString};
use std::ptr;
use x8::ffi::*;

const SECRET: &str = "fuzz-secret-value";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// JSON-shaped inputs reach deeper into the parser than random bytes do.
fn token_reply_like() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"1799\"".to_owned()),
        Just("1799".to_owned()),
        Just("-1".to_owned()),
        Just("null".to_owned()),
        Just("[\"a\",\"b\"]".to_owned()),
        Just("\"[a, b]\"".to_owned()),
        "\"[ -~]{0,12}\"".prop_map(|s| s),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            f.to_string()
        } else {
            "0".into()
        }),
    ];
    let key = prop_oneof![
        Just("access_token"),
        Just("token_type"),
        Just("expires_in"),
        Just("issued_at"),
        Just("api_product_list"),
        Just("api_product_list_json"),
        Just("other"),
    ];
    proptest::collection::vec((key, value), 0..8).prop_map(|fields| {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_parser_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = x8::parse_token_reply(&body, 0);
    }

    #[test]
    fn the_parser_accepts_or_explains_json_shaped_replies(body in token_reply_like()) {
        match x8::parse_token_reply(body.as_bytes(), 0) {
            Ok(t) => {
                prop_assert!(t.lifetime_secs() > 0);
                prop_assert!(t.access_token().bytes().all(|b| b.is_ascii_graphic()));
            }
            Err(e) => prop_assert_eq!(e.kind(), x8::ErrorKind::Protocol),
        }
    }

    #[test]
    fn c_request_arguments_never_crash(
        method in proptest::collection::vec(any::<u8>(), 0..12),
        path in proptest::collection::vec(any::<u8>(), 0..40),
        header in proptest::collection::vec(any::<u8>(), 0..40),
        body_len in prop_oneof![Just(0usize), Just(3usize), Just(usize::MAX), any::<usize>()],
        header_count in 0usize..3,
    ) {
        let client = closed_port_client();
        let cstr = |v: Vec<u8>| CString::new(v.into_iter().filter(|b| *b != 0).collect::<Vec<u8>>()).unwrap();
        let (method, path, header) = (cstr(method), cstr(path), cstr(header));
        let headers = [header.as_ptr(), header.as_ptr()];
        let body = b"abc";
        let mut out: *mut x8_response = ptr::null_mut();
        let mut err: *mut x8_error = ptr::null_mut();
        let body_ptr = if body_len <= 3 { body.as_ptr() } else { ptr::null() };
        let opts = x8_request_opts {
            size: std::mem::size_of::<x8_request_opts>(),
            headers: headers.as_ptr(),
            header_count,
            body: body_ptr,
            body_len,
            timeout_ms: 200,
            cancel: ptr::null(),
            write: None,
            write_user: ptr::null_mut(),
            read: None,
            read_user: ptr::null_mut(),
            upload_len: 0,
            head: None,
            head_user: ptr::null_mut(),
        };
        let status = x8_request(client, method.as_ptr(), path.as_ptr(), &opts, &mut out, &mut err);
        // The client's origin has nothing listening, so nothing can succeed; whatever fails must say why.
        prop_assert!(status != x8_status::Ok);
        prop_assert!(out.is_null());
        prop_assert!(!err.is_null());
        let message = unsafe { std::ffi::CStr::from_ptr(x8_error_message(err)) }.to_string_lossy().into_owned();
        prop_assert!(!message.is_empty());
        prop_assert!(!message.contains(SECRET));
        x8_error_free(err);
        x8_client_free(client);
    }

    #[test]
    fn c_option_and_client_arguments_never_crash(
        id in proptest::collection::vec(any::<u8>(), 0..20),
        secret in proptest::collection::vec(any::<u8>(), 0..20),
        url in proptest::collection::vec(any::<u8>(), 0..40),
        ms in any::<u32>(),
    ) {
        let cstr = |v: Vec<u8>| CString::new(v.into_iter().filter(|b| *b != 0).collect::<Vec<u8>>()).unwrap();
        let (id, secret, url) = (cstr(id), cstr(secret), cstr(url));
        let opts = x8_options_new();
        let _ = x8_options_set_base_url(opts, url.as_ptr(), ptr::null_mut());
        let _ = x8_options_set_timeout_ms(opts, ms, ptr::null_mut());
        let _ = x8_options_set_refresh_margin_ms(opts, ms, ptr::null_mut());
        let mut client: *mut x8_client = ptr::null_mut();
        let mut err: *mut x8_error = ptr::null_mut();
        let status = x8_client_new(id.as_ptr(), secret.as_ptr(), opts, &mut client, &mut err);
        prop_assert_eq!(status == x8_status::Ok, !client.is_null());
        prop_assert_eq!(status == x8_status::Ok, err.is_null());
        x8_error_free(err);
        x8_client_free(client);
        x8_options_free(opts);
    }
}

fn closed_port_client() -> *mut x8_client {
    let opts = x8_options_new();
    let url = CString::new("http://127.0.0.1:1").unwrap();
    assert_eq!(
        x8_options_set_base_url(opts, url.as_ptr(), ptr::null_mut()),
        x8_status::Ok
    );
    assert_eq!(
        x8_options_set_retries(opts, 0, 1, 1, ptr::null_mut()),
        x8_status::Ok
    );
    let (id, secret) = (
        CString::new("fuzz-id").unwrap(),
        CString::new(SECRET).unwrap(),
    );
    let mut client: *mut x8_client = ptr::null_mut();
    let status = x8_client_new(
        id.as_ptr() as *const c_char,
        secret.as_ptr(),
        opts,
        &mut client,
        ptr::null_mut(),
    );
    assert_eq!(status, x8_status::Ok);
    x8_options_free(opts);
    client
}
