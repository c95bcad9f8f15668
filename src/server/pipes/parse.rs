//! The pipe grammar: `name(arg,arg)|name|name(arg)`, with wptserve's escaping.
//!
//! The query string is decoded first (so `%7C` is a `|` separator and `%2C` a `,`).
//! Inside arguments a backslash escapes the next character: `\,`, `\)`, `\|` and
//! `\\` are literal, `\n`, `\r` and `\t` are a newline, carriage return and tab.
//! Empty pipes (`a||b`, a trailing `|`) are skipped. Unlike wptserve, an unclosed `(`,
//! text after a `)` or a dangling backslash is an error instead of a guess.

/// The most pipes one request may ask for.
const MAX_PIPES: usize = 64;

/// One pipe as written: its name and raw arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
}

/// Parses a pipe string.
///
/// # Errors
///
/// A message saying what is wrong and where.
pub(crate) fn parse(input: &str) -> Result<Vec<Call>, String> {
    let mut calls = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        // A name, up to `(`, `|` or the end.
        let mut name = String::new();
        let mut args = Vec::new();
        let mut ended = true;
        let mut parens = false;
        while let Some(c) = chars.next() {
            match c {
                '(' => {
                    parens = true;
                    args = arguments(&mut chars, input, name.trim())?;
                    match chars.next() {
                        None | Some('|') => {}
                        Some(c) => {
                            return Err(format!(
                            "pipe {}: unexpected {c:?} after its closing parenthesis in {input:?}",
                            name.trim()
                        ))
                        }
                    }
                    ended = chars.peek().is_none();
                    break;
                }
                '|' => {
                    ended = false;
                    break;
                }
                ')' | ',' | '\\' => {
                    return Err(format!(
                        "unexpected {c:?} in pipe name {:?} in {input:?}",
                        name.trim()
                    ))
                }
                c => name.push(c),
            }
        }
        let name = name.trim();
        if name.is_empty() {
            if parens {
                return Err(format!("arguments without a pipe name in {input:?}"));
            }
        } else {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{name:?} is not a pipe name (in {input:?})"));
            }
            if calls.len() == MAX_PIPES {
                return Err(format!("more than {MAX_PIPES} pipes in {input:?}"));
            }
            calls.push(Call {
                name: name.to_owned(),
                args,
            });
        }
        if ended && chars.peek().is_none() {
            return Ok(calls);
        }
    }
}

/// The arguments after `(`, up to and including the closing `)`.
fn arguments(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    input: &str,
    name: &str,
) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut arg = String::new();
    loop {
        match chars.next() {
            None => return Err(format!("pipe {name}: the ( is never closed in {input:?}")),
            Some('\\') => match chars.next() {
                Some('n') => arg.push('\n'),
                Some('r') => arg.push('\r'),
                Some('t') => arg.push('\t'),
                Some(c) => arg.push(c),
                None => {
                    return Err(format!(
                        "pipe {name}: a backslash ends the pipe string {input:?}"
                    ))
                }
            },
            Some(',') => args.push(std::mem::take(&mut arg)),
            Some(')') => {
                // `f()` has no argument; `f(a,)` has an empty second one.
                if !(args.is_empty() && arg.is_empty()) {
                    args.push(arg);
                }
                return Ok(args);
            }
            Some(c) => arg.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Call {
        Call {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn parses_wptserve_examples() {
        assert_eq!(
            parse("status(404)|header(Content-Type,text/plain)|trickle(d1:100:d1)").unwrap(),
            vec![
                call("status", &["404"]),
                call("header", &["Content-Type", "text/plain"]),
                call("trickle", &["d1:100:d1"]),
            ]
        );
        assert_eq!(parse("gzip").unwrap(), vec![call("gzip", &[])]);
        assert_eq!(
            parse("sub|gzip()").unwrap(),
            vec![call("sub", &[]), call("gzip", &[])]
        );
        assert_eq!(parse("slice(1,)").unwrap(), vec![call("slice", &["1", ""])]);
        assert_eq!(
            parse(r"header(X-Test,a\,b\)c\|d\\e\n)").unwrap(),
            vec![call("header", &["X-Test", "a,b)c|d\\e\n"])]
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("|gzip||").unwrap(), vec![call("gzip", &[])]);
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "status(404",
            "status(404)x",
            "status(404))",
            "sta tus",
            "header(a\\",
            "(1)",
            "()",
            "a,b",
            "a)b",
            "\\",
            "süb",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let e = parse("status(404").unwrap_err();
        assert!(
            e.contains("pipe status") && e.contains("never closed"),
            "{e}"
        );
    }

    #[test]
    fn never_panics_or_loops_on_odd_input() {
        // A small deterministic fuzz: every string over a pipe-heavy alphabet up to
        // length 5, plus long and pathological ones.
        let alphabet = ['a', '(', ')', '|', ',', '\\', ' ', '1', 'é'];
        let mut inputs = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &inputs {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            for s in &next {
                let _ = parse(s);
            }
            inputs = next;
        }
        let _ = parse(&"(".repeat(100_000));
        let _ = parse(&"a|".repeat(100_000));
        assert!(parse(&"a|".repeat(1000))
            .unwrap_err()
            .contains("more than 64"));
        let _ = parse(&format!("f({})", "\\".repeat(99_999)));
    }
}
