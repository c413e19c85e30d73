//! Random sequences of operations (allocate, deallocate, forced or not, logon, logoff,
//! heartbeat, lease lapse, loading a smaller or larger file, removing and re-adding users and
//! stations, disabling and enabling stations) against the real allocator and a small in-memory
//! reference model. After every step: the outcome (success or exit code) is the one the
//! model predicts, the report's counts are the model's, nothing in use exceeds what is
//! licensed (or what was in use when a smaller file was loaded), and `check` finds nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use allocation::{AllocError, Allocator, InUse, ManualClock, Method, Place, StationKind, Target};
use common::*;
use format::Rules;
use proptest::prelude::*;

const KEYS: [&str; 5] = [CLIENT, "FREEDOM", "CTI", "SCV", BASIC];
const USERS: [(&str, Method); 4] = [
    ("u0", Method::Assignable),
    ("u1", Method::Assignable),
    ("u2", Method::Concurrent),
    ("u3", Method::Concurrent),
];
const STATIONS: [&str; 2] = ["s0", "s1"];
const NUMBERS: [&str; 2] = ["100", "200"];

fn rules() -> Rules {
    Rules {
        implies: vec![implies("FREEDOM", "CTI")],
        excludes: vec![excludes(&["FREEDOM", "SCV"])],
        ..Rules::default()
    }
}

