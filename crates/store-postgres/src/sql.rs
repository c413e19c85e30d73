//! Statements arrive in the portable form, with SQLite's placeholders (`?1`, `?2` … or a bare
//! `?`); PostgreSQL numbers them `$1`, `$2` ….

/// `sql` with every placeholder outside string literals, quoted identifiers and comments
/// written as PostgreSQL's `$N`. A bare `?` takes the number after the largest seen so far,
/// as SQLite numbers it.
pub(crate) fn translate(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut largest: u64 = 0;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                // A literal or quoted identifier; a doubled quote inside is an escape and is
                // skipped as two closing/opening quotes in turn.
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b'?' => {
                out.push_str(&sql[copied..i]);
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                let n = if end > start {
                    // Digits that overflow are kept as written: the server refuses them.
                    sql[start..end].parse::<u64>().unwrap_or(u64::MAX)
                } else {
                    largest.saturating_add(1)
                };
                largest = largest.max(n);
                if n == u64::MAX {
                    out.push('$');
                    out.push_str(&sql[start..end]);
                } else {
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                i = end;
                copied = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn numbered_and_bare_placeholders() {
        assert_eq!(translate("SELECT ?1, ?2, ?1"), "SELECT $1, $2, $1");
        assert_eq!(
            translate("INSERT INTO t VALUES (?, ?, ?)"),
            "INSERT INTO t VALUES ($1, $2, $3)"
        );
        assert_eq!(translate("SELECT ?3, ?"), "SELECT $3, $4");
        assert_eq!(translate("SELECT ?12"), "SELECT $12");
        assert_eq!(translate("SELECT 1"), "SELECT 1");
        assert_eq!(translate(""), "");
        assert_eq!(translate("?"), "$1");
    }

    #[test]
    fn literals_identifiers_and_comments_are_kept() {
        assert_eq!(
            translate("SELECT '?', 'it''s ?1', \"a?\"\"b\", ? -- what?\n, ?"),
            "SELECT '?', 'it''s ?1', \"a?\"\"b\", $1 -- what?\n, $2"
        );
        assert_eq!(translate("SELECT /* ?1 */ ?1"), "SELECT /* ?1 */ $1");
        assert_eq!(
            translate("SELECT ? -- trailing ?"),
            "SELECT $1 -- trailing ?"
        );
    }

    #[test]
    fn unterminated_text_never_panics() {
        assert_eq!(translate("SELECT 'open ?"), "SELECT 'open ?");
        assert_eq!(translate("SELECT \"open ?"), "SELECT \"open ?");
        assert_eq!(translate("SELECT /* open ?"), "SELECT /* open ?");
        assert_eq!(translate("SELECT é?"), "SELECT é$1");
        assert_eq!(
            translate("SELECT ?99999999999999999999999"),
            "SELECT $99999999999999999999999"
        );
    }
}
