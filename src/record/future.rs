//! The named futures of the record module's services.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use hyper::body::Incoming;
use pin_project_lite::pin_project;

use super::body::ReplayBody;
use super::error::Error;
use super::recorder::{RecordBody, Slot};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

macro_rules! opaque_future {
    ($(#[$doc:meta])* $name:ident => $output:ty) => {
        $(#[$doc])*
        pub struct $name(BoxFuture<$output>);

        impl $name {
            pub(crate) fn new(fut: impl Future<Output = $output> + Send + 'static) -> Self {
                $name(Box::pin(fut))
            }
        }

        impl Future for $name {
            type Output = $output;

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<$output> {
                self.0.as_mut().poll(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

opaque_future! {
    /// The future of a [`CassetteService`](crate::record::CassetteService) call.
    CassetteFuture => Result<Response<ReplayBody>, Error>
}

opaque_future! {
    /// The future of a [`Proxy`](crate::record::Proxy) call.
    ProxyFuture => Result<Response<Incoming>, Error>
}

pin_project! {
    /// The future of a [`Record`](crate::record::Record) call: the inner service's
    /// future, whose response body is recorded as it streams.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        slot: Option<Slot>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, slot: Slot) -> Self {
        ResponseFuture {
            inner,
            slot: Some(slot),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<RecordBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        let slot = this
            .slot
            .take()
            .expect("ResponseFuture polled after completion");
        Poll::Ready(match out {
            Ok(res) => {
                slot.response_head(&res);
                Ok(res.map(|body| RecordBody::response(body, slot)))
            }
            Err(err) => {
                slot.failed(err.to_string());
                Err(err)
            }
        })
    }
}
