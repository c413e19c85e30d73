//! Signing keys: generation, passphrase encryption at rest, loading with a permission check.
//!
//! Encrypted secret key file (one key line; `#` lines are comments):
//! ```text
//! # i3lic secret key "vendor" (key id 1f0c6e5f3a9d2b74) - passphrase-encrypted, keep private
//! i3lic-encrypted-secret-key-v1 <key id> argon2id <m KiB> <t> <p> <salt b64> <nonce b64> <sealed seed b64>
//! ```
//! The 32-byte ChaCha20-Poly1305 key is argon2id(passphrase, salt, m, t, p); the sealed seed is
//! the 32-byte ed25519 seed plus its 16-byte tag, with everything on the line before it as
//! associated data, so no parameter or the key id can be changed unnoticed.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use format::{SecretKey, SECRET_KEY_TAG};
use zeroize::Zeroizing;

use crate::error::IssuerError;
use crate::fsio;

/// Tag of the key line of a passphrase-encrypted secret key.
pub const ENCRYPTED_KEY_TAG: &str = "i3lic-encrypted-secret-key-v1";
/// Environment variable read for the passphrase before asking on the terminal.
pub const PASSPHRASE_ENV: &str = "I3LIC_KEY_PASSPHRASE";
/// Largest key file read.
pub const MAX_KEY_FILE: usize = 64 * 1024;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What `keygen` uses: 64 MiB, 3 passes, 1 lane (about 0.1 s on a server core).
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// Upper bounds accepted when loading, so a crafted key file cannot make the issuer
    /// allocate gigabytes or spin for minutes before the passphrase is even checked:
    /// 256 MiB, 16 passes, 8 lanes each, and memory times passes at most 1 GiB (about
    /// 5 times the work of [`KdfParams::DEFAULT`], well under a second or two).
    pub const MAX: KdfParams = KdfParams {
        m_kib: 256 * 1024,
        t: 16,
        p: 8,
    };
    /// Upper bound of `m_kib * t` accepted when loading (KiB times passes: 1 GiB of memory
    /// filled once, or 256 MiB four times).
    pub const MAX_WORK: u64 = 1024 * 1024;
}

/// Where a passphrase comes from: `I3LIC_KEY_PASSPHRASE`, else the terminal (asked twice when
/// `confirm`). Empty passphrases are refused.
pub fn passphrase_from_env_or_prompt(confirm: bool) -> Result<Zeroizing<String>, IssuerError> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        let p = Zeroizing::new(p);
        if p.is_empty() {
            return Err(IssuerError::Passphrase {
                reason: format!("{PASSPHRASE_ENV} is empty"),
            });
        }
        return Ok(p);
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| IssuerError::Passphrase {
                reason: format!("cannot ask on the terminal ({e}); set {PASSPHRASE_ENV} instead"),
            })
    };
    let first = ask("Passphrase for the secret key: ")?;
    if first.is_empty() {
        return Err(IssuerError::Passphrase {
            reason: "an empty passphrase is not accepted".into(),
        });
    }
    if confirm {
        let second = ask("Same passphrase again: ")?;
        if *second != *first {
            return Err(IssuerError::Passphrase {
                reason: "the two entries differ".into(),
            });
        }
    }
    Ok(first)
}

