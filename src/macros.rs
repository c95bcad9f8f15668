//! The test fixture macro.

/// Registers several targets at once and returns one guard ([`Intercepts`]) that
/// removes them all when dropped.
///
/// Panics, naming the target, if one cannot be registered: it is meant for tests, where
/// a failed set-up should stop the test. Use [`add`] to handle the error instead. A
/// leading `registry = expr;` registers in that [`Registry`] instead of the global one.
///
/// [`Intercepts`]: crate::Intercepts
/// [`add`]: crate::add
/// [`Registry`]: crate::Registry
///
/// # Examples
///
/// ```
/// use http_intercept::intercept;
///
/// let hello = tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
/// });
/// let _g = intercept! {
///     "a.macro-example.test:80" => hello.clone(),
///     "https://b.macro-example.test/v1" => hello,
/// };
/// assert_eq!(_g.len(), 2);
/// assert_eq!(_g[1].url(), "https://b.macro-example.test/v1");
///
/// let registry = http_intercept::Registry::new();
/// let _h = intercept! { registry = &registry; "c.test:80" => tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }) };
/// assert!(registry.contains("c.test:80"));
/// ```
///
/// # Panics
///
/// If a target cannot be parsed or is already registered.
#[macro_export]
macro_rules! intercept {
    (registry = $registry:expr; $($target:expr => $service:expr),+ $(,)?) => {{
        let registry: &$crate::Registry = $registry;
        let mut guards = $crate::Intercepts::new();
        $(
            match registry.add($target, $service) {
                ::core::result::Result::Ok(guard) => guards.push(guard),
                ::core::result::Result::Err(err) => ::core::panic!("intercept!: {}", err),
            }
        )+
        guards
    }};
    ($($target:expr => $service:expr),+ $(,)?) => {
        $crate::intercept!(registry = $crate::Registry::global(); $($target => $service),+)
    };
}
