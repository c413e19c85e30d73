//! Requests done once (ledger schema 7, table `idempotency`): a file issued with a key is
//! issued once however often the key comes back with the same request, within one group
//! commit, across calls and from two writers at once; the key with another request is
//! refused; another user's key, or one older than a day, is new work. On both engines.

mod common;

use common::{add_orders, host, ledger, location, pq, request, update_by, Units, AL02, SL03};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::ledger::idempotency::KEEP_SECS;
use issuer::ledger::Done;
use issuer::{Answered, IssueRequest, IssuerError, Ledger, OnceKey, SiteDetails};
use store::TxExt;

fn req(n: u8) -> IssueRequest {
    let mut r = request(LicenseType::Production, SL03, &[]);
    r.add = vec![pq(AL02, 2)];
    r.host_id = host(n);
    r.machine = format!("m{n}");
    r
}

fn key(actor: &str, k: &str, body: u8) -> Option<OnceKey> {
    Some(OnceKey::new(actor, k, [body; 32]).unwrap())
}

/// What a caller is answered: the file's id, bytes and expiry.
fn sig(i: &issuer::Issued) -> (String, Vec<u8>, i64) {
    (i.file_id.to_string(), i.bytes.clone(), i.expires_at.unix())
}

fn files(l: &Ledger) -> i64 {
    l.raw_for_tests()
        .query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
        .unwrap()
}

fn once(
    l: &mut Ledger,
    r: IssueRequest,
    k: Option<OnceKey>,
    now: Timestamp,
) -> Result<issuer::Issued, IssuerError> {
    let c = issuer::Catalog::built_in().unwrap();
    let key = SecretKey::generate();
    l.issue_each_once(&c, &[r], &[k], &key, now)
        .unwrap()
        .remove(0)
}

#[test]
fn the_same_key_and_request_issue_one_file_and_answer_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let now = Timestamp::now();
    let first = once(&mut l, req(1), key("portal:a@x", "k1", 1), now).unwrap();
    let again = once(&mut l, req(1), key("portal:a@x", "k1", 1), now).unwrap();
    assert_eq!(sig(&again), sig(&first));
    assert_eq!(files(&l), 1);
    let a = l
        .answered(key("portal:a@x", "k1", 1).as_ref().unwrap(), now)
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status, a.body),
        (201, first.file_id.to_string().into_bytes())
    );
    // Twice in one group commit: the second answers the first's file.
    let k = key("portal:a@x", "k2", 2);
    let both = l
        .issue_each_once(
            &c,
            &[req(2), req(2)],
            &[k.clone(), k],
            &SecretKey::generate(),
            now,
        )
        .unwrap();
    assert_eq!(
        sig(both[0].as_ref().unwrap()),
        sig(both[1].as_ref().unwrap())
    );
    assert_eq!(files(&l), 2);
}

#[test]
fn the_same_key_with_another_request_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let now = Timestamp::now();
    once(&mut l, req(1), key("portal:a@x", "k", 1), now).unwrap();
    let e = once(&mut l, req(2), key("portal:a@x", "k", 9), now).unwrap_err();
    assert!(
        matches!(&e, IssuerError::KeyReused { key } if key == "k"),
        "{e:?}"
    );
    assert_eq!(files(&l), 1);
    // Another user's key of the same name is theirs.
    once(&mut l, req(3), key("portal:b@x", "k", 9), now).unwrap();
    assert_eq!(files(&l), 2);
}

#[test]
fn a_key_older_than_a_day_is_new_work_and_is_purged() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let then = Timestamp::now();
    let first = once(&mut l, req(1), key("portal:a@x", "k", 1), then).unwrap();
    let later = then.plus_secs(KEEP_SECS + 1);
    let second = once(&mut l, req(4), key("portal:a@x", "k", 1), later).unwrap();
    assert_ne!(second.file_id, first.file_id);
    let kept: i64 = l
        .raw_for_tests()
        .query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1);
}