fn derive(pass: &[u8], salt: &[u8], params: KdfParams) -> Result<Zeroizing<[u8; 32]>, String> {
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| e.to_string())?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(pass, salt, out.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The encrypted text form of a secret key.
pub fn encrypt_secret_key(
    key: &SecretKey,
    name: &str,
    passphrase: &str,
    params: KdfParams,
) -> Result<Zeroizing<String>, IssuerError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let k = derive(passphrase.as_bytes(), &salt, params)
        .map_err(|reason| IssuerError::Passphrase { reason })?;
    let head = format!(
        "{ENCRYPTED_KEY_TAG} {} argon2id {} {} {} {} {}",
        key.key_id(),
        params.m_kib,
        params.t,
        params.p,
        STANDARD.encode(salt),
        STANDARD.encode(nonce)
    );
    let cipher = ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(k.as_ref()));
    let seed = key.seed();
    let sealed = cipher
        .encrypt(
            chacha20poly1305::Nonce::from_slice(&nonce),
            Payload {
                msg: seed.as_ref(),
                aad: head.as_bytes(),
            },
        )
        .map_err(|_| IssuerError::Passphrase {
            reason: "encryption failed".into(),
        })?;
    Ok(Zeroizing::new(format!(
        "# i3lic secret key \"{}\" (key id {}) - passphrase-encrypted, keep private\n{head} {}\n",
        name.escape_debug(),
        key.key_id(),
        STANDARD.encode(sealed)
    )))
}

/// Why `text` is not a secret key file at all (a public key, or no key line of either
/// secret form), or `None` when its first key line is one of the two secret forms.
fn not_a_secret_key(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    if line.starts_with(SECRET_KEY_TAG) || line.starts_with(ENCRYPTED_KEY_TAG) {
        return None;
    }
    if line.starts_with("i3lic-public-key") {
        return Some(format!(
            "not a secret key: this is a public key (give the .key file written beside it, \
             which starts with '{ENCRYPTED_KEY_TAG}' or '{SECRET_KEY_TAG}')"
        ));
    }
    Some(format!(
        "not a secret key (expected '{SECRET_KEY_TAG}' or '{ENCRYPTED_KEY_TAG}')"
    ))
}

/// Parse a secret key file's text: the unencrypted form, or the encrypted form opened with
/// the passphrase `ask` returns (called only for encrypted keys).
pub fn parse_secret_key(
    path: &Path,
    text: &str,
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>, IssuerError>,
) -> Result<SecretKey, IssuerError> {
    let malformed = |reason: String| IssuerError::MalformedKey {
        path: path.to_path_buf(),
        reason,
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| malformed("no key line".into()))?;
    if line.starts_with(SECRET_KEY_TAG) {
        return SecretKey::from_text(text).map_err(|e| malformed(e.to_string()));
    }
    if let Some(reason) = not_a_secret_key(text) {
        return Err(malformed(reason));
    }
    let Some(rest) = line
        .strip_prefix(ENCRYPTED_KEY_TAG)
        .and_then(|r| r.strip_prefix(' '))
    else {
        return Err(malformed(format!(
            "not a secret key (expected '{SECRET_KEY_TAG}' or '{ENCRYPTED_KEY_TAG}')"
        )));
    };
    let f: Vec<&str> = rest.split(' ').collect();
    let [kid, alg, m, t, p, salt, nonce, sealed] = f[..] else {
        return Err(malformed(format!(
            "the {ENCRYPTED_KEY_TAG} line has {} fields, expected 8",
            f.len()
        )));
    };
    if alg != "argon2id" {
        return Err(malformed(format!("unknown key derivation '{alg}'")));
    }
    let num = |s: &str, max: u32, what: &str| -> Result<u32, IssuerError> {
        s.parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| malformed(format!("argon2id {what} '{s}' is not between 1 and {max}")))
    };
    let params = KdfParams {
        m_kib: num(m, KdfParams::MAX.m_kib, "memory")?,
        t: num(t, KdfParams::MAX.t, "passes")?,
        p: num(p, KdfParams::MAX.p, "lanes")?,
    };
    if u64::from(params.m_kib) * u64::from(params.t) > KdfParams::MAX_WORK {
        return Err(malformed(format!(
            "argon2id memory {} KiB times {} passes is above {} (refused before any work)",
            params.m_kib,
            params.t,
            KdfParams::MAX_WORK
        )));
    }
    let b64 = |s: &str, what: &str| {
        STANDARD
            .decode(s)
            .map_err(|_| malformed(format!("{what} is not base64")))
    };
    let salt = b64(salt, "salt")?;
    let nonce = b64(nonce, "nonce")?;
    let sealed = b64(sealed, "sealed seed")?;
    if nonce.len() != 12 || sealed.len() != 48 || salt.len() < 8 {
        return Err(malformed(
            "salt, nonce or sealed seed has the wrong length".into(),
        ));
    }
    let head_len = line.len() - f[7].len() - 1;
    let head = &line[..head_len];
    let pass = ask()?;
    let k = derive(pass.as_bytes(), &salt, params)
        .map_err(|e| malformed(format!("argon2id parameters: {e}")))?;
    let cipher = ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(k.as_ref()));
    let seed = Zeroizing::new(
        cipher
            .decrypt(
                chacha20poly1305::Nonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: head.as_bytes(),
                },
            )
            .map_err(|_| IssuerError::KeyDecrypt {
                path: path.to_path_buf(),
            })?,
    );
    let mut s = Zeroizing::new([0u8; 32]);
    s.copy_from_slice(&seed);
    let key = SecretKey::from_seed(&s);
    if key.key_id().to_string() != kid {
        return Err(malformed(format!(
            "key id {kid} does not match the key inside ({})",
            key.key_id()
        )));
    }
    Ok(key)
}

