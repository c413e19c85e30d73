//! The store's install key: an ed25519 key pair made when the store is created (or first
//! opened by a build that knows install keys), kept in the store, and shared by every server
//! on it. Its public half goes into the request code (`licadmin request`) and so into the
//! files issued for it; the secret half signs the store's release receipts. The seed is never
//! printed and never in JSON output, and every copy of it in memory is wiped after use.

use format::{PublicKey, SecretKey};
use store::{Connection, OptionalExt, Tx, TxExt};
use zeroize::Zeroizing;

use crate::error::AllocError;

/// Lower-case hex of `bytes`, into a buffer wiped on drop.
fn hex(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(2 * bytes.len()));
    for b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Make the store's install key when it has none, in one write transaction (two servers
/// opening a new PostgreSQL store at once keep one key: the second insert does nothing).
pub(crate) fn ensure(conn: &mut dyn Connection) -> Result<(), AllocError> {
    let tx = conn.begin_write()?;
    let present = tx
        .prepare_cached("SELECT 1 FROM install_key WHERE id = 1")?
        .exists([])?;
    if !present {
        let key = SecretKey::generate();
        let seed = hex(key.seed().as_ref());
        let public = format::install_key::to_hex(key.public_key());
        let now = format::Timestamp::now().unix();
        tx.execute(
            "INSERT INTO install_key (id, seed, public_key, created_at) VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
            store::params![seed.as_str(), public, now],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The store's public install key.
pub(crate) fn public(c: &dyn Tx) -> Result<PublicKey, AllocError> {
    let text: Option<String> = c
        .query_row("SELECT public_key FROM install_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let text = text.ok_or_else(|| AllocError::Inconsistent {
        problems: vec!["the store has no install key".into()],
    })?;
    format::install_key::from_hex("install key", &text).map_err(|e| AllocError::Inconsistent {
        problems: vec![format!("the store's install key: {e}")],
    })
}

/// The store's install key pair, for signing a receipt. The seed's text and bytes are wiped
/// when they go out of scope; the key itself wipes its secret on drop.
pub(crate) fn secret(c: &dyn Tx) -> Result<SecretKey, AllocError> {
    let seed: Option<String> = c
        .query_row("SELECT seed FROM install_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let seed = Zeroizing::new(seed.ok_or_else(|| AllocError::Inconsistent {
        problems: vec!["the store has no install key".into()],
    })?);
    let bad = || AllocError::Inconsistent {
        problems: vec!["the store's install key seed is not 64 hex digits".into()],
    };
    let digits = seed.as_bytes();
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let text = std::str::from_utf8(pair).map_err(|_| bad())?;
        bytes[i] = u8::from_str_radix(text, 16).map_err(|_| bad())?;
    }
    let key = SecretKey::from_seed(&bytes);
    // The stored public half must be this seed's: a store edited by hand is not trusted to
    // sign.
    if public(c)? != *key.public_key() {
        return Err(AllocError::Inconsistent {
            problems: vec!["the store's install key does not match its seed".into()],
        });
    }
    Ok(key)
}
