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
    /// Too few or too many symbols.
    #[error("the host ID has {found} symbols (dashes not counted); it should have {expected}: {}", length_hint(*found, *expected))]
    WrongLength {
        /// Symbols found.
        found: usize,
        /// Symbols expected.
        expected: usize,
    },
    /// The check symbol does not agree: a character was mistyped or two neighbours swapped.
    #[error("the host ID's check character does not match: a character was mistyped or two neighbouring characters were swapped")]
    CheckFailed,
    /// A well-formed code of a version this build does not know.
    #[error("host ID version '{found}' is not supported (this build reads version 1)")]
    UnsupportedVersion {
        /// The version symbol found.
        found: char,
    },
    /// Passes the check but describes an impossible component set.
    #[error("the host ID is not one gethostid could have printed (inconsistent component fields)")]
    Inconsistent,
    /// Fewer strong components than a safe code needs.
    #[error("only {found} stable machine component(s) found; a host ID needs at least {needed}")]
    TooFewComponents {
        /// Strong components available.
        found: usize,
        /// Strong components needed.
        needed: usize,
    },
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