/// Load a secret key file, refusing one owned by another user than the one running the
/// issuer, or that group or others can access (both checked on the opened file, so a swap
/// between check and read cannot slip through).
pub fn load_secret_key(
    path: &Path,
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>, IssuerError>,
) -> Result<SecretKey, IssuerError> {
    // Opening a FIFO or a device would block (or read forever) before the checks on the
    // opened file below: refuse anything that is not a regular file first. The checks on the
    // open descriptor still decide; this one only keeps a misnamed path from hanging.
    let by_path =
        std::fs::metadata(path).map_err(|e| IssuerError::io("opening secret key", path, e))?;
    if !by_path.is_file() {
        return Err(IssuerError::MalformedKey {
            path: path.into(),
            reason: "not a regular file".into(),
        });
    }
    let f =
        std::fs::File::open(path).map_err(|e| IssuerError::io("opening secret key", path, e))?;
    let meta = f
        .metadata()
        .map_err(|e| IssuerError::io("reading secret key", path, e))?;
    if !meta.is_file() {
        return Err(IssuerError::MalformedKey {
            path: path.into(),
            reason: "not a regular file".into(),
        });
    }
    // A file that is not a secret key at all (a public key given as --key) is named as such
    // before any complaint about its owner or mode: chmod would not help.
    #[cfg(unix)]
    let refused = {
        use std::os::unix::fs::MetadataExt;
        let (owner, uid) = (meta.uid(), rustix::process::geteuid().as_raw());
        let mode = meta.permissions().mode() & 0o7777;
        if owner != uid {
            Some(IssuerError::KeyNotOwned {
                path: path.into(),
                owner,
                uid,
            })
        } else if mode & 0o077 != 0 {
            Some(IssuerError::KeyTooOpen {
                path: path.into(),
                mode,
            })
        } else {
            None
        }
    };
    #[cfg(not(unix))]
    let refused: Option<IssuerError> = None;
    let bytes = Zeroizing::new(
        fsio::read_handle(f, path, MAX_KEY_FILE, "secret key").map_err(|e| match e {
            IssuerError::MalformedRequest { reason } => IssuerError::MalformedKey {
                path: path.into(),
                reason,
            },
            other => other,
        })?,
    );
    if let Some(e) = refused {
        if let Some(reason) = std::str::from_utf8(&bytes).ok().and_then(not_a_secret_key) {
            return Err(IssuerError::MalformedKey {
                path: path.into(),
                reason,
            });
        }
        return Err(e);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| IssuerError::MalformedKey {
        path: path.into(),
        reason: "not UTF-8 text".into(),
    })?;
    parse_secret_key(path, text, ask)
}

/// What `keygen` wrote.
#[derive(Debug)]
pub struct GeneratedKey {
    /// The secret key file (mode 0600).
    pub secret_path: PathBuf,
    /// The public key file (mode 0644).
    pub public_path: PathBuf,
    /// The new key's id.
    pub key_id: format::KeyId,
}

