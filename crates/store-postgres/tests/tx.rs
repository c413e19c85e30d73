//! Statements, values and transactions on a PostgreSQL store. Run against the server
//! I3LIC_TEST_POSTGRES names (./test.sh starts one).

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::{count, fresh, open};
use store::{ErrorKind, TxExt, Value};

#[test]
fn every_value_type_round_trips() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    let big: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    c.execute(
        "INSERT INTO items (id, name, data, score, small, mid, flag, label, code, ratio) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        store::params![
            i64::MAX,
            "naïve ☃ 'quoted'",
            big.as_slice(),
            2.5_f64,
            -7_i64,
            70000_i64,
            true,
            "lbl",
            "abc",
            3_i64
        ],
    )
    .expect("insert");
    c.execute(
        "INSERT INTO items (id, name, data, score, small, mid, flag, label, code, ratio) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        store::params![i64::MIN, "nulls", None::<Vec<u8>>, None::<f64>, None::<i64>, None::<i64>, None::<bool>, None::<String>, None::<String>, None::<f64>],
    )
    .expect("insert nulls");
    let row = c
        .query_row(
            "SELECT id, name, data, score, small, mid, flag, label, code, ratio FROM items WHERE id = ?1",
            [i64::MAX],
            |r| Ok(r.clone()),
        )
        .expect("row");
    assert_eq!(row.get::<i64>(0).expect("id"), i64::MAX);
    assert_eq!(row.get::<String>(1).expect("name"), "naïve ☃ 'quoted'");
    assert_eq!(row.get::<Vec<u8>>(2).expect("data"), big);
    assert_eq!(row.value(3), Some(&Value::Real(2.5)));
    assert_eq!(row.value(4), Some(&Value::Integer(-7)));
    assert_eq!(row.value(5), Some(&Value::Integer(70000)));
    assert_eq!(row.value(6), Some(&Value::Integer(1)));
    assert_eq!(row.value(7), Some(&Value::Text("lbl".into())));
    assert_eq!(row.value(8), Some(&Value::Text("abc".into())));
    assert_eq!(row.value(9), Some(&Value::Real(3.0)));
    let nulls = c
        .query_row("SELECT * FROM items WHERE name = ?1", ["nulls"], |r| {
            Ok(r.clone())
        })
        .expect("nulls");
    assert_eq!(nulls.get::<i64>(0).expect("id"), i64::MIN);
    for i in 2..10 {
        assert_eq!(nulls.value(i), Some(&Value::Null), "column {i}");
    }
    // A parameter the server infers as text takes an integer as text.
    let t: String = c
        .query_row("SELECT ?1 || 'x'", [42_i64], |r| r.get(0))
        .expect("text");
    assert_eq!(t, "42x");
    let oid: i64 = c
        .query_row("SELECT 'items'::regclass::oid", store::params![], |r| {
            r.get(0)
        })
        .expect("oid");
    assert!(oid > 0);
}

#[test]
fn values_that_do_not_fit_are_conversion_errors() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    let e = c
        .execute(
            "INSERT INTO items (id, name, small) VALUES (1, 'a', ?1)",
            [70000_i64],
        )
        .expect_err("out of range");
    assert_eq!(e.kind(), ErrorKind::Conversion, "{e}");
    assert!(e.message().contains("70000"), "{e}");
    let e = c
        .execute(
            "INSERT INTO items (id, name, flag) VALUES (1, 'a', ?1)",
            [2_i64],
        )
        .expect_err("not a boolean");
    assert_eq!(e.kind(), ErrorKind::Conversion, "{e}");
    let e = c
        .execute(
            "INSERT INTO items (id, name, data) VALUES (1, 'a', ?1)",
            ["text"],
        )
        .expect_err("text for bytea");
    assert_eq!(e.kind(), ErrorKind::Conversion, "{e}");
    c.execute("INSERT INTO log (n) VALUES (1), (2)", store::params![])
        .expect("insert");
    let e = c
        .query_row("SELECT SUM(n) FROM log", store::params![], |r| {
            r.get::<i64>(0)
        })
        .expect_err("numeric");
    assert_eq!(e.kind(), ErrorKind::Conversion, "{e}");
    assert!(e.message().contains("CAST(SUM(x) AS BIGINT)"), "{e}");
    let sum: i64 = c
        .query_row(
            "SELECT CAST(SUM(n) AS BIGINT) FROM log",
            store::params![],
            |r| r.get(0),
        )
        .expect("cast");
    assert_eq!(sum, 3);
}

