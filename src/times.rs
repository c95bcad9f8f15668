//! How many requests a guard expects its service to be given: [`Times`].

use std::fmt;
use std::ops::{Range, RangeFrom, RangeInclusive, RangeTo, RangeToInclusive};

/// A number of requests, exact or a range, for [`Intercept::expect`].
///
/// Made from a `u64` (exactly), or a range of them: `1..3`, `1..=3`, `1..`, `..3`,
/// `..=3`.
///
/// [`Intercept::expect`]: crate::Intercept::expect
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    min: u64,
    max: u64,
}

impl Times {
    /// Whether `n` requests meet the expectation.
    pub fn contains(&self, n: u64) -> bool {
        self.min <= n && n <= self.max
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Times {
        Times { min: n, max: n }
    }
}

impl From<RangeInclusive<u64>> for Times {
    fn from(r: RangeInclusive<u64>) -> Times {
        Times {
            min: *r.start(),
            max: *r.end(),
        }
    }
}

impl From<Range<u64>> for Times {
    fn from(r: Range<u64>) -> Times {
        Times {
            min: r.start,
            max: r.end.saturating_sub(1),
        }
    }
}

impl From<RangeFrom<u64>> for Times {
    fn from(r: RangeFrom<u64>) -> Times {
        Times {
            min: r.start,
            max: u64::MAX,
        }
    }
}

impl From<RangeTo<u64>> for Times {
    fn from(r: RangeTo<u64>) -> Times {
        Times {
            min: 0,
            max: r.end.saturating_sub(1),
        }
    }
}

impl From<RangeToInclusive<u64>> for Times {
    fn from(r: RangeToInclusive<u64>) -> Times {
        Times { min: 0, max: r.end }
    }
}

fn requests(n: u64) -> String {
    if n == 1 {
        "1 request".to_owned()
    } else {
        format!("{n} requests")
    }
}

impl fmt::Display for Times {
    /// `exactly 1 request`, `between 1 and 3 requests`, `at least 2 requests`,
    /// `at most 4 requests`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (min, max) if min == max => write!(f, "exactly {}", requests(min)),
            (min, u64::MAX) => write!(f, "at least {}", requests(min)),
            (0, max) => write!(f, "at most {}", requests(max)),
            (min, max) => write!(f, "between {min} and {}", requests(max)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(Times::from(2).contains(2));
        assert!(!Times::from(2).contains(1));
        assert!(Times::from(1..3).contains(2) && !Times::from(1..3).contains(3));
        assert!(Times::from(1..=3).contains(3));
        assert!(Times::from(1..).contains(1_000_000));
        assert!(Times::from(..=0).contains(0) && !Times::from(..=0).contains(1));
        assert_eq!(Times::from(1).to_string(), "exactly 1 request");
        assert_eq!(Times::from(0).to_string(), "exactly 0 requests");
        assert_eq!(Times::from(1..=3).to_string(), "between 1 and 3 requests");
        assert_eq!(Times::from(2..).to_string(), "at least 2 requests");
        assert_eq!(Times::from(..5).to_string(), "at most 4 requests");
    }
}
