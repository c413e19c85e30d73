//! Real `licadmin` processes killed with SIGKILL at random moments of an allocation, a logon,
//! a load, and the creation of a new store. After every kill, `licadmin check` finds the store
//! consistent, the killed operation is wholly present or wholly absent, and every operation
//! that had succeeded before it (the last one in particular) is still there.
//!
//! The moments come from a seeded generator (`I3LIC_KILL_SEED=N` replays a run; the seed is
//! printed): each kill waits a random time between 0 and a little more than that operation
//! took when it ran to the end, so kills land in process start-up, in the store's open, in
//! the checks, inside the transaction and its commit, and after the exit.

#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use allocation::{Allocator, Method, StationKind, StoreLocation, Target, UserFilter};
use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
/// Kills per kind of operation (four kinds).
const ROUNDS: usize = 8;

/// splitmix64: a small seeded generator, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Bench {
    dir: tempfile::TempDir,
    key: PathBuf,
    host: String,
}

impl Bench {
    /// What `--store` names: the test's SQLite file, or its PostgreSQL database.
    fn store(&self) -> OsString {
        store_arg(&location(self.dir.path()))
    }

    fn cmd(&self, store: &OsStr, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(store)
            .arg("--trust")
            .arg(&self.key)
            .args(["--host-id", &self.host])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Run to the end; the exit status and how long it took.
    fn run(&self, store: &OsStr, args: &[&str]) -> (ExitStatus, Duration) {
        let t = Instant::now();
        let s = self.cmd(store, args).status().unwrap();
        (s, t.elapsed())
    }

    /// Start, SIGKILL after `delay`, reap: the status says whether it had finished first.
    fn kill_after(&self, store: &OsStr, args: &[&str], delay: Duration) -> ExitStatus {
        let mut child = self.cmd(store, args).spawn().unwrap();
        std::thread::sleep(delay);
        // SIGKILL; an already finished process is reaped as it exited.
        let _ = child.kill();
        child.wait().unwrap()
    }

    /// `licadmin check` exits 0 and prints "consistent".
    fn assert_consistent(&self, store: &OsStr, what: &str) {
        let o = self
            .cmd(store, &["check"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            o.status.success() && o.stdout == b"consistent\n",
            "after {what}: licadmin check exited {:?}: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

fn store_arg(l: &StoreLocation) -> OsString {
    match l {
        StoreLocation::Sqlite(p) => p.clone().into_os_string(),
        StoreLocation::Postgres(url) => url.into(),
    }
}

/// An allocator on the store `--store` names, timing leases by the system clock as the
/// processes do.
fn open(store: &OsStr) -> Allocator {
    let l = StoreLocation::parse(store).unwrap();
    Allocator::open_at(&l, verifier(), std::sync::Arc::new(allocation::SystemClock)).unwrap()
}

fn keys_of(a: &Allocator, user: &str) -> BTreeSet<String> {
    let l = a
        .users(&UserFilter {
            license: None,
            name: Some(user.into()),
        })
        .unwrap();
    l.users
        .into_iter()
        .find(|u| u.name == user)
        .map(|u| u.licenses.into_iter().collect())
        .unwrap_or_default()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_string()).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Allocate,
    Login,
    Load,
    Create,
}

#[test]
fn sigkill_at_random_moments_leaves_the_store_consistent_and_each_operation_whole() {
    let seed: u64 = std::env::var("I3LIC_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6933_6c61);
    println!("I3LIC_KILL_SEED={seed}");
    let mut rng = Rng(seed);

    // SUPERVISOR implies CLIENT: an allocation writes two grants, a logon of a concurrent
    // user acquires two keys; every third generation of the file gives CLIENT one assignable
    // license only, leaving it out of compliance (ceilings recorded) until the next one.
    let rules = Rules {
        implies: vec![implies(SUPERVISOR, CLIENT)],
        ..Rules::default()
    };
    let counts = |generation: usize| {
        let client = if generation.is_multiple_of(3) { 1 } else { 200 };
        vec![
            (CLIENT, client, 200),
            (ACD1, 200, 200),
            (SUPERVISOR, 200, 200),
            (BASIC, 10, 10),
        ]
    };
    let (mut chain, first) = Chain_::first(&counts(1), rules.clone());
    let env = env(&first);
    let bench = Bench {
        key: env.dir.path().join("vendor.pub"),
        host: host().to_string(),
        dir: env.dir,
    };
    std::fs::write(&bench.key, vendor().public_key().to_text("vendor")).unwrap();
    let store = bench.store();
    {
        let a = &env.alloc;
        a.add_station("desk", StationKind::Workstation).unwrap();
        a.allocate(Target::Station("desk"), &[BASIC]).unwrap();
        for i in 0..=ROUNDS {
            a.add_user(&format!("a{i}"), Method::Assignable, None)
                .unwrap();
            a.add_user(&format!("c{i}"), Method::Concurrent, None)
                .unwrap();
            a.allocate(Target::User(&format!("c{i}")), &[CLIENT, ACD1])
                .unwrap();
        }
    }
    // The files of the next generations, written once.
    let files: Vec<(PathBuf, String)> = (2..=ROUNDS + 3)
        .map(|g| {
            let text = chain.next(&counts(g), rules.clone());
            let id = first_id(&text);
            let p = bench.dir.path().join(format!("gen{g}.i3lic"));
            std::fs::write(&p, text).unwrap();
            (p, id)
        })
        .collect();
    let mut next_file = 0usize;

    // What must be in the store: users added by the witness operations, users holding
    // their allocation, users logged on, and the loaded file.
    let mut witnesses: Vec<String> = Vec::new();
    let mut allocated: Vec<String> = Vec::new();
    let mut logged_on: Vec<String> = Vec::new();
    let mut loaded = first_id(&first);
    let mut created: Vec<OsString> = Vec::new();

    // One run of each operation to the end first: how long it takes.
    let mut took = [Duration::ZERO; 4];
    // A new store's creation is the SQLite engine's (a file made and switched to WAL): on
    // PostgreSQL the database exists before anything opens it.
    let ops: Vec<Op> = [Op::Allocate, Op::Login, Op::Load, Op::Create]
        .into_iter()
        .filter(|o| {
            *o != Op::Create || matches!(location(bench.dir.path()), StoreLocation::Sqlite(_))
        })
        .collect();
    let mut plan: Vec<Op> = ops.iter().flat_map(|o| [*o; ROUNDS]).collect();
    // Shuffle the order of the kills.
    for i in (1..plan.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        plan.swap(i, j);
    }
    let (mut round_a, mut round_c) = (0usize, 0usize);
    let mut kills = [0usize; 4];
    let mut finished = [0usize; 4];
    let started = Instant::now();
    for (n, op) in ops.iter().copied().chain(plan).enumerate() {
        let measuring = n < ops.len();
        let k = ops.iter().position(|o| *o == op).unwrap();
        let delay = Duration::from_micros(rng.below(took[k].as_micros() as u64 * 5 / 4 + 1));
        let status;
        let what;
        match op {
            Op::Allocate => {
                let user = format!("a{round_a}");
                round_a += 1;
                let args = ["allocate", "--user", &user, SUPERVISOR];
                what = format!("allocate --user {user} {SUPERVISOR} killed after {delay:?}");
                status = if measuring {
                    let (s, t) = bench.run(&store, &args);
                    took[k] = t;
                    s
                } else {
                    bench.kill_after(&store, &args, delay)
                };
                bench.assert_consistent(&store, &what);
                let a = open(&store);
                let held = keys_of(&a, &user);
                assert!(
                    held.is_empty() || held == set(&[CLIENT, SUPERVISOR]),
                    "{what}: {user} holds {held:?}"
                );
                if status.success() {
                    assert!(
                        !held.is_empty(),
                        "{what}: exited 0 but {user} holds nothing"
                    );
                }
                if !held.is_empty() {
                    allocated.push(user);
                }
            }
            Op::Login => {
                let user = format!("c{round_c}");
                round_c += 1;
                let args = ["login", "--user", &user, "--station", "desk"];
                // The station is held by one user at a time: the previous one logs off.
                let a = open(&store);
                for s in a.sessions().unwrap() {
                    if s.station.as_deref() == Some("desk") {
                        a.logout(&s.id).unwrap();
                        logged_on.retain(|u| *u != s.user);
                    }
                }
                drop(a);
                what = format!("login --user {user} --station desk killed after {delay:?}");
                status = if measuring {
                    let (s, t) = bench.run(&store, &args);
                    took[k] = t;
                    s
                } else {
                    bench.kill_after(&store, &args, delay)
                };
                bench.assert_consistent(&store, &what);
                let a = open(&store);
                let session = a.sessions().unwrap().into_iter().find(|s| s.user == user);
                if let Some(s) = &session {
                    assert_eq!(s.acquired, [ACD1, CLIENT], "{what}");
                    assert_eq!(s.station.as_deref(), Some("desk"), "{what}");
                    logged_on.push(user);
                } else {
                    assert!(!status.success(), "{what}: exited 0 but no session");
                }
            }
            Op::Load => {
                let (path, id) = &files[next_file];
                let args = ["load", path.to_str().unwrap()];
                what = format!("load {} killed after {delay:?}", path.display());
                status = if measuring {
                    let (s, t) = bench.run(&store, &args);
                    took[k] = t;
                    s
                } else {
                    bench.kill_after(&store, &args, delay)
                };
                bench.assert_consistent(&store, &what);
                let a = open(&store);
                let now = a.license().unwrap().file_id().to_string();
                assert!(now == *id || now == loaded, "{what}: license {now}");
                if status.success() {
                    assert_eq!(now, *id, "{what}: exited 0 but not loaded");
                }
                if now == *id {
                    loaded = now;
                    next_file += 1;
                }
            }
            Op::Create => {
                let fresh = bench
                    .dir
                    .path()
                    .join(format!("new-{n}.db"))
                    .into_os_string();
                let args = ["check"];
                what = format!("check of a new store killed after {delay:?}");
                status = if measuring {
                    let (s, t) = bench.run(&fresh, &args);
                    took[k] = t;
                    s
                } else {
                    bench.kill_after(&fresh, &args, delay)
                };
                // Whatever the kill left (nothing, an empty file, a half-made schema rolled
                // back), the next open makes a store of it.
                bench.assert_consistent(&fresh, &what);
                created.push(fresh);
            }
        }
        if !measuring {
            kills[k] += 1;
            if status.success() {
                finished[k] += 1;
            }
        }
        // A witness: one more operation run to the end, which every later check must see.
        // (Through the library, on a connection of its own, to keep the test short; the
        // killed operations that had exited 0 are the processes' own durability check.)
        let a = open(&store);
        let w = format!("w{n}");
        a.add_user(&w, Method::Assignable, None)
            .unwrap_or_else(|e| panic!("after {what}: witness {w} not added: {e}"));
        witnesses.push(w);

        // Everything that succeeded so far is still there.
        let users: BTreeSet<String> = a
            .users(&UserFilter::default())
            .unwrap()
            .users
            .into_iter()
            .map(|u| u.name)
            .collect();
        for w in &witnesses {
            assert!(users.contains(w), "after {what}: witness {w} lost");
        }
        for u in &allocated {
            assert_eq!(
                keys_of(&a, u),
                set(&[CLIENT, SUPERVISOR]),
                "after {what}: {u}"
            );
        }
        let sessions: BTreeSet<String> =
            a.sessions().unwrap().into_iter().map(|s| s.user).collect();
        for u in &logged_on {
            assert!(sessions.contains(u), "after {what}: {u}'s session lost");
        }
        assert_eq!(
            a.license().unwrap().file_id().to_string(),
            loaded,
            "after {what}"
        );
    }
    for p in &created {
        bench.assert_consistent(p, "the end");
    }
    println!(
        "{:?} kills (allocate, login, load, create) in {:?}; of them finished before the kill: {finished:?}; full runs took {took:?}",
        kills,
        started.elapsed()
    );
    // The kills landed both before and after the end of the operations.
    let total_finished: usize = finished.iter().sum();
    assert!(
        total_finished < ops.len() * ROUNDS,
        "every operation finished before its kill"
    );
}

/// The id of a signed file.
fn first_id(text: &str) -> String {
    verifier()
        .load(text.as_bytes())
        .unwrap()
        .file_id()
        .to_string()
}

// The same kills with the store on PostgreSQL (no new store to create there).
postgres_too!(sigkill_at_random_moments_leaves_the_store_consistent_and_each_operation_whole);