#[test]
fn constraint_violations_are_constraint_errors() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    c.execute(
        "INSERT INTO items (id, name) VALUES (1, 'a')",
        store::params![],
    )
    .expect("first");
    let e = c
        .execute(
            "INSERT INTO items (id, name) VALUES (2, 'a')",
            store::params![],
        )
        .expect_err("unique");
    assert_eq!(e.kind(), ErrorKind::Constraint, "{e}");
    // RAISE EXCEPTION in a trigger refuses the change as a constraint does.
    let e = c
        .execute("INSERT INTO log (n) VALUES (?1)", [-1_i64])
        .expect_err("trigger");
    assert_eq!(e.kind(), ErrorKind::Constraint, "{e}");
    assert!(e.message().contains("negative: -1"), "{e}");
    let e = c
        .execute("SELECT * FROM no_such_table", store::params![])
        .expect_err("no table");
    assert_eq!(e.kind(), ErrorKind::Other, "{e}");
}

#[test]
fn a_write_dropped_without_commit_leaves_nothing() {
    let Some(db) = fresh() else { return };
    let mut c = open(&db.url);
    let before = c.change_counter().expect("counter");
    {
        let tx = c.begin_write().expect("begin");
        tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
            .expect("insert");
    }
    assert_eq!(count(&*c, "log"), 0);
    assert_eq!(c.change_counter().expect("counter"), before);
    // The lock went with it: the next write begins at once.
    let tx = c.begin_write().expect("begin again");
    tx.execute("INSERT INTO log (n) VALUES (2)", store::params![])
        .expect("insert");
    tx.commit().expect("commit");
    assert_eq!(count(&*c, "log"), 1);
    assert_ne!(c.change_counter().expect("counter"), before);
}

#[test]
fn a_savepoint_rolled_back_keeps_the_rest_of_the_write() {
    let Some(db) = fresh() else { return };
    let mut c = open(&db.url);
    let tx = c.begin_write().expect("begin");
    tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
        .expect("1");
    tx.execute_batch("SAVEPOINT s").expect("savepoint");
    tx.execute("INSERT INTO log (n) VALUES (2)", store::params![])
        .expect("2");
    tx.execute_batch("ROLLBACK TO s").expect("rollback to");
    tx.execute_batch("SAVEPOINT t").expect("savepoint");
    assert!(tx
        .execute("INSERT INTO log (n) VALUES (-5)", store::params![])
        .is_err());
    tx.execute_batch("ROLLBACK TO SAVEPOINT t; RELEASE t")
        .expect("after an error");
    tx.execute("INSERT INTO log (n) VALUES (3)", store::params![])
        .expect("3");
    tx.commit().expect("commit");
    let ns: Vec<i64> = c
        .query_map("SELECT n FROM log ORDER BY n", store::params![], |r| {
            r.get(0)
        })
        .expect("rows");
    assert_eq!(ns, vec![1, 3]);
}

