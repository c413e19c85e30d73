//! The CLI contract of DESIGN.md as the shared smoke check drives it: fresh keys from
//! `issuer keygen`, a file for this machine, and the refusals and acceptances a server
//! relies on (trusted key, product, issuance time, edits, line-ending conversion, empty file).

use std::os::unix::fs::PermissionsExt;

use i3lic_tests::{Sandbox, ACCOUNT, SITE};

fn mode(sb: &Sandbox, name: &str) -> u32 {
    std::fs::metadata(sb.file(name))
        .expect("stat")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn contract_smoke() {
    let sb = Sandbox::new();

    // gethostid: a code for this machine (or a clear refusal where the machine has too few
    // components), its own code passes --check, garbage does not.
    let (host, real) = sb.this_host();
    sb.ok("gethostid", ["--check", &host]);
    let r = sb.run("gethostid", ["--check", "hello"]).expect_code(3);
    insta::assert_snapshot!("gethostid_check_garbage", sb.transcript(&r));
    // Typed carelessly: lower case, no dashes, O for 0 — still the same code.
    let sloppy = host.replace('-', "").to_lowercase().replace('0', "o");
    let v = sb.ok("gethostid", ["--check", &sloppy, "--json"]).json();
    assert_eq!(v["code"], host.as_str());

    // Two fresh key pairs; the secret key is private, the public one readable.
    for kid in ["vendor", "other"] {
        sb.ok(
            "issuer",
            ["keygen", "--kid", kid, "--out", "keys", "--unencrypted"],
        );
        assert_eq!(mode(&sb, &format!("keys/{kid}.key")), 0o600);
        assert_eq!(mode(&sb, &format!("keys/{kid}.pub")), 0o644);
    }
    let secret = std::fs::read(sb.file("keys/vendor.key")).expect("key");
    // Never replaced without --force.
    let r = sb
        .run(
            "issuer",
            [
                "keygen",
                "--kid",
                "vendor",
                "--out",
                "keys",
                "--unencrypted",
            ],
        )
        .expect_code(4);
    insta::assert_snapshot!("keygen_exists", sb.transcript(&r));
    assert_eq!(
        std::fs::read(sb.file("keys/vendor.key")).expect("key"),
        secret
    );

    sb.account_with_orders(&[("SW-001-4.0-SL03", "1"), ("SW-001-4.0-AL02", "50")]);
    let issue = |clients: &str, out: &str| {
        let add = format!("SW-001-4.0-AL02={clients}");
        sb.run(
            "issuer",
            [
                "issue",
                "--account",
                ACCOUNT,
                "--site",
                SITE,
                "--product",
                "CIC",
                "--version",
                "4.0",
                "--type",
                "production",
                "--host-id",
                &host,
                "--machine",
                "ic1",
                "--server-part",
                "SW-001-4.0-SL03",
                "--add",
                &add,
                "--key",
                "keys/vendor.key",
                "--out",
                out,
            ],
        )
    };
    issue("50", "server.i3lic").expect_code(0);
    let r = issue("1", "server2.i3lic").expect_code(20);
    assert!(
        r.stderr.contains("SW-001-4.0-SL03"),
        "names the part: {}",
        r.stderr
    );
    assert!(!sb.file("server2.i3lic").exists());

    // As this machine when it has a code of its own, else as the code's machine.
    let verify = |file: &str, extra: &[&str]| {
        let mut args = vec![file];
        if !real {
            args.extend(["--host-id", &host]);
        }
        args.extend_from_slice(extra);
        sb.run("licverify", args)
    };
    let vendor = ["--trust", "keys/vendor.pub"];
    verify("server.i3lic", &vendor).expect_code(0);
    verify("server.i3lic", &["--trust", "keys/other.pub"]).expect_code(11);
    let mut wrong_product = vendor.to_vec();
    wrong_product.extend(["--product", "XYZ", "--version", "4.0"]);
    verify("server.i3lic", &wrong_product).expect_code(15);
    let mut long_ago = vendor.to_vec();
    long_ago.extend(["--at", "2001-01-01T00:00:00Z"]);
    verify("server.i3lic", &long_ago).expect_code(14);

    let data = std::fs::read_to_string(sb.file("server.i3lic")).expect("read");
    let write = |name: &str, text: &str| std::fs::write(sb.file(name), text).expect("write");
    write("edited.i3lic", &data.replace("ic1", "ic2"));
    verify("edited.i3lic", &vendor).expect_code(10);
    // Harmless changes an editor or a mail program makes are accepted.
    write("crlf.i3lic", &data.replace('\n', "\r\n"));
    verify("crlf.i3lic", &vendor).expect_code(0);
    let trailing: String = data.lines().map(|l| format!("{l}  \t\n")).collect();
    write("trailing.i3lic", &trailing);
    verify("trailing.i3lic", &vendor).expect_code(0);
    write("empty.i3lic", "");
    verify("empty.i3lic", &vendor).expect_code(3);
    // One digit of a count changed is refused.
    let digit = data.replacen("\"assigned\": 50", "\"assigned\": 59", 1);
    assert_ne!(digit, data, "the file lists 50 assigned clients");
    write("digit.i3lic", &digit);
    verify("digit.i3lic", &vendor).expect_code(10);
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    for (bin, args) in [
        ("gethostid", vec!["--no-such-flag"]),
        ("issuer", vec!["frobnicate"]),
        ("issuer", vec!["order", "add", "--account", ACCOUNT]),
        ("licverify", vec!["some.i3lic"]),
    ] {
        let r = sb.run(bin, &args);
        assert_eq!(r.code, 2, "`{}`: {}", r.line, r.stderr);
        assert!(!r.stderr.is_empty());
    }
    // A quantity that is not a number is a usage error too, and names the flag.
    let r = sb
        .run(
            "issuer",
            [
                "order",
                "add",
                "--account",
                ACCOUNT,
                "--part",
                "SW-001-4.0-AL02",
                "--quantity",
                "lots",
            ],
        )
        .expect_code(2);
    assert!(r.stderr.contains("--quantity"), "{}", r.stderr);
}
