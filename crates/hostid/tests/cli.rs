//! The `gethostid` binary as a user runs it: output, exit codes, stability across processes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use hostid::{CodeForm, HostId};

const BIN: &str = env!("CARGO_BIN_EXE_gethostid");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

fn sample_components() -> hostid::Components {
    hostid::Components {
        machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    }
}

/// A valid sample code, computed through the library.
fn sample() -> HostId {
    HostId::from_components(&sample_components()).unwrap_or_else(|e| panic!("{e}"))
}

/// The strong code of the same components.
fn strong_sample() -> HostId {
    HostId::strong_from_components(&sample_components()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_code_is_stable_across_processes_and_agrees_with_the_library() {
    let a = run(&[]);
    let b = run(&[]);
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(a.stdout, b.stdout);
    match hostid::current() {
        Ok(id) => {
            assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
            // Exactly one line: the code.
            assert_eq!(text(&a.stdout), format!("{id}\n"));
        }
        Err(e) => {
            // Too few stable components here: exit 4, nothing on stdout, the reason on stderr.
            assert_eq!(a.status.code(), Some(4));
            assert!(a.stdout.is_empty());
            assert!(text(&a.stderr).contains(&e.to_string()));
        }
    }
}

#[test]
fn json_names_kinds_and_environment_never_values() {
    let out = run(&["--json"]);
    if out.status.code() == Some(4) {
        assert!(out.stdout.is_empty());
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    let code = v["code"].as_str().unwrap_or_default();
    assert!(code.parse::<HostId>().is_ok(), "{v}");
    assert_eq!(run(&[]).stdout, format!("{code}\n").into_bytes());
    let kinds: Vec<&str> = v["components"]
        .as_array()
        .map(|a| a.iter().filter_map(|k| k.as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.len() >= 2, "{v}");
    assert!(kinds
        .iter()
        .all(|k| ["machine-id", "dmi-uuid", "mac", "cpu"].contains(k)));
    assert!(["bare-metal", "virtual-machine", "container"]
        .contains(&v["environment"].as_str().unwrap_or_default()));
    assert!(v["warnings"].is_array());
    // Warnings also go to stderr, where a person sees them.
    for w in v["warnings"].as_array().into_iter().flatten() {
        assert!(text(&out.stderr).contains(w.as_str().unwrap_or("?")));
    }
    // No raw identifier of this machine appears anywhere in the output.
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr)).to_lowercase();
    let mut secrets = Vec::new();
    if let Ok(m) = fs::read_to_string("/etc/machine-id") {
        secrets.push(m.trim().to_lowercase());
    }
    if let Ok(entries) = fs::read_dir("/sys/class/net") {
        for e in entries.flatten() {
            if let Ok(mac) = fs::read_to_string(e.path().join("address")) {
                let mac = mac.trim().to_lowercase();
                if mac != "00:00:00:00:00:00" && !mac.is_empty() {
                    secrets.push(mac);
                }
            }
        }
    }
    for s in secrets {
        assert!(!all.contains(&s), "raw value {s} printed");
    }
}

#[test]
fn check_accepts_a_typed_code() {
    let id = sample();
    let typed = id.to_string().to_lowercase().replace('0', "o");
    let out = run(&["--check", &typed]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!("valid host ID {id} (short form, version 1")));
    let out = run(&["--check", &id.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], id.to_string());
    assert_eq!(v["form"], "short");
    assert_eq!(v["components"], serde_json::json!(["machine-id", "mac"]));
    assert!(v.get("short_code").is_none(), "{v}");
}

#[test]
fn check_accepts_a_strong_code_and_says_so() {
    let id = strong_sample();
    let typed = id.to_string().to_lowercase().replace('-', " ");
    let out = run(&["--check", &typed]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "valid host ID {id} (strong form, version 2, components: machine-id, mac; its short \
             code is {})\n",
            sample()
        )
    );
    let out = run(&["--check", &id.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], id.to_string());
    assert_eq!(v["form"], "strong");
    assert_eq!(v["short_code"], sample().to_string());
    // One symbol short: the version symbol says a strong code was meant.
    let plain: String = id.to_string().chars().filter(|&c| c != '-').collect();
    let out = run(&["--check", &plain[..59]]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("it should have 60 (a strong host ID)"),
        "{err}"
    );
    assert!(err.contains("a character is missing"), "{err}");
}

