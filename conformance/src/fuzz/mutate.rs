//! Text mutations for the robustness fuzzer: spans deleted, duplicated or spliced from other
//! corpus files, YAML/JSON tokens inserted, numbers made extreme, bytes flipped. Inputs stay
//! mostly well-formed, so the mutants reach the validators and not only the YAML parser.

use super::rng::Rng;

const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{id}}",
    "{{nope}}",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "&a ",
    "*a",
    "!!binary ",
    "!!str ",
    "~",
    "null",
    "0x",
    "-1",
    "1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "op: ",
    "id: ",
    "expect: ",
    "exit: ",
    "snapshot: ",
    "\t",
    "é",
    "\u{0}",
    "\u{202e}",
    "99999999999999999999",
    ".",
    "/",
    "..",
    "*",
    "|",
    "a|b",
    "<<: *a",
    "? ",
    "#",
    ",",
    "\"\\u0000\"",
    "within: 1ns",
    "timeout: 0s",
    "regex: \"(\"",
    "not: ",
    "len: -1",
    "one_of: []",
];

fn char_floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn span(rng: &mut Rng, s: &str) -> (usize, usize) {
    let a = char_floor(s, rng.below(s.len() + 1));
    let b = char_floor(s, a + 1 + rng.below(24));
    (a, b.max(a))
}

/// One mutation of `s`; `corpus` supplies lines to splice in.
pub fn once(rng: &mut Rng, s: &str, corpus: &[String]) -> String {
    let (a, b) = span(rng, s);
    match rng.below(8) {
        0 => format!("{}{}", &s[..a], &s[b..]),
        1 => format!("{}{}{}", &s[..b], &s[a..b], &s[b..]),
        2 => format!("{}{}{}", &s[..a], rng.pick(TOKENS), &s[a..]),
        3 => {
            let other = rng.pick(corpus);
            let lines: Vec<&str> = other.lines().collect();
            let line = if lines.is_empty() {
                ""
            } else {
                *rng.pick(&lines)
            };
            format!("{}{line}\n{}", &s[..a], &s[a..])
        }
        4 => {
            let mut bytes = s.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        5 => match s[a..].find(|c: char| c.is_ascii_digit()) {
            Some(off) => {
                let at = a + off;
                let end = s[at..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(s.len(), |e| at + e);
                let extreme = *rng.pick(&[
                    "0",
                    "-1",
                    "4294967296",
                    "18446744073709551615",
                    "1e400",
                    "0777777",
                ]);
                format!("{}{extreme}{}", &s[..at], &s[end..])
            }
            None => s.to_string(),
        },
        6 => {
            let mut lines: Vec<&str> = s.lines().collect();
            if lines.len() > 1 {
                let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(i, j);
            }
            lines.join("\n")
        }
        _ => {
            let mut lines: Vec<&str> = s.lines().collect();
            if !lines.is_empty() {
                lines.remove(rng.below(lines.len()));
            }
            lines.join("\n")
        }
    }
}

/// 1 to 4 stacked mutations of a corpus entry.
pub fn mutant(rng: &mut Rng, corpus: &[String]) -> String {
    let mut s = rng.pick(corpus).clone();
    for _ in 0..1 + rng.below(4) {
        s = once(rng, &s, corpus);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_are_reproducible_and_differ_from_the_input() {
        let corpus = vec!["a: 1\nb: [x, y]\n".to_string(), "{\"k\": 12}".to_string()];
        let make = |seed| {
            let mut rng = Rng::new(seed);
            (0..200)
                .map(|_| mutant(&mut rng, &corpus))
                .collect::<Vec<_>>()
        };
        let a = make(5);
        assert_eq!(a, make(5));
        assert!(a.iter().filter(|m| !corpus.contains(m)).count() > 150);
    }
}