fn counts(large: bool) -> Vec<(&'static str, u32, u32)> {
    KEYS.iter()
        .map(|k| if large { (*k, 3, 2) } else { (*k, 1, 1) })
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    Allocate(usize, usize),
    Deallocate(usize, usize, bool),
    Login(usize, PlaceSel),
    Logout(usize),
    Heartbeat(usize),
    Advance(i64),
    Load(bool),
    RemoveUser(usize),
    AddUser(usize),
    RemoveStation(usize),
    AddStation(usize),
    Disable(usize),
    Enable(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlaceSel {
    Nowhere,
    Station(usize),
    Remote(usize),
}

/// Holders 0..4 are the users, 4..6 the stations.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..6usize, 0..5usize).prop_map(|(h, k)| Op::Allocate(h, k)),
        3 => (0..6usize, 0..5usize, any::<bool>()).prop_map(|(h, k, f)| Op::Deallocate(h, k, f)),
        5 => (0..4usize, prop_oneof![Just(PlaceSel::Nowhere), (0..2usize).prop_map(PlaceSel::Station), (0..2usize).prop_map(PlaceSel::Remote)]).prop_map(|(u, p)| Op::Login(u, p)),
        2 => (0..4usize).prop_map(Op::Logout),
        1 => (0..4usize).prop_map(Op::Heartbeat),
        2 => prop_oneof![Just(30i64), Just(400), Just(700)].prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Load),
        1 => (0..4usize).prop_map(Op::RemoveUser),
        1 => (0..4usize).prop_map(Op::AddUser),
        1 => (0..2usize).prop_map(Op::RemoveStation),
        1 => (0..2usize).prop_map(Op::AddStation),
        1 => (0..2usize).prop_map(Op::Disable),
        1 => (0..2usize).prop_map(Op::Enable),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct MSession {
    place: PlaceSel,
    expires: i64,
    acquired: Vec<(String, bool)>, // (key, from the assignable count)
}

#[derive(Debug, Clone, Default)]
struct Model {
    users: [Option<BTreeMap<String, bool>>; 4],
    stations: [Option<(bool, BTreeMap<String, bool>)>; 2],
    sessions: [Option<MSession>; 4],
    counts: BTreeMap<String, (u32, u32)>,
    ceilings: BTreeMap<(String, bool), u32>,
    now: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct U {
    assign_cfg: u32,
    assign_dyn: u32,
    conc_cfg: u32,
    conc_in_use: u32,
}

type Outcome = Result<(), i32>;

impl Model {
    fn live(&self, u: usize) -> Option<&MSession> {
        self.sessions[u].as_ref().filter(|s| s.expires > self.now)
    }

    fn purge(&mut self) {
        for s in &mut self.sessions {
            if s.as_ref().is_some_and(|s| s.expires <= self.now) {
                *s = None;
            }
        }
    }

    fn usage(&self, key: &str) -> U {
        let mut u = U::default();
        for (i, g) in self.users.iter().enumerate() {
            if let Some(g) = g {
                if g.contains_key(key) {
                    match USERS[i].1 {
                        Method::Assignable => u.assign_cfg += 1,
                        _ => u.conc_cfg += 1,
                    }
                }
            }
        }
        for (en, g) in self.stations.iter().flatten() {
            if *en && g.contains_key(key) {
                u.assign_cfg += 1;
            }
        }
        for i in 0..4 {
            if let Some(s) = self.live(i) {
                for (k, assign) in &s.acquired {
                    if k == key {
                        if *assign {
                            u.assign_dyn += 1;
                        } else {
                            u.conc_in_use += 1;
                        }
                    }
                }
            }
        }
        u
    }

    fn room(&self, key: &str, assignable: bool) -> bool {
        let u = self.usage(key);
        let (a, p) = self.counts[key];
        if assignable {
            u.assign_cfg + u.assign_dyn < a
        } else {
            u.conc_in_use < p
        }
    }

    fn closure(key: &str) -> Vec<&'static str> {
        if key == "FREEDOM" {
            vec!["CTI"]
        } else {
            vec![]
        }
    }

    fn holder(&self, h: usize) -> Option<(&BTreeMap<String, bool>, bool, bool)> {
        if h < 4 {
            self.users[h]
                .as_ref()
                .map(|g| (g, USERS[h].1 == Method::Assignable, true))
        } else {
            self.stations[h - 4].as_ref().map(|(en, g)| (g, true, *en))
        }
    }

    fn grants_mut(&mut self, h: usize) -> &mut BTreeMap<String, bool> {
        if h < 4 {
            self.users[h].as_mut().unwrap()
        } else {
            &mut self.stations[h - 4].as_mut().unwrap().1
        }
    }

    fn allocate(&mut self, h: usize, key: &str) -> Outcome {
        let Some((held, assignable, enabled)) = self.holder(h) else {
            return Err(20);
        };
        let mut wanted = vec![key.to_string()];
        wanted.extend(Self::closure(key).into_iter().map(String::from));
        let new: Vec<String> = wanted
            .iter()
            .filter(|k| !held.contains_key(*k))
            .cloned()
            .collect();
        if h < 4 && new.iter().any(|k| k == BASIC) {
            return Err(22);
        }
        let mut set: BTreeSet<String> = held.keys().cloned().collect();
        set.extend(new.iter().cloned());
        if !new.is_empty() && set.contains("FREEDOM") && set.contains("SCV") {
            return Err(22);
        }
        if assignable && enabled {
            for k in &new {
                if !self.room(k, true) {
                    return Err(21);
                }
            }
        }
        let g = self.grants_mut(h);
        for k in &wanted {
            let explicit = k == key;
            match g.get_mut(k) {
                Some(e) => *e |= explicit,
                None => {
                    g.insert(k.clone(), explicit);
                }
            }
        }
        Ok(())
    }

    /// The user whose live session uses holder `h`'s licenses: the user at station `h`, or
    /// user `h` when assignable.
    fn session_using(&self, h: usize) -> Option<usize> {
        if h < 4 {
            (USERS[h].1 == Method::Assignable && self.live(h).is_some()).then_some(h)
        } else {
            (0..4).find(|&u| {
                self.live(u)
                    .is_some_and(|s| s.place == PlaceSel::Station(h - 4))
            })
        }
    }

    fn deallocate(&mut self, h: usize, key: &str, force: bool) -> Outcome {
        let Some((held, _, _)) = self.holder(h) else {
            return Err(20);
        };
        if !held.contains_key(key) {
            return Err(20);
        }
        let mut removed = vec![key.to_string()];
        if key == "FREEDOM" && held.get("CTI") == Some(&false) {
            removed.push("CTI".into());
        }
        if key == "CTI" && held.contains_key("FREEDOM") {
            return Err(22);
        }
        if let Some(u) = self.session_using(h) {
            if !force {
                return Err(21);
            }
            self.sessions[u] = None;
        }
        let g = self.grants_mut(h);
        for k in removed {
            g.remove(&k);
        }
        Ok(())
    }

    fn login(&mut self, u: usize, place: PlaceSel, lease: i64) -> Outcome {
        if self.users[u].is_none() {
            return Err(20);
        }
        if let PlaceSel::Station(s) = place {
            if self.stations[s].is_none() {
                return Err(20);
            }
        }
        if let Some(s) = self.live(u) {
            if s.place == place {
                self.sessions[u].as_mut().unwrap().expires = self.now + lease;
                return Ok(());
            }
        }
        let mut next = self.clone();
        next.sessions[u] = None;
        let mut acquired = Vec::new();
        let user_keys = next.users[u].clone().unwrap();
        match place {
            PlaceSel::Station(s) => {
                let (en, g) = next.stations[s].clone().unwrap();
                if !en || !g.contains_key(BASIC) {
                    return Err(22);
                }
                if !g.contains_key(CLIENT) && !user_keys.contains_key(CLIENT) {
                    return Err(22);
                }
                if (0..4).any(|o| o != u && next.live(o).is_some_and(|x| x.place == place)) {
                    return Err(21);
                }
            }
            PlaceSel::Remote(_) => {
                if next.room(BASIC, false) {
                    acquired.push((BASIC.to_string(), false));
                } else if next.room(BASIC, true) {
                    acquired.push((BASIC.to_string(), true));
                } else {
                    return Err(21);
                }
            }
            PlaceSel::Nowhere => {}
        }
        if USERS[u].1 == Method::Concurrent {
            for k in user_keys.keys() {
                if !next.room(k, false) {
                    return Err(21);
                }
                acquired.push((k.clone(), false));
            }
        }
        next.sessions[u] = Some(MSession {
            place,
            expires: next.now + lease,
            acquired,
        });
        *self = next;
        Ok(())
    }

    fn load(&mut self, large: bool) {
        self.counts = counts(large)
            .into_iter()
            .map(|(k, a, p)| (k.to_string(), (a, p)))
            .collect();
        self.ceilings.clear();
        for k in KEYS {
            let u = self.usage(k);
            let (a, p) = self.counts[k];
            if u.assign_cfg + u.assign_dyn > a {
                self.ceilings
                    .insert((k.into(), true), u.assign_cfg + u.assign_dyn);
            }
            if u.conc_in_use > p {
                self.ceilings.insert((k.into(), false), u.conc_in_use);
            }
        }
    }
}

struct Real {
    alloc: Allocator,
    clock: ManualClock,
    chain: Chain_,
    last_session: [Option<String>; 4],
}

fn code(r: Result<(), AllocError>) -> Outcome {
    r.map_err(|e| e.exit_code())
}

/// Run `ops` on a new store: an SQLite file, or with `postgres` a fresh PostgreSQL database
/// (`None`: no PostgreSQL server to test with, nothing run).
fn run_on(ops: Vec<Op>, postgres: bool) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let db = if postgres {
        match store_postgres::testing::fresh_database() {
            Some(db) => Some(db),
            None => return Ok(()),
        }
    } else {
        None
    };
    let location = match &db {
        Some(db) => allocation::StoreLocation::parse(db.url.as_ref()).unwrap(),
        None => allocation::StoreLocation::Sqlite(dir.path().join("a.db")),
    };
    let clock = ManualClock::new(1_800_000_000);
    let alloc = Allocator::open_at(&location, verifier(), Arc::new(clock.clone())).unwrap();
    let out = run(ops, alloc, clock);
    drop(db);
    out
}

