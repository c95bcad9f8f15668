//! `Range` requests as wptserve answers them: `bytes=` ranges, overlapping ones
//! coalesced, one range a `206` with `Content-Range`, several a `206
//! multipart/byteranges`, anything unsatisfiable or malformed a `416`.

use std::ops::Range;

/// The most ranges one request may ask for (each is a part of the answer).
const MAX_RANGES: usize = 64;

/// Parses a `Range` header value against a body of `size` bytes: the byte ranges to
/// send (half-open, sorted, coalesced), or `None` for a `416`.
pub(crate) fn parse(header: &[u8], size: u64) -> Option<Vec<Range<u64>>> {
    let text = std::str::from_utf8(header).ok()?;
    let specs = text.strip_prefix("bytes=")?;
    let mut ranges = Vec::new();
    for spec in specs.split(',') {
        if ranges.len() == MAX_RANGES {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let bound = |s: &str| -> Option<Option<u64>> {
            if s.is_empty() {
                Some(None)
            } else if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok().map(Some)
            } else {
                None
            }
        };
        let range = match (bound(first)?, bound(last)?) {
            (None, None) => 0..size,
            (None, Some(suffix)) => size.saturating_sub(suffix)..size,
            (Some(lower), None) => lower..size,
            (Some(lower), Some(upper)) => lower..size.min(upper.saturating_add(1)),
        };
        if range.start >= range.end || range.start >= size {
            return None;
        }
        ranges.push(range);
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            // wptserve merges ranges that overlap or touch.
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    Some(merged)
}

/// The `Content-Range` value of `range` in a body of `size` bytes.
pub(crate) fn content_range(range: &Range<u64>, size: u64) -> String {
    format!("bytes {}-{}/{size}", range.start, range.end - 1)
}

/// The body of a `multipart/byteranges` answer, with `boundary`, each part carrying
/// `content_type` (when the file has one) and its `Content-Range`.
pub(crate) fn multipart(
    content: &[u8],
    ranges: &[Range<u64>],
    content_type: Option<&[u8]>,
    boundary: &str,
) -> Vec<u8> {
    let size = content.len() as u64;
    let mut out = Vec::new();
    for range in ranges {
        out.extend_from_slice(b"\r\n--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(content_type) = content_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(content_type);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Content-Range: ");
        out.extend_from_slice(content_range(range, size).as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
        let (a, b) = (range.start as usize, range.end as usize);
        out.extend_from_slice(&content[a..b]);
    }
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::single_range_in_vec_init)]

    use super::*;

    #[test]
    fn parses_like_wptserve() {
        assert_eq!(parse(b"bytes=2-5", 36), Some(vec![2..6]));
        assert_eq!(parse(b"bytes=-3", 36), Some(vec![33..36]));
        assert_eq!(parse(b"bytes=30-", 36), Some(vec![30..36]));
        assert_eq!(parse(b"bytes=30-100", 36), Some(vec![30..36]));
        assert_eq!(parse(b"bytes=0-1,4-5", 36), Some(vec![0..2, 4..6]));
        assert_eq!(parse(b"bytes=4-5,0-1", 36), Some(vec![0..2, 4..6]));
        assert_eq!(parse(b"bytes=0-3,2-5", 36), Some(vec![0..6]));
        assert_eq!(parse(b"bytes=0-1,2-3", 36), Some(vec![0..4]));
        for bad in [
            &b"bytes=100-200"[..],
            b"bytes=5-2",
            b"items=0-1",
            b"bytes=a-b",
            b"bytes=1",
            b"bytes=+1-2",
            b"bytes=0-1,",
            b"bytes=99999999999999999999-",
        ] {
            assert_eq!(parse(bad, 36), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse(b"bytes=0-18446744073709551615", 3), Some(vec![0..3]));
    }

    #[test]
    fn writes_multipart_parts() {
        let body = multipart(b"0123456789", &[0..2, 5..7], Some(b"text/plain"), "B");
        assert_eq!(
            body,
            b"\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\
              \r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\n56\
              \r\n--B--"
        );
    }
}
