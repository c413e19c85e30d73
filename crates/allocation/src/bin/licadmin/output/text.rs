//! The text of the views: every value printed is escaped here ([`esc`]), so a name or a
//! file's text cannot forge a line or a column; tables are padded to their widest cell.

/// `text` with every refused character escaped, tabs and line breaks included.
pub(crate) fn esc(text: &str) -> String {
    format::text::escape_refused(text, &[]).into_owned()
}

/// `-` for nothing.
pub(crate) fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text
    }
}

/// A key with its name in words: `Client Access (I3_ACCESS_CLIENT)`, or the key alone.
pub(crate) fn key_words(key: &str, description: Option<&str>) -> String {
    match description {
        Some(d) => format!("{} ({})", esc(d), esc(key)),
        None => esc(key),
    }
}

/// The width of each column: its widest cell or heading.
pub(crate) fn widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    width
}

/// Columns padded to their widest cell (cells are escaped already); `right` marks numeric
/// columns. The last column is not padded.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let n = headers.len();
    let width = widths(headers, rows);
    let mut t = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let pad = width[i].saturating_sub(cell.chars().count());
            if right.contains(&i) {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            } else {
                l.push_str(cell);
                if i + 1 < n {
                    l.push_str(&" ".repeat(pad));
                }
            }
        }
        t.push_str(l.trim_end());
        t.push('\n');
    };
    line(&mut headers.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    t
}

/// An expiry in words: the time and the days left (or since), or "never (perpetual)".
pub(crate) fn expiry_text(expires_at: Option<format::Timestamp>, days_left: Option<i64>) -> String {
    match (expires_at, days_left) {
        (Some(t), Some(d)) if d < 0 => format!("{t} (expired {} day(s) ago)", -d),
        (Some(t), Some(d)) => format!("{t} ({d} day(s) left)"),
        (Some(t), None) => t.to_string(),
        (None, _) => "never (perpetual)".into(),
    }
}
