//! Playback for regression checks, like scotch's refeed: send each recorded request
//! to a service again and compare the new response with the recorded one.

use std::fmt;

use bytes::Bytes;
use http::header::HeaderName;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

use super::interaction::{Interaction, Outcome};
use crate::error::BoxError;
use crate::hop::strip_hop_by_hop;

/// Headers that change on every response, ignored by default.
const VOLATILE: &[&str] = &[
    "age",
    "cf-ray",
    "content-length",
    "date",
    "etag",
    "expires",
    "last-modified",
    "server-timing",
    "set-cookie",
    "via",
    "x-cache",
    "x-request-id",
    "x-runtime",
    "x-served-by",
    "x-timer",
];

/// Replays recorded requests into a service and compares its responses with the
/// recorded ones: status, headers and body.
///
/// Headers that always change are ignored by default: `age`, `cf-ray`,
/// `content-length` (the body comparison covers it), `date`, `etag`, `expires`,
/// `last-modified`, `server-timing`, `set-cookie`, `via`, `x-cache`, `x-request-id`,
/// `x-runtime`, `x-served-by`, `x-timer`; hop-by-hop headers are never compared.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use http_intercept::record::{Interaction, Playback};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let req = http::Request::get("http://app.test/").body(Bytes::new()).unwrap();
/// let res = http::Response::new(Bytes::from("version 1"));
/// let app = tower::service_fn(|_req: http::Request<_>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("version 2")))
/// });
/// let report = Playback::new([Interaction::new(req, res)]).run(app).await;
/// assert!(!report.is_unchanged());
/// assert!(report.to_string().contains("body differs at byte 8"));
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "call run() to play the requests back"]
pub struct Playback {
    interactions: Vec<Interaction>,
    ignored: Vec<HeaderName>,
    headers: bool,
}

impl Playback {
    /// Plays back `interactions` (a [`Recording`](super::Recording)'s or a
    /// [`Cassette`](super::Cassette)'s).
    pub fn new(interactions: impl IntoIterator<Item = Interaction>) -> Playback {
        Playback {
            interactions: interactions.into_iter().collect(),
            ignored: VOLATILE
                .iter()
                .map(|h| HeaderName::from_static(h))
                .collect(),
            headers: true,
        }
    }

    /// Also ignores the header `name`.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name.
    pub fn ignore_header(mut self, name: &str) -> Self {
        match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => self.ignored.push(name),
            Err(_) => panic!("ignore_header: invalid header name {name:?}"),
        }
        self
    }

    /// Compares every header, the volatile ones included.
    ///
    /// Default: the volatile headers listed above are ignored.
    pub fn compare_all_headers(mut self) -> Self {
        self.ignored.clear();
        self
    }

    /// Whether headers are compared at all.
    ///
    /// Default: true.
    pub fn compare_headers(mut self, yes: bool) -> Self {
        self.headers = yes;
        self
    }

    /// Sends each recorded request to `service`, one after the other, and compares.
    pub async fn run<S, B>(self, service: S) -> PlaybackReport
    where
        S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let mut comparisons = Vec::with_capacity(self.interactions.len());
        for interaction in &self.interactions {
            let recorded = interaction.request();
            let mut req = Request::new(Full::new(recorded.body().clone()));
            *req.method_mut() = recorded.method().clone();
            *req.uri_mut() = recorded.uri().clone();
            *req.headers_mut() = recorded.headers().clone();
            strip_hop_by_hop(req.headers_mut());
            let now = match service.clone().oneshot(req).await {
                Ok(res) => {
                    let (parts, body) = res.into_parts();
                    match body.collect().await {
                        Ok(body) => Ok(Response::from_parts(parts, body.to_bytes())),
                        Err(e) => Err(crate::service::error_chain(&*e.into())),
                    }
                }
                Err(e) => Err(crate::service::error_chain(&*e.into())),
            };
            comparisons.push(Comparison {
                request: interaction.request_line(),
                differences: self.compare(interaction.outcome(), now),
            });
        }
        PlaybackReport { comparisons }
    }

    fn compare(&self, recorded: &Outcome, now: Result<Response<Bytes>, String>) -> Vec<Difference> {
        let recorded = match recorded {
            Outcome::Response(res) => res,
            Outcome::Failure(failure) => {
                return match now {
                    Err(_) => Vec::new(),
                    Ok(res) => vec![Difference::Outcome {
                        recorded: format!("failed: {failure}"),
                        now: format!("a {} response", res.status().as_u16()),
                    }],
                };
            }
        };
        let now = match now {
            Ok(now) => now,
            Err(message) => {
                return vec![Difference::Outcome {
                    recorded: format!("a {} response", recorded.status().as_u16()),
                    now: format!("failed: {message}"),
                }]
            }
        };
        let mut out = Vec::new();
        if recorded.status() != now.status() {
            out.push(Difference::Status {
                recorded: recorded.status().as_u16(),
                now: now.status().as_u16(),
            });
        }
        if self.headers {
            self.compare_headers_of(recorded.headers(), now.headers(), &mut out);
        }
        let (a, b) = (recorded.body(), now.body());
        if a != b {
            let at = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
            out.push(Difference::Body {
                at,
                recorded: excerpt(a, at),
                now: excerpt(b, at),
                recorded_len: a.len(),
                now_len: b.len(),
            });
        }
        out
    }

    fn compare_headers_of(&self, a: &HeaderMap, b: &HeaderMap, out: &mut Vec<Difference>) {
        let mut a = a.clone();
        let mut b = b.clone();
        strip_hop_by_hop(&mut a);
        strip_hop_by_hop(&mut b);
        let mut names: Vec<&HeaderName> = a.keys().chain(b.keys()).collect();
        names.sort_unstable_by(|x, y| x.as_str().cmp(y.as_str()));
        names.dedup();
        for name in names {
            if self.ignored.contains(name) {
                continue;
            }
            let va: Vec<String> = values(&a, name);
            let vb: Vec<String> = values(&b, name);
            if va != vb {
                out.push(Difference::Header {
                    name: name.as_str().to_owned(),
                    recorded: va,
                    now: vb,
                });
            }
        }
    }
}

