//! The connector for hyper-util's legacy `Client` (and everything built on it: tonic,
//! the AWS SDK's hyper client, ...).
//!
//! [`Connector`] is a `tower_service::Service<Uri>`. For a URI whose `host:port` is
//! registered it opens an in-memory connection into the registered service (no DNS, no
//! socket, no TLS even for `https://`); for anything else it calls the connector it
//! wraps, or refuses, per its [`Policy`]. The stream it returns, [`InterceptStream`],
//! notices when its route changes (the target was registered, or its guard dropped)
//! and reports end-of-file, so a pooled connection is never used past that change:
//! the client reconnects and lands where a fresh client would.

mod connector;
mod stream;

pub use self::connector::{Connecting, Connector, Policy};
pub use self::stream::InterceptStream;
