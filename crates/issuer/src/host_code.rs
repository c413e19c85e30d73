//! Reading what a vendor gives where a host ID goes (`--host-id`, the portal's form, the
//! API): a host-ID code of either form, or a request code (`licadmin request`), which also
//! binds the store's install key to the host (activation format version 3).

use format::PublicKey;
use hostid::{HostId, RequestCode, RequestCodeError};

use crate::IssuerError;

/// Parse a host-ID code or a request code given as `flag`. A request code yields its strong
/// host ID and its install key (checked to be a valid ed25519 public key); a host-ID code
/// yields no key. The reader is chosen by the code's look (version symbol `3`, or more
/// symbols than any host-ID code), so each kind gets the error that fits it.
pub fn parse_host_code(
    flag: &'static str,
    code: &str,
) -> Result<(HostId, Option<PublicKey>), IssuerError> {
    if hostid::looks_like_request_code(code) {
        let req: RequestCode = code
            .parse()
            .map_err(|source| IssuerError::RequestCode { flag, source })?;
        let key =
            PublicKey::from_bytes(&req.install_key()).map_err(|e| IssuerError::RequestCode {
                flag,
                source: RequestCodeError::InvalidInstallKey(e.to_string()),
            })?;
        return Ok((req.host(), Some(key)));
    }
    let host: HostId = code
        .parse()
        .map_err(|source| IssuerError::HostId { flag, source })?;
    Ok((host, None))
}

/// The warning given when a production file is bound to a short host-ID code: its 25-bit
/// fingerprints can be matched by a machine built from the file itself (docs/HOSTID.md,
/// section 11).
pub const SHORT_CODE_WARNING: &str = "a short host-ID code binds a production file weakly: anyone holding the file can build a machine that matches it (docs/HOSTID.md, threat model); use the strong code (gethostid --strong) or a request code (licadmin request)";

/// [`SHORT_CODE_WARNING`] when `license_type` is production and `code` is a short host-ID
/// code (a code that does not parse gets its own error elsewhere).
pub fn short_code_warning(license_type: format::LicenseType, code: &str) -> Option<&'static str> {
    let production = matches!(license_type, format::LicenseType::Production);
    let short = !hostid::looks_like_request_code(code)
        && code
            .parse::<HostId>()
            .is_ok_and(|h| h.form() == hostid::CodeForm::Short);
    (production && short).then_some(SHORT_CODE_WARNING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use format::SecretKey;

    const HOST: &str = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";

    #[test]
    fn short_codes_of_production_files_are_warned_about() {
        let strong: HostId = HOST.parse().unwrap();
        let short = strong.to_short().to_string();
        let p = format::LicenseType::Production;
        assert_eq!(short_code_warning(p, &short), Some(SHORT_CODE_WARNING));
        assert_eq!(short_code_warning(p, HOST), None);
        assert_eq!(short_code_warning(format::LicenseType::Trial, &short), None);
        assert_eq!(short_code_warning(p, "not a code"), None);
    }

    #[test]
    fn host_ids_and_request_codes() {
        let (h, k) = parse_host_code("--host-id", HOST).unwrap();
        assert_eq!(h.to_string(), HOST);
        assert!(k.is_none());
        let key = SecretKey::from_seed(&[9; 32]);
        let code = RequestCode::new(HOST.parse().unwrap(), key.public_key().to_bytes()).unwrap();
        let (h, k) = parse_host_code("--host-id", &code.to_string().to_lowercase()).unwrap();
        assert_eq!(h.to_string(), HOST);
        assert_eq!(k.as_ref(), Some(key.public_key()));
    }

    #[test]
    fn a_bad_request_code_or_key_is_refused() {
        let key = SecretKey::from_seed(&[9; 32]);
        let text = RequestCode::new(HOST.parse().unwrap(), key.public_key().to_bytes())
            .unwrap()
            .to_string();
        let mut swapped: Vec<char> = text.chars().collect();
        let at = swapped.len() - 4;
        swapped.swap(at, at - 1);
        let swapped: String = swapped.into_iter().collect();
        if swapped != text {
            let e = parse_host_code("--host-id", &swapped).unwrap_err();
            assert!(matches!(e, IssuerError::RequestCode { .. }), "{e}");
            assert_eq!(e.exit_code(), 3);
        }
        // A small-order point is not an install key.
        let zero = RequestCode::new(HOST.parse().unwrap(), [0; 32])
            .unwrap()
            .to_string();
        let e = parse_host_code("--host-id", &zero).unwrap_err();
        assert!(e.to_string().contains("install key"), "{e}");
    }
}
