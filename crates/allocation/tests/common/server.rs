//! `licadmin serve` started on a free port over a fresh store, and requests to it over TCP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use allocation::{Allocator, StoreLocation, SystemClock};
use serde_json::Value;

use super::{host, location, vendor, verifier};

pub const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

/// A store, the trusted key beside it, and a server on it.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub store: String,
    pub child: Child,
    pub addr: String,
    pub token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-case names) and body.
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }
    /// The error kind of a JSON error body.
    pub fn kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error: {}", self.body))
            .to_string()
    }
}

pub fn store_arg(loc: &StoreLocation) -> String {
    match loc {
        StoreLocation::Sqlite(p) => p.display().to_string(),
        StoreLocation::Postgres(url) => url.clone(),
    }
}

pub fn licadmin(dir: &std::path::Path, store: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(store)
        .arg("--trust")
        .arg(dir.join("vendor.pub"))
        .arg("--host-id")
        .arg(host().to_string())
        .args(args)
        .output()
        .unwrap()
}

/// A store holding `file` (none: no file loaded), set up by `setup`, and a server on it.
pub fn server(file: Option<&str>, setup: impl FnOnce(&Allocator)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vendor.pub"),
        vendor().public_key().to_text("vendor"),
    )
    .unwrap();
    let loc = location(dir.path());
    {
        let a = Allocator::open_at(&loc, verifier(), Arc::new(SystemClock)).unwrap();
        if let Some(f) = file {
            a.load(f.as_bytes()).unwrap();
        }
        setup(&a);
    }
    let store = store_arg(&loc);
    let o = licadmin(dir.path(), &store, &["token", "create", "tests"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let token = String::from_utf8(o.stdout).unwrap().trim().to_string();
    start(dir, store, token)
}

pub fn start(dir: tempfile::TempDir, store: String, token: String) -> Server {
    start_with(dir, store, token, &[])
}

/// [`start`] with more environment variables for the server.
pub fn start_with(
    dir: tempfile::TempDir,
    store: String,
    token: String,
    env: &[(&str, &std::ffi::OsStr)],
) -> Server {
    let mut child = Command::new(BIN)
        .envs(env.iter().copied())
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(&store)
        .arg("--trust")
        .arg(dir.path().join("vendor.pub"))
        .arg("--host-id")
        .arg(host().to_string())
        .args(["serve", "--listen", "127.0.0.1:0"])
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
    Server {
        dir,
        store,
        child,
        addr,
        token,
    }
}

impl Server {
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or(b"");
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ));
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        // The server may answer (413) before reading all of a large body.
        let _ = s.write_all(&bytes);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no response: {text:?}"));
        let status = head[9..12].parse().unwrap();
        Resp {
            status,
            head: head.to_ascii_lowercase(),
            body: body.to_string(),
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, Some(&self.token), None)
    }

    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.request(
            "POST",
            path,
            Some(&self.token),
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.request("DELETE", path, Some(&self.token), None)
    }

    pub fn licadmin(&self, args: &[&str]) -> std::process::Output {
        licadmin(self.dir.path(), &self.store, args)
    }

    /// Another allocator on the server's store.
    pub fn alloc(&self) -> Allocator {
        Allocator::open_at(
            &StoreLocation::parse(self.store.as_ref()).unwrap(),
            verifier(),
            Arc::new(SystemClock),
        )
        .unwrap()
    }
}
