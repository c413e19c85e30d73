//! The system log: compliance events and denials go to the local syslog socket (`/dev/log`,
//! which journald also serves), as well as to standard error. Where there is no such socket
//! (a container, a test) nothing is sent and nothing fails. `I3LIC_SYSLOG_SOCKET` names
//! another socket (tests point it at one of their own).

use std::sync::OnceLock;

/// Facility `daemon` (3), as RFC 3164 numbers it.
const FACILITY: u8 = 3;

/// How grave an entry is (RFC 3164 severities).
#[derive(Debug, Clone, Copy)]
pub enum Severity {
    /// A condition an administrator must act on: out of compliance.
    Warning = 4,
    /// A client's request that was refused: a denial.
    Notice = 5,
}

#[cfg(unix)]
fn socket() -> Option<&'static std::os::unix::net::UnixDatagram> {
    static SOCKET: OnceLock<Option<std::os::unix::net::UnixDatagram>> = OnceLock::new();
    SOCKET
        .get_or_init(|| {
            let path = std::env::var_os("I3LIC_SYSLOG_SOCKET")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "/dev/log".into());
            let s = std::os::unix::net::UnixDatagram::unbound().ok()?;
            s.connect(path).ok()?;
            Some(s)
        })
        .as_ref()
}

/// One entry, `<PRI>licadmin[PID]: MESSAGE`, control characters of the message shown as `?`
/// (one entry is one line).
pub fn entry(severity: Severity, message: &str) -> String {
    let clean: String = message
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!(
        "<{}>licadmin[{}]: {clean}",
        FACILITY * 8 + severity as u8,
        std::process::id()
    )
}

/// Send `message` to the system log, if there is one.
pub fn log(severity: Severity, message: &str) {
    #[cfg(unix)]
    if let Some(s) = socket() {
        // A full or gone log drops the entry: never the server's request.
        let _ = s.send(entry(severity, message).as_bytes());
    }
    #[cfg(not(unix))]
    let _ = (severity, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_one_line_with_its_priority() {
        let e = entry(
            Severity::Warning,
            "I3_ACCESS_CLIENT: 3 licensed,\n4 in use\x1b[2J",
        );
        assert!(e.starts_with("<28>licadmin["), "{e}");
        assert!(
            e.ends_with("]: I3_ACCESS_CLIENT: 3 licensed,?4 in use?[2J"),
            "{e}"
        );
        assert!(entry(Severity::Notice, "x").starts_with("<29>"));
    }
}
