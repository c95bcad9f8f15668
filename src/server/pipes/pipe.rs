//! Each pipe, checked and applied: `status`, `header`, `slice`, `trickle`, `gzip`,
//! `sub`, `delay` and the faults.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::faults::Fault;
use super::parse::{self, Call};
use super::trickle::Schedule;
use crate::server::sub::{self, Escape, RequestInfo};

/// The pipes this server knows, for error messages.
const KNOWN: &str = "status(code), header(name,value[,append]), slice(start[,end]), \
                     trickle(spec), gzip, sub[(html|none)], delay(seconds), close(bytes), \
                     stall, malformed_chunk, reset";

/// One checked pipe.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pipe {
    Status(StatusCode),
    Header {
        name: HeaderName,
        value: HeaderValue,
        append: bool,
    },
    Slice {
        start: Option<i64>,
        end: Option<i64>,
    },
    Trickle(Schedule),
    Gzip,
    Sub(Escape),
    Delay(Duration),
    Fault(Fault),
}

/// The pipes of a request, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Pipeline {
    pipes: Vec<Pipe>,
}

impl Pipeline {
    /// Parses and checks a pipe string.
    ///
    /// # Errors
    ///
    /// A message naming the pipe and what is wrong with it.
    pub(crate) fn parse(input: &str) -> Result<Pipeline, String> {
        let pipes = parse::parse(input)?
            .iter()
            .map(check)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pipeline { pipes })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }

    /// Runs `sub` with `escape` before the other pipes (for `*.sub.*` files; a `sub`
    /// among them substitutes a second time, as in wptserve).
    pub(crate) fn with_sub_first(mut self, escape: Escape) -> Pipeline {
        self.pipes.insert(0, Pipe::Sub(escape));
        self
    }

    /// Whether applying the pipes to `content` may read files (`file_hash`), so that
    /// it must run off the runtime thread.
    pub(crate) fn reads_files(&self, content: &[u8]) -> bool {
        self.pipes.iter().any(|p| matches!(p, Pipe::Sub(_)))
            && content.windows(9).any(|w| w == b"file_hash")
    }

    /// Applies the pipes, left to right, to `piped`; `label` names the file in errors.
    ///
    /// # Errors
    ///
    /// A message naming the pipe that failed.
    pub(crate) fn apply(
        &self,
        piped: &mut Piped,
        info: &RequestInfo,
        label: &str,
    ) -> Result<(), String> {
        for pipe in &self.pipes {
            match pipe {
                Pipe::Status(status) => piped.status = *status,
                Pipe::Header {
                    name,
                    value,
                    append,
                } => {
                    if *name == header::CONTENT_LENGTH {
                        piped.length_set = true;
                    }
                    if *append {
                        piped.headers.append(name, value.clone());
                    } else {
                        piped.headers.insert(name, value.clone());
                    }
                }
                Pipe::Slice { start, end } => {
                    let (a, b) = slice_bounds(piped.content.len(), *start, *end);
                    piped.content = piped.content.slice(a..b);
                }
                Pipe::Trickle(schedule) => {
                    // wptserve: a trickled response must not be cached, unless a header
                    // already says how.
                    let h = &mut piped.headers;
                    if !(h.contains_key(header::CACHE_CONTROL)
                        || h.contains_key(header::PRAGMA)
                        || h.contains_key(header::EXPIRES))
                    {
                        h.insert(
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("no-cache, no-store, must-revalidate"),
                        );
                        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
                        h.insert(header::EXPIRES, HeaderValue::from_static("0"));
                    }
                    piped.trickle = Some(schedule.clone());
                }
                Pipe::Gzip => {
                    let mut encoder =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    let gz = encoder
                        .write_all(&piped.content)
                        .and_then(|()| encoder.finish())
                        .map_err(|e| format!("pipe gzip: {e}"))?;
                    piped.content = gz.into();
                    piped
                        .headers
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                Pipe::Sub(escape) => {
                    piped.content = sub::substitute(&piped.content, info, *escape, label)?.into();
                }
                // Saturates: `delay(1e19)|delay(1e19)` waits "forever", it does not panic.
                Pipe::Delay(d) => piped.delay = piped.delay.saturating_add(*d),
                Pipe::Fault(f) => piped.fault = Some(*f),
            }
        }
        Ok(())
    }
}

