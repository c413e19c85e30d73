//! Login throttling: failed logins only, counted per account and client address together,
//! per client address, and per account.
//!
//! - **Account and address**: after [`MAX_FAILURES`] failures of one account from one address
//!   within [`THROTTLE_WINDOW`], that address gets 429 for that account.
//! - **Address**: after [`MAX_FAILURES_PER_ADDRESS`] failures from one address (any accounts),
//!   that address gets 429 for every account.
//! - **Account**: after [`MAX_FAILURES`] failures of one account from any addresses, every
//!   login of that account waits a short delay ([`ACCOUNT_DELAY`]) before its password is
//!   checked, and is never refused for it: guessing from many addresses slows down, but the
//!   owner, from their own address, still logs in.
//!
//! An IPv6 client counts by its /64 prefix ([`address_bucket`]): one subscriber or host is
//! given a whole /64, and every address in it would otherwise be another 50 guesses.
//!
//! An attempt is counted before its password is checked, under one lock, so attempts sent
//! in parallel cannot slip past a limit; a successful login takes its own count back (and
//! clears the failures of its account from its address), so successful logins never count. The client
//! address is the socket's peer, or the trusted proxy's header ([`crate::client`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins of one account from one address within [`THROTTLE_WINDOW`] before that
/// address is refused for that account; also the failures of an account (from any
/// address) after which its logins wait [`ACCOUNT_DELAY`].
pub const MAX_FAILURES: u32 = 5;
/// Failed logins from one address within [`THROTTLE_WINDOW`] before it is refused for every
/// account: higher than per account, for the people behind one network address translator.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 50;
/// The window failed logins are counted over.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a login of an account under attack waits before its password is checked.
pub const ACCOUNT_DELAY: Duration = Duration::from_secs(2);
/// Entries kept before those outside the window are dropped.
const MAX_ENTRIES: usize = 100_000;

/// Failed login attempts, by key, with when the window of each began.
#[derive(Debug)]
pub struct Throttle {
    map: Mutex<HashMap<String, (u32, Instant)>>,
    delay: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(ACCOUNT_DELAY)
    }
}

/// A login attempt that may go on: how long it waits before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Zero unless the account is under attack ([`ACCOUNT_DELAY`]).
    pub delay: Duration,
}

/// The address failures are counted under: an IPv4 address itself, an IPv6 address's /64
/// prefix (an IPv4-mapped IPv6 address as the IPv4 address it maps).
pub fn address_bucket(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(
            u128::from(a) & !((1u128 << 64) - 1),
        )),
        v4 => v4,
    }
}

fn pair_key(email: &str, addr: Option<IpAddr>) -> String {
    match addr {
        Some(a) => format!("p:{a}:{email}"),
        None => format!("p:-:{email}"),
    }
}

impl Throttle {
    /// A throttle whose logins of an account under attack wait `delay`.
    pub fn new(delay: Duration) -> Self {
        Throttle {
            map: Mutex::new(HashMap::new()),
            delay,
        }
    }

    /// The keys an attempt counts against, each with its limit (`None`: never refused).
    fn keys(email: &str, addr: Option<IpAddr>) -> Vec<(String, Option<u32>)> {
        let email = email.to_lowercase();
        let addr = addr.map(address_bucket);
        let mut k = vec![
            (pair_key(&email, addr), Some(MAX_FAILURES)),
            (format!("u:{email}"), None),
        ];
        if let Some(a) = addr {
            k.push((format!("a:{a}"), Some(MAX_FAILURES_PER_ADDRESS)));
        }
        k
    }

