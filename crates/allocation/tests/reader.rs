//! Reads on their own connection ([`Allocator::read_on_own_connection`]): a read in
//! progress never holds up a logon.

mod common;

use std::sync::mpsc;

use allocation::{Method, Place, Target};
use common::*;
use format::Rules;

fn read_in_progress_does_not_block_a_logon() {
    let env = env(&file(&[(CLIENT, 0, 2)], Rules::default()));
    env.alloc.add_user("u0", Method::Concurrent, None).unwrap();
    env.alloc.allocate(Target::User("u0"), &[CLIENT]).unwrap();
    env.alloc.read_on_own_connection().unwrap();
    let (started, wait_started) = mpsc::channel();
    let (logged_on, wait_logon) = mpsc::channel();
    std::thread::scope(|s| {
        let alloc = &env.alloc;
        let reader = s.spawn(move || {
            alloc
                .while_reading(|| {
                    started.send(()).unwrap();
                    // Sharing the writer's connection, the logon waits for this read to end
                    // and this read never hears of it (the bound only ends the test).
                    wait_logon.recv_timeout(std::time::Duration::from_secs(60))
                })
                .unwrap()
        });
        wait_started.recv().unwrap();
        let session = env.alloc.login("u0", Place::Nowhere, None).unwrap();
        logged_on.send(session.id.clone()).unwrap();
        let heard = reader.join().unwrap();
        assert_eq!(
            heard.as_deref(),
            Ok(session.id.as_str()),
            "the logon committed while the read was open"
        );
    });
    // Reads on the second connection see the committed logon afterwards.
    assert_eq!(env.alloc.sessions().unwrap().len(), 1);
}

#[test]
fn a_read_in_progress_does_not_block_a_logon() {
    read_in_progress_does_not_block_a_logon();
}

#[test]
fn on_postgres_a_read_in_progress_does_not_block_a_logon() {
    on_postgres(read_in_progress_does_not_block_a_logon);
}
