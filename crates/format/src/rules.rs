//! License rules: who may hold a license key, how it may be allocated, and the rules between
//! keys (`requires`, `implies`, `excludes`). The vendor's catalog declares them; a version-2
//! file carries, signed, the ones that apply to its license keys; the server's allocator
//! enforces them on every allocation.
//!
//! ```
//! use format::{Excludes, Holder, Implies, KeyRule, Method, Requires, Rules};
//!
//! let rules = Rules {
//!     keys: vec![KeyRule {
//!         key: "I3_LICENSE_BASIC_STATION".into(),
//!         holders: vec![Holder::Station],
//!         methods: vec![Method::Assignable],
//!     }],
//!     requires: vec![Requires {
//!         key: "I3_ACCESS_ANALYZER".into(),
//!         any_of: vec!["I3_ACCESS_RECORDER".into()],
//!     }],
//!     implies: vec![Implies { key: "FREEDOM".into(), implied: "CTI".into() }],
//!     excludes: vec![Excludes { keys: vec!["FREEDOM".into(), "SERVICE_CLOUD_VOICE".into()] }],
//! };
//! rules.validate()?;
//! assert_eq!(rules.holders("I3_LICENSE_BASIC_STATION"), &[Holder::Station]);
//! assert_eq!(rules.holders("I3_ACCESS_CLIENT"), &[Holder::User, Holder::Station]); // default
//! assert_eq!(rules.implied_by_closure("FREEDOM"), vec!["CTI"]);
//! # Ok::<(), format::FormatError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::FormatError;

/// The most rules a file or a catalog may carry: the four lists (`keys`, `requires`,
/// `implies`, `excludes`) together. It bounds what a server does with the rules on every
/// allocation (a chain of this many `implies` included).
pub const MAX_RULES: usize = 4096;
/// The most keys one rule may name in its set: a `requires` rule's `any_of`, an `excludes`
/// entry's `keys`.
pub const MAX_RULE_KEYS: usize = 64;

/// Who may hold a license key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Holder {
    /// A named user.
    User,
    /// A station (workstation, remote station, stand-alone phone or fax).
    Station,
}

impl Holder {
    /// The name used in files and catalogs (`user`, `station`).
    pub fn as_str(self) -> &'static str {
        match self {
            Holder::User => "user",
            Holder::Station => "station",
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a license key may be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Allocated to a named user or station and consumed while allocated.
    Assignable,
    /// Configured on a user and acquired from the pool at logon.
    Concurrent,
}

impl Method {
    /// The name used in files and catalogs (`assignable`, `concurrent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Assignable => "assignable",
            Method::Concurrent => "concurrent",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every holder, the default for a key without a [`KeyRule`].
pub const ALL_HOLDERS: &[Holder] = &[Holder::User, Holder::Station];
/// Every method, the default for a key without a [`KeyRule`].
pub const ALL_METHODS: &[Method] = &[Method::Assignable, Method::Concurrent];

/// Who may hold one key and how it may be allocated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRule {
    /// The license key.
    pub key: String,
    /// Who may hold it: one or both of `user`, `station`, each at most once, in that order.
    pub holders: Vec<Holder>,
    /// How it may be allocated: one or both of `assignable`, `concurrent`, in that order.
    pub methods: Vec<Method>,
}

/// Holding `key` needs holding at least one of `any_of` (on the same holder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// The key that needs another.
    pub key: String,
    /// The keys of which the holder needs at least one.
    pub any_of: Vec<String>,
}

/// Allocating `key` allocates `implied` with it; removing `key` removes `implied`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Implies {
    /// The key that brings another.
    pub key: String,
    /// The key it brings.
    pub implied: String,
}

/// No holder holds two of `keys` at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Excludes {
    /// At least two distinct keys.
    pub keys: Vec<String>,
}

/// A set of license rules (the `rules` member of a version-2 file). Empty lists are valid and
/// mean no rule: every key may be held by users and stations, by either method.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Per-key holders and methods; a key appears at most once.
    pub keys: Vec<KeyRule>,
    /// `requires` rules; several for one key must all hold.
    pub requires: Vec<Requires>,
    /// `implies` rules; no cycles.
    pub implies: Vec<Implies>,
    /// `excludes` sets.
    pub excludes: Vec<Excludes>,
}

