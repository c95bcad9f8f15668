//! The `trickle` pipe: a body sent in pieces with delays, in wptserve's syntax.
//!
//! The argument is `:`-separated: `N` sends the next N bytes, `dN` waits N seconds
//! (fractions allowed), and a final `rN` repeats the N items before it until the body
//! is all sent. When the list is done without a repeat, the rest is sent at once.
//! `trickle(d1:100:d1)` waits a second, sends 100 bytes, waits a second, sends the
//! rest.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

use crate::error::BoxError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    Bytes(usize),
    Delay(Duration),
}

/// A parsed trickle argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Schedule {
    steps: Vec<Step>,
    /// How many of the last steps repeat until the body is sent.
    repeat: Option<usize>,
}

impl Schedule {
    /// Parses `d1:100:d1`, `100:d0.5:r2` and the like.
    ///
    /// # Errors
    ///
    /// A message naming the item that is wrong.
    pub(crate) fn parse(spec: &str) -> Result<Schedule, String> {
        let items: Vec<&str> = spec.split(':').map(str::trim).collect();
        let mut steps = Vec::new();
        let mut repeat = None;
        for (i, item) in items.iter().enumerate() {
            if let Some(n) = item.strip_prefix('d') {
                let delay = n
                    .parse::<f64>()
                    .ok()
                    .and_then(super::pipe::seconds)
                    .ok_or_else(|| format!("{item:?} is not a delay in seconds (dN)"))?;
                steps.push(Step::Delay(delay));
            } else if let Some(n) = item.strip_prefix('r') {
                if i != items.len() - 1 {
                    return Err(format!("the repeat {item:?} must be the last item"));
                }
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("{item:?} is not a repeat count (rN)"))?;
                if n == 0 || n > steps.len() {
                    return Err(format!(
                        "{item:?} repeats {n} items but {} precede it",
                        steps.len()
                    ));
                }
                if !steps[steps.len() - n..]
                    .iter()
                    .any(|s| matches!(s, Step::Bytes(b) if *b > 0))
                {
                    return Err(format!(
                        "{item:?} repeats items that send no bytes: it would never end"
                    ));
                }
                repeat = Some(n);
            } else {
                let n: usize = item.parse().map_err(|_| {
                    format!("{item:?} is neither a byte count (N), a delay (dN) nor a repeat (rN)")
                })?;
                steps.push(Step::Bytes(n));
            }
        }
        Ok(Schedule { steps, repeat })
    }

    /// The body that sends `content` on this schedule. The schedule is walked as the
    /// body is polled, so a long repeat over a large body costs nothing up front.
    pub(crate) fn body(&self, content: Bytes) -> TrickleBody {
        TrickleBody {
            schedule: self.clone(),
            next: 0,
            content,
            sleep: None,
        }
    }
}

/// A body that sends its content in pieces, sleeping in between (tokio time, so
/// paused time applies).
pub(crate) struct TrickleBody {
    schedule: Schedule,
    /// The index of the next step; past the end, the repeat group cycles.
    next: usize,
    /// What is left to send.
    content: Bytes,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TrickleBody {
    /// The next step, or `None` when everything is sent. Without a repeat, the rest
    /// goes in one piece after the last step.
    fn next_step(&mut self) -> Option<Step> {
        let steps = &self.schedule.steps;
        let step = if self.next < steps.len() {
            steps[self.next]
        } else if self.content.is_empty() {
            return None;
        } else {
            match self.schedule.repeat {
                Some(n) => {
                    let group = &steps[steps.len() - n..];
                    group[(self.next - steps.len()) % n]
                }
                None => Step::Bytes(self.content.len()),
            }
        };
        self.next += 1;
        Some(step)
    }
}

impl http_body::Body for TrickleBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(sleep) = self.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
            match self.next_step() {
                None => return Poll::Ready(None),
                Some(Step::Bytes(n)) => {
                    let n = n.min(self.content.len());
                    if n == 0 {
                        continue;
                    }
                    let chunk = self.content.split_to(n);
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                Some(Step::Delay(d)) => self.sleep = Some(Box::pin(tokio::time::sleep(d))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.content.is_empty() && self.sleep.is_none() && self.next >= self.schedule.steps.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.content.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn parses_the_syntax() {
        let s = Schedule::parse("d1:100:d0.5").unwrap();
        assert_eq!(
            s.steps,
            vec![
                Step::Delay(Duration::from_secs(1)),
                Step::Bytes(100),
                Step::Delay(Duration::from_millis(500))
            ]
        );
        assert_eq!(Schedule::parse("1:d1:r2").unwrap().repeat, Some(2));
        for bad in [
            "x", "d", "d-1", "dNaN", "r1", "1:r2", "1:r2:3", "d1:r1", "0:d1:r2", "1:r0", "",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sends_pieces_on_time() {
        let start = tokio::time::Instant::now();
        let s = Schedule::parse("2:d1:r2").unwrap();
        let mut body = s.body(Bytes::from_static(b"abcde"));
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            got.push((data, start.elapsed().as_secs()));
        }
        assert_eq!(
            got,
            vec![
                (Bytes::from_static(b"ab"), 0),
                (Bytes::from_static(b"cd"), 1),
                (Bytes::from_static(b"e"), 2)
            ]
        );
    }

    #[tokio::test]
    async fn a_byte_at_a_time_over_a_large_body_plans_nothing_up_front() {
        let s = Schedule::parse("1:r1").unwrap();
        let mut body = s.body(Bytes::from(vec![7u8; 10_000]));
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            assert_eq!(frame.unwrap().into_data().unwrap().len(), 1);
            frames += 1;
        }
        assert_eq!(frames, 10_000);
    }
}
