//! `x8 get` and `x8 request`: one authenticated call (or a run of pages), the body on stdout, the status and
//! any error on stderr, and exit 6 for an HTTP status of 400 or more so that `set -e` scripts stop.

use crate::args::{CallArgs, GetArgs, RequestArgs};
use crate::exit::{Exit, Failure};
use crate::input::{self, Body};
use crate::out::{self, write_stdout};
use crate::paging;
use crate::progress::Progress;
use std::io::Write;
use x8::Response;

/// How much of an error body goes to stderr.
const ERROR_BODY_MAX: usize = 4096;

/// A call with every input read and checked, ready to send.
pub struct Call {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Body>,
    include: bool,
    /// `-o FILE`.
    output: Option<std::path::PathBuf>,
    /// `--all-pages`, with the paging style to follow.
    paged: Option<x8::PageStyle>,
    verbose: bool,
}

impl Call {
    pub fn get(args: &GetArgs, verbose: bool) -> Result<Call, Failure> {
        Call::new("GET", &args.path, None, &args.call, verbose)
    }

    pub fn request(args: &RequestArgs, verbose: bool) -> Result<Call, Failure> {
        let body = match args.data.as_deref() {
            // A listing's pages each send the body again: it is held, whatever its size.
            Some(data) if args.call.all_pages => Some(Body::Bytes(input::read_body(data)?)),
            Some(data) => Some(input::body(data)?),
            None => None,
        };
        Call::new(
            &args.method.to_ascii_uppercase(),
            &args.path,
            body,
            &args.call,
            verbose,
        )
    }

    fn new(
        method: &str,
        path: &str,
        body: Option<Body>,
        args: &CallArgs,
        verbose: bool,
    ) -> Result<Call, Failure> {
        let mut headers = args
            .headers
            .iter()
            .map(|h| input::parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        // 8x8's APIs take JSON; curl's form default would be wrong for every one of them.
        if body.is_some() && !input::has_header(&headers, "Content-Type") {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let paged = args.all_pages.then_some(args.paging);
        Ok(Call {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            body,
            include: args.include,
            output: args.output.clone(),
            paged,
            verbose,
        })
    }

    pub fn run(&self, client: &x8::Client) -> Result<(), Failure> {
        if let Some(style) = self.paged {
            let pager = x8::Pager::new(client, &self.request_for(&self.path), style);
            let json = paging::collect(
                pager,
                |reply, path| {
                    self.log_status(path, &reply);
                    self.fail_on_status(reply, path)
                },
                &mut Progress::on_stderr(self.verbose),
            )?;
            return write_stdout(&[&json]);
        }
        if self.output.is_some() || matches!(self.body, Some(Body::File { .. })) {
            return self.stream(client);
        }
        let reply = self.send(client, &self.path)?;
        if self.include {
            write_stdout(&[out::head(&reply).as_bytes()])?;
        }
        let reply = self.fail_on_status(reply, &self.path)?;
        write_stdout(&[&reply.body])
    }

    fn request_for<'a>(&'a self, path: &'a str) -> x8::Request<'a> {
        x8::Request {
            method: &self.method,
            path,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: match &self.body {
                Some(Body::Bytes(b)) => Some(b),
                _ => None,
            },
            timeout: None,
            cancel: None,
        }
    }

    /// A streamed call: the upload read from its file as it is sent, the body written to `-o FILE` (or stdout)
    /// as it arrives.
    fn stream(&self, client: &x8::Client) -> Result<(), Failure> {
        let mut file;
        let mut upload = match &self.body {
            Some(Body::File { path, len }) => {
                file = std::fs::File::open(path).map_err(|e| {
                    Failure::usage(format!("cannot read the body from {}: {e}", path.display()))
                })?;
                Some(x8::Upload::new(&mut file, Some(*len)))
            }
            _ => None,
        };
        let mut reply = client.request_reader(&self.request_for(&self.path), upload.as_mut())?;
        let head = Response {
            status: reply.status,
            headers: reply.headers.clone(),
            body: Vec::new(),
        };
        self.log_status(&self.path, &head);
        if self.include {
            write_stdout(&[out::head(&head).as_bytes()])?;
        }
        if reply.status >= 400 {
            let body = reply
                .into_response(ERROR_BODY_MAX as u64 * 4)
                .unwrap_or(head);
            self.fail_on_status(body, &self.path)?;
            return Ok(());
        }
        let Some(path) = &self.output else {
            let mut out = std::io::stdout().lock();
            reply.copy_to(&mut out)?;
            return write_stdout(&[]);
        };
        let len = reply
            .header("content-length")
            .and_then(|n| n.parse::<u64>().ok());
        let file = std::fs::File::create(path).map_err(|e| {
            Failure::new(
                Exit::Other,
                format!("cannot create {}: {e}", path.display()),
            )
        })?;
        let mut progress = Progress::bytes(self.verbose, len);
        let mut sink = std::io::BufWriter::with_capacity(256 * 1024, progress.wrap(file));
        let written = reply
            .copy_to(&mut sink)
            .map_err(Failure::from)
            .and_then(|_| {
                sink.flush().map_err(|e| {
                    Failure::new(Exit::Other, format!("cannot write {}: {e}", path.display()))
                })
            });
        drop(sink);
        progress.clear();
        if let Err(e) = written {
            // A partial file is not the object: a script must not take it for one.
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(())
    }

    fn send(&self, client: &x8::Client, path: &str) -> Result<x8::Response, Failure> {
        let reply = client.request(&self.request_for(path))?;
        self.log_status(path, &reply);
        Ok(reply)
    }

    fn log_status(&self, what: &str, reply: &x8::Response) {
        if self.verbose {
            eprintln!(
                "x8: {} {what}: {}",
                self.method,
                out::status_line(reply.status)
            );
        }
    }

    /// A status of 400 or more fails the command; its body goes to stderr, where it cannot be mistaken for data.
    fn fail_on_status(&self, reply: x8::Response, path: &str) -> Result<x8::Response, Failure> {
        if reply.status < 400 {
            return Ok(reply);
        }
        let body = out::body_excerpt(&reply.body, ERROR_BODY_MAX);
        let mut message = format!(
            "{} {path}: HTTP {}",
            self.method,
            out::status_text(reply.status)
        );
        if !body.is_empty() {
            message.push('\n');
            message.push_str(&body);
        }
        Err(Failure::new(Exit::HttpStatus, message))
    }
}