#[test]
fn strong_prints_the_strong_code_alone() {
    let out = run(&["--strong"]);
    let plain = run(&[]);
    assert_eq!(out.status.code(), plain.status.code());
    match hostid::current_strong() {
        Ok(id) => {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert_eq!(text(&out.stdout), format!("{id}\n"));
            assert_eq!(plain.stdout, format!("{}\n", id.to_short()).into_bytes());
        }
        Err(_) => {
            assert_eq!(out.status.code(), Some(4));
            assert!(out.stdout.is_empty());
            return;
        }
    }
    let out = run(&["--strong", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let code: HostId = v["code"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {v}"));
    assert_eq!(code.form(), CodeForm::Strong);
    assert_eq!(v["form"], "strong");
    assert_eq!(v["short_code"], code.to_short().to_string());
    assert_eq!(plain.stdout, format!("{}\n", code.to_short()).into_bytes());
    let v = json(&run(&["--json"]));
    assert_eq!(v["form"], "short");
    assert!(v.get("short_code").is_none(), "{v}");
}

#[test]
fn strong_does_not_combine_with_check() {
    let out = run(&["--strong", "--check", &sample().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn check_refuses_malformed_codes_with_exit_3_and_the_reason() {
    let good = sample().to_string();
    let mut swapped: Vec<char> = good.chars().collect();
    let i = (0..swapped.len() - 1)
        .find(|&i| swapped[i] != swapped[i + 1] && swapped[i] != '-' && swapped[i + 1] != '-')
        .unwrap_or(0);
    swapped.swap(i, i + 1);
    let swapped: String = swapped.into_iter().collect();
    let cases: [(&str, &str); 5] = [
        ("", "empty"),
        (&swapped, "check character"),
        (&good[..good.len() - 2], "symbols"),
        ("1U000-00000-00000-00000-00000", "('U')"),
        ("2AAAA-BBBBB", "symbols"),
    ];
    for (input, reason) in cases {
        let out = run(&["--check", input]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{input:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{input:?}");
        let err = text(&out.stderr);
        assert!(err.contains("invalid host ID"), "{input:?}: {err}");
        assert!(err.contains(reason), "{input:?}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["--bogus"][..], &["--check"], &["extra-argument"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_shows_an_example() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("gethostid --check"), "{help}");
    assert!(help.contains("--json"));
    // The example code in the help is a valid code.
    let example = help
        .split("gethostid --check ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    let out = run(&["--check", example]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{example}: {}",
        text(&out.stderr)
    );
    // The strong example is a valid strong code, of the same machine as the short examples.
    assert!(help.contains("gethostid --strong"), "{help}");
    let strong = help
        .split_whitespace()
        .find(|w| w.starts_with('2') && w.len() == CodeForm::Strong.printed_len())
        .unwrap_or_else(|| panic!("no strong example in {help}"));
    let strong = HostId::parse_canonical(strong).unwrap_or_else(|e| panic!("{strong}: {e}"));
    assert_eq!(strong.form(), CodeForm::Strong);
    let short: HostId = example.parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(strong.to_short(), short);
    assert!(help.contains(&format!("e.g. {short}")), "{help}");
}

#[test]
fn too_few_components_exit_4_without_a_code() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    write(
        root,
        "proc/cpuinfo",
        "vendor_id\t: GenuineIntel\nmodel name\t: Xeon\n\n",
    );
    write(root, "sys/class/net/eth0/type", "1\n");
    write(root, "sys/class/net/eth0/address", "00:1b:21:3a:4b:5c\n");
    write(root, "sys/class/net/eth0/addr_assign_type", "0\n");
    fs::create_dir_all(root.join("sys/class/net/eth0/device")).unwrap_or_else(|e| panic!("{e}"));
    let root_arg = root.to_string_lossy().into_owned();
    for args in [&["--root", &root_arg][..], &["--root", &root_arg, "--json"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
        // No code: nothing on stdout, or with --json only the error object.
        if args.contains(&"--json") {
            let v: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v["error"]["exit_code"], 4, "{v}");
            assert_eq!(v["error"]["kind"], "too_few_components", "{v}");
            assert!(v.get("code").is_none(), "{v}");
        } else {
            assert!(out.stdout.is_empty());
        }
        let err = text(&out.stderr);
        assert!(err.contains("cannot make a safe host ID"), "{err}");
        assert!(err.contains("found: mac, cpu"), "{err}");
    }
    // Add a machine identity: now a code, with no warnings on bare metal.
    write(root, "etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
    let out = run(&["--root", &root_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}\n", {
            let p = hostid::machine::probe_at(root);
            p.host_id().unwrap_or_else(|e| panic!("{e}"))
        })
    );
    let out = run(&["--root", &root_arg, "--strong"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}\n", {
            let p = hostid::machine::probe_at(root);
            p.strong_host_id().unwrap_or_else(|e| panic!("{e}"))
        })
    );
    // In a container the same tree warns on stderr, and the code stays on stdout alone.
    write(root, ".dockerenv", "");
    let out = run(&["--root", &root_arg, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("may change when the container or VM is recreated"));
    assert_eq!(json(&out)["environment"], "container");
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    fs::write(&p, content).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_closed_stdout_pipe_is_not_a_crash() {
    for json in [false, true] {
        // The reader is gone before the child starts, so its write surely meets a closed pipe.
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("{e}"));
        drop(reader);
        let mut c = Command::new(BIN);
        c.args(["--check", &sample().to_string()]);
        if json {
            c.arg("--json");
        }
        let out = c
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(text(&out.stderr), "", "json {json}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_io_error_exit_4() {
    let full = fs::File::create("/dev/full");
    let Ok(full) = full else { return };
    let out = Command::new(BIN)
        .args(["--check", &sample().to_string()])
        .stdout(full)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write the output"));
}
