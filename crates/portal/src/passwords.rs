//! The password policy of portal users: long enough, not one of the passwords tried first
//! by anyone guessing, and not the user's own e-mail address. No network is asked: the
//! list of common passwords is built in (`common-passwords.txt`, about 800 entries drawn
//! from published lists of the most used passwords, lower case).

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// The longest password accepted, in bytes (longer ones are wrong without being hashed).
pub const MAX_PASSWORD: usize = 1024;

const COMMON: &str = include_str!("common-passwords.txt");

/// Whether `p` (lower case) is a common password, or one with digits, punctuation or
/// look-alike letters around a common one, before or after it (`P@ssw0rd2024!`,
/// `baseball1234`, `2024password`).
fn is_common(p: &str) -> bool {
    let listed = |s: &str| !s.is_empty() && COMMON.lines().any(|l| l == s);
    let plain = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '0' => 'o',
                '1' | '!' => 'i',
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                c => c,
            })
            .collect()
    };
    let stem = p.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    listed(p) || listed(stem) || listed(&plain(p)) || listed(&plain(stem))
}

/// Check a new password for the user with this e-mail address: at least [`MIN_PASSWORD`]
/// characters and at most [`MAX_PASSWORD`] bytes, not one character repeated, not a common
/// password ([`is_common`], without regard to case), and neither equal to nor containing the
/// e-mail address or the part of it before `@`. The error says which rule, never the password.
pub fn check_new_password(email: &str, password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        ));
    }
    if password.len() > MAX_PASSWORD {
        return Err(format!("the password must be at most {MAX_PASSWORD} bytes"));
    }
    let lower = password.to_lowercase();
    let mut chars = lower.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err("the password is one character repeated: choose another".into());
        }
    }
    if is_common(&lower) {
        return Err(
            "the password is one of the most common passwords (or one with a few digits or signs added): choose another"
                .into(),
        );
    }
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    // A local part of one or two letters is in too many good passwords to refuse them all.
    if !email.is_empty() && lower.contains(&email)
        || local.chars().count() >= 3 && lower.contains(local)
        || !local.is_empty() && lower == local
    {
        return Err(
            "the password must not be or contain the e-mail address or its name part".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for p in [
            "aaaaaaaaaa",
            "1234567890",
            "qwertyuiop",
            "Password123",
            "PASSWORD1234",
            "P@ssw0rd2024!",
            "baseball1234",
            "Summer2024!!",
            "1q2w3e4r5t6y",
            "2024password",
            "!!qwerty2024",
            "123456dragon",
        ] {
            assert!(check_new_password("ann@contoso.example", p).is_err(), "{p}");
        }
        assert!(check_new_password("ann@contoso.example", "correct horse battery staple").is_ok());
        assert!(check_new_password("ann@contoso.example", "Tr0ub4dor&3-kelp").is_ok());
    }

    #[test]
    fn the_email_and_its_name_are_refused() {
        let e = "Ann.Smith@Contoso.example";
        for p in [
            "ann.smith@contoso.example",
            "ANN.SMITH@CONTOSO.EXAMPLE",
            "ann.smith1234",
            "my ann.smith password",
        ] {
            let err = check_new_password(e, p).unwrap_err();
            assert!(err.contains("e-mail"), "{p}: {err}");
        }
        assert!(check_new_password("jo@x.example", "jo-and-the-long-river").is_ok());
    }

    #[test]
    fn the_list_is_lower_case_and_sorted() {
        let v: Vec<&str> = COMMON.lines().collect();
        assert!(v.len() >= 500, "{}", v.len());
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert!(v.iter().all(|l| *l == l.to_lowercase() && !l.is_empty()));
    }
}
