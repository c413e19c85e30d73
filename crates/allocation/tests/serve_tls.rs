//! `licadmin serve --tls-cert F --tls-key F`: HTTPS with a certificate made by the `openssl`
//! command for the test (a CA and a server certificate it signs), and the refusals of files
//! that cannot be served.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use allocation::{Allocator, Method, StationKind, SystemClock, Target};
use common::*;
use format::Rules;
use serde_json::{json, Value};
use tokio_rustls::rustls;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const CLIENT: &str = "I3_ACCESS_CLIENT";
const STATION: &str = "I3_LICENSE_BASIC_STATION";

/// A store with one user allowed to log on, its trusted key, a token, and TLS files.
struct Setup {
    dir: tempfile::TempDir,
    store: String,
    token: String,
}

/// The CA, the server's certificate and key (mode 600), and a key of another certificate.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    other_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the tests need the openssl command");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn pki(dir: &Path) -> Pki {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=i3lic test CA",
    ]);
    openssl(dir, &ca);
    let mut req = vec!["req"];
    req.extend(ec);
    req.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &req);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other.key",
        ],
    );
    for k in ["server.key", "other.key"] {
        chmod(&dir.join(k), 0o600);
    }
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        other_key: dir.join("other.key"),
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vendor.pub"),
        vendor().public_key().to_text("vendor"),
    )
    .unwrap();
    let loc = location(dir.path());
    {
        let a = Allocator::open_at(&loc, verifier(), Arc::new(SystemClock)).unwrap();
        a.load(file(&[(CLIENT, 0, 2), (STATION, 2, 0)], Rules::default()).as_bytes())
            .unwrap();
        a.add_user("u0", Method::Concurrent, None).unwrap();
        a.allocate(Target::User("u0"), &[CLIENT]).unwrap();
        a.add_station("desk-1", StationKind::Workstation).unwrap();
        a.allocate(Target::Station("desk-1"), &[STATION]).unwrap();
    }
    let store = match loc {
        allocation::StoreLocation::Sqlite(p) => p.display().to_string(),
        allocation::StoreLocation::Postgres(url) => url,
    };
    let mut s = Setup {
        dir,
        store,
        token: String::new(),
    };
    let o = s.licadmin(&["token", "create", "tests"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.token = String::from_utf8(o.stdout).unwrap().trim().to_string();
    s
}

impl Setup {
    fn licadmin(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(&self.store)
            .arg("--trust")
            .arg(self.dir.path().join("vendor.pub"))
            .arg("--host-id")
            .arg(host().to_string())
            .args(args);
        c
    }

    /// `serve` with `extra`, expected to refuse to start.
    fn refused(&self, extra: &[&str]) -> Output {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend(extra);
        let o = self.licadmin(&args).output().unwrap();
        assert!(
            !o.status.success(),
            "served with {extra:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            o.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        o
    }
}

/// A running server and its address.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_tls(s: &Setup, cert: &Path, key: &Path) -> Server {
    let mut child = s
        .licadmin(&["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("server did not start: {line:?}"))
        .to_string();
    Server { child, addr }
}

/// One request over TLS, trusting only `ca`: status and body.
fn https(
    addr: &str,
    ca: &Path,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    let pem = std::fs::read(ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    // A peer that closes without close_notify ends the read with an error after the bytes.
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {text:?}"));
    (head[9..12].parse().unwrap(), body.to_string())
}

#[test]
fn a_logon_over_https_works_and_plain_http_does_not() {
    let s = setup();
    let p = pki(s.dir.path());
    let server = serve_tls(&s, &p.cert, &p.key);
    let body = json!({"user": "u0", "station": "desk-1"}).to_string();
    let (status, body) = https(&server.addr, &p.ca, "POST", "/v1/sessions", &s.token, &body);
    assert_eq!(status, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["licenses"], json!([CLIENT]));
    let id = v["session"].as_str().unwrap();
    let (status, body) = https(
        &server.addr,
        &p.ca,
        "DELETE",
        &format!("/v1/sessions/{id}"),
        &s.token,
        "",
    );
    assert_eq!(status, 204, "{body}");

    // Plain HTTP to the TLS port gets no HTTP answer; the server goes on serving TLS.
    let mut tcp = TcpStream::connect(&server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = tcp.read_to_end(&mut raw);
    assert!(
        !String::from_utf8_lossy(&raw).contains("HTTP/1.1"),
        "plain HTTP was answered: {raw:?}"
    );
    let (status, body) = https(&server.addr, &p.ca, "GET", "/healthz", "", "");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_cert_without_its_key_is_a_usage_error() {
    let s = setup();
    let p = pki(s.dir.path());
    let cert = p.cert.to_str().unwrap();
    let o = s.refused(&["--tls-cert", cert]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--tls-key"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = s.refused(&["--tls-key", p.key.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_key_readable_by_others_is_refused() {
    let s = setup();
    let p = pki(s.dir.path());
    for mode in [0o644, 0o640, 0o604] {
        chmod(&p.key, mode);
        let o = s.refused(&[
            "--tls-cert",
            p.cert.to_str().unwrap(),
            "--tls-key",
            p.key.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{err}");
        assert!(err.contains("chmod 600"), "{err}");
        assert!(err.contains(p.key.to_str().unwrap()), "{err}");
    }
}

#[test]
fn files_that_cannot_serve_are_refused_naming_the_file() {
    let s = setup();
    let p = pki(s.dir.path());
    let (cert, key, other) = (
        p.cert.to_str().unwrap(),
        p.key.to_str().unwrap(),
        p.other_key.to_str().unwrap(),
    );
    let missing = s.dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    // Each case: arguments, exit code, what the message says.
    let cases: [(&str, &str, i32, &[&str]); 4] = [
        (
            cert,
            other,
            3,
            &["does not match the certificate", other, cert],
        ),
        (key, key, 3, &["holds no certificate", key]),
        (cert, missing, 4, &["cannot read", missing]),
        (missing, key, 4, &["cannot read", missing]),
    ];
    for (c, k, code, says) in cases {
        let o = s.refused(&["--tls-cert", c, "--tls-key", k]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{c} {k}: {err}");
        for w in says {
            assert!(err.contains(w), "{c} {k}: {err:?} lacks {w:?}");
        }
    }
    // A key file holding only a certificate.
    let cert_as_key = s.dir.path().join("cert-as-key.pem");
    std::fs::copy(&p.cert, &cert_as_key).unwrap();
    chmod(&cert_as_key, 0o600);
    let o = s.refused(&[
        "--tls-cert",
        cert,
        "--tls-key",
        cert_as_key.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("holds no private key"), "{err}");
    assert!(err.contains(cert_as_key.to_str().unwrap()), "{err}");
}
