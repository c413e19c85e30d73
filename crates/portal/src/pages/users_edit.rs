//! Portal Users (staff): editing a user's role, accounts and certification, the confirmation
//! before disabling one, and the fields the add and edit forms share (kept after a refusal,
//! each error by its field and a summary of them on top).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use issuer::{AccountRef, PortalUser, Role};
use maud::{html, Markup};

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::AppState;

use super::flash::Flash;
use super::form::{value, CsrfForm};
use super::form_errors::FormErrors;
use super::layout::{csrf_field, id_of, page, role_label, PageResult};

/// What the user form holds, kept to show it again after a refusal (never a password).
#[derive(Debug, Default, Clone)]
pub struct UserValues {
    /// E-mail address (add only).
    pub email: String,
    /// `customer`, `partner` or `staff`.
    pub role: String,
    /// Certified.
    pub certified: bool,
    /// The accounts chosen.
    pub accounts: Vec<String>,
}

/// The fields of the user forms: (form name, label), in the order they are shown.
const FIELDS: [(&str, &str); 5] = [
    ("email", "E-mail address"),
    ("role", "Role"),
    ("certified", "Certified"),
    ("account", "Accounts"),
    ("password", "Password"),
];

impl UserValues {
    /// The e-mail address of a new user, as the ledger takes it.
    pub fn check_email(&self) -> Result<(), PortalError> {
        issuer::ledger::check_email(&self.email)
            .map_err(|e| PortalError::bad_request(format!("E-mail address: {e}")))
    }

    /// The role, once role, certification and accounts go together; each refusal starts
    /// with its field's label (so [`field_errors`] puts it by the field).
    pub fn check(&self) -> Result<Role, PortalError> {
        let bad = |m: &str| Err(PortalError::bad_request(m.to_string()));
        let role = match self.role.as_str() {
            "customer" => Role::Customer,
            "partner" => Role::Partner,
            "staff" => Role::Staff,
            _ => return bad("Role: choose Customer, Partner or Licensing staff."),
        };
        if role == Role::Staff && self.certified {
            return bad("Certified: only customers and partners are certified (licensing staff may always generate files).");
        }
        if role == Role::Staff && !self.accounts.is_empty() {
            return bad("Accounts: licensing staff see every account; choose none.");
        }
        if role != Role::Staff && self.accounts.is_empty() {
            return bad(&format!(
                "Accounts: choose at least one account the {} may see.",
                role_label(role)
            ));
        }
        Ok(role)
    }
}

/// The refusal by field: next to the field whose label starts the message. A message that
/// names no field of the form (one from the ledger) is by the e-mail address when it is
/// about the user, else only in the summary.
pub fn field_errors(e: &PortalError) -> FormErrors {
    field_errors_all(std::slice::from_ref(e))
}

/// Every refusal of a form sent once, each by its field ([`field_errors`]), so a user sees
/// all that is wrong at once rather than one problem per try.
pub fn field_errors_all(es: &[PortalError]) -> FormErrors {
    let mut errors = FormErrors::titled("The user was not saved");
    for e in es {
        let m = &e.message;
        let named = FIELDS
            .iter()
            .find(|(_, label)| m.strip_prefix(label).is_some_and(|r| r.starts_with(": ")))
            .map(|(name, _)| *name)
            .or_else(|| m.contains("portal user").then_some("email"));
        match named {
            Some(name) => errors.field(&field_id(name), m.clone()),
            None => errors.general(m.clone()),
        }
    }
    errors
}

/// The element id of the user form's field `name`.
pub fn field_id(name: &str) -> String {
    format!("u-{name}")
}

/// `aria-invalid` of the field `name`.
pub fn invalid(errors: &FormErrors, name: &str) -> Option<&'static str> {
    errors.invalid(&field_id(name))
}

/// `aria-describedby` of the field `name`: its message's id when it has one.
pub fn described(errors: &FormErrors, name: &str) -> Option<String> {
    errors.described_by(&field_id(name), "")
}

/// A field's label, its error (if any) and the control.
pub fn labelled(name: &str, label: &str, errors: &FormErrors, control: Markup) -> Markup {
    html! {
        label for=(field_id(name)) { (label) }
        (errors.note(&field_id(name)))
        (control)
    }
}

/// A role as the form's choices and the list name it.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Customer => "Customer",
        Role::Partner => "Partner",
        Role::Staff => "Licensing staff",
    }
}

/// Role, certified and accounts, with the values kept.
pub fn user_fields(v: &UserValues, accounts: &[AccountRef], errors: &FormErrors) -> Markup {
    let roles = [Role::Customer, Role::Partner, Role::Staff].map(|r| (r.as_str(), role_name(r)));
    html! {
        (labelled("role", "Role", errors, html! {
            select id="u-role" name="role" aria-invalid=[invalid(errors, "role")] aria-describedby=[described(errors, "role")] {
                @for (r, l) in roles { option value=(r) selected[v.role == r] { (l) } }
            }
        }))
        (errors.note("u-certified"))
        input type="checkbox" id="u-certified" name="certified" value="yes" checked[v.certified]
            aria-invalid=[invalid(errors, "certified")] aria-describedby=[described(errors, "certified")];
        label.inline for="u-certified" { "Certified (a customer or partner who may generate files)" }
        (labelled("account", "Accounts (not for staff; hold Ctrl to choose several)", errors, html! {
            select id="u-account" name="account" multiple size="6"
                aria-invalid=[invalid(errors, "account")] aria-describedby=[described(errors, "account")] {
                @for a in accounts {
                    option value=(a.name) selected[v.accounts.iter().any(|x| x.eq_ignore_ascii_case(&a.name))] { (a.name) }
                }
            }
        }))
    }
}

