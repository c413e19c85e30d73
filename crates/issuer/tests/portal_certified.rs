//! Who may be certified: customers and partners (seed 001, "Who Can Generate Licenses":
//! only a certified individual generates); staff always may, so a certified staff user is
//! refused as a mistake.

mod common;

use common::open;
use issuer::Role;

#[test]
fn customers_and_partners_may_be_certified_and_staff_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    l.add_account("Contoso", "t").unwrap();
    let accounts = ["Contoso".to_string()];
    for (email, role) in [
        ("cert@contoso.example", Role::Customer),
        ("pat@partner.example", Role::Partner),
    ] {
        let u = l
            .add_portal_user(email, role, true, &accounts, "$argon2id$x", "t")
            .unwrap();
        assert!(u.certified, "{email}");
    }
    let e = l
        .add_portal_user(
            "boss@vendor.example",
            Role::Staff,
            true,
            &[],
            "$argon2id$x",
            "t",
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("customer and partner"), "{e}");
}
