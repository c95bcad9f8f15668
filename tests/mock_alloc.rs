//! Matching does not allocate per mock: a request matched by the 100th mock costs the
//! same allocations as one matched by the only mock (feature `mock`).
#![cfg(feature = "mock")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use http_body_util::Full;
use http_intercept::mock::matchers::{header, method, path, query_param};
use http_intercept::mock::{Mock, Mocks, ResponseTemplate};
use tower::ServiceExt;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mocks(n: usize) -> Mocks {
    let mocks = Mocks::new();
    for i in (0..n).rev() {
        mocks.register(
            Mock::given(method("GET"))
                .and(path(format!("/item/{i}")))
                .and(query_param("v", "1"))
                .and(header("accept", "text/plain"))
                .respond_with(ResponseTemplate::new(200)),
        );
    }
    mocks
}

fn request() -> http::Request<Full<Bytes>> {
    http::Request::get("http://alloc.test/item/0?v=1")
        .header("accept", "text/plain")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// The allocations of the fifth request (the same history on every set of mocks).
fn allocations(rt: &tokio::runtime::Runtime, mocks: &Mocks) -> usize {
    for _ in 0..4 {
        let res = rt.block_on(mocks.clone().oneshot(request())).unwrap();
        assert_eq!(res.status(), 200);
    }
    let req = request();
    let before = ALLOCATIONS.with(Cell::get);
    let res = rt.block_on(mocks.clone().oneshot(req)).unwrap();
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(res.status(), 200);
    after - before
}

#[test]
fn matching_does_not_allocate_per_mock() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Mounted in reverse: `/item/0` is the last of 100 tried.
    let one = allocations(&rt, &mocks(1));
    let hundred = allocations(&rt, &mocks(100));
    assert_eq!(
        one, hundred,
        "1 mock: {one} allocations, 100 mocks: {hundred}"
    );
}
