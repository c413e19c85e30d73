//! Portal Users (staff): the list, a new user, disable and enable (editing and the
//! confirmation before disabling are in `users_edit`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use issuer::Role;
use maud::html;

use crate::auth;
use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::AppState;

use super::flash::Flash;
use super::form::{value, yes_no, CsrfForm};
use super::form_errors::FormErrors;
use super::layout::{csrf_field, id_of, page, PageResult};
use super::users_edit::{
    described, field_errors_all, invalid, labelled, role_name, user_fields, UserValues,
};

/// `GET /users` (staff): portal users, and the form to add one.
pub async fn users(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    users_page(st, u, None).await
}

async fn users_page(
    st: Arc<AppState>,
    u: PageUser,
    refused: Option<(Vec<PortalError>, UserValues)>,
) -> PageResult {
    u.caller.require_manage_users()?;
    let (list, accounts) = st
        .read(|l, _| Ok((l.portal_users()?, l.account_refs()?)))
        .await?;
    let status = refused
        .as_ref()
        .and_then(|p| p.0.first())
        .map_or(StatusCode::OK, |e| e.status);
    let (problems, kept) = match refused {
        Some((es, v)) => (es, v),
        None => (Vec::new(), UserValues::default()),
    };
    let errors = if problems.is_empty() {
        FormErrors::default()
    } else {
        field_errors_all(&problems)
    };
    Ok((status, page(
        "Portal Users",
        Some(&u),
        html! {
            p.count { "Number of Total Results # " (list.len()) }
            table.cards {
                caption { "Portal users" }
                thead { tr { th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Certified" } th scope="col" { "Accounts" } th scope="col" { "Active" } th scope="col" { "Actions" } } }
                tbody { @for x in &list { tr {
                    td data-label="E-mail" { (x.email) }
                    td data-label="Role" { (role_name(x.role)) }
                    td data-label="Certified" { @if x.certified { "Yes" } @else { "No" } }
                    td data-label="Accounts" { @if x.role == Role::Staff { "(all)" } @else { (x.accounts.join(", ")) } }
                    td data-label="Active" { @if x.active { "Yes" } @else { "No" } }
                    td.actions {
                        a href={ "/users/" (x.id) "/edit" } { "Edit" span.sr { " " (x.email) } }
                        " "
                        @if x.id != u.caller.user.id {
                            @if x.active {
                                a href={ "/users/" (x.id) "/disable" } { "Disable" span.sr { " " (x.email) } }
                            } @else {
                                form.inline method="post" action={ "/users/" (x.id) "/active" } {
                                    (csrf_field(&u))
                                    input type="hidden" name="active" value="yes";
                                    button type="submit" { "Enable" span.sr { " " (x.email) } }
                                }
                            }
                        }
                    }
                } } }
            }
            h2 id="add" { "Add a portal user" }
            (errors.summary())
            form.card method="post" action="/users" novalidate {
                (csrf_field(&u))
                (labelled("email", "E-mail address", &errors, html! {
                    input id="u-email" name="email" type="email" required autocomplete="off" value=(kept.email)
                        aria-invalid=[invalid(&errors, "email")] aria-describedby=[described(&errors, "email")];
                }))
                (user_fields(&kept, &accounts, &errors))
                (labelled("password", &format!("Password (at least {} characters)", auth::MIN_PASSWORD), &errors, html! {
                    input id="u-password" name="password" type="password" required autocomplete="new-password"
                        aria-invalid=[invalid(&errors, "password")] aria-describedby=[described(&errors, "password")];
                }))
                label for="u-password2" { "The same password again" }
                input id="u-password2" name="password2" type="password" required autocomplete="new-password";
                button type="submit" { "Add user" }
            }
        },
    )).into_response())
}

/// The form to add a portal user. The passwords are taken as typed (never trimmed) and
/// never shown.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    email: String,
    role: String,
    certified: String,
    /// The accounts chosen (a multi-select: one key per account).
    account: Vec<String>,
    password: String,
    password2: String,
}

impl std::fmt::Debug for NewUserForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserForm")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// `POST /users` (staff): add a portal user.
pub async fn add_user(
    State(st): State<Arc<AppState>>,
    CsrfForm(u, p): CsrfForm<NewUserForm>,
) -> PageResult {
    u.caller.require_manage_users()?;
    let g = |k: &str| match k {
        "email" => p.email.trim().to_string(),
        "role" => p.role.trim().to_string(),
        _ => String::new(),
    };
    let accounts: Vec<String> = p
        .account
        .iter()
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    let password = zeroize::Zeroizing::new(p.password.clone());
    let again = zeroize::Zeroizing::new(p.password2.clone());
    let kept = UserValues {
        email: g("email"),
        role: g("role"),
        certified: value(&p.certified).is_some(),
        accounts: accounts.clone(),
    };
    // Every field's problem at once, before anything is hashed or written.
    let mut problems = Vec::new();
    if let Err(e) = kept.check_email() {
        problems.push(e);
    }
    let role = kept.check().map_err(|e| problems.push(e)).ok();
    if password.chars().count() < auth::MIN_PASSWORD {
        problems.push(PortalError::bad_request(format!(
            "Password: use at least {} characters.",
            auth::MIN_PASSWORD
        )));
    } else if *password != *again {
        problems.push(PortalError::bad_request(
            "Password: The two passwords differ.",
        ));
    }
    let role = match role {
        Some(r) if problems.is_empty() => r,
        _ => return users_page(st, u, Some((problems, kept))).await,
    };
    let result: Result<axum::response::Response, PortalError> = async {
        let (pw, em) = (password.clone(), g("email"));
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&em, &pw))
            .await
            .map_err(PortalError::internal)?
            .map_err(|e| PortalError::bad_request(format!("Password: {e}")))?;
        let (email, certified, actor) = (g("email"), kept.certified, u.caller.actor());
        crate::once_done::page(
            &st,
            u.caller.clone(),
            "/users".into(),
            move |l, _, _, _| {
                Ok(
                    l.add_portal_user(&email, role, certified, &accounts, &hash, &actor)
                        .map(|_| ())?,
                )
            },
            |_| ("/users".into(), Some(Flash::Saved)),
        )
        .await
    }
    .await;
    match result {
        Ok(r) => Ok(r),
        Err(e) if e.status.is_client_error() => users_page(st, u, Some((vec![e], kept))).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /users/{id}/active` (staff): disable (ending their sessions) or enable a user.
pub async fn set_user_active(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<super::sites::ActiveForm>,
) -> PageResult {
    u.caller.require_manage_users()?;
    let id = id_of(&id)?;
    let active = yes_no(&p.active, "active")?;
    if id == u.caller.user.id && !active {
        return Err(PageError(PortalError::bad_request(
            "You cannot disable yourself.",
        )));
    }
    let actor = u.caller.actor();
    let r = crate::once_done::page(
        &st,
        u.caller.clone(),
        "/users".into(),
        move |l, _, _, _| {
            let target = l.portal_user(id)?.ok_or_else(PortalError::not_found)?;
            Ok(l.set_portal_user_active(&target.email, active, &actor)?)
        },
        |_| ("/users".into(), Some(Flash::Saved)),
    )
    .await?;
    if !active {
        st.sessions().remove_user(id).await;
    }
    Ok(r)
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users", get(users).post(add_user))
        .route("/users/{id}/active", post(set_user_active))
        .route(
            "/users/{id}/edit",
            get(super::users_edit::edit_form).post(super::users_edit::edit),
        )
        .route("/users/{id}/disable", get(super::users_edit::disable_form))
}
