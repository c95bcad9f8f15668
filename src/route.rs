//! Routes: how an open connection learns that the registry no longer sends its
//! authority where it went when the connection opened.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::task::Context;
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

/// A connection's route: it turns stale when the registry no longer sends that
/// connection's authority where it went when the connection opened.
#[derive(Clone)]
pub(crate) struct Route(Arc<RouteState>);

pub(crate) struct RouteState {
    stale: AtomicBool,
    waker: AtomicWaker,
    /// For routes whose connection must act on a change before the change is complete
    /// (the reqwest gateway's HTTP/2 connections, which send a GOAWAY): set once it has.
    ack: Option<(Mutex<bool>, Condvar)>,
}

/// How long removing a registration waits for acknowledging connections to act.
const ACK_TIMEOUT: Duration = Duration::from_millis(500);

impl RouteState {
    pub(crate) fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn needs_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Waits until the route's connection acknowledged the change, or `deadline`.
    fn wait_acked(&self, deadline: Instant) {
        let Some((done, cv)) = &self.ack else { return };
        let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            done = cv
                .wait_timeout(done, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Waits (at most half a second) until every acknowledging route in `routes` has been
/// acknowledged. Not on the crate's own background threads, which are the ones that
/// acknowledge.
pub(crate) fn wait_acked(routes: &[Arc<RouteState>]) {
    if routes.is_empty() || crate::is_background_thread() {
        return;
    }
    let deadline = Instant::now() + ACK_TIMEOUT;
    let wait = || {
        for route in routes {
            route.wait_acked(deadline);
        }
    };
    // On a multi-thread runtime's worker, the connection that must act may be queued
    // on this very worker: hand its queue to another thread while waiting.
    let on_worker = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if on_worker {
        tokio::task::block_in_place(wait);
    } else {
        wait();
    }
}

impl Route {
    /// A route that only a registry can make stale; one no registry knows never is.
    pub(crate) fn detached() -> Route {
        Route::new()
    }

    pub(crate) fn new() -> Route {
        Route(Arc::new(RouteState {
            stale: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            ack: None,
        }))
    }

    /// A route whose connection acknowledges a change ([`Route::ack`]) once it has acted
    /// on it; the registration change waits for that, briefly.
    pub(crate) fn acknowledging() -> Route {
        Route(Arc::new(RouteState {
            stale: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            ack: Some((Mutex::new(false), Condvar::new())),
        }))
    }

    /// Acknowledges a change of an acknowledging route: the connection has acted on it.
    pub(crate) fn ack(&self) {
        if let Some((done, cv)) = &self.0.ack {
            *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
            cv.notify_all();
        }
    }

    pub(crate) fn downgrade(&self) -> Weak<RouteState> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn mark_stale(&self) {
        self.0.mark_stale();
    }

    /// Whether the route is stale; if not, `cx` is woken when it turns stale.
    pub(crate) fn poll_stale(&self, cx: &mut Context<'_>) -> bool {
        if self.0.stale.load(Ordering::Acquire) {
            return true;
        }
        self.0.waker.register(cx.waker());
        self.0.stale.load(Ordering::Acquire)
    }

    /// Whether the route is stale.
    pub(crate) fn is_stale(&self) -> bool {
        self.0.stale.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("stale", &self.is_stale())
            .finish()
    }
}
