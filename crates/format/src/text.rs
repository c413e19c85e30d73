//! Characters a text value or a name may not hold, and how to print text that holds them.
//!
//! One definition for every crate: a file's text values (`docs/FORMAT.md` section 9), and the
//! names and texts the issuer's ledger, the portal and the allocation store keep, refuse the
//! same characters ([`is_refused_char`]); each binary escapes them when it prints
//! ([`escape_refused`]), so a value stored before it was refused still shows as what it is.

use std::borrow::Cow;

/// Whether a character is refused in text values: Unicode general categories Cc (controls),
/// Cf (invisible formatting: zero-width, bidirectional controls, soft hyphen, tags ...), Zl
/// and Zp (line and paragraph separators). Each would let a value read differently in an
/// editor or a terminal from what is signed, or two different values read the same. The list
/// is fixed here (Unicode 15.1's Cf, plus U+2065, which lies inside the bidirectional block),
/// so readers in other languages do not depend on their Unicode tables.
pub fn is_refused_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// The first refused character ([`is_refused_char`]) in `v`, with its position counted in
/// characters from 1 (so that the one to remove can be found).
pub fn find_refused_char(v: &str) -> Option<(usize, char)> {
    v.chars()
        .enumerate()
        .find(|&(_, c)| is_refused_char(c))
        .map(|(i, c)| (i + 1, c))
}

/// What a refused character is, for a message: `control character`, `line separator`,
/// `paragraph separator` or `invisible formatting character`.
pub fn refused_char_kind(c: char) -> &'static str {
    match c {
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        c if c.is_control() => "control character",
        _ => "invisible formatting character",
    }
}

/// Why `v` is refused, when it holds a refused character: `holds the invisible formatting
/// character U+202E at character 4 of 9`. The character is named, never printed.
pub fn refused_char_reason(v: &str) -> Option<String> {
    let (at, c) = find_refused_char(v)?;
    Some(format!(
        "holds the {} U+{:04X} at character {at} of {}",
        refused_char_kind(c),
        u32::from(c),
        v.chars().count()
    ))
}

/// `text` with every refused character ([`is_refused_char`]) other than those in `keep`
/// written as in a Rust string literal: controls as `\t`, `\r`, `\u{1b}`, the others as
/// `\u{202e}`. What a terminal shows is then what the text holds: an escape sequence does not
/// act, a bidirectional override does not reorder the line, an invisible character shows.
pub fn escape_refused<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    let escaped = |c: char| is_refused_char(c) && !keep.contains(&c);
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !escaped(c) {
            s.push(c);
        } else if c.is_control() {
            s.extend(c.escape_debug());
        } else {
            s.extend(c.escape_unicode());
        }
    }
    Cow::Owned(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_characters_are_found_named_and_escaped() {
        assert_eq!(find_refused_char("abc"), None);
        assert_eq!(find_refused_char("ab\u{202E}c"), Some((3, '\u{202E}')));
        assert_eq!(
            refused_char_reason("é\u{200B}x").as_deref(),
            Some("holds the invisible formatting character U+200B at character 2 of 3")
        );
        assert_eq!(
            refused_char_reason("a\u{2028}").as_deref(),
            Some("holds the line separator U+2028 at character 2 of 2")
        );
        assert_eq!(
            refused_char_reason("\u{1b}").as_deref(),
            Some("holds the control character U+001B at character 1 of 1")
        );
        assert_eq!(escape_refused("plain é\n", &['\n']), "plain é\n");
        assert_eq!(
            escape_refused("a\u{202E}b\u{FEFF}\u{2029}\t\u{1b}\n", &['\n']),
            "a\\u{202e}b\\u{feff}\\u{2029}\\t\\u{1b}\n"
        );
    }
}