    /// Count a login attempt (taken back by [`Throttle::succeeded`]), or refuse it with how
    /// long to wait when this address has used up its attempts, for this account or for all.
    pub fn attempt(&self, email: &str, addr: Option<IpAddr>) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let live = |v: &(u32, Instant)| now.duration_since(v.1) < THROTTLE_WINDOW;
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > MAX_ENTRIES {
            map.retain(|_, v| live(v));
        }
        let keys = Self::keys(email, addr);
        let wait = keys
            .iter()
            .filter_map(|(k, max)| Some((map.get(k)?, (*max)?)))
            .filter(|(v, max)| v.0 >= *max && live(v))
            .map(|(v, _)| THROTTLE_WINDOW.saturating_sub(now.duration_since(v.1)))
            .max();
        if let Some(w) = wait {
            return Err(w);
        }
        let mut delay = Duration::ZERO;
        for (k, max) in keys {
            let e = map.entry(k).or_insert((0, now));
            if !live(e) {
                *e = (0, now);
            }
            if max.is_none() && e.0 >= MAX_FAILURES {
                delay = self.delay;
            }
            e.0 += 1;
        }
        Ok(Attempt { delay })
    }

    /// A login succeeded: take its attempt back, and forget the failures of this account
    /// from this address (the address's other failures stay: logging in to one's own
    /// account does not buy more guesses at others).
    pub fn succeeded(&self, email: &str, addr: Option<IpAddr>) {
        self.take_back(email, addr, true);
    }

    /// An attempt whose password was not checked (the server was busy): take it back.
    pub fn not_checked(&self, email: &str, addr: Option<IpAddr>) {
        self.take_back(email, addr, false);
    }

    fn take_back(&self, email: &str, addr: Option<IpAddr>, clear_pair: bool) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        for (i, (k, _)) in Self::keys(email, addr).into_iter().enumerate() {
            // The first key is the account's from this address.
            if i == 0 && clear_pair {
                map.remove(&k);
            } else if let Some(e) = map.get_mut(&k) {
                e.0 = e.0.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn failures_are_limited_per_account_and_address() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILURES {
            assert_eq!(t.attempt("Ann@x.example", A).unwrap().delay, Duration::ZERO);
        }
        assert!(
            t.attempt("ann@x.example", A).is_err(),
            "this address, this account"
        );
        let other = t.attempt("ann@x.example", B).unwrap();
        assert_eq!(
            other.delay, ACCOUNT_DELAY,
            "another address waits, but goes on"
        );
        t.succeeded("ann@x.example", B);
        assert!(
            t.attempt("bob@x.example", A).is_ok(),
            "another account from A"
        );
    }

    #[test]
    fn logging_in_to_ones_own_account_buys_no_more_guesses() {
        let t = Throttle::default();
        for i in 0..MAX_FAILURES_PER_ADDRESS - 1 {
            assert!(t.attempt(&format!("u{i}@x.example"), A).is_ok());
        }
        t.attempt("mine@x.example", A).unwrap();
        t.succeeded("mine@x.example", A);
        assert!(t.attempt("u0@x.example", A).is_ok(), "the 50th failure");
        assert!(
            t.attempt("u1@x.example", A).is_err(),
            "then the address is refused"
        );
    }

    #[test]
    fn successful_logins_never_count() {
        let t = Throttle::default();
        for _ in 0..10 * MAX_FAILURES_PER_ADDRESS {
            let a = t.attempt("ann@x.example", A).unwrap();
            assert_eq!(a.delay, Duration::ZERO);
            t.succeeded("ann@x.example", A);
        }
        // One failure each from many accounts behind one address: refused only after the
        // address's own limit.
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            assert!(t.attempt(&format!("u{i}@x.example"), A).is_ok());
        }
        assert!(t.attempt("bob@x.example", A).is_err(), "per address");
        assert!(t.attempt("bob@x.example", B).is_ok(), "another address");
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64_prefix() {
        let t = Throttle::default();
        let host = |i: u32| -> Option<IpAddr> {
            Some(
                format!("2001:db8:1:2:{:x}:{:x}::1", i >> 16, i & 0xffff)
                    .parse()
                    .unwrap(),
            )
        };
        // One address of the /64 per guess: the account's limit from that client holds.
        for i in 0..MAX_FAILURES {
            assert!(t.attempt("ann@x.example", host(i)).is_ok());
        }
        assert!(
            t.attempt("ann@x.example", host(MAX_FAILURES)).is_err(),
            "another address of the same /64"
        );
        // And the address's limit, over many accounts.
        for i in 0..MAX_FAILURES_PER_ADDRESS - MAX_FAILURES {
            assert!(t
                .attempt(&format!("u{i}@x.example"), host(1000 + i))
                .is_ok());
        }
        assert!(t.attempt("bob@x.example", host(5000)).is_err(), "per /64");
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(
            t.attempt("bob@x.example", Some(other)).is_ok(),
            "another /64"
        );
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_bucket(mapped), A.unwrap(), "a mapped IPv4 address");
    }

    #[test]
    fn attempts_in_parallel_cannot_pass_the_limit() {
        let t = std::sync::Arc::new(Throttle::default());
        let ok: u32 = (0..32)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || u32::from(t.attempt("ann@x.example", None).is_ok()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(ok, MAX_FAILURES);
    }
}
