//! Errors of the host-ID crate.

/// Why a typed code was refused, or why no code could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Nothing was typed.
    #[error("the host ID is empty")]
    Empty,
    /// Far longer than any code; refused before decoding.
    #[error("the host ID is {len} bytes long; a code has at most {max}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside the code alphabet (Crockford base32, dashes and spaces).
    #[error("character {position} ('{}') is not part of a host ID; codes use 0-9 and A-Z without I, L, O, U", character.escape_debug())]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position in the trimmed input.
        position: usize,
    },
    /// Too few or too many symbols: neither a short code (25) nor a strong one (60).
    #[error("the host ID has {found} symbols (dashes not counted); it should have {expected}{}: {}", form_note(*expected), length_hint(*found, *expected))]
    WrongLength {
        /// Symbols found.
        found: usize,
        /// Symbols expected.
        expected: usize,
    },
    /// The check symbol does not agree: a character was mistyped or two neighbours swapped.
    #[error("the host ID's check character does not match: a character was mistyped or two neighbouring characters were swapped")]
    CheckFailed,
    /// A code whose version symbol is not the one its length calls for (`1` for 25 symbols,
    /// `2` for 60), but whose check symbol agrees: a version this build does not know.
    #[error("host ID version '{found}' is not supported (this build reads version 1, 25 symbols, and version 2, 60 symbols)")]
    UnsupportedVersion {
        /// The version symbol found.
        found: char,
    },
    /// Passes the check but describes an impossible component set.
    #[error("the host ID is not one gethostid could have printed (inconsistent component fields)")]
    Inconsistent,
    /// A well-formed code not written exactly as it is printed (only from
    /// [`HostId::parse_canonical`](crate::HostId::parse_canonical), which activation files use).
    #[error("the host ID is not in its printed form: character {position} {difference}; it is written {expected}")]
    NotCanonical {
        /// The printed (canonical) form of the same code.
        expected: String,
        /// 1-based position, in the input, of the first character that differs from it.
        position: usize,
        /// What kind of difference that is.
        difference: SpellingDifference,
    },
    /// A code form other than `short` or `strong`.
    #[error("a host-ID form is `short` or `strong`")]
    UnknownForm,
    /// Fewer strong components than a safe code needs.
    #[error("only {found} stable machine component(s) found; a host ID needs at least {needed}")]
    TooFewComponents {
        /// Strong components available.
        found: usize,
        /// Strong components needed.
        needed: usize,
    },
}

/// How a well-formed code's spelling departs from the printed form
/// ([`CodeError::NotCanonical`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpellingDifference {
    /// Spaces or line breaks before or after the code.
    Whitespace,
    /// A lower-case letter; the printed form is upper case.
    LowerCase,
    /// `O`, `I` or `L` (either case) for `0`, `1`, `1`.
    LookAlike,
    /// A dash missing, extra or misplaced, or a space instead of a dash.
    Separator,
}

impl std::fmt::Display for SpellingDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpellingDifference::Whitespace => "is white space around the code",
            SpellingDifference::LowerCase => "is lower case",
            SpellingDifference::LookAlike => "is a look-alike letter (O, I or L) for a digit",
            SpellingDifference::Separator => {
                "does not follow the grouping (groups of five symbols joined by single dashes)"
            }
        })
    }
}

/// Which form a symbol count belongs to, in words: nothing for the short form (whose message
/// predates the strong one and is kept as it was), a note for the strong form.
fn form_note(expected: usize) -> &'static str {
    if expected == crate::code::STRONG_SYMBOLS {
        " (a strong host ID)"
    } else {
        ""
    }
}

/// What a wrong symbol count most likely means, in words.
fn length_hint(found: usize, expected: usize) -> &'static str {
    match found.abs_diff(expected) {
        1 if found < expected => "a character is missing",
        1 => "a character is extra",
        _ if found < expected => "part of the code is missing",
        _ => "this is longer than a host ID",
    }
}
