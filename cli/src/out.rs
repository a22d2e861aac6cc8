//! Writing to stdout, where only data goes (tokens, bodies, JSON), and describing HTTP replies for people.

use std::io::Write;

use crate::exit::{Exit, Failure};

/// Writes and flushes; a closed or full stdout is a failure (exit 1), as it is for curl, so a script never
/// takes a cut-off token or body for a whole one.
pub fn write_stdout(parts: &[&[u8]]) -> Result<(), Failure> {
    stdout_is_open()?;
    let mut out = std::io::stdout().lock();
    parts
        .iter()
        .try_for_each(|p| out.write_all(p))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(Exit::Other, format!("cannot write to stdout: {e}")))
}

/// A script that ran `x8 token >&-` must get exit 1, not 0 and no token. Rust's runtime reopens a closed fd 1
/// on /dev/null before `main` (so that no file opened later lands on it), which makes every write "succeed";
/// `closed_stdout` looked at fd 1 before that.
fn stdout_is_open() -> Result<(), Failure> {
    if crate::closed_stdout::was_closed() {
        return Err(Failure::new(
            Exit::Other,
            "cannot write to stdout: it was closed when x8 started",
        ));
    }
    Ok(())
}

/// `HTTP/1.1 200 OK`. The library's transport speaks HTTP/1.1 only and does not report the reason phrase
/// the server sent, so the standard one is shown.
pub fn status_line(status: u16) -> String {
    match reason(status) {
        "" => format!("HTTP/1.1 {status}"),
        r => format!("HTTP/1.1 {status} {r}"),
    }
}

/// `404 Not Found`, for messages.
pub fn status_text(status: u16) -> String {
    match reason(status) {
        "" => status.to_string(),
        r => format!("{status} {r}"),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The head of a reply as `--include` prints it: status line, headers, blank line.
pub fn head(reply: &x8::Response) -> String {
    let mut text = status_line(reply.status);
    text.push('\n');
    for (name, value) in &reply.headers {
        text.push_str(name);
        text.push_str(": ");
        text.push_str(value);
        text.push('\n');
    }
    text.push('\n');
    text
}

/// An error body for stderr: text, and bounded, so a large HTML error page does not flood the terminal.
pub fn body_excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_line(200), "HTTP/1.1 200 OK");
        assert_eq!(status_line(299), "HTTP/1.1 299");
        assert_eq!(status_text(404), "404 Not Found");
    }

    #[test]
    fn excerpts_are_bounded_and_valid_utf8() {
        assert_eq!(body_excerpt(b"  {\"a\":1}\n", 100), "{\"a\":1}");
        let long = "é".repeat(10);
        let cut = body_excerpt(long.as_bytes(), 5);
        assert!(cut.starts_with("éé…"), "{cut}");
        assert!(cut.ends_with("(16 more bytes)"), "{cut}");
    }
}
