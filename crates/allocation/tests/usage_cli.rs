//! `licadmin usage` and `licadmin log` through the binary, on a store whose history was made
//! with the test clock over the last days.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use allocation::{date_text, Allocator, Clock, ManualClock, Method, Place, SystemClock, Target};
use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const DAY: i64 = 86_400;

struct Site {
    dir: tempfile::TempDir,
    /// The first day of the history (two days ago).
    day0: i64,
}

impl Site {
    /// Two days ago: u1 and u2 log on (the concurrent pool of 2 full), u3 is refused; a day
    /// later both log off; today nothing happened.
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vendor.pub"),
            vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        let real_now = SystemClock.now();
        let day0 = real_now - real_now.rem_euclid(DAY) - 2 * DAY;
        let clock = ManualClock::new(day0 + 3600);
        let a = Allocator::open_with_clock(
            dir.path().join("store.db"),
            verifier(),
            Arc::new(clock.clone()),
        )
        .unwrap();
        a.load(file(&[(CLIENT, 5, 2), (BASIC, 5, 0)], Rules::default()).as_bytes())
            .unwrap();
        for u in ["u1", "u2", "u3"] {
            a.add_user(u, Method::Concurrent, None).unwrap();
            a.allocate(Target::User(u), &[CLIENT]).unwrap();
        }
        let s1 = a.login("u1", Place::Nowhere, Some(86_400)).unwrap();
        let s2 = a.login("u2", Place::Nowhere, Some(86_400)).unwrap();
        a.login("u3", Place::Nowhere, None).unwrap_err();
        clock.advance(DAY - 60);
        a.logout(&s1.id).unwrap();
        a.logout(&s2.id).unwrap();
        Site { dir, day0 }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST").env_remove("I3LIC_STORE");
        c.arg("--store").arg(self.p("store.db")).args(args);
        c.arg("--trust").arg(self.p("vendor.pub"));
        c.arg("--host-id").arg(host().to_string());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(&[args, &["--json"]].concat())).unwrap()
    }

    fn code(&self, args: &[&str]) -> i32 {
        self.run(args).status.code().unwrap()
    }

    fn date(&self, day: i64) -> String {
        date_text(self.day0 + day * DAY)
    }
}

fn rows_of<'a>(v: &'a serde_json::Value, key: &str) -> Vec<&'a serde_json::Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"] == key)
        .collect()
}

#[test]
fn usage_by_day_gives_licensed_peaks_and_denials_per_key() {
    let s = Site::new();
    let (d0, d2) = (s.date(0), s.date(2));
    let v = s.json(&["usage", "--from", &d0, "--to", &d2]);
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some(&*d0), Some(&*d2))
    );
    assert_eq!(v["by"], "day");
    let client = rows_of(&v, CLIENT);
    let peaks: Vec<_> = client
        .iter()
        .map(|r| r["peak"]["concurrent"].clone())
        .collect();
    assert_eq!(peaks, [2, 2, 0]);
    assert!(client
        .iter()
        .all(|r| r["licensed"] == serde_json::json!({"assignable": 5, "concurrent": 2})));
    assert_eq!(client[0]["denials"]["no-license-available"], 1);
    assert_eq!(client[1]["denials"], serde_json::json!({}));
    assert_eq!(client[0]["period"], d0);

    let text = s.ok(&["usage", "--from", &d0, "--to", &d2]);
    assert!(text.contains("Peak in use"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with(&d0) && l.contains(CLIENT))
        .unwrap();
    assert!(
        line.contains("5/2") && line.contains("0/2") && line.contains("no-license-available 1"),
        "{line}"
    );
    // The default: the last 30 days, by day (two keys each).
    let v = s.json(&["usage"]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 60);
    assert_eq!(v["to"].as_str(), Some(&*s.date(2)));
    // By month and by hour.
    let v = s.json(&["usage", "--from", &d0, "--by", "month"]);
    assert!(rows_of(&v, CLIENT)
        .iter()
        .any(|r| r["peak"]["concurrent"] == 2));
    let v = s.json(&["usage", "--from", &d0, "--to", &d0, "--by", "hour"]);
    assert_eq!(rows_of(&v, CLIENT).len(), 24);
    assert_eq!(rows_of(&v, CLIENT)[1]["peak"]["concurrent"], 2);
}

#[test]
fn bad_dates_and_ranges_are_usage_errors() {
    let s = Site::new();
    for args in [
        &["usage", "--from", "2026-02-30"][..],
        &["usage", "--to", "yesterday"],
        &["usage", "--from", "2026-05-02", "--to", "2026-05-01"],
        &["usage", "--by", "week"],
        &["usage", "--from", "1971-01-01", "--by", "hour"],
    ] {
        assert_eq!(s.code(args), 2, "{args:?}");
    }
    let o = s.run(&["usage", "--from", "2026-02-30", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "usage");
    assert!(v["error"]["message"].as_str().unwrap().contains("--from"));
}

#[test]
fn the_svg_chart_is_well_formed_xml_with_each_series_and_replaced_atomically() {
    let s = Site::new();
    let path = s.p("usage.svg");
    std::fs::write(&path, "old").unwrap();
    let out = s.ok(&[
        "usage",
        "--from",
        &s.date(0),
        "--svg",
        path.to_str().unwrap(),
    ]);
    assert!(out.contains("chart written to"), "{out}");
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(texts.contains(&"I3_ACCESS_CLIENT concurrent"), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("peak in use")), "{texts:?}");
    // Nothing licensed or used of Basic Station's concurrent count: no series for it.
    assert!(texts.contains(&"I3_LICENSE_BASIC_STATION assignable"));
    assert!(!texts.contains(&"I3_LICENSE_BASIC_STATION concurrent"));
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline") || n.has_tag_name("path"))
            .count()
            >= 3
    );
    // No temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn the_svg_never_replaces_what_is_not_a_regular_file() {
    let s = Site::new();
    let folder = s.p("charts");
    std::fs::create_dir(&folder).unwrap();
    let o = s.run(&["usage", "--svg", folder.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
    assert!(folder.is_dir());
    #[cfg(unix)]
    {
        let target = s.p("target.txt");
        std::fs::write(&target, "keep").unwrap();
        let link = s.p("link.svg");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(s.code(&["usage", "--svg", link.to_str().unwrap()]), 4);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

#[test]
fn log_shows_the_newest_events_last_escaped() {
    let s = Site::new();
    let v = s.json(&["log", "--last", "3"]);
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["kind"], "release");
    assert_eq!(events[2]["who"], "user 'u2'");
    assert_eq!(events[1]["who"], "user 'u1'");
    assert_eq!(events[0]["kind"], "deny");
    assert_eq!(events[0]["key"], CLIENT);
    assert!(events[0]["at"].as_i64() <= events[2]["at"].as_i64());
    let all = s.json(&["log"]);
    assert_eq!(all["events"].as_array().unwrap().last(), events.last());

    // A row holding a control character (as a store changed by other means could) is
    // shown escaped.
    let c = store_sqlite::open_raw(s.p("store.db")).unwrap();
    store::TxExt::execute(
        &*c,
        "INSERT INTO usage_events (id, at, kind, who, key, detail) VALUES (1000, 0, 'change', ?1, NULL, 'x')",
        ["evil\u{1b}[2J\u{202e}"],
    )
    .unwrap();
    drop(c);
    let text = s.ok(&["log", "--last", "1"]);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("evil\\u{1b}[2J\\u{202e}"), "{text}");
    assert!(text.contains("  change   "), "{text}");
}
