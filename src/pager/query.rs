//! Setting one query parameter of a request path while keeping the caller's others as they wrote them.

/// `path` with `name` set to `value` (form-encoded): any `name=` already there is taken out, the other
/// parameters keep their order and spelling, and the new one goes last.
pub fn with_param(path: &str, name: &str, value: &str) -> String {
    let (before, query) = path.split_once('?').unwrap_or((path, ""));
    let mut out = String::with_capacity(path.len() + name.len() + value.len() + 2);
    out.push_str(before);
    let mut sep = '?';
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if key == name {
            continue;
        }
        out.push(sep);
        out.push_str(pair);
        sep = '&';
    }
    out.push(sep);
    out.extend(form_urlencoded::byte_serialize(name.as_bytes()));
    out.push('=');
    out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_parameter_and_keeps_the_rest() {
        assert_eq!(with_param("/a", "page", "1"), "/a?page=1");
        assert_eq!(with_param("/a?", "page", "1"), "/a?page=1");
        assert_eq!(
            with_param("/a?page=0&size=5", "page", "1"),
            "/a?size=5&page=1"
        );
        assert_eq!(
            with_param("/a?filter=type%3D%3Dx&pageKey=0", "pageKey", "100"),
            "/a?filter=type%3D%3Dx&pageKey=100"
        );
        assert_eq!(with_param("/a?pages=3", "page", "1"), "/a?pages=3&page=1");
        assert_eq!(
            with_param("/a", "c", "a b&c/=é"),
            "/a?c=a+b%26c%2F%3D%C3%A9"
        );
    }
}
