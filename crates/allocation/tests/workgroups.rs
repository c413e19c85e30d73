//! ACD workgroups and the ACD media levels (seed 001, "ACD Workgroup Queues" and "Notes for
//! ACD Routing of Multimedia").

mod common;

use allocation::{Method, Place, StationKind, Target};
use common::*;
use format::Rules;

const ACD2: &str = "I3_ACCESS_ACD_MEDIA_2";
const ACD3: &str = "I3_ACCESS_ACD_MEDIA_3_PLUS";
/// The seed's warning, as the logon words it.
const LIMITS: &str =
    "the system limits the ACD interaction types that the user receives until you resolve the licensing problem";

fn site() -> Env {
    let env = env(&file(
        &[
            (CLIENT, 5, 5),
            (ACD1, 5, 5),
            (ACD2, 5, 5),
            (ACD3, 5, 5),
            (BASIC, 5, 0),
        ],
        Rules::default(),
    ));
    env.alloc
        .add_workgroup("support", &["call", "email", "chat"])
        .unwrap();
    env.alloc.add_workgroup("sales", &["call"]).unwrap();
    env
}

// Seed 001: "Media 3 Plus: Allows three or more interactions at a specified time. Valid
// Interaction Types are: Call/Callback, Chat, Email, and Generic."
#[test]
fn a_workgroups_media_types_are_the_seeds_interaction_types() {
    let env = env(&file(&[(CLIENT, 1, 0)], Rules::default()));
    let a = &env.alloc;
    let w = a
        .add_workgroup("support", &["Email", "callback", "call", "generic"])
        .unwrap();
    assert_eq!(w.media, vec!["call", "email", "generic"]);
    for bad in [&["fax"][..], &["call", "sms"][..], &[][..]] {
        let e = a.add_workgroup("other", bad).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{bad:?}: {e}");
    }
    let e = a.add_workgroup("support", &["chat"]).unwrap_err();
    assert_eq!(e.kind(), "already-exists");
    let e = a.add_workgroup_member("nowhere", "alice").unwrap_err();
    assert_eq!(e.kind(), "unknown-workgroup");
    assert_eq!(e.exit_code(), 20);
}

#[test]
fn members_are_added_once_and_removed_and_listed() {
    let env = site();
    let a = &env.alloc;
    for u in ["bob", "alice"] {
        a.add_user(u, Method::Assignable, None).unwrap();
        a.add_workgroup_member("support", u).unwrap();
    }
    a.add_workgroup_member("support", "alice").unwrap();
    let list = a.workgroups().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].name, "support");
    assert_eq!(list[1].members, vec!["alice", "bob"]);
    assert_eq!(list[1].media, vec!["call", "chat", "email"]);
    a.remove_workgroup_member("support", "bob").unwrap();
    let e = a.remove_workgroup_member("support", "bob").unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    // A removed user leaves its workgroups.
    a.remove_user("alice").unwrap();
    assert!(a.workgroups().unwrap()[1].members.is_empty());
}

// Seed 001, Notes for ACD Routing of Multimedia: "If you configure a user with a Media 1 level
// ACD Access License and the user is a member of a workgroup queue that supports other media
// types, when the user logs on to the client, the system determines this user doesn't have
// sufficient licensing to receive all the media types available in the workgroup. A warning
// message appears, stating that the system limits the ACD interaction types that the user
// receives until you resolve the licensing problem."
#[test]
fn a_media_1_user_in_a_multimedia_workgroup_is_logged_on_with_a_warning_naming_what_it_misses() {
    let env = site();
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT, ACD1]).unwrap();
    a.add_workgroup_member("support", "alice").unwrap();
    let s = a.login("alice", Place::Nowhere, None).unwrap();
    assert_eq!(s.warnings.len(), 1, "{s:?}");
    let w = &s.warnings[0];
    assert!(w.contains(LIMITS), "{w}");
    assert!(w.contains("ACD Media 1"), "{w}");
    assert!(w.ends_with("it will not receive chat, email"), "{w}");
    // The same place again: the renewed session warns too.
    let again = a.login("alice", Place::Nowhere, None).unwrap();
    assert_eq!(again.warnings, s.warnings);
    // Out of the multimedia workgroup, in a calls-only one: nothing to warn about.
    a.logout(&s.id).unwrap();
    a.remove_workgroup_member("support", "alice").unwrap();
    a.add_workgroup_member("sales", "alice").unwrap();
    assert!(a
        .login("alice", Place::Nowhere, None)
        .unwrap()
        .warnings
        .is_empty());
}

// Seed 001: "a warning message appears to an ACD Media Level 2 user if all the interaction
// types of the workgroups the user is a member of are not available in the Level 1 or Level 2
// user licensing configuration."
#[test]
fn the_media_types_of_all_the_users_workgroups_count_together() {
    let env = site();
    let a = &env.alloc;
    a.add_workgroup("chat-desk", &["chat"]).unwrap();
    a.add_workgroup("mail-desk", &["email"]).unwrap();
    a.add_user("bob", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT, ACD2]).unwrap();
    a.add_workgroup_member("sales", "bob").unwrap();
    a.add_workgroup_member("chat-desk", "bob").unwrap();
    let s = a.login("bob", Place::Nowhere, None).unwrap();
    assert!(s.warnings.is_empty(), "two types for Media 2: {s:?}");
    a.add_workgroup_member("mail-desk", "bob").unwrap();
    let s = a.login("bob", Place::Nowhere, None).unwrap();
    assert_eq!(s.warnings.len(), 1, "{s:?}");
    assert!(
        s.warnings[0].contains("(chat-desk, mail-desk, sales)"),
        "{s:?}"
    );
    assert!(
        s.warnings[0].ends_with("it will not receive email"),
        "{s:?}"
    );
}

// Seed 001: "Media 3: You can select more than two (2) types of interactions to queue to the
// agent. Agents can be members of any workgroup queue." The level may be on the station
// (the station's Licensing tab has the Media levels too).
#[test]
fn media_3_plus_on_the_user_or_the_station_receives_every_type() {
    let env = site();
    let a = &env.alloc;
    a.add_user("carol", Method::Assignable, None).unwrap();
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.add_workgroup_member("support", "carol").unwrap();
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("desk-1"), &[BASIC, ACD3])
        .unwrap();
    a.add_station("desk-2", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("desk-2"), &[BASIC]).unwrap();
    let s = a
        .login("carol", Place::Station("desk-1".into()), None)
        .unwrap();
    assert!(s.warnings.is_empty(), "{s:?}");
    // At a station without a level, and none of its own: every type is missed.
    let s = a
        .login("carol", Place::Station("desk-2".into()), None)
        .unwrap();
    assert_eq!(s.warnings.len(), 1, "{s:?}");
    assert!(s.warnings[0].contains("no ACD Media license"), "{s:?}");
    assert!(
        s.warnings[0].ends_with("it will not receive call, chat, email"),
        "{s:?}"
    );
    a.logout(&s.id).unwrap();
    a.allocate(Target::User("carol"), &[ACD3]).unwrap();
    let s = a
        .login("carol", Place::Station("desk-2".into()), None)
        .unwrap();
    assert!(s.warnings.is_empty(), "{s:?}");
}

postgres_too!(
    a_workgroups_media_types_are_the_seeds_interaction_types,
    members_are_added_once_and_removed_and_listed,
    a_media_1_user_in_a_multimedia_workgroup_is_logged_on_with_a_warning_naming_what_it_misses,
    the_media_types_of_all_the_users_workgroups_count_together,
    media_3_plus_on_the_user_or_the_station_receives_every_type,
);