fn values(h: &HeaderMap, name: &HeaderName) -> Vec<String> {
    h.get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

fn excerpt(body: &[u8], at: usize) -> String {
    const AROUND: usize = 40;
    let start = at.saturating_sub(AROUND / 2);
    let end = (at + AROUND).min(body.len());
    let part = &body[start.min(end)..end];
    match std::str::from_utf8(body) {
        Ok(_) => format!("{:?}", String::from_utf8_lossy(part)),
        Err(_) => format!("{part:02x?}"),
    }
}

/// One difference between a recorded response and the new one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// One side is a response, the other a failure.
    Outcome {
        /// What was recorded.
        recorded: String,
        /// What came now.
        now: String,
    },
    /// The status differs.
    Status {
        /// The recorded status.
        recorded: u16,
        /// The new status.
        now: u16,
    },
    /// A header's values differ (an empty list: absent).
    Header {
        /// The header name.
        name: String,
        /// The recorded values.
        recorded: Vec<String>,
        /// The new values.
        now: Vec<String>,
    },
    /// The body differs.
    Body {
        /// The offset of the first differing byte.
        at: usize,
        /// The recorded body around that offset.
        recorded: String,
        /// The new body around that offset.
        now: String,
        /// The recorded body's length.
        recorded_len: usize,
        /// The new body's length.
        now_len: usize,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Outcome { recorded, now } => {
                write!(f, "recorded {recorded}, now {now}")
            }
            Difference::Status { recorded, now } => {
                write!(f, "status: recorded {recorded}, now {now}")
            }
            Difference::Header {
                name,
                recorded,
                now,
            } => write!(f, "header {name}: recorded {recorded:?}, now {now:?}"),
            Difference::Body {
                at,
                recorded,
                now,
                recorded_len,
                now_len,
            } => write!(
                f,
                "body differs at byte {at} (recorded {recorded_len} bytes, now {now_len}): \
                 recorded {recorded}, now {now}"
            ),
        }
    }
}

/// The comparison of one recorded request's response.
#[derive(Clone, Debug)]
pub struct Comparison {
    request: String,
    differences: Vec<Difference>,
}

impl Comparison {
    /// `METHOD uri` of the request.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// What differs; empty when the response is unchanged.
    pub fn differences(&self) -> &[Difference] {
        &self.differences
    }
}

/// The result of a [`Playback`]: one [`Comparison`] per recorded request. `Display`
/// lists the requests whose responses changed, numbered, with their differences.
#[derive(Clone, Debug)]
#[must_use = "check the report, e.g. with assert_unchanged()"]
pub struct PlaybackReport {
    comparisons: Vec<Comparison>,
}

impl PlaybackReport {
    /// Every comparison, in recorded order.
    pub fn comparisons(&self) -> &[Comparison] {
        &self.comparisons
    }

    /// The comparisons that found a difference.
    pub fn changed(&self) -> impl Iterator<Item = &Comparison> {
        self.comparisons
            .iter()
            .filter(|c| !c.differences.is_empty())
    }

    /// Whether every response is unchanged.
    pub fn is_unchanged(&self) -> bool {
        self.changed().next().is_none()
    }

    /// Panics with the report if a response changed.
    ///
    /// # Panics
    ///
    /// If a response changed.
    pub fn assert_unchanged(&self) {
        assert!(self.is_unchanged(), "{self}");
    }
}

impl fmt::Display for PlaybackReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let changed: Vec<&Comparison> = self.changed().collect();
        if changed.is_empty() {
            return writeln!(
                f,
                "playback: all {} responses unchanged",
                self.comparisons.len()
            );
        }
        writeln!(
            f,
            "playback: {} of {} responses changed",
            changed.len(),
            self.comparisons.len()
        )?;
        for (i, c) in changed.iter().enumerate() {
            writeln!(f, "\n{}. {}", i + 1, c.request)?;
            for d in &c.differences {
                writeln!(f, "   - {d}")?;
            }
        }
        Ok(())
    }
}