#[test]
fn writers_of_one_store_run_one_after_the_other() {
    let Some(db) = fresh() else { return };
    let mut a = open(&db.url);
    let mut b = open(&db.url);
    let mut watch = open(&db.url);
    let order = Arc::new(Mutex::new(Vec::new()));
    let tx = a.begin_write().expect("a begins");
    tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
        .expect("a writes");
    let (started, wait_started) = mpsc::channel();
    let order_b = Arc::clone(&order);
    let second = std::thread::spawn(move || {
        started.send(()).expect("send");
        let tx = b.begin_write().expect("b begins");
        order_b.lock().expect("lock").push("b holds the lock");
        let seen = count(&*tx, "log");
        tx.commit().expect("b commits");
        seen
    });
    wait_started.recv().expect("b started");
    // Wait (by state, not time) until b waits for the advisory lock.
    let mut waiting = 0;
    for _ in 0..100_000 {
        waiting = watch
            .query_row(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                store::params![],
                |r| r.get::<i64>(0),
            )
            .expect("locks");
        if waiting > 0 {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(waiting, 1, "b waits for a's lock");
    order.lock().expect("lock").push("a commits");
    tx.commit().expect("a commits");
    let seen_by_b = second.join().expect("b");
    assert_eq!(
        *order.lock().expect("lock"),
        vec!["a commits", "b holds the lock"]
    );
    assert_eq!(seen_by_b, 1, "b's transaction sees what a committed");
    let _ = watch.begin_write().expect("free again");
}

#[test]
fn the_change_counter_follows_other_connections_and_holds_still_in_a_snapshot() {
    let Some(db) = fresh() else { return };
    let reader = open(&db.url);
    let mut writer = open(&db.url);
    let write = |w: &mut Box<dyn store::Connection>, n: i64| {
        let tx = w.begin_write().expect("begin");
        tx.execute("INSERT INTO log (n) VALUES (?1)", [n])
            .expect("insert");
        tx.commit().expect("commit");
    };
    let c0 = reader.change_counter().expect("counter");
    write(&mut writer, 1);
    let c1 = reader.change_counter().expect("counter");
    assert_ne!(c0, c1);
    reader.begin_read().expect("snapshot");
    let in_snapshot = reader.change_counter().expect("counter");
    assert_eq!(count(&*reader, "log"), 1);
    write(&mut writer, 2);
    assert_eq!(
        reader.change_counter().expect("counter"),
        in_snapshot,
        "a snapshot reads one state"
    );
    assert_eq!(count(&*reader, "log"), 1);
    reader.end_read();
    reader.end_read();
    assert_ne!(reader.change_counter().expect("counter"), in_snapshot);
    assert_eq!(count(&*reader, "log"), 2);
}

#[test]
fn each_streams_a_large_result() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    c.execute(
        "INSERT INTO log (n) SELECT generate_series(1, 100000)",
        store::params![],
    )
    .expect("fill");
    let (mut rows, mut sum) = (0_i64, 0_i64);
    c.each(
        "SELECT n FROM log WHERE n > ?1",
        &[Value::Integer(0)],
        &mut |r| {
            rows += 1;
            sum += r.get::<i64>(0)?;
            Ok(())
        },
    )
    .expect("each");
    assert_eq!((rows, sum), (100_000, 100_000 * 100_001 / 2));
    // A statement run from inside another's rows is refused, not a panic.
    let e = c
        .each("SELECT n FROM log LIMIT 1", &[], &mut |_| {
            c.execute("SELECT 1", store::params![]).map(|_| ())
        })
        .expect_err("nested");
    assert_eq!(e.kind(), ErrorKind::Other, "{e}");
}

#[test]
fn a_lock_wait_past_the_timeout_is_busy() {
    let Some(db) = fresh() else { return };
    let mut holder = open(&db.url);
    let other = open(&db.url);
    let tx = holder.begin_write().expect("begin");
    tx.execute_batch("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        .expect("lock");
    other
        .execute_batch("SET lock_timeout = '1ms'")
        .expect("timeout");
    let e = other
        .execute("SELECT count(*) FROM items", store::params![])
        .expect_err("busy");
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(e.is_busy());
    drop(tx);
}

#[test]
fn a_lost_connection_is_io_and_says_the_server_rolls_back() {
    let Some(db) = fresh() else { return };
    let mut victim = open(&db.url);
    let killer = open(&db.url);
    let pid: i64 = victim
        .query_row("SELECT pg_backend_pid()", store::params![], |r| r.get(0))
        .expect("pid");
    let tx = victim.begin_write().expect("begin");
    tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
        .expect("insert");
    let killed: bool = killer
        .query_row("SELECT pg_terminate_backend(CAST(?1 AS INT))", [pid], |r| {
            r.get(0)
        })
        .expect("terminate");
    assert!(killed);
    let e = tx
        .execute("INSERT INTO log (n) VALUES (2)", store::params![])
        .expect_err("lost");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("rolls back"), "{e}");
    drop(tx);
    assert_eq!(count(&*killer, "log"), 0);
}

/// A connection dropped on a thread of a tokio runtime (an async handler, a server shutting
/// down) closes without the client's own runtime panicking inside it.
#[test]
fn a_connection_dropped_inside_a_tokio_runtime_closes_quietly() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    assert_eq!(count(&*c, "items"), 0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async move { drop(c) });
}
