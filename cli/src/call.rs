//! `x8 get` and `x8 request`: one authenticated call (or a run of pages), the body on stdout, the status and
//! any error on stderr, and exit 6 for an HTTP status of 400 or more so that `set -e` scripts stop.

use crate::args::{CallArgs, GetArgs, RequestArgs};
use crate::exit::{Exit, Failure};
use crate::input;
use crate::out::{self, write_stdout};
use crate::paging;
use crate::progress::Progress;

/// How much of an error body goes to stderr.
const ERROR_BODY_MAX: usize = 4096;

/// A call with every input read and checked, ready to send.
pub struct Call {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    include: bool,
    /// `--all-pages`, with the paging style to follow.
    paged: Option<x8::PageStyle>,
    verbose: bool,
}

impl Call {
    pub fn get(args: &GetArgs, verbose: bool) -> Result<Call, Failure> {
        Call::new("GET", &args.path, None, &args.call, verbose)
    }

    pub fn request(args: &RequestArgs, verbose: bool) -> Result<Call, Failure> {
        let body = args.data.as_deref().map(input::read_body).transpose()?;
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
        body: Option<Vec<u8>>,
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
            body: self.body.as_deref(),
            timeout: None,
            cancel: None,
        }
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