/// A response while pipes work on it: its body is in memory.
#[derive(Debug)]
pub(crate) struct Piped {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) content: Bytes,
    /// A `header(Content-Length,..)` pipe set the length: it is kept as written.
    pub(crate) length_set: bool,
    pub(crate) trickle: Option<Schedule>,
    pub(crate) delay: Duration,
    pub(crate) fault: Option<Fault>,
}

impl Piped {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, content: Bytes) -> Piped {
        Piped {
            status,
            headers,
            content,
            length_set: false,
            trickle: None,
            delay: Duration::ZERO,
            fault: None,
        }
    }
}

/// A delay of `secs` seconds, saturating at [`Duration::MAX`]; `None` when negative
/// or not a number.
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// Python's slice bounds: negative counts from the end, out of range clamps.
fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |i: i64| {
        let i = if i < 0 {
            (len_i + i).max(0)
        } else {
            i.min(len_i)
        };
        usize::try_from(i).unwrap_or(0)
    };
    let a = start.map_or(0, clamp);
    let b = end.map_or(len, clamp);
    (a, b.max(a))
}

fn check(call: &Call) -> Result<Pipe, String> {
    let name = call.name.as_str();
    let args: Vec<&str> = call.args.iter().map(String::as_str).collect();
    let bad = |why: String| format!("pipe {name}({}): {why}", call.args.join(","));
    let arity = |min: usize, max: usize| {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            Err(bad(format!("takes {want} arguments, got {}", args.len())))
        } else {
            Ok(())
        }
    };
    let pipe = match name {
        "status" => {
            arity(1, 1)?;
            let code = args[0]
                .trim()
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "the status code must be a number from 100 to 999, got {:?}",
                        args[0]
                    ))
                })?;
            Pipe::Status(code)
        }
        "header" => {
            arity(2, 3)?;
            let name = HeaderName::from_bytes(args[0].trim().as_bytes())
                .map_err(|_| bad(format!("{:?} is not a header name", args[0])))?;
            // wptserve sends the value's characters as Latin-1 bytes.
            let latin1: Option<Vec<u8>> = args[1]
                .chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect();
            let latin1 = latin1.ok_or_else(|| {
                bad(format!(
                    "{:?} has characters beyond Latin-1, which a header cannot carry",
                    args[1]
                ))
            })?;
            let value = HeaderValue::from_bytes(&latin1)
                .map_err(|_| bad(format!("{:?} is not a header value", args[1])))?;
            let append = match args
                .get(2)
                .map(|s| s.trim().to_ascii_lowercase())
                .as_deref()
            {
                None | Some("false" | "0" | "") => false,
                Some("true" | "1") => true,
                Some(other) => {
                    return Err(bad(format!("append must be True or False, got {other:?}")))
                }
            };
            Pipe::Header {
                name,
                value,
                append,
            }
        }
        "slice" => {
            arity(1, 2)?;
            let bound = |s: &str| match s.trim() {
                "" | "null" | "None" => Ok(None),
                n => n
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| bad(format!("{n:?} is not an integer or null"))),
            };
            Pipe::Slice {
                start: bound(args[0])?,
                end: args.get(1).map_or(Ok(None), |s| bound(s))?,
            }
        }
        "trickle" => {
            arity(1, 1)?;
            Pipe::Trickle(Schedule::parse(args[0]).map_err(bad)?)
        }
        "gzip" => {
            arity(0, 0)?;
            Pipe::Gzip
        }
        "sub" => {
            arity(0, 1)?;
            match args.first().map(|s| s.trim()) {
                None | Some("html") => Pipe::Sub(Escape::Html),
                Some("none") => Pipe::Sub(Escape::None),
                Some(other) => {
                    return Err(bad(format!(
                        "the escape must be html or none, got {other:?}"
                    )))
                }
            }
        }
        "delay" => {
            arity(1, 1)?;
            let d = args[0]
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(seconds)
                .ok_or_else(|| bad(format!("{:?} is not a delay in seconds", args[0])))?;
            Pipe::Delay(d)
        }
        "close" => {
            arity(1, 1)?;
            let n = args[0]
                .trim()
                .parse::<usize>()
                .map_err(|_| bad(format!("{:?} is not a byte count", args[0])))?;
            Pipe::Fault(Fault::Close(n))
        }
        "stall" => {
            arity(0, 0)?;
            Pipe::Fault(Fault::Stall)
        }
        "malformed_chunk" => {
            arity(0, 0)?;
            Pipe::Fault(Fault::MalformedChunk)
        }
        "reset" => {
            arity(0, 0)?;
            Pipe::Fault(Fault::Reset)
        }
        other => return Err(format!("unknown pipe {other:?}; known pipes: {KNOWN}")),
    };
    Ok(pipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_arguments() {
        assert_eq!(
            Pipeline::parse("status(404)").unwrap().pipes,
            vec![Pipe::Status(StatusCode::NOT_FOUND)]
        );
        for (bad, says) in [
            ("status(abc)", "pipe status(abc): the status code"),
            ("status(42)", "from 100 to 999"),
            ("status", "takes 1 arguments, got 0"),
            ("header(X)", "pipe header(X): takes 2 to 3 arguments"),
            ("header(Bad Name,1)", "is not a header name"),
            ("header(X,1,maybe)", "append must be True or False"),
            ("header(X,\u{2713})", "beyond Latin-1"),
            ("slice(a)", "\"a\" is not an integer"),
            ("trickle(x)", "pipe trickle(x): \"x\" is neither"),
            ("gzip(9)", "pipe gzip(9): takes 0 arguments"),
            ("sub(xml)", "html or none"),
            ("close(-1)", "is not a byte count"),
            ("delay(forever)", "is not a delay"),
            ("frobnicate", "unknown pipe \"frobnicate\"; known pipes"),
        ] {
            let e = Pipeline::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn header_values_are_latin1_and_append_is_any_case() {
        let p = Pipeline::parse("header(X,caf\u{e9},TRUE)").unwrap();
        assert_eq!(
            p.pipes,
            vec![Pipe::Header {
                name: HeaderName::from_static("x"),
                value: HeaderValue::from_bytes(b"caf\xe9").unwrap(),
                append: true
            }]
        );
    }

    #[test]
    fn delays_saturate() {
        let p = Pipeline::parse("delay(1e19)|delay(1e19)").unwrap();
        let mut piped = Piped::new(StatusCode::OK, HeaderMap::new(), Bytes::new());
        let info = crate::server::sub::RequestInfo::new(
            &http::Request::new(()).into_parts().0,
            &Default::default(),
        );
        p.apply(&mut piped, &info, "t").unwrap();
        assert_eq!(piped.delay, Duration::MAX);
    }

    #[test]
    fn slices_like_python() {
        assert_eq!(slice_bounds(10, Some(1), Some(-1)), (1, 9));
        assert_eq!(slice_bounds(10, None, Some(3)), (0, 3));
        assert_eq!(slice_bounds(10, Some(-3), None), (7, 10));
        assert_eq!(slice_bounds(10, Some(20), None), (10, 10));
        assert_eq!(slice_bounds(10, Some(5), Some(2)), (5, 5));
        assert_eq!(slice_bounds(10, Some(i64::MIN), Some(i64::MAX)), (0, 10));
    }
}
