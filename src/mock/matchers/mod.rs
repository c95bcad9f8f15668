//! The matchers: conditions a request must meet for a mock to answer it.
//!
//! Wiremock's full list with wiremock's names and semantics, plus
//! [`header_missing`]. Every matcher explains itself in reports: what it looks at,
//! what it expected and what the request had. Combine them with
//! [`Mock::given`](super::Mock::given)`(..).and(..)`; any closure
//! `Fn(&Request) -> bool` is a matcher too (see [`Match`]).
//!
//! | matcher | matches when |
//! |---|---|
//! | [`any`] | always |
//! | [`method`] | the method is the given one |
//! | [`path`], [`path_regex`] | the path is the given one, or matches the regular expression |
//! | [`query_param`], [`query_param_contains`], [`query_param_is_missing`] | a decoded query parameter has the value, contains the text, or is absent |
//! | [`header`], [`headers`] | the header has exactly that value, or those values |
//! | [`header_exists`], [`header_missing`], [`header_regex`] | the header is there, absent, or all its values match |
//! | [`bearer_token`], [`basic_auth`] | the `Authorization` header carries those credentials |
//! | [`body_string`], [`body_bytes`], [`body_string_contains`] | the body is, or contains, the text or bytes |
//! | [`body_json`], [`body_json_string`], [`body_partial_json`], [`body_partial_json_string`] | the body is JSON equal to, or including, the value |
//!
//! [`Request`]: super::Request

mod body;
mod headers;
mod line;
mod matcher;

pub use self::body::{
    body_bytes, body_json, body_json_string, body_partial_json, body_partial_json_string,
    body_string, body_string_contains, BodyContainsMatcher, BodyExactMatcher,
    BodyPartialJsonMatcher,
};
pub use self::headers::{
    basic_auth, bearer_token, header, header_exists, header_missing, header_regex, headers,
    AuthorizationMatcher, HeaderExactMatcher, HeaderExistsMatcher, HeaderMissingMatcher,
    HeaderRegexMatcher,
};
pub use self::line::{
    method, path, path_regex, query_param, query_param_contains, query_param_is_missing,
    MethodExactMatcher, PathExactMatcher, PathRegexMatcher, QueryParamContainsMatcher,
    QueryParamExactMatcher, QueryParamIsMissingMatcher,
};
pub use self::matcher::{any, AnyMatcher, Match};
