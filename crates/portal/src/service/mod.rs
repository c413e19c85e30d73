//! What the portal does, once, for both the pages and the API: every operation takes the
//! caller and checks what they may see and do ([`crate::policy`]) before it touches the
//! ledger. An account (or anything in it) the caller may not see answers exactly as one
//! that does not exist. One module per resource; the shared state is [`crate::state`].

mod accounts;
mod activity;
mod files;
mod hostid;
mod issue;
mod requests;
mod site_files;
mod sites;
mod users;

pub use crate::policy::Caller;
pub use crate::state::{AppState, Config, READERS};
pub use accounts::*;
pub use activity::*;
pub use files::*;
pub use hostid::*;
pub use issue::*;
pub use requests::*;
pub use site_files::*;
pub use sites::*;
pub use users::*;