fn run(ops: Vec<Op>, alloc: Allocator, clock: ManualClock) -> Result<(), TestCaseError> {
    let (chain, first) = Chain_::first(&counts(true), rules());
    alloc.load(first.as_bytes()).unwrap();
    let mut real = Real {
        alloc,
        clock,
        chain,
        last_session: Default::default(),
    };
    let mut m = Model {
        now: 1_800_000_000,
        ..Model::default()
    };
    m.load(true);
    for (i, (name, method)) in USERS.iter().enumerate() {
        real.alloc.add_user(name, *method, None).unwrap();
        m.users[i] = Some(BTreeMap::new());
    }
    for (i, s) in STATIONS.iter().enumerate() {
        real.alloc.add_station(s, StationKind::Workstation).unwrap();
        m.stations[i] = Some((true, BTreeMap::new()));
    }
    let target = |h: usize| {
        if h < 4 {
            Target::User(USERS[h].0)
        } else {
            Target::Station(STATIONS[h - 4])
        }
    };
    for (step, op) in ops.iter().enumerate() {
        m.purge();
        let (got, want): (Outcome, Outcome) = match op {
            Op::Allocate(h, k) => (
                code(real.alloc.allocate(target(*h), &[KEYS[*k]]).map(drop)),
                m.allocate(*h, KEYS[*k]),
            ),
            Op::Deallocate(h, k, force) => {
                let in_use = if *force {
                    InUse::EndSession
                } else {
                    InUse::Refuse
                };
                (
                    code(
                        real.alloc
                            .deallocate_with(target(*h), &[KEYS[*k]], in_use)
                            .map(drop),
                    ),
                    m.deallocate(*h, KEYS[*k], *force),
                )
            }
            Op::Login(u, p) => {
                let place = match p {
                    PlaceSel::Nowhere => Place::Nowhere,
                    PlaceSel::Station(s) => Place::Station(STATIONS[*s].into()),
                    PlaceSel::Remote(n) => Place::Remote(NUMBERS[*n].into()),
                };
                let r = real.alloc.login(USERS[*u].0, place, Some(600));
                if let Ok(s) = &r {
                    real.last_session[*u] = Some(s.id.clone());
                }
                (code(r.map(drop)), m.login(*u, *p, 600))
            }
            Op::Logout(u) | Op::Heartbeat(u) => {
                let id = real.last_session[*u]
                    .clone()
                    .unwrap_or_else(|| "0".repeat(32));
                let live = m.live(*u).is_some() && m.users[*u].is_some();
                let got = if matches!(op, Op::Logout(_)) {
                    let r = code(real.alloc.logout(&id));
                    if r.is_ok() {
                        m.sessions[*u] = None;
                    }
                    r
                } else {
                    let r = code(real.alloc.heartbeat(&id).map(drop));
                    if r.is_ok() {
                        m.sessions[*u].as_mut().unwrap().expires = m.now + 600;
                    }
                    r
                };
                (got, if live { Ok(()) } else { Err(20) })
            }
            Op::Advance(s) => {
                real.clock.advance(*s);
                m.now += s;
                (Ok(()), Ok(()))
            }
            Op::Load(large) => {
                let f = real.chain.next(&counts(*large), rules());
                let r = real.alloc.load(f.as_bytes());
                m.purge();
                m.load(*large);
                (r.map(drop).map_err(|e| e.exit_code()), Ok(()))
            }
            Op::RemoveUser(u) => {
                let want = if m.users[*u].is_some() {
                    Ok(())
                } else {
                    Err(20)
                };
                if want.is_ok() {
                    m.users[*u] = None;
                    m.sessions[*u] = None;
                }
                (code(real.alloc.remove_user(USERS[*u].0)), want)
            }
            Op::AddUser(u) => {
                let want = if m.users[*u].is_none() {
                    Ok(())
                } else {
                    Err(3)
                };
                if want.is_ok() {
                    m.users[*u] = Some(BTreeMap::new());
                }
                (
                    code(real.alloc.add_user(USERS[*u].0, USERS[*u].1, None)),
                    want,
                )
            }
            Op::RemoveStation(s) | Op::Disable(s) => {
                let want = if m.stations[*s].is_some() {
                    Ok(())
                } else {
                    Err(20)
                };
                if want.is_ok() {
                    for x in &mut m.sessions {
                        if x.as_ref().is_some_and(|x| x.place == PlaceSel::Station(*s)) {
                            *x = None;
                        }
                    }
                    if matches!(op, Op::Disable(_)) {
                        m.stations[*s].as_mut().unwrap().0 = false;
                    } else {
                        m.stations[*s] = None;
                    }
                }
                let got = if matches!(op, Op::Disable(_)) {
                    real.alloc.disable_station(STATIONS[*s])
                } else {
                    real.alloc.remove_station(STATIONS[*s])
                };
                (code(got), want)
            }
            Op::AddStation(s) => {
                let want = if m.stations[*s].is_none() {
                    Ok(())
                } else {
                    Err(3)
                };
                if want.is_ok() {
                    m.stations[*s] = Some((true, BTreeMap::new()));
                }
                (
                    code(
                        real.alloc
                            .add_station(STATIONS[*s], StationKind::Workstation),
                    ),
                    want,
                )
            }
            Op::Enable(s) => {
                let want = match m.stations[*s].clone() {
                    None => Err(20),
                    Some((true, _)) => Ok(()),
                    Some((false, g)) => {
                        if g.keys().all(|k| m.room(k, true)) {
                            m.stations[*s].as_mut().unwrap().0 = true;
                            Ok(())
                        } else {
                            Err(21)
                        }
                    }
                };
                (code(real.alloc.enable_station(STATIONS[*s])), want)
            }
        };
        prop_assert_eq!(got, want, "step {}: {:?}", step, op);
        m.purge();
        // The counts are the model's, and within the license (or the load's ceiling).
        let report = real.alloc.report().unwrap();
        for k in KEYS {
            let r = report.keys.iter().find(|x| x.name == k).unwrap();
            let u = m.usage(k);
            prop_assert_eq!(
                (
                    r.assignable_configured,
                    r.assignable_dynamic,
                    r.concurrent_configured,
                    r.concurrent_in_use
                ),
                (u.assign_cfg, u.assign_dyn, u.conc_cfg, u.conc_in_use),
                "step {}: {:?}: key {}",
                step,
                op,
                k
            );
            let (a, p) = m.counts[k];
            let ca = m.ceilings.get(&(k.to_string(), true)).copied().unwrap_or(0);
            let cp = m
                .ceilings
                .get(&(k.to_string(), false))
                .copied()
                .unwrap_or(0);
            prop_assert!(
                u.assign_cfg + u.assign_dyn <= a.max(ca),
                "step {}: {} assignable over",
                step,
                k
            );
            prop_assert!(
                u.conc_in_use <= p.max(cp),
                "step {}: {} concurrent over",
                step,
                k
            );
        }
        let problems = real.alloc.check().unwrap();
        prop_assert!(problems.is_empty(), "step {}: {:?}", step, problems);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn random_sequences_agree_with_the_model_and_keep_every_invariant(ops in proptest::collection::vec(op(), 1..40)) {
        run_on(ops, false)?;
    }

    /// The same state machine with the store on PostgreSQL (a fresh database per case).
    #[test]
    fn random_sequences_agree_with_the_model_on_postgres(ops in proptest::collection::vec(op(), 1..40)) {
        run_on(ops, true)?;
    }
}
