//! The confirmation shown before an install site with active files is deactivated: what
//! happens to those files and to the site.

use axum::response::Response;
use issuer::AccountRef;
use maud::html;

use crate::http::{url_encode, PageUser};

use super::layout::{account_page, csrf_field};

/// The confirmation page for deactivating `site` of account `a`, which has `files` active
/// (titled with the account's name, as the account's other pages are).
pub fn page_of(u: &PageUser, a: &AccountRef, site: &str, files: &[String]) -> Response {
    let sites = format!("/accounts/{}/sites", a.id);
    account_page(
        "Deactivate Install Site",
        a,
        Some(u),
        html! {
            p { "The install site " strong { (site) } " has " (files.len()) " active activation "
                @if files.len() == 1 { "file" } @else { "files" } ":" }
            ul { @for f in files { li { a href={ "/files/" (url_encode(f)) } { code { (f) } } } } }
            p { "If you deactivate the site, these files stay active and keep working on their servers, "
                "and no new activation file can be generated for this site until it is activated again. "
                "To stop a file itself, deactivate the file." }
            form.card method="post" action={ (sites) "/" (url_encode(site)) "/active" } {
                (csrf_field(u))
                input type="hidden" name="active" value="no";
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Deactivate " (site) }
                " " a href=(sites) { "Cancel" }
            }
        },
    )
}
