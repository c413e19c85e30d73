//! The loaded file's license rules, indexed once per file. Every question an operation asks
//! (who may hold a key, what it requires, what it excludes, what a set of keys brings with
//! it) is a hash lookup or one walk over the `implies` edges, so an operation's work is
//! linear in the rules whatever their shape: a chain of thousands of `implies` included
//! (the file bounds them, [`format::MAX_RULES`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use format::{Holder, Method, Rules, ALL_HOLDERS, ALL_METHODS};

/// The rules of one file, indexed by key.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    holders: HashMap<String, Vec<Holder>>,
    methods: HashMap<String, Vec<Method>>,
    requires: HashMap<String, Vec<Vec<String>>>,
    implies: HashMap<String, Vec<String>>,
    /// The reverse of `implies`: each key, the keys that imply it directly.
    implied_by: HashMap<String, Vec<String>>,
    /// Each key, the indexes in `sets` of the `excludes` sets it is in.
    excludes: HashMap<String, Vec<usize>>,
    sets: Vec<BTreeSet<String>>,
    /// Edges followed by the closures, for the tests that show each is followed once.
    #[cfg(test)]
    steps: std::sync::atomic::AtomicUsize,
}

/// Why a deallocation cannot remove a key: `key` comes with `by`, a key that stays.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeptBy {
    pub key: String,
    pub by: String,
}

impl RuleIndex {
    /// Index `rules` (one pass over each list).
    pub fn new(rules: &Rules) -> RuleIndex {
        let mut ix = RuleIndex::default();
        for k in &rules.keys {
            ix.holders.insert(k.key.clone(), k.holders.clone());
            ix.methods.insert(k.key.clone(), k.methods.clone());
        }
        for r in &rules.requires {
            ix.requires
                .entry(r.key.clone())
                .or_default()
                .push(r.any_of.clone());
        }
        for i in &rules.implies {
            ix.implies
                .entry(i.key.clone())
                .or_default()
                .push(i.implied.clone());
            ix.implied_by
                .entry(i.implied.clone())
                .or_default()
                .push(i.key.clone());
        }
        for (n, e) in rules.excludes.iter().enumerate() {
            for k in &e.keys {
                ix.excludes.entry(k.clone()).or_default().push(n);
            }
            ix.sets.push(e.keys.iter().cloned().collect());
        }
        ix
    }

    /// Who may hold `key` (both holders when no rule names it).
    pub fn holders(&self, key: &str) -> &[Holder] {
        self.holders.get(key).map_or(ALL_HOLDERS, Vec::as_slice)
    }

    /// How `key` may be allocated (both methods when no rule names it).
    pub fn methods(&self, key: &str) -> &[Method] {
        self.methods.get(key).map_or(ALL_METHODS, Vec::as_slice)
    }

    /// The `requires` rules of `key`: of each set, the holder needs one.
    pub fn requires(&self, key: &str) -> &[Vec<String>] {
        self.requires.get(key).map_or(&[], Vec::as_slice)
    }

    /// The keys `key` implies directly.
    pub fn implies(&self, key: &str) -> &[String] {
        self.implies.get(key).map_or(&[], Vec::as_slice)
    }

