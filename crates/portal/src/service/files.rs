//! One activation file: its details, its bytes, and an update that replaces it.

use format::{SecretKey, Timestamp};
use issuer::{AccountRef, Catalog, FileDetails, Issued, Ledger, PartQuantity, UpdateRequest};

use crate::error::PortalError;
use crate::policy::Caller;

use super::accounts::file_account;

/// The View License page of a file.
pub fn file(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: &str,
) -> Result<(AccountRef, FileDetails), PortalError> {
    let a = file_account(l, c, id)?;
    Ok((a, l.show(cat, id)?))
}

/// The recorded bytes of a file and the name to download it as (`MACHINE.i3lic`).
pub fn download(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: &str,
) -> Result<(String, Vec<u8>), PortalError> {
    let (_, f) = file(l, cat, c, id)?;
    let name = issuer::batch_file_name(&f.activation.primary_host.machine)
        .unwrap_or_else(|_| format!("{}.i3lic", f.id));
    Ok((name, l.file_bytes(&f.id)?))
}

/// What a page or the API asks an update to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateForm {
    /// Units to add, by part.
    pub add: Vec<PartQuantity>,
    /// The switchover server's host-ID code (given later than the first file).
    pub switchover_host_id: Option<String>,
    /// The switchover server's machine name.
    pub switchover_machine: Option<String>,
    /// The switchover server item.
    pub switchover_part: Option<String>,
    /// A new host-ID code for the primary server.
    pub host_id: Option<String>,
    /// A new machine name for the primary server.
    pub machine: Option<String>,
    /// A new system type.
    pub system_type: Option<String>,
    /// A new mail connector.
    pub mail_connector: Option<String>,
}

/// Update a file: a new file supersedes it.
pub fn update(
    l: &mut Ledger,
    cat: &Catalog,
    key: &SecretKey,
    c: &Caller,
    id: &str,
    u: UpdateForm,
) -> Result<Issued, PortalError> {
    file_account(l, c, id)?;
    c.require_generate()?;
    let opt = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let req = UpdateRequest {
        host_id: opt(u.host_id),
        machine: opt(u.machine),
        switchover_host_id: opt(u.switchover_host_id),
        switchover_machine: opt(u.switchover_machine),
        switchover_part: opt(u.switchover_part),
        add: u.add.into_iter().filter(|p| p.quantity > 0).collect(),
        system_type: opt(u.system_type),
        mail_connector: opt(u.mail_connector),
        generated_by: c.actor(),
        ..Default::default()
    };
    // With the request's key: sent again, it answers the file made the first time.
    Ok(l.update_once(cat, id, &req, key, None, Timestamp::now(), c.once.as_ref())?)
}
