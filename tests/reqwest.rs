//! reqwest (async and blocking) through `.intercept()` and the loopback gateway: the
//! same cases (tests/reqwest/cases.rs) for reqwest 0.13 (`v013::`) and 0.12 (`v012::`).
#![cfg(any(feature = "reqwest", feature = "reqwest012"))]

mod support;

#[cfg(feature = "reqwest")]
mod v013 {
    use ::reqwest;

    /// A builder without `.intercept()`.
    fn plain() -> reqwest::ClientBuilder {
        reqwest::Client::builder()
    }

    include!("reqwest/cases.rs");
}

#[cfg(feature = "reqwest012")]
mod v012 {
    use ::reqwest012 as reqwest;

    /// A builder without `.intercept()`. reqwest 0.12 is built here with rustls and no
    /// provider of its own: `.intercept()` installs aws-lc-rs as the process default, a
    /// plain client needs one too, as in any program that builds reqwest 0.12 so.
    fn plain() -> reqwest::ClientBuilder {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder()
    }

    include!("reqwest/cases.rs");
}