    /// The first key (in order) of `set` that may not be held together with `key`: the
    /// members of `key`'s `excludes` sets are looked up in `set` (each set is at most
    /// [`format::MAX_RULE_KEYS`] keys), not the other way round.
    pub fn excluded_in<'a>(&'a self, key: &str, set: &BTreeSet<String>) -> Option<&'a str> {
        self.excludes
            .get(key)?
            .iter()
            .flat_map(|&n| self.sets[n].iter())
            .map(String::as_str)
            .filter(|k| *k != key && set.contains(*k))
            .min()
    }

    /// Every key `roots` bring with them through `implies`, directly or through other keys
    /// (a root only when another root brings it). One walk: each edge is followed once.
    pub fn closure<'a>(&'a self, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        self.walk(roots, &self.implies)
    }

    /// One breadth-first walk of `edges` from `roots`: what is reached, roots excluded
    /// unless reached from another root.
    fn walk<'a>(
        &'a self,
        roots: impl IntoIterator<Item = &'a str>,
        edges: &'a HashMap<String, Vec<String>>,
    ) -> BTreeSet<&'a str> {
        let mut out: BTreeSet<&str> = BTreeSet::new();
        let mut todo: VecDeque<&str> = roots.into_iter().collect();
        let mut expanded: BTreeSet<&str> = BTreeSet::new();
        while let Some(k) = todo.pop_front() {
            if !expanded.insert(k) {
                continue;
            }
            for y in edges.get(k).map_or(&[][..], Vec::as_slice) {
                #[cfg(test)]
                self.steps
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                out.insert(y);
                todo.push_back(y);
            }
        }
        out
    }

    /// What deallocating `keys` from a holder that holds `held` (each key with whether it
    /// was allocated explicitly) removes: `keys`, and every key that came only by
    /// implication with them and that no key that stays implies. A key of `keys` that a
    /// staying key implies cannot go alone: that is the error, naming the key and one key
    /// that brings it. Two walks over the rules, whatever the number of keys.
    pub fn removal(
        &self,
        held: &BTreeMap<String, bool>,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, KeptBy> {
        let from_removed = self.closure(keys.iter().map(String::as_str));
        // What stays on its own: allocated explicitly, or not brought by the removed keys.
        let anchors: Vec<&str> = held
            .iter()
            .filter(|(k, explicit)| {
                !keys.contains(*k) && (**explicit || !from_removed.contains(k.as_str()))
            })
            .map(|(k, _)| k.as_str())
            .collect();
        let brought = self.closure(anchors.iter().copied());
        if let Some(k) = keys.iter().find(|k| brought.contains(k.as_str())) {
            let anchors: BTreeSet<&str> = anchors.into_iter().collect();
            return Err(KeptBy {
                key: k.clone(),
                by: self.nearest_implier(k, &anchors),
            });
        }
        Ok(held
            .keys()
            .filter(|k| {
                let k = k.as_str();
                keys.contains(k) || !(anchors.binary_search(&k).is_ok() || brought.contains(k))
            })
            .cloned()
            .collect())
    }

    /// A key of `among` that implies `key`, directly or through other keys: the first one
    /// met walking the `implies` edges backwards from `key` (one walk).
    fn nearest_implier(&self, key: &str, among: &BTreeSet<&str>) -> String {
        let mut todo: VecDeque<&str> = VecDeque::from([key]);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(k) = todo.pop_front() {
            for x in self.implied_by.get(k).map_or(&[][..], Vec::as_slice) {
                if among.contains(x.as_str()) {
                    return x.clone();
                }
                if seen.insert(x) {
                    todo.push_back(x);
                }
            }
        }
        // Not reached: the caller found `key` in the closure of `among`.
        String::from("another key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use format::Implies;
    use std::sync::atomic::Ordering;

    fn chain(n: usize) -> (Rules, Vec<String>) {
        let names: Vec<String> = (0..n).map(|i| format!("K{i:05}")).collect();
        let rules = Rules {
            implies: names
                .windows(2)
                .map(|w| Implies {
                    key: w[0].clone(),
                    implied: w[1].clone(),
                })
                .collect(),
            ..Rules::default()
        };
        (rules, names)
    }

    fn set(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| (*k).to_string()).collect()
    }

    #[test]
    fn excluded_in_names_the_first_excluded_key_held() {
        let rules = Rules {
            excludes: vec![
                format::Excludes {
                    keys: vec!["A".into(), "C".into(), "D".into()],
                },
                format::Excludes {
                    keys: vec!["A".into(), "B".into()],
                },
            ],
            ..Rules::default()
        };
        let ix = RuleIndex::new(&rules);
        assert_eq!(ix.excluded_in("A", &set(&["A", "C", "B"])), Some("B"));
        assert_eq!(ix.excluded_in("C", &set(&["A", "C", "B"])), Some("A"));
        assert_eq!(ix.excluded_in("B", &set(&["B", "C"])), None);
        assert_eq!(ix.excluded_in("E", &set(&["A"])), None);
    }

    #[test]
    fn removing_the_head_of_a_chain_follows_each_edge_at_most_twice() {
        let n = format::MAX_RULES;
        let (rules, names) = chain(n);
        let ix = RuleIndex::new(&rules);
        // The head allocated explicitly, the rest by implication.
        let held: BTreeMap<String, bool> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i == 0))
            .collect();
        assert_eq!(ix.closure([names[0].as_str()]).len(), n - 1);
        ix.steps.store(0, Ordering::Relaxed);
        let removed = ix.removal(&held, &set(&[names[0].as_str()])).unwrap();
        assert_eq!(removed.len(), n, "the whole chain goes with its head");
        // One closure from the removed keys and one from what stays: each edge once per walk
        // (the old way recomputed a closure per key per round: about n^3 edges here).
        let steps = ix.steps.load(Ordering::Relaxed);
        assert!(
            steps <= 2 * (n - 1),
            "{steps} edges followed for {} rules",
            n - 1
        );
    }

    #[test]
    fn removal_keeps_what_a_staying_key_brings_and_refuses_an_implied_key_alone() {
        let (rules, names) = chain(4);
        let ix = RuleIndex::new(&rules);
        let k: Vec<&str> = names.iter().map(String::as_str).collect();
        // K0 explicit brings K1..K3; K2 was also allocated on its own.
        let held: BTreeMap<String, bool> =
            [(k[0], true), (k[1], false), (k[2], true), (k[3], false)]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b))
                .collect();
        assert_eq!(
            ix.removal(&held, &set(&[k[0]])).unwrap(),
            set(&[k[0], k[1]])
        );
        let e = ix.removal(&held, &set(&[k[3]])).unwrap_err();
        assert_eq!((e.key.as_str(), e.by.as_str()), (k[3], k[2]));
        assert_eq!(
            ix.removal(&held, &set(&[k[0], k[2]])).unwrap(),
            set(&[k[0], k[1], k[2], k[3]])
        );
        // A key implied-only whose bringer is gone already (the rules changed) stays.
        let held: BTreeMap<String, bool> = [(k[2].to_string(), false), ("X".to_string(), true)]
            .into_iter()
            .collect();
        assert_eq!(ix.removal(&held, &set(&["X"])).unwrap(), set(&["X"]));
    }
}
