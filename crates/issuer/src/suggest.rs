//! "Did you mean": the names closest to one that was not found (a mistyped part number,
//! account or site), compared without case.

/// At most this many suggestions.
const MAX: usize = 3;

/// The candidates closest to `given`, closest first: those within an edit distance of a
/// third of the longer name (at least 2), or that contain it or are contained in it (without
/// case). Exact matches (without case) come first; at most three.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let g = given.trim().to_lowercase();
    if g.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let l = c.to_lowercase();
            let d = distance(&g, &l);
            let limit = (g.chars().count().max(l.chars().count()) / 3).max(2);
            let contained = g.chars().count() >= 3 && (l.contains(&g) || g.contains(&l));
            (d <= limit || contained).then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(MAX).map(|(_, c)| c).collect()
}

/// `; did you mean 'A', 'B' or 'C'?` for the suggestions, or nothing without any.
pub fn did_you_mean(suggestions: &[String]) -> String {
    let quoted: Vec<String> = suggestions.iter().map(|s| format!("'{s}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    }
}

/// Levenshtein distance over characters (a swap of two neighbours counts as one).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Names are short (at most 512 bytes); two rows of the table are enough.
    let mut prev2: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_not() {
        let parts = ["SW-001-4.0-AL02", "SW-001-4.0-AL06", "SW-001-4.0-SL03"];
        assert_eq!(
            closest("SW-001-4.0-AL2", parts)[..2],
            ["SW-001-4.0-AL02", "SW-001-4.0-AL06"]
        );
        assert_eq!(closest("sw-001-4.0-sl30", parts)[0], "SW-001-4.0-SL03");
        assert!(closest("XYZ", parts).is_empty());
        assert_eq!(closest("Contso", ["Contoso", "Fabrikam"]), ["Contoso"]);
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["a".into()]), "; did you mean 'a'?");
        assert_eq!(
            did_you_mean(&["a".into(), "b".into(), "c".into()]),
            "; did you mean 'a', 'b' or 'c'?"
        );
    }
}