#[test]
fn two_writers_with_one_key_at_once_issue_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let now = Timestamp::now();
    let start = std::sync::Barrier::new(2);
    let got: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                // The location here: the engine a test runs on is this thread's.
                let (start, at) = (&start, location(dir.path()));
                s.spawn(move || {
                    let mut w = Ledger::open_at(&at).unwrap();
                    start.wait();
                    sig(&once(&mut w, req(1), key("portal:a@x", "k", 1), now).unwrap())
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(got[0], got[1]);
    assert_eq!(files(&l), 1);
    drop(c);
}

/// An update with a key, sent again (in turn, then from two writers at once), supersedes
/// the file once and answers the same new file.
#[test]
fn an_update_sent_again_with_its_key_makes_one_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let now = Timestamp::now();
    let old = once(&mut l, req(1), None, now).unwrap().file_id.to_string();
    let mut u = update_by("portal:a@x");
    u.add = vec![pq(AL02, 3)];
    let k = key("portal:a@x", "u", 5);
    let key_ = SecretKey::generate();
    let first = l
        .update_once(&c, &old, &u, &key_, None, now, k.as_ref())
        .unwrap();
    let again = l
        .update_once(&c, &old, &u, &key_, None, now, k.as_ref())
        .unwrap();
    assert_eq!(sig(&again), sig(&first));
    assert_eq!(files(&l), 2);

    let next = first.file_id.to_string();
    let k = key("portal:a@x", "u2", 6);
    let start = std::sync::Barrier::new(2);
    let got: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (start, at, c, u, k, next, key_) =
                    (&start, location(dir.path()), &c, &u, &k, &next, &key_);
                s.spawn(move || {
                    let mut w = Ledger::open_at(&at).unwrap();
                    start.wait();
                    sig(&w
                        .update_once(c, next, u, key_, None, now, k.as_ref())
                        .unwrap())
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(got[0], got[1]);
    assert_eq!(files(&l), 3);
}

#[test]
fn a_key_is_printable_ascii_of_at_most_255_characters() {
    assert!(OnceKey::new("a", "", [0; 32]).is_err());
    assert!(OnceKey::new("a", "has space", [0; 32]).is_err());
    assert!(OnceKey::new("a", &"x".repeat(256), [0; 32]).is_err());
    assert!(OnceKey::new("a", &"x".repeat(255), [0; 32]).is_ok());
}

/// Add install site `name` to Contoso once for `k`, answered `201 name`.
fn site_once(
    l: &mut Ledger,
    name: &str,
    k: Option<OnceKey>,
    now: Timestamp,
) -> Result<Done<()>, IssuerError> {
    l.done_once(
        k.as_ref(),
        now,
        |l| l.add_site("Contoso", name, &SiteDetails::default(), "portal:a@x"),
        |_| Answered {
            status: 201,
            body: name.as_bytes().to_vec(),
        },
    )
}

fn sites(l: &Ledger) -> usize {
    l.sites("Contoso").unwrap().len()
}

/// Any change, not only a file issued: done once per key, the repeat answered the first
/// answer; the key with another request refused; another key is new work.
#[test]
fn any_change_with_a_key_is_done_once_and_answered_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = ledger(dir.path());
    let n = sites(&l);
    let now = Timestamp::now();
    let k = key("portal:a@x", "s", 1);
    assert_eq!(
        site_once(&mut l, "Lab", k.clone(), now).unwrap(),
        Done::First(())
    );
    let again = site_once(&mut l, "Lab", k.clone(), now).unwrap();
    let first = Answered {
        status: 201,
        body: b"Lab".to_vec(),
    };
    assert_eq!(again, Done::Again(first));
    assert_eq!(sites(&l), n + 1);
    let e = site_once(&mut l, "Lab2", key("portal:a@x", "s", 2), now).unwrap_err();
    assert!(matches!(e, IssuerError::KeyReused { .. }), "{e}");
    assert_eq!(sites(&l), n + 1);
    site_once(&mut l, "Lab2", key("portal:a@x", "s2", 2), now).unwrap();
    assert_eq!(sites(&l), n + 2);
    // Without a key: done every time (the second is refused by the ledger's own rule).
    site_once(&mut l, "Lab3", None, now).unwrap();
    assert!(site_once(&mut l, "Lab3", None, now).is_err());
}

/// A change that fails keeps no key (its transaction is undone), so the key still works.
#[test]
fn a_change_refused_keeps_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = ledger(dir.path());
    let now = Timestamp::now();
    site_once(&mut l, "Lab", None, now).unwrap();
    let k = key("portal:a@x", "s", 1);
    assert!(site_once(&mut l, "Lab", k.clone(), now).is_err());
    assert_eq!(l.answered(k.as_ref().unwrap(), now).unwrap(), None);
    l.raw_for_tests()
        .execute("DELETE FROM sites WHERE name = 'Lab'", [])
        .unwrap();
    assert_eq!(site_once(&mut l, "Lab", k, now).unwrap(), Done::First(()));
}

/// The key is looked up again in the change's own transaction: one kept meanwhile (by
/// another writer) stops the change before it does anything.
#[test]
fn a_key_kept_while_the_change_ran_stops_it_in_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = ledger(dir.path());
    let mut other = Ledger::open_at(&location(dir.path())).unwrap();
    let n = sites(&l);
    let now = Timestamp::now();
    let k = key("portal:a@x", "s", 1);
    let k2 = k.clone();
    let got = l
        .done_once(
            k.as_ref(),
            now,
            |l| {
                // The other writer does the same request first, between the quick look
                // and this change's transaction.
                assert_eq!(
                    site_once(&mut other, "Lab", k2, now).unwrap(),
                    Done::First(())
                );
                l.add_site("Contoso", "Lab", &SiteDetails::default(), "portal:a@x")
            },
            |_| Answered {
                status: 201,
                body: b"second".to_vec(),
            },
        )
        .unwrap();
    assert_eq!(
        got,
        Done::Again(Answered {
            status: 201,
            body: b"Lab".to_vec()
        })
    );
    assert_eq!(sites(&l), n + 1);
    // The ledger's connection is its own again afterwards.
    site_once(&mut l, "Lab2", None, now).unwrap();
    assert_eq!(sites(&l), n + 2);
}

#[test]
fn two_writers_with_one_key_at_once_add_one_site() {
    let dir = tempfile::tempdir().unwrap();
    let (l, _) = ledger(dir.path());
    let n = sites(&l);
    let now = Timestamp::now();
    let start = std::sync::Barrier::new(2);
    let got: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (start, at) = (&start, location(dir.path()));
                s.spawn(move || {
                    let mut w = Ledger::open_at(&at).unwrap();
                    start.wait();
                    site_once(&mut w, "Lab", key("portal:a@x", "k", 1), now).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(got.contains(&Done::First(())), "{got:?}");
    assert_eq!(sites(&l), n + 1);
}

postgres_too!(
    the_same_key_and_request_issue_one_file_and_answer_it_again,
    the_same_key_with_another_request_is_refused_and_changes_nothing,
    a_key_older_than_a_day_is_new_work_and_is_purged,
    two_writers_with_one_key_at_once_issue_one_file,
    an_update_sent_again_with_its_key_makes_one_new_file,
    any_change_with_a_key_is_done_once_and_answered_again,
    a_change_refused_keeps_no_key,
    a_key_kept_while_the_change_ran_stops_it_in_its_transaction,
    two_writers_with_one_key_at_once_add_one_site,
);