/// Whether a key name is usable as a file name: 1-64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub fn valid_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && !kid.starts_with('.')
        && kid
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Generate a key pair into `dir`: `<kid>.key` (encrypted with `passphrase` unless `None`) and
/// `<kid>.pub`. Without `force`, existing files are never replaced.
pub fn keygen(
    dir: &Path,
    kid: &str,
    passphrase: Option<&str>,
    params: KdfParams,
    force: bool,
) -> Result<GeneratedKey, IssuerError> {
    fsio::create_private_dir(dir, "creating the key folder")?;
    let secret_path = dir.join(format!("{kid}.key"));
    let public_path = dir.join(format!("{kid}.pub"));
    for p in [&secret_path, &public_path] {
        match p.symlink_metadata() {
            Ok(_) if !force => return Err(IssuerError::AlreadyExists { path: p.clone() }),
            // --force replaces key files, nothing else: a rename over a FIFO, a device or a
            // link would replace it with a regular file.
            Ok(m) if !m.is_file() => {
                return Err(IssuerError::io(
                    "replacing",
                    p,
                    std::io::Error::other(
                        "it is not a regular file (a FIFO, a device, a folder or a link); --force replaces only key files",
                    ),
                ))
            }
            _ => {}
        }
    }
    let key = SecretKey::generate();
    let secret_text = match passphrase {
        Some(pass) => encrypt_secret_key(&key, kid, pass, params)?,
        None => key.to_text(kid),
    };
    // Both files are complete and synced under temporary names (the secret one created
    // 0600) before either final name is touched, so a crash never leaves a truncated key or
    // a secret key without its public half under the final names.
    let secret = fsio::write_pending(&secret_path, secret_text.as_bytes(), 0o600)?;
    let public_text = key.public_key().to_text(kid);
    let public = fsio::write_pending(&public_path, public_text.as_bytes(), 0o644)?;
    #[cfg(unix)]
    std::fs::set_permissions(public.temp_path(), std::fs::Permissions::from_mode(0o644))
        .map_err(|e| IssuerError::io("setting the mode of", &public_path, e))?;
    if force {
        secret.persist()?;
        public.persist()?;
    } else {
        // Never replaces a file that appeared since the check above.
        secret.persist_new()?;
        public.persist_new().inspect_err(|_| {
            // The public half could not be placed: take back the secret key just created
            // (nothing else can have used it yet), so a retry starts clean.
            let _ = std::fs::remove_file(&secret_path);
        })?;
    }
    Ok(GeneratedKey {
        secret_path,
        public_path,
        key_id: key.key_id(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    fn pass(s: &'static str) -> impl FnMut() -> Result<Zeroizing<String>, IssuerError> {
        move || Ok(Zeroizing::new(s.to_string()))
    }

    #[test]
    fn encrypted_key_round_trips_and_refuses_wrong_passphrase_or_edits() {
        let key = SecretKey::generate();
        let text = encrypt_secret_key(&key, "t", "correct horse", FAST).unwrap();
        let seed_b64 = STANDARD.encode(key.seed().as_ref());
        assert!(!text.contains(&seed_b64));
        let p = Path::new("k.key");
        let back = parse_secret_key(p, &text, &mut pass("correct horse")).unwrap();
        assert_eq!(back.key_id(), key.key_id());
        assert!(matches!(
            parse_secret_key(p, &text, &mut pass("wrong")),
            Err(IssuerError::KeyDecrypt { .. })
        ));
        // Lowering the cost parameters is caught by the associated data.
        let weakened = text.replace(" argon2id 64 1 1 ", " argon2id 65 1 1 ");
        assert_ne!(weakened, *text);
        assert!(matches!(
            parse_secret_key(p, &weakened, &mut pass("correct horse")),
            Err(IssuerError::KeyDecrypt { .. })
        ));
        // Absurd parameters are refused before any work.
        let huge = text.replace(" argon2id 64 1 1 ", " argon2id 4000000000 1 1 ");
        assert!(matches!(
            parse_secret_key(p, &huge, &mut pass("x")),
            Err(IssuerError::MalformedKey { .. })
        ));
    }

    #[test]
    fn crafted_kdf_cost_is_refused_before_the_passphrase_is_asked() {
        let key = SecretKey::generate();
        let text = encrypt_secret_key(&key, "t", "pw", FAST).unwrap();
        let never = || -> Result<Zeroizing<String>, IssuerError> {
            panic!("the passphrase must not be asked for a key file refused on its parameters")
        };
        // Each of these would allocate a gigabyte or more, or run for minutes.
        for (m, t, p) in [
            ("1048576", "1", "1"),   // 1 GiB
            ("262145", "1", "1"),    // just above 256 MiB
            ("262144", "5", "1"),    // 256 MiB x 5 passes
            ("65536", "17", "1"),    // too many passes
            ("1048576", "64", "16"), // the largest accepted before
            ("65536", "3", "9"),     // too many lanes
        ] {
            let crafted = text.replace(" argon2id 64 1 1 ", &format!(" argon2id {m} {t} {p} "));
            assert!(
                matches!(
                    parse_secret_key(Path::new("k"), &crafted, &mut never.clone()),
                    Err(IssuerError::MalformedKey { .. })
                ),
                "m={m} t={t} p={p} accepted"
            );
        }
        // The bounds still admit the default and a key four times as costly.
        const {
            let d = KdfParams::DEFAULT;
            assert!(d.m_kib <= KdfParams::MAX.m_kib);
            assert!(d.m_kib as u64 * d.t as u64 * 4 <= KdfParams::MAX_WORK);
        }
    }

    #[test]
    fn unencrypted_key_never_asks() {
        let key = SecretKey::generate();
        let mut asked = false;
        let back = parse_secret_key(Path::new("k"), &key.to_text("t"), &mut || {
            asked = true;
            Ok(Zeroizing::new(String::new()))
        })
        .unwrap();
        assert_eq!(back.key_id(), key.key_id());
        assert!(!asked);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_folder_named_as_key_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("k.key");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o600)).unwrap();
        for p in [fifo, dir.path().to_path_buf()] {
            let (tx, rx) = std::sync::mpsc::channel();
            let q = p.clone();
            std::thread::spawn(move || {
                let _ = tx.send(load_secret_key(&q, &mut pass("pw")));
            });
            match rx.recv_timeout(std::time::Duration::from_secs(5)) {
                Ok(Err(IssuerError::MalformedKey { .. })) => {}
                Ok(other) => panic!("{}: {other:?}", p.display()),
                Err(_) => panic!("loading {} blocked", p.display()),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn keygen_modes_no_overwrite_and_open_key_refused() {
        let dir = tempfile::tempdir().unwrap();
        let g = keygen(dir.path(), "v", Some("pw"), FAST, false).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&g.secret_path), 0o600);
        assert_eq!(mode(&g.public_path), 0o644);
        assert!(matches!(
            keygen(dir.path(), "v", None, FAST, false),
            Err(IssuerError::AlreadyExists { .. })
        ));
        let k = load_secret_key(&g.secret_path, &mut pass("pw")).unwrap();
        assert_eq!(k.key_id(), g.key_id);
        std::fs::set_permissions(&g.secret_path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            load_secret_key(&g.secret_path, &mut pass("pw")),
            Err(IssuerError::KeyTooOpen { mode: 0o640, .. })
        ));
        let again = keygen(dir.path(), "v", None, FAST, true).unwrap();
        assert_eq!(mode(&again.secret_path), 0o600);
        assert_ne!(again.key_id, g.key_id);
        assert!(matches!(
            load_secret_key(&dir.path().join("missing.key"), &mut pass("pw")),
            Err(IssuerError::Io { .. })
        ));
    }
}
