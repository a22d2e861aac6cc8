//! The `rel="next"` target of an HTTP `Link` header (RFC 8288): `<url>; rel="next", <url>; rel="prev"`.

/// The URL of the first link whose `rel` includes `next`, if any.
pub fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let url = rest[open + 1..close].trim();
        // Parameters run to the next link (a ',' outside <>), which starts with '<'.
        let params_end = rest[close..]
            .find(",")
            .filter(|i| {
                rest[close + i..]
                    .trim_start_matches([',', ' '])
                    .starts_with('<')
            })
            .map(|i| close + i)
            .unwrap_or(rest.len());
        let params = &rest[close + 1..params_end];
        if params.split(';').any(|p| is_rel_next(p.trim())) && !url.is_empty() {
            return Some(url.to_owned());
        }
        rest = &rest[params_end..];
        if rest.is_empty() {
            return None;
        }
        rest = &rest[1..];
    }
}

/// `rel=next`, `rel="next"` or `rel="next last"` (rel holds space-separated relation types).
fn is_rel_next(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("next"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_other_relations() {
        assert_eq!(
            next_link("<https://a/x?page=1&size=100>; rel=\"next\"").as_deref(),
            Some("https://a/x?page=1&size=100")
        );
        assert_eq!(
            next_link("<https://a/p0>; rel=\"prev\", <https://a/p2>; rel=\"next\"").as_deref(),
            Some("https://a/p2")
        );
        assert_eq!(
            next_link("<https://a/x?a=1,2>; rel=next").as_deref(),
            Some("https://a/x?a=1,2")
        );
        assert_eq!(
            next_link("<https://a/x>; title=\"n\"; rel=\"next last\"").as_deref(),
            Some("https://a/x")
        );
        assert_eq!(next_link("<https://a/s>; rel=\"status\""), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage; rel=next"), None);
        assert_eq!(next_link("<>; rel=next"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
    }
}
