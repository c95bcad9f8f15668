//! The transport into registered services.
//!
//! Every path into a registered service ends here. The hyper-util connector (and tonic
//! through it) opens an in-memory [pipe](pipe::connect) whose far end is served on the
//! caller's runtime; other transports (ureq's socket pairs, the test server's sockets,
//! TLS streams) hand over the stream they have to [`serve`](serve::serve); the reqwest
//! gateway hands over single requests to [`dispatch`](serve::dispatch). Serving detects
//! HTTP/1.1 or HTTP/2 from the connection preface and supports HTTP upgrades, and
//! offers every HTTP/1.x request raw access to its connection ([`raw`]).
//!
//! What a service sees of a request is described in the crate docs ("What a service
//! sees"); `serve::normalize` makes that view.

mod pipe;
mod raw;
mod serve;

pub(crate) use self::pipe::{connect, ClientEnd};
pub use self::raw::RawWriter;
pub(crate) use self::serve::dispatch;
// For the transports that bring their own stream; unused when none is built.
#[allow(unused_imports)]
pub(crate) use self::serve::serve;
pub use self::serve::PathPrefix;
pub(crate) use self::serve::{HostFuture, Late};
