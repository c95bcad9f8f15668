//! Pipes: `?pipe=status(404)|header(Content-Type,text/plain)|trickle(d1:100:d1)`.
//!
//! A request's `pipe` query parameter lists transformations of its response, applied
//! left to right, in wptserve's syntax (see `parse`). The body is read into memory
//! first. Content pipes (`slice`, `sub`, `gzip`) rewrite it; `trickle`, `delay` and the
//! faults change how it is sent, and apply to the final content whatever their place
//! in the list.

mod deliver;
mod faults;
mod parse;
mod pipe;
mod trickle;

pub(crate) use self::deliver::{collect, deliver};
#[cfg(test)]
pub(crate) use self::parse::{parse as parse_calls, Call};
pub(crate) use self::pipe::{Piped, Pipeline};
#[cfg(test)]
pub(crate) use self::trickle::Schedule;
