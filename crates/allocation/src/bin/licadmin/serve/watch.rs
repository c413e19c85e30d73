//! What the server watches between requests, every [`super::REAP_EVERY`]: the file in the
//! store, which `licadmin load` on either host of a switchover pair (or on any server of a
//! shared store) changes, and the store itself. Each change is said once, on standard error
//! and in the system log: a new file in use (and its compliance check), a new file this host
//! cannot use (the old one is kept: [`allocation::Allocator::keep_license_on_failure`]), the
//! store lost and back. The allocator re-reads a changed file at the next request anyway;
//! this makes it happen, and be said, without one.

use std::sync::Arc;

use allocation::{AllocError, Allocator};

use super::{log_compliance, syslog, REAP_EVERY};

/// What was last said.
#[derive(Debug, Default)]
struct Seen {
    /// The file in use.
    file: Option<String>,
    /// Why the file in the store is not in use, when it is not.
    refused: Option<String>,
    /// Why the store or the license failed, when it did.
    failing: Option<String>,
}

fn say(severity: syslog::Severity, line: &str) {
    tracing::warn!(target: "i3lic::serve", "{line}");
    eprintln!(
        "licadmin serve: {}",
        line.replace(|c: char| c.is_control(), "?")
    );
    syslog::log(severity, line);
}

impl Seen {
    /// Look once, and say what changed.
    fn look(&mut self, a: &Allocator) {
        let l = match a.license() {
            Ok(l) => l,
            Err(AllocError::NoLicenseLoaded) => return,
            Err(e) => {
                let why = e.to_string();
                if self.failing.as_deref() != Some(why.as_str()) {
                    say(
                        syslog::Severity::Warning,
                        &format!("the license cannot be used now: {why}"),
                    );
                    self.failing = Some(why);
                }
                return;
            }
        };
        if self.failing.take().is_some() {
            say(
                syslog::Severity::Notice,
                "the store and the license answer again",
            );
        }
        let id = l.file_id().to_string();
        if self.file.as_deref() != Some(id.as_str()) {
            if let Some(old) = self.file.replace(id.clone()) {
                say(
                    syslog::Severity::Notice,
                    &format!("reloaded the license: file {id} is in use (was {old})"),
                );
                log_compliance(a);
            }
        }
        let refused = a.refused_load();
        if refused != self.refused {
            if let Some(why) = &refused {
                say(
                    syslog::Severity::Warning,
                    &format!("the file loaded in the store is not used on this host, which keeps file {id}: {why}"),
                );
            }
            self.refused = refused;
        }
    }
}

/// Look once (what is in use when the server starts is not news), then watch the store
/// every [`REAP_EVERY`] until the task returned is aborted.
pub(super) async fn start(alloc: Arc<Allocator>) -> tokio::task::JoinHandle<()> {
    let a = alloc.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let mut seen = Seen::default();
        seen.look(&a);
        seen
    })
    .await
    .unwrap_or_default();
    tokio::spawn(run(alloc, seen))
}

async fn run(alloc: Arc<Allocator>, mut seen: Seen) {
    let mut tick = tokio::time::interval(REAP_EVERY);
    loop {
        tick.tick().await;
        let a = alloc.clone();
        let Ok(s) = tokio::task::spawn_blocking(move || {
            seen.look(&a);
            seen
        })
        .await
        else {
            return;
        };
        seen = s;
    }
}
