//! Property tests for targets: `IntoTarget` on arbitrary input never panics, and a
//! parsed target prints back to something that parses to the same target (same host,
//! port, path prefix, scheme and URL).
//!
//! `PROPTEST_CASES` overrides the number of cases of each property.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http_intercept::{IntoTarget, Target};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A printed target parses back to the same target, seen every way a user can see it.
fn round_trips(target: &Target) -> Result<(), TestCaseError> {
    let printed = target.to_string();
    let again = Target::parse(&printed)
        .map_err(|e| TestCaseError::fail(format!("{printed:?} does not parse: {e}")))?;
    prop_assert_eq!(&again, target, "printed as {:?}", printed);
    prop_assert_eq!(again.host(), target.host());
    prop_assert_eq!(again.port(), target.port());
    prop_assert_eq!(again.path_prefix(), target.path_prefix());
    prop_assert_eq!(again.scheme(), target.scheme());
    prop_assert_eq!(again.url(), target.url());
    // The URL and the authority are targets too, and name the same host and port.
    let from_url = Target::parse(&target.url())
        .map_err(|e| TestCaseError::fail(format!("url {:?}: {e}", target.url())))?;
    prop_assert_eq!(&from_url, target);
    let from_authority = Target::parse(&target.authority())
        .map_err(|e| TestCaseError::fail(format!("authority {:?}: {e}", target.authority())))?;
    prop_assert_eq!(from_authority.authority(), target.authority());
    // Hosts are stored normalised: lowercase, no trailing dot.
    prop_assert_eq!(target.host(), target.host().to_ascii_lowercase());
    prop_assert!(!target.host().ends_with('.'));
    Ok(())
}

/// Pieces that look like targets, mixed case, with the characters parsers trip on.
fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("http://".to_owned()),
        Just("https://".to_owned()),
        Just("HtTpS://".to_owned()),
        Just("ftp://".to_owned()),
        "[a-zA-Z+]{0,6}://",
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_-]{1,12}(\\.[a-zA-Z0-9_-]{1,12}){0,3}\\.?",
        1 => any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        1 => any::<[u16; 8]>().prop_map(|s| format!("[{}]", Ipv6Addr::from(s))),
        1 => any::<[u16; 8]>().prop_map(|s| format!("[{}]", Ipv6Addr::from(s)).to_uppercase()),
        1 => "\\[[0-9a-fA-F:.%]{0,20}\\]?",
        1 => "[^/:?#@\\[\\]]{0,12}",
        1 => "[a-z.]{0,4}\\.\\.[a-z]{0,4}",
        1 => "[a-z]{254,260}",
    ]
}

fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        any::<u16>().prop_map(|p| format!(":{p}")),
        (65_536u32..1_000_000).prop_map(|p| format!(":{p}")),
        Just(":".to_owned()),
        Just(":0".to_owned()),
        Just(":00080".to_owned()),
        ":[^/]{1,6}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("/".to_owned()),
        "(/[a-zA-Z0-9._~%-]{0,8}){1,4}/?",
        "/[^ ]{0,12}",
        "[?#][a-z=&]{0,8}",
    ]
}

fn target_like() -> impl Strategy<Value = String> {
    (scheme(), "([a-z]{1,4}@)?", host(), port(), path())
        .prop_map(|(s, user, h, p, path)| format!("{s}{user}{h}{p}{path}"))
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(|s| IpAddr::from(Ipv6Addr::from(s))),
        Just(IpAddr::from([0u8; 4])),
        Just(IpAddr::from(Ipv6Addr::LOCALHOST)),
    ];
    (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

proptest! {
    #![proptest_config(config(2048))]

    /// Any string at all: an answer, never a panic; an answer that parses round-trips.
    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        let parsed = input.as_str().into_target();
        let _ = input.as_str().into_authority();
        if let Ok(target) = parsed {
            round_trips(&target)?;
        }
    }

    /// Strings shaped like targets (so that most get deep into the parser): parsed ones
    /// round-trip; rejected ones name the input.
    #[test]
    fn target_like_strings_round_trip(input in target_like()) {
        match Target::parse(&input) {
            Ok(target) => round_trips(&target)?,
            Err(e) => {
                prop_assert!(e.is_invalid_target(), "{}", e);
                let message = e.to_string();
                prop_assert!(message.contains(&format!("{input:?}")), "{}", message);
                prop_assert!(!message.starts_with(char::is_uppercase), "{}", message);
                prop_assert!(!message.ends_with('.'), "{}", message);
            }
        }
        let _ = input.as_str().into_authority();
    }

    /// Well-formed targets always parse, to what was written, and round-trip.
    #[test]
    fn well_formed_targets_parse_and_round_trip(
        https in any::<bool>(),
        url in any::<bool>(),
        labels in proptest::collection::vec("[a-zA-Z0-9_-]{1,10}", 1..4),
        port in 1u16..,
        prefix in proptest::collection::vec("[a-zA-Z0-9._~-]{1,6}", 0..3),
    ) {
        let host = labels.join(".");
        let prefix: String = prefix.iter().map(|p| format!("/{p}")).collect();
        let input = match url {
            true => format!("{}://{host}:{port}{prefix}", if https { "https" } else { "http" }),
            false => format!("{host}:{port}"),
        };
        let target = Target::parse(&input)
            .map_err(|e| TestCaseError::fail(format!("{input:?} does not parse: {e}")))?;
        prop_assert_eq!(target.host(), host.to_ascii_lowercase());
        prop_assert_eq!(target.port(), port);
        let expected_prefix = (url && !prefix.is_empty()).then_some(prefix.as_str());
        prop_assert_eq!(target.path_prefix(), expected_prefix);
        round_trips(&target)?;
    }

    /// Every socket address: port 0 is refused, every other one is a target whose
    /// authority is the address, which round-trips.
    #[test]
    fn socket_addrs(addr in socket_addr()) {
        match addr.into_target() {
            Ok(target) => {
                prop_assert_ne!(addr.port(), 0);
                prop_assert_eq!(target.port(), addr.port());
                let expected = match addr.ip() {
                    IpAddr::V4(v4) => format!("{v4}:{}", addr.port()),
                    IpAddr::V6(v6) => format!("[{v6}]:{}", addr.port()),
                };
                prop_assert_eq!(target.authority(), expected);
                prop_assert_eq!(target.authority(), addr.to_string());
                round_trips(&target)?;
                prop_assert_eq!(Target::parse(&addr.to_string()).ok(), Some(target));
            }
            Err(e) => {
                prop_assert_eq!(addr.port(), 0);
                prop_assert!(e.is_invalid_target());
            }
        }
    }

    /// `(host, port)` pairs of any strings.
    #[test]
    fn host_port_pairs(host in prop_oneof![host(), any::<String>()], port in any::<u16>()) {
        if let Ok(target) = (host.as_str(), port).into_target() {
            prop_assert_eq!(target.port(), port);
            round_trips(&target)?;
        }
    }

    /// Anything `http::Uri` accepts is an answer, never a panic.
    #[test]
    fn uris(input in target_like()) {
        if let Ok(uri) = input.parse::<http::Uri>() {
            if let Ok(target) = (&uri).into_target() {
                round_trips(&target)?;
            }
            let _ = uri.into_authority();
        }
    }
}
