//! Portal users edited after they are added, and API tokens listed (never their secrets).

mod common;

use common::open;
use issuer::Role;

fn contoso_and_fabrikam(l: &mut issuer::Ledger) {
    l.add_account("Contoso", "t").unwrap();
    l.add_account("Fabrikam", "t").unwrap();
}

#[test]
fn a_user_is_edited_role_accounts_and_certified_with_an_audit_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    contoso_and_fabrikam(&mut l);
    let u = l
        .add_portal_user(
            "pat@contoso.example",
            Role::Customer,
            false,
            &["Contoso".to_string()],
            "$argon2id$x",
            "t",
        )
        .unwrap();
    let after = l
        .edit_portal_user(
            u.id,
            Role::Partner,
            true,
            &["Fabrikam".to_string(), "contoso".to_string()],
            "portal:boss@vendor.example",
        )
        .unwrap();
    assert_eq!(after.role, Role::Partner);
    assert!(after.certified);
    let mut accounts = after.accounts.clone();
    accounts.sort();
    assert_eq!(accounts, ["Contoso", "Fabrikam"]);
    assert_eq!(l.portal_user(u.id).unwrap().unwrap(), after);
    // Staff take no accounts, and are never "certified".
    let e = l
        .edit_portal_user(u.id, Role::Staff, true, &[], "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("--certified"), "{e}");
    let staff = l
        .edit_portal_user(u.id, Role::Staff, false, &[], "t")
        .unwrap();
    assert!(staff.accounts.is_empty());
    let e = l
        .edit_portal_user(999, Role::Staff, false, &[], "t")
        .unwrap_err();
    assert!(
        matches!(e, issuer::IssuerError::UnknownPortalUser { .. }),
        "{e}"
    );
}

#[test]
fn tokens_are_listed_for_everyone_or_one_user_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    contoso_and_fabrikam(&mut l);
    let accounts = ["Contoso".to_string()];
    let a = l
        .add_portal_user(
            "a@contoso.example",
            Role::Customer,
            false,
            &accounts,
            "$argon2id$x",
            "t",
        )
        .unwrap();
    let b = l
        .add_portal_user(
            "b@contoso.example",
            Role::Customer,
            false,
            &accounts,
            "$argon2id$x",
            "t",
        )
        .unwrap();
    let t1 = l
        .add_portal_token(&a.email, &[1; 32], "build server", "t")
        .unwrap();
    let t2 = l
        .add_portal_token(&b.email, &[2; 32], "laptop", "t")
        .unwrap();
    let t3 = l
        .add_portal_token(&a.email, &[3; 32], "backup", "t")
        .unwrap();
    l.revoke_portal_token(t1, "t").unwrap();
    let all: Vec<i64> = l
        .portal_tokens(None)
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(all, [t3, t2, t1]);
    let mine = l.portal_tokens(Some(a.id)).unwrap();
    assert_eq!(mine.iter().map(|t| t.id).collect::<Vec<_>>(), [t3, t1]);
    assert_eq!(mine[0].label, "backup");
    assert_eq!(mine[0].email, a.email);
    assert!(mine[0].revoked_at.is_none());
    assert!(mine[1].revoked_at.is_some());
    assert_eq!(l.portal_token(t2).unwrap().unwrap().user_id, b.id);
    assert!(l.portal_token(99).unwrap().is_none());
}

postgres_too!(
    a_user_is_edited_role_accounts_and_certified_with_an_audit_row,
    tokens_are_listed_for_everyone_or_one_user_newest_first
);