/// Whether `v` is a license-key name: `A-Z` first, then `A-Z`, `0-9`, `_`, at most 128 bytes.
pub fn is_key_name(v: &str) -> bool {
    // Without early exits, so the pass over the bytes vectorises (it runs for every name of
    // every file read).
    v.len() <= 128
        && v.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && v.bytes().fold(true, |ok, c| {
            ok & (c.is_ascii_uppercase() | c.is_ascii_digit() | (c == b'_'))
        })
}

fn bad(field: &str, reason: String) -> FormatError {
    FormatError::InvalidValue {
        field: format!("rules.{field}"),
        reason,
    }
}

fn check_key(field: &str, v: &str) -> Result<(), FormatError> {
    if is_key_name(v) {
        Ok(())
    } else {
        Err(bad(
            field,
            format!(
                "'{}' is not a license-key name (A-Z first, then A-Z, 0-9, _; at most 128 bytes)",
                v.chars().take(64).collect::<String>().escape_debug()
            ),
        ))
    }
}

/// A rule's set of keys: at most [`MAX_RULE_KEYS`].
fn check_rule_keys(field: impl FnOnce() -> String, v: &[String]) -> Result<(), FormatError> {
    if v.len() > MAX_RULE_KEYS {
        return Err(bad(
            &field(),
            format!("{} keys, at most {MAX_RULE_KEYS} in one rule", v.len()),
        ));
    }
    Ok(())
}

/// Whether `items` are in strictly ascending order (so none repeats).
fn strictly_ascending<T: Ord>(items: impl Iterator<Item = T>) -> bool {
    let mut prev = None;
    for x in items {
        if prev.as_ref().is_some_and(|p| *p >= x) {
            return false;
        }
        prev = Some(x);
    }
    true
}

/// A non-empty list of distinct values in ascending order (the one spelling of a set);
/// `field` names it, built only for an error.
fn check_set<T: Ord + fmt::Display>(
    field: impl FnOnce() -> String,
    v: &[T],
) -> Result<(), FormatError> {
    if v.is_empty() {
        return Err(bad(&field(), "must not be empty".into()));
    }
    if let Some(w) = v.windows(2).find(|w| w[0] >= w[1]) {
        return Err(bad(
            &field(),
            if w[0] == w[1] {
                format!("'{}' appears twice", w[0])
            } else {
                format!("'{}' comes after '{}': list them in order", w[1], w[0])
            },
        ));
    }
    Ok(())
}

