//! The HTML pages, as the seed's tabs: one module per page or resource, each with its
//! handlers, its markup and its form, and its routes merged in [`routes`]. Every page works
//! without JavaScript; every value is escaped by maud; every state-changing form carries the
//! session's anti-forgery token.

use std::sync::Arc;

use axum::Router;

use crate::service::AppState;

mod accounts;
mod activity;
pub mod deactivate;
mod file;
pub mod flash;
mod form;
mod form_errors;
mod hostid_check;
mod layout;
mod login;
mod machine_form;
mod new_file;
mod page_query;
mod request_form;
mod requests;
mod site_confirm;
mod site_form;
mod sites;
mod software;
mod summary;
mod tokens;
mod update;
mod upgrade;
mod users;
mod users_edit;

pub use file::file_response;
pub use flash::FLASH_COOKIE;
pub use layout::error_page;

/// Every page's routes, the stylesheet and the script.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .merge(layout::routes())
        .merge(login::routes())
        .merge(accounts::routes())
        .merge(summary::routes())
        .merge(software::routes())
        .merge(activity::routes())
        .merge(file::routes())
        .merge(new_file::routes())
        .merge(update::routes())
        .merge(deactivate::routes())
        .merge(upgrade::routes())
        .merge(sites::routes())
        .merge(requests::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(hostid_check::routes())
}