/// The edit form: role, certified and accounts.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct EditUserForm {
    role: String,
    certified: String,
    account: Vec<String>,
}

/// The portal user the path's `id` names (staff only; 404 when there is none), its id and
/// what `more` reads with it, in one read.
async fn read_user<T: Send + 'static>(
    st: &Arc<AppState>,
    u: &PageUser,
    id: &str,
    more: impl FnOnce(&issuer::Ledger, i64) -> Result<T, PortalError> + Send + 'static,
) -> Result<(i64, PortalUser, T), PageError> {
    u.caller.require_manage_users()?;
    let id = id_of(id)?;
    let (target, x) = st
        .read(move |l, _| {
            let t = l.portal_user(id)?.ok_or_else(PortalError::not_found)?;
            Ok((t, more(l, id)?))
        })
        .await?;
    Ok((id, target, x))
}

/// `GET /users/{id}/edit` (staff): change a user's role, accounts and certification.
pub async fn edit_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let (id, target, accounts) = read_user(&st, &u, &id, |l, _| Ok(l.account_refs()?)).await?;
    let v = UserValues {
        email: String::new(),
        role: target.role.as_str().to_string(),
        certified: target.certified,
        accounts: target.accounts.clone(),
    };
    Ok(edit_page(&u, &target.email, id, &v, &accounts, None))
}

fn edit_page(
    u: &PageUser,
    email: &str,
    id: i64,
    v: &UserValues,
    accounts: &[AccountRef],
    problem: Option<PortalError>,
) -> axum::response::Response {
    let errors = problem.as_ref().map(field_errors).unwrap_or_default();
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let body = page(
        &format!("Edit portal user {email}"),
        Some(u),
        html! {
            (errors.summary())
            form.card method="post" action={ "/users/" (id) "/edit" } novalidate {
                (csrf_field(u))
                (user_fields(v, accounts, &errors))
                button type="submit" { "Save changes" }
            }
            p { a href="/users" { "Back to Portal Users" } }
        },
    );
    (status, body).into_response()
}

/// `POST /users/{id}/edit` (staff): save a user's role, accounts and certification.
pub async fn edit(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<EditUserForm>,
) -> PageResult {
    u.caller.require_manage_users()?;
    let id = id_of(&id)?;
    let v = UserValues {
        email: String::new(),
        role: p.role.trim().to_string(),
        certified: value(&p.certified).is_some(),
        accounts: p.account.iter().filter_map(|a| value(a)).collect(),
    };
    let actor = u.caller.actor();
    let checked = v.check();
    let (accounts2, certified) = (v.accounts.clone(), v.certified);
    let saved = crate::once_done::page(
        &st,
        u.caller.clone(),
        "/users".into(),
        move |l, _, _, _| {
            l.portal_user(id)?.ok_or_else(PortalError::not_found)?;
            let role = checked?;
            l.edit_portal_user(id, role, certified, &accounts2, &actor)?;
            Ok(())
        },
        |_| ("/users".into(), Some(Flash::Saved)),
    )
    .await;
    match saved {
        Ok(r) => Ok(r),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let (email, accounts) = st
                .read(move |l, _| {
                    let t = l.portal_user(id)?.ok_or_else(PortalError::not_found)?;
                    Ok((t.email, l.account_refs()?))
                })
                .await?;
            Ok(edit_page(&u, &email, id, &v, &accounts, Some(e)))
        }
        Err(e) => Err(PageError(e)),
    }
}

/// `GET /users/{id}/disable` (staff): what disabling a user does, before it is done.
pub async fn disable_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let (_, target, tokens) = read_user(&st, &u, &id, |l, id| {
        let live = l.portal_tokens(Some(id))?;
        Ok(live.iter().filter(|t| t.revoked_at.is_none()).count())
    })
    .await?;
    Ok(page(
        &format!("Disable portal user {}", target.email),
        Some(&u),
        html! {
            p { "Disabling " strong { (target.email) } " means:" }
            ul {
                li { "They cannot log in, and every browser session they have open ends now." }
                li { "Their API tokens (" (tokens) " in use) are revoked and stop working at once; enabling them again brings none back." }
                li { "Their activation files, requests and history stay as they are." }
            }
            form.card method="post" action={ "/users/" (id) "/active" } {
                (csrf_field(&u))
                input type="hidden" name="active" value="no";
                button type="submit" { "Disable " (target.email) }
            }
            p { a href="/users" { "Cancel: back to Portal Users" } }
        },
    ))
}