impl Rules {
    /// True when there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.requires.is_empty()
            && self.implies.is_empty()
            && self.excludes.is_empty()
    }

    /// How many rules the four lists hold together (at most [`MAX_RULES`] in a valid set).
    pub fn len(&self) -> usize {
        self.keys.len() + self.requires.len() + self.implies.len() + self.excludes.len()
    }

    /// Check the rules' shape and consistency: at most [`MAX_RULES`] rules in all and
    /// [`MAX_RULE_KEYS`] keys in one rule's set; key names of the documented form; holders,
    /// methods, `any_of` and `excludes` sets non-empty, without duplicates and in ascending
    /// order (one spelling per set); at most one [`KeyRule`] per key; no rule repeated; no key
    /// requiring or implying itself; no cycle of `implies`; an `excludes` set of at least two
    /// keys; and no key that implies (directly or through other keys) a key it excludes.
    pub fn validate(&self) -> Result<(), FormatError> {
        if self.len() > MAX_RULES {
            return Err(FormatError::InvalidValue {
                field: "rules".into(),
                reason: format!(
                    "{} rules ({} keys, {} requires, {} implies, {} excludes), at most {MAX_RULES} in all",
                    self.len(),
                    self.keys.len(),
                    self.requires.len(),
                    self.implies.len(),
                    self.excludes.len()
                ),
            });
        }
        // Each list is checked for a repeated entry with a set of the entries seen, unless
        // its entries are in strictly ascending order (as the issuer writes them), which
        // already means that none repeats.
        let distinct = strictly_ascending(self.keys.iter().map(|k| k.key.as_str()));
        let mut seen = BTreeSet::new();
        for k in &self.keys {
            check_key("keys", &k.key)?;
            check_set(|| format!("keys {} holders", k.key), &k.holders)?;
            check_set(|| format!("keys {} methods", k.key), &k.methods)?;
            if !distinct && !seen.insert(k.key.as_str()) {
                return Err(bad("keys", format!("'{}' has two entries", k.key)));
            }
        }
        let distinct =
            strictly_ascending(self.requires.iter().map(|r| (r.key.as_str(), &r.any_of)));
        let mut seen = BTreeSet::new();
        for r in &self.requires {
            check_key("requires", &r.key)?;
            check_rule_keys(|| format!("requires {} any_of", r.key), &r.any_of)?;
            for y in &r.any_of {
                check_key("requires any_of", y)?;
            }
            check_set(|| format!("requires {} any_of", r.key), &r.any_of)?;
            if r.any_of.contains(&r.key) {
                return Err(bad("requires", format!("'{}' requires itself", r.key)));
            }
            if !distinct && !seen.insert((r.key.as_str(), &r.any_of)) {
                return Err(bad(
                    "requires",
                    format!("a rule for '{}' appears twice", r.key),
                ));
            }
        }
        let distinct = strictly_ascending(
            self.implies
                .iter()
                .map(|i| (i.key.as_str(), i.implied.as_str())),
        );
        let mut seen = BTreeSet::new();
        for i in &self.implies {
            check_key("implies", &i.key)?;
            check_key("implies", &i.implied)?;
            if i.key == i.implied {
                return Err(bad("implies", format!("'{}' implies itself", i.key)));
            }
            if !distinct && !seen.insert((i.key.as_str(), i.implied.as_str())) {
                return Err(bad(
                    "implies",
                    format!("'{}' implies '{}' twice", i.key, i.implied),
                ));
            }
        }
        let distinct = strictly_ascending(self.excludes.iter().map(|e| &e.keys));
        let mut seen = BTreeSet::new();
        for e in &self.excludes {
            if !distinct && !seen.insert(&e.keys) {
                return Err(bad(
                    "excludes",
                    format!("the set {} appears twice", e.keys.join(", ")),
                ));
            }
            check_rule_keys(|| "excludes".into(), &e.keys)?;
            for k in &e.keys {
                check_key("excludes", k)?;
            }
            check_set(|| "excludes".into(), &e.keys)?;
            if e.keys.len() < 2 {
                return Err(bad(
                    "excludes",
                    format!("a set needs two keys or more, found only '{}'", e.keys[0]),
                ));
            }
        }
        // A cycle needs a key that is implied and implies a key itself (looked for pair by
        // pair in a short list only).
        let chained = self.implies.len() > 32
            || self
                .implies
                .iter()
                .any(|i| self.implies.iter().any(|j| j.key == i.implied));
        if let Some(cycle) = chained.then(|| self.implies_cycle()).flatten() {
            return Err(bad(
                "implies",
                format!("the rules form a cycle: {}", cycle.join(" implies ")),
            ));
        }
        if self.excludes.is_empty() {
            return Ok(());
        }
        // Each list is read once into an index, so the work is the sum of the closures, not
        // that times the number of rules.
        let graph = self.implies_graph();
        let mut sets_of: BTreeMap<&str, Vec<&[String]>> = BTreeMap::new();
        for e in &self.excludes {
            for k in &e.keys {
                sets_of.entry(k).or_default().push(&e.keys);
            }
        }
        let mut done = BTreeSet::new();
        for k in self.implies.iter().map(|i| i.key.as_str()) {
            // Only a key in an `excludes` set excludes another.
            let Some(sets) = sets_of.get(k).filter(|_| done.insert(k)) else {
                continue;
            };
            for y in closure_in(&graph, k) {
                // The sets are sorted (checked above).
                if sets
                    .iter()
                    .any(|set| set.binary_search_by(|x| x.as_str().cmp(y)).is_ok())
                {
                    return Err(bad(
                        "implies",
                        format!("'{k}' implies '{y}', and the two exclude each other"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A cycle of `implies`, as the keys along it (first key repeated at the end), if any.
    fn implies_cycle(&self) -> Option<Vec<String>> {
        let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for i in &self.implies {
            graph.entry(&i.key).or_default().push(&i.implied);
        }
        // Iterative depth-first search; 0 unvisited, 1 on the path, 2 done.
        let mut mark: BTreeMap<&str, u8> = BTreeMap::new();
        for &start in graph.keys() {
            if mark.get(start).copied().unwrap_or(0) != 0 {
                continue;
            }
            let mut path: Vec<(&str, usize)> = vec![(start, 0)];
            mark.insert(start, 1);
            while let Some((node, next)) = path.last_mut() {
                let node: &str = node;
                let succ = graph.get(node).map(Vec::as_slice).unwrap_or_default();
                if let Some(&child) = succ.get(*next) {
                    *next += 1;
                    match mark.get(child).copied().unwrap_or(0) {
                        0 => {
                            mark.insert(child, 1);
                            path.push((child, 0));
                        }
                        1 => {
                            let from = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
                            let mut cycle: Vec<String> =
                                path[from..].iter().map(|(n, _)| n.to_string()).collect();
                            cycle.push(child.to_string());
                            return Some(cycle);
                        }
                        _ => {}
                    }
                } else {
                    mark.insert(node, 2);
                    path.pop();
                }
            }
        }
        None
    }

    /// Who may hold `key` (both holders when no rule names it).
    pub fn holders(&self, key: &str) -> &[Holder] {
        self.keys
            .iter()
            .find(|k| k.key == key)
            .map_or(ALL_HOLDERS, |k| k.holders.as_slice())
    }

    /// How `key` may be allocated (both methods when no rule names it).
    pub fn methods(&self, key: &str) -> &[Method] {
        self.keys
            .iter()
            .find(|k| k.key == key)
            .map_or(ALL_METHODS, |k| k.methods.as_slice())
    }

    /// The `requires` rules of `key`: each entry is a set of which the holder needs one; all
    /// entries must hold.
    pub fn requires(&self, key: &str) -> Vec<&[String]> {
        self.requires
            .iter()
            .filter(|r| r.key == key)
            .map(|r| r.any_of.as_slice())
            .collect()
    }

    /// The keys `key` implies directly.
    pub fn implies(&self, key: &str) -> Vec<&str> {
        self.implies
            .iter()
            .filter(|i| i.key == key)
            .map(|i| i.implied.as_str())
            .collect()
    }

    /// Every key `key` brings with it, directly or through other keys, sorted, without
    /// `key` itself. One pass over the implies rules, then a walk of what is reachable (a
    /// caller asking for many keys should index the rules once instead).
    pub fn implied_by_closure(&self, key: &str) -> Vec<&str> {
        closure_in(&self.implies_graph(), key)
    }

    /// The implies rules as a graph: each key, the keys it implies directly.
    fn implies_graph(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for i in &self.implies {
            graph.entry(&i.key).or_default().push(&i.implied);
        }
        graph
    }

    /// The `excludes` sets that contain `key`.
    pub fn excludes(&self, key: &str) -> Vec<&[String]> {
        self.excludes
            .iter()
            .filter(|e| e.keys.iter().any(|k| k == key))
            .map(|e| e.keys.as_slice())
            .collect()
    }

    /// Every key that may not be held together with `key` (sorted, without `key`).
    pub fn excluded_with(&self, key: &str) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .excludes(key)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|k| *k != key)
            .collect();
        set.into_iter().collect()
    }

    /// Every key any rule names, sorted.
    pub fn keys_named(&self) -> Vec<&str> {
        let mut set = BTreeSet::new();
        set.extend(self.keys.iter().map(|k| k.key.as_str()));
        for r in &self.requires {
            set.insert(r.key.as_str());
            set.extend(r.any_of.iter().map(String::as_str));
        }
        for i in &self.implies {
            set.insert(i.key.as_str());
            set.insert(i.implied.as_str());
        }
        set.extend(
            self.excludes
                .iter()
                .flat_map(|e| e.keys.iter().map(String::as_str)),
        );
        set.into_iter().collect()
    }
}

/// Every key reachable from `key` in `graph`, sorted, without `key` itself; each edge is
/// followed at most once.
fn closure_in<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>, key: &str) -> Vec<&'a str> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = graph.get(key).cloned().unwrap_or_default();
    while let Some(k) = todo.pop() {
        if k != key && out.insert(k) {
            todo.extend(graph.get(k).map(Vec::as_slice).unwrap_or_default());
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn implies(pairs: &[(&str, &str)]) -> Rules {
        Rules {
            implies: pairs
                .iter()
                .map(|(a, b)| Implies {
                    key: (*a).into(),
                    implied: (*b).into(),
                })
                .collect(),
            ..Rules::default()
        }
    }

    #[test]
    fn empty_rules_are_valid_and_default_to_everything() {
        let r = Rules::default();
        r.validate().unwrap();
        assert!(r.is_empty());
        assert_eq!(r.holders("X"), ALL_HOLDERS);
        assert_eq!(r.methods("X"), ALL_METHODS);
        assert!(r.requires("X").is_empty());
    }

    #[test]
    fn implies_cycles_are_refused() {
        let r = implies(&[("A", "B"), ("B", "C"), ("C", "A")]);
        let e = r.validate().unwrap_err().to_string();
        assert!(e.contains("cycle"), "{e}");
        assert!(e.contains("A implies B implies C implies A"), "{e}");
        implies(&[("A", "B"), ("B", "C"), ("A", "C")])
            .validate()
            .unwrap();
        assert!(implies(&[("A", "A")]).validate().is_err());
    }

    #[test]
    fn implying_an_excluded_key_is_refused_through_the_closure() {
        let mut r = implies(&[("A", "B"), ("B", "C")]);
        r.excludes.push(Excludes {
            keys: vec!["A".into(), "C".into()],
        });
        let e = r.validate().unwrap_err().to_string();
        assert!(e.contains("'A' implies 'C'"), "{e}");
    }

    #[test]
    fn sets_have_one_spelling() {
        let mut r = Rules::default();
        r.keys.push(KeyRule {
            key: "A".into(),
            holders: vec![Holder::Station, Holder::User],
            methods: vec![Method::Assignable],
        });
        assert!(r.validate().is_err(), "holders out of order");
        r.keys[0].holders = vec![Holder::User, Holder::User];
        assert!(r.validate().is_err(), "holder twice");
        r.keys[0].holders = vec![];
        assert!(r.validate().is_err(), "no holder");
        r.keys[0].holders = vec![Holder::User];
        r.validate().unwrap();
        r.excludes.push(Excludes {
            keys: vec!["B".into(), "A".into()],
        });
        assert!(r.validate().is_err(), "excludes out of order");
        r.excludes[0].keys = vec!["A".into()];
        assert!(r.validate().is_err(), "excludes of one key");
    }

    fn chain(n: usize) -> Rules {
        let names: Vec<String> = (0..n).map(|i| format!("K{i:05}")).collect();
        let pairs: Vec<(&str, &str)> = names
            .windows(2)
            .map(|w| (w[0].as_str(), w[1].as_str()))
            .collect();
        implies(&pairs)
    }

    #[test]
    fn the_rules_section_is_bounded_in_all_and_per_rule() {
        // A chain of MAX_RULES keys (one implies fewer) is valid, and its closure is whole.
        let mut r = chain(MAX_RULES);
        r.validate().unwrap();
        assert_eq!(r.implied_by_closure("K00000").len(), MAX_RULES - 1);
        // One more rule of any kind is one too many: the error says how many of each.
        r.excludes.push(Excludes {
            keys: vec!["X".into(), "Y".into()],
        });
        r.validate().unwrap();
        r.excludes.push(Excludes {
            keys: vec!["X".into(), "Z".into()],
        });
        let e = r.validate().unwrap_err();
        assert!(
            matches!(&e, FormatError::InvalidValue { field, .. } if field == "rules"),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(text.contains("4097 rules"), "{text}");
        assert!(text.contains("at most 4096 in all"), "{text}");
        // A rule's set: at most MAX_RULE_KEYS keys.
        let keys: Vec<String> = (0..=MAX_RULE_KEYS).map(|i| format!("A{i:03}")).collect();
        let mut r = Rules {
            excludes: vec![Excludes {
                keys: keys[..MAX_RULE_KEYS].to_vec(),
            }],
            requires: vec![Requires {
                key: "B".into(),
                any_of: keys[..MAX_RULE_KEYS].to_vec(),
            }],
            ..Rules::default()
        };
        r.validate().unwrap();
        r.requires[0].any_of = keys.clone();
        let e = r.validate().unwrap_err().to_string();
        assert!(e.contains("65 keys, at most 64 in one rule"), "{e}");
        r.requires[0].any_of = vec!["A000".into()];
        r.excludes[0].keys = keys;
        let e = r.validate().unwrap_err().to_string();
        assert!(e.contains("rules.excludes"), "{e}");
    }

    #[test]
    fn an_implied_excluded_key_is_found_at_the_end_of_a_long_chain() {
        let mut r = chain(2000);
        r.excludes.push(Excludes {
            keys: vec!["K00000".into(), "K01999".into()],
        });
        let e = r.validate().unwrap_err().to_string();
        assert!(e.contains("'K00000' implies 'K01999'"), "{e}");
    }

    #[test]
    fn bad_names_and_self_requirements_are_refused() {
        let mut r = Rules::default();
        r.requires.push(Requires {
            key: "A".into(),
            any_of: vec!["A".into(), "B".into()],
        });
        assert!(r.validate().is_err());
        r.requires[0].any_of = vec!["b".into()];
        assert!(r.validate().is_err());
        r.requires[0].any_of = vec!["B".into()];
        r.validate().unwrap();
        assert_eq!(r.requires("A"), vec![&["B".to_string()][..]]);
    }
}
