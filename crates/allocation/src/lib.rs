//! What a licensed server does with its license: users, stations, organizations, assignable
//! and concurrent allocation, the license rules of the file, sessions with leases, reports
//! and compliance checks (Interaction Administrator's license management, modelled on the
//! PureConnect Licensing Technical Reference).
//!
//! An [`Allocator`] owns a store (one SQLite file). The activation file is loaded into it
//! through a [`verify::Verifier`] ([`Allocator::load`]); its bytes are kept in the store and
//! re-verified when the store is opened again, so a store never makes a server trust more
//! than its verifier does.
//!
//! ```
//! use std::sync::Arc;
//! use allocation::{Allocator, Method, Place, StationKind, Target};
//! use format::{sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp};
//! use hostid::{Components, HostId};
//! use verify::{HostSource, TrustStore, Verifier};
//!
//! let host = HostId::from_components(&Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     ..Default::default()
//! })?;
//! let vendor = SecretKey::generate();
//! let now = Timestamp::now();
//! let id = FileId::random();
//! let lic = |name: &str, assigned, pooled| LicenseCount { name: name.into(), assigned, pooled };
//! let activation = Activation {
//!     file_id: id, supersedes: None, chain: Some(Chain::first(id)),
//!     product: "CIC".into(), product_version: "4.0".into(),
//!     license_type: LicenseType::Production, issued_at: now, valid_from: now,
//!     expires_at: Timestamp::PERPETUAL, grace_days: 0, generated_by: "Work Test80".into(),
//!     sold_to: "Contoso".into(), install_site: "HQ".into(),
//!     primary_host: Host { host_id: host, machine: "ic1".into(), install_key: None }, switchover_host: None,
//!     system_type: String::new(), mail_connector: String::new(), bundle: String::new(),
//!     description: String::new(), features: vec![],
//!     licenses: vec![lic("I3_ACCESS_CLIENT", 5, 2), lic("I3_LICENSE_BASIC_STATION", 5, 2)],
//!     ordered_items: vec![], restrictions: vec![], rules: Default::default(),
//! };
//! let file = sign(&activation, &vendor)?;
//!
//! // The server: its verifier, its store.
//! let verifier = Verifier::for_product(TrustStore::new([vendor.public_key().clone()])?, "CIC", "4.0")
//!     .host(HostSource::Code(host));
//! let dir = tempfile::tempdir()?;
//! let alloc = Allocator::open(dir.path().join("allocation.db"), verifier)?;
//! alloc.load(file.as_bytes())?;
//!
//! alloc.add_station("desk-1", StationKind::Workstation)?;
//! alloc.allocate(Target::Station("desk-1"), &["I3_LICENSE_BASIC_STATION"])?;
//! alloc.add_user("alice", Method::Concurrent, None)?;
//! alloc.allocate(Target::User("alice"), &["I3_ACCESS_CLIENT"])?; // configured, not consumed
//! let session = alloc.login("alice", Place::Station("desk-1".into()), None)?;
//! assert_eq!(session.acquired, ["I3_ACCESS_CLIENT"]);
//!
//! let report = alloc.report()?;
//! let client = report.keys.iter().find(|k| k.name == "I3_ACCESS_CLIENT").unwrap();
//! assert_eq!((client.concurrent_allowed, client.concurrent_configured, client.concurrent_in_use), (2, 1, 1));
//! assert!(alloc.check_compliance()?.is_empty());
//! alloc.logout(&session.id)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The rules
//!
//! Counts come from the loaded file: `assigned` is *assignable allowed*, `pooled` is
//! *concurrent allowed* for user licenses and, for Basic Station, the pool of dynamic remote
//! station logons.
//!
//! - **Users and stations.** A user has one method, assignable or concurrent, and all its
//!   licenses are of that method. Stations hold assignable licenses only. Basic Station
//!   ([`BASIC_STATION`]) is always station-only and assignable-only (its pooled count is the
//!   dynamic remote pool); any other key is station-only, user-only, assignable-only or
//!   concurrent-only exactly as the file's rules say ([`format::Rules::holders`],
//!   [`format::Rules::methods`]); a key without a rule may be held by both, by either method.
//! - **Assignable** (assignable users, stations): consumed when allocated, whether or not
//!   anyone is logged on; released when deallocated or when the user or station is removed.
//!   A station's licensing can be disabled (its licenses stop counting, its settings are
//!   kept) and enabled again (all its licenses must be available again, else refused).
//! - **Concurrent** (concurrent users): allocating only *configures* a key (refused when the
//!   file grants none pooled); nothing is consumed until logon. At logon every configured key
//!   is acquired from the pool at once, all or nothing; the licenses come back at logoff or
//!   when the session's lease lapses. A key configured during a session is acquired at the
//!   next logon; one removed stays held by the live session until it ends.
//! - **Sessions and leases.** Every logon has a lease ([`DEFAULT_LEASE_SECS`], 10 minutes,
//!   at most [`MAX_LEASE_SECS`]) that [`Allocator::heartbeat`] renews; a session not renewed
//!   in time lapses and counts for nothing (it is purged by the next change). A user has at
//!   most one live session: logging on again at the same place (the same station, the same
//!   remote number, or no station) reuses it and its licenses, renewing the lease; logging
//!   on anywhere else ends the previous session first (in the same transaction).
//! - **Stations.** A logon at a station needs the station's licensing enabled and a Basic
//!   Station allocated to it, and Client Access or ACD Access ([`CLIENT_KEYS`]) on the user
//!   or on the station; while logged on, the user holds the station exclusively (another
//!   user's logon there is refused, exit 21).
//! - **In use by a session.** While a user is logged on, the licenses of the station she is
//!   logged on at and, for an assignable user, her own are in use by the session: a
//!   deallocation from that station or user is refused (exit 21, [`AllocError::InUse`], kind
//!   `in-use`, naming the session), so a license never serves a session and another holder
//!   at once. [`Allocator::deallocate_with`] and [`InUse::EndSession`] (`licadmin deallocate
//!   --force`) end the session first, in the same transaction (a deallocation refused for
//!   another reason ends nothing). Removing a user or a station, or disabling a station,
//!   ends its session (its licenses come back with it). A concurrent user's keys are only
//!   configured: one deallocated during a session stays held by the session until it ends.
//! - **Session licenses** (keys named `*_SESSION_ADDON`, [`session_kind`]): never held by a
//!   user or a station (holder rule); an application checks one out per connection
//!   ([`Allocator::checkout`]) and returns it when the connection closes. A concurrent
//!   session key counts open checkouts, the time-based Interaction Mobilizer key the
//!   connections of the last [`TIME_BASED_WINDOW_SECS`]; both against assigned plus pooled.
//! - **Dynamic remote** logons (a phone number, no station): a Basic Station from the pool,
//!   else an assignable Basic Station no station holds, else refused (21); within the user's
//!   organization's maximum and outside the other organizations' reserves, as any license
//!   a user takes. No Client Access is needed.
//! - **Organizations.** The organization license ([`ORGANIZATION_KEY`]; assigned plus
//!   pooled) limits how many exist. Per organization and key, a *maximum* caps what its
//!   users use (assignable allocations plus licenses held by live sessions, a dynamic remote
//!   logon's Basic Station included) and may not be above the system's count (assigned plus
//!   pooled) nor below current use; a *minimum* is
//!   reserved: anyone outside the organization is refused the last licenses of the key's
//!   whole count while they are needed to cover the organizations' unused minimums.
//!   The organization license itself is counted by organizations only: allocating it to a
//!   user or a station is refused (holder rule, exit 22). An organization is removed
//!   ([`Allocator::remove_organization`]) only once no user belongs to it (exit 21, naming
//!   them).
//! - **Administrator's settings** ([`Allocator::edit_user`]): a user's method changes only
//!   while it holds no license (rule `method`, naming them); its licensing (Enable Licenses)
//!   off ends its session and keeps its licenses as settings, uncounted, and on gives back
//!   those still available and allowed, naming the rest; its right to a dynamic remote logon
//!   ("User-defined Telephone Number on Remote Login", allowed by default) denied refuses
//!   such a logon (rule `right`). A user or station is added with its licenses in one
//!   transaction ([`Allocator::add_user_with`], [`Allocator::add_station_with`]), a whole
//!   site from a CSV file ([`Allocator::import`], all or nothing, errors at a line and
//!   column). A station with its licensing on and no Basic Station is warned about when it
//!   is configured ([`Allocator::station_warnings`]).
//! - **Workgroups** ([`Allocator::add_workgroup`]): the media types each routes
//!   ([`MEDIA_TYPES`]); a member whose ACD Media level (1, 2, 3+, on the user, the station
//!   or the session) covers fewer types than its workgroups route together logs on with a
//!   warning naming the types it will not receive ([`Session::warnings`]). A logon that ends
//!   the user's session elsewhere names it ([`Session::replaced`]).
//! - **requires** (X needs one of Y1..Yn): checked on the holder's keys after the change,
//!   the keys being allocated included: for assignable holders what is allocated, for
//!   concurrent users what is configured. Deallocating a Y that a held X still needs is
//!   refused.
//! - **implies** (X brings Y): allocating X allocates the whole closure of X to the same
//!   holder, each implied key consumed and checked like X, all or nothing. The store records
//!   whether a key was allocated explicitly or came by implication only: deallocating X
//!   removes the keys that came only with X and that no remaining key implies; a key also
//!   allocated on its own stays. Deallocating Y alone while a held X implies it is refused.
//!   Deallocation obeys the stored file's rules even when the verifier cannot use that file
//!   (see "Identity, history and clock").
//! - **excludes**: no holder holds two keys of a set; the closure of what is allocated is
//!   checked against what the holder holds.
//!
//! The rules are indexed once per loaded file, and an operation walks the `implies` rules
//! once for the closure of all its keys (twice for a deallocation: what the removed keys
//! bring, what the kept keys bring), so its work is linear in the rules, whatever their
//! shape; the file carries at most [`format::MAX_RULES`] rules, of at most
//! [`format::MAX_RULE_KEYS`] keys each.
//!
//! Refusals: a rule is exit 22 ([`AllocError::Rule`], with its [`RuleKind`]); no license
//! left is exit 21. A refused operation changes nothing.
//!
//! # Loading a new file, compliance
//!
//! [`Allocator::load`] verifies the file with the verifier (trusted key, signature, host,
//! product and version, validity window, and, when the verifier keeps a state file, the
//! clock and rollback), then checks it against the store: its identity (below; exit 12 or
//! 11), the same product as the stored file, and no rollback against the store's history
//! (exit 16). On failure the stored license stays and the error says why. On success every allocation and session is kept. A key whose new
//! count is below what is allocated or in use is **out of compliance**: nothing is taken
//! away, the [`LoadReport`] and the [`Report`]'s notes say by how much, and new allocations
//! or acquisitions of that count are refused (21, kind `out-of-compliance`) until use is back
//! within the license. [`Allocator::preview`] answers the same question for a file without
//! loading it.
//!
//! [`Allocator::check_compliance`] returns one [`ComplianceEvent`] per exceeded count (key,
//! which count, licensed, in use) and nothing when compliant. A live session at a station
//! that runs without a Basic Station on the station, or without Client or ACD Access on the
//! user, the station or the session (a state no operation makes, only a store changed by
//! other means), counts as using one more assignable Basic Station or Client Access. Each
//! event is also emitted as a `tracing` error with target **`i3lic::allocation`**, field
//! `event = "out-of-compliance"` and fields `key`, `count`, `licensed`, `in_use`.
//!
//! # Identity, history and clock
//!
//! A store remembers what a single command's options must not decide
//! ([`Allocator::identity`], `licadmin store show`):
//!
//! - **Identity.** The first load records the hosts the store serves (the hosts its file
//!   names: the primary host and, for a switchover pair, the switchover host) and the keys it
//!   trusts (the verifier's trust store). A later file must name every one of those hosts
//!   (tolerant matching, either code form), else [`AllocError::StoreHostMismatch`] (exit 12),
//!   and be signed by one of those keys, else [`AllocError::StoreUntrustedKey`] (exit 11),
//!   whatever the verifier was given. [`Allocator::retarget`] (`licadmin store retarget`) is
//!   the administrator's explicit change, recorded in the store's log with what it replaced.
//!   A store made before schema version 3 adopts the identity of its loaded file (the hosts it
//!   names and the key that signed it, whose signature must check against the verifier's
//!   trusted keys) when it is opened, or at the next load or deallocation.
//! - **Rollback history.** The newest generation accepted per lineage (at most
//!   [`MAX_LINEAGES`]), the files superseded (at most [`MAX_SUPERSEDED`]) and the newest
//!   file's issuance, checked and recorded by the rules of `verify`'s state file
//!   (docs/FORMAT.md section 13): an older generation, another file of the accepted
//!   generation, a superseded file or a version-1 file issued before the newest is refused
//!   (exit 16), also after a file of another lineage was loaded in between.
//! - **Clock.** Every change records the verifier's time as the latest time seen (it never
//!   goes back). When the clock reads more than [`CLOCK_TOLERANCE_SECS`] (24 hours, the
//!   tolerance of `verify`'s state file) earlier, whatever uses the license (allocation,
//!   logon, heartbeats, reports, [`Allocator::check`], [`Allocator::load`], [`Allocator::preview`]) is
//!   refused with [`AllocError::ClockSetBack`] (exit 14); within the tolerance the stored
//!   file is checked at the latest time seen, so a clock set back cannot stretch an expiry.
//! - **The stored file's rules.** The key that signed the loaded file is kept beside it;
//!   [`Allocator::deallocate`] takes the requires and implies rules from the stored bytes
//!   checked against that key, whatever the verifier's trust, host or time, so a command run
//!   with other options cannot remove what a held key needs.
//!
//! # The store
//!
//! The store sits behind the storage interface of the `store` crate, on either engine
//! ([`StoreLocation`], `licadmin --store PATH|URL`): one SQLite file for one server, or a
//! PostgreSQL database (`postgres://` or `postgresql://` URL, [`Allocator::open_at`]) for a
//! switchover pair or several servers sharing one pool. Every rule is in engine-free code
//! above it; the SQL is written once for both engines, and the schema is a set of migration
//! files per engine (`migrations/sqlite`, `migrations/postgres`; PostgreSQL stores start at
//! schema 3). On PostgreSQL, writers of one store are serialised by an advisory lock as
//! `BEGIN IMMEDIATE` serialises them on SQLite, and the counters are kept by the same
//! triggers. [`copy_store`] (`licadmin store copy DST`) copies a whole store into an empty
//! one of either engine in one transaction (a target that is not empty: exit 24, left as it
//! was).
//!
//! On SQLite: one SQLite file (WAL, `synchronous = FULL`, foreign keys, `application_id` "i3la" so
//! another program's database is refused and left alone), created with mode 0600 in a 0700
//! folder. The default path is [`default_store_path`]: `$I3LIC_STORE`, else
//! `$XDG_DATA_HOME/i3lic/allocation.db`, else `~/.local/share/i3lic/allocation.db`. A path
//! that is not a regular file (a folder, a FIFO, a device) is refused before SQLite opens it
//! ([`AllocError::Io`], exit 4). Any number of processes may create the same new store at
//! once: each identifies the file in one read transaction and the schema is made once.
//! Tables: `license` (the loaded file's bytes, chain position and signer), `ceilings` (what was in use above
//! the counts at the last load), `orgs`, `org_limits`, `users`, `stations`, `user_grants`
//! and `station_grants` (key, explicit or implied), `sessions` (one per user and per station,
//! with lease and expiry), `session_licenses` (what each session acquired, from which
//! count), and two tables of counters kept by triggers: `usage_counts` (what is consumed of
//! each count of each key) and `configured_counts` (what is configured of each key), and the
//! identity and history: `store_hosts`, `store_keys`, `store_state` (latest time seen, newest
//! file), `lineages`, `superseded` and `admin_log`. Deciding
//! availability is one lookup, and [`Allocator::report`] and [`Allocator::check_compliance`]
//! read a handful of counter rows (less the licenses of lapsed sessions not yet purged),
//! whatever the number of users, stations and sessions.
//!
//! The usage history (`usage_events`, `usage_peaks`, `usage_denials`, `usage_licensed`,
//! `history_state`; schema 7) records every acquisition, release, denial, load and
//! administrator change in the transaction of the change, and keeps per-hour and per-day
//! peaks, denials and licensed counts for [`Allocator::usage`] and [`Allocator::events`]
//! (`licadmin usage`, `licadmin log`), for [`RETENTION_DAYS`].
//!
//! The schema version is [`SCHEMA_VERSION`] (`PRAGMA user_version`, 8). A store of an older
//! version is migrated when it is opened, in one transaction (version 1 to 2 adds
//! `configured_counts` and fills it from the grants; version 2 to 3 adds the identity and
//! history tables, the history seeded from the loaded file; version 3 to 4 adds the license
//! server's `tokens` and `ended_sessions`; version 4 to 5 adds `checkouts`, the session
//! licenses applications check out; 5 to 6 the users' settings, their kept licenses and the
//! ACD workgroups; 6 to 7 the usage history; 7 to 8 the store's install key and the lineages
//! it released); a store of a newer version is refused, exit 3.
//!
//! The license server (`licadmin serve`) keeps its state in the store too, so every server
//! on one store agrees: bearer tokens ([`Allocator::create_token`], kept as SHA-256 digests
//! and checked in constant time by [`Allocator::check_token`]) and, for a day, why each
//! session ended ([`Allocator::session_end`]: logged off, lease lapsed, logged on
//! elsewhere, user or station removed, station disabled, licenses removed), so a client
//! whose heartbeat comes too late is told why. [`Allocator::release_lapsed`] ends lapsed
//! sessions at once (the server's reaper); every change does it first anyway.
//!
//! Every change is one write transaction (SQLite's `BEGIN IMMEDIATE`) that first purges lapsed sessions, then
//! checks and writes; other processes wait up to [`BUSY_TIMEOUT`]. So no sequence of
//! operations from any number of threads or processes can make what is used of a count
//! exceed it, or break a rule, and a process killed at any point (SIGKILL included) leaves
//! the store as it was before or after its change: every change, sessions included, is
//! committed with `synchronous = FULL`, so what a command reported done survives a power
//! failure too (as far as the disk honours `fsync`). A server linking the library should not
//! open the store's files itself while it has an `Allocator` on them: closing any descriptor
//! of a file drops every POSIX lock the process holds on it, SQLite's included (the
//! allocator itself never does).
//!
//! [`Allocator::check`] (`licadmin check`, exit 1 when anything is wrong) verifies every
//! invariant over the whole store: SQLite's integrity check and foreign keys (PostgreSQL
//! enforces its keys at every commit), the stored
//! file's bytes verified again and agreeing with the columns kept beside them, both counter
//! tables against the rows, what is in use against the file's counts (above them only as
//! recorded at the last load), every holder's keys against the rules, every session (lease,
//! place, what it acquired, and at a station the Basic Station and Client or ACD Access it
//! runs on), the organizations' caps, every name, and the identity's records (the signer kept
//! beside the stored file signed it, the stored file is not below its lineage's accepted
//! generation, the clock record is there).
//!
//! Names of users, stations and organizations are 1 to [`MAX_NAME_LEN`] bytes, without
//! blanks at either end and without the characters no name may hold (controls, bidirectional
//! overrides and isolates, zero-width characters, line separators:
//! `format::text::is_refused_char`), which are named with their position ([`validate_name`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod allocator;
mod batch;
mod batch_license;
mod batch_logon;
mod batch_sessions;
mod checkouts;
mod copy;
mod error;
mod granted;
mod history;
mod identity;
mod import;
mod import_users;
mod in_use;
mod install_key;
mod key_names;
mod model;
mod reader;
mod release;
mod reload;
mod rules;
mod storage;
mod tokens;
mod usage;
mod views;
mod workgroups;

pub use admin::{NotRestored, StationAdded, UserEdit, UserEdited};
pub use allocator::Allocator;
pub use batch::{BatchDone, BatchOp, Logon};
pub use checkouts::{
    session_kind, Checkout, SessionKind, SESSION_KEY_SUFFIX, TIME_BASED_SESSION_KEYS,
    TIME_BASED_WINDOW_SECS,
};
pub use copy::{copy_store, CopyReport};
pub use error::{AllocError, Entity, RuleKind};
pub use history::{EventKind, UsageEvent, PURGE_EVERY_SECS, RETENTION_DAYS};
pub use identity::{
    AcceptedLineage, LogEntry, StoreIdentity, TrustedKey, CLOCK_TOLERANCE_SECS, MAX_LINEAGES,
    MAX_SUPERSEDED,
};
pub use import::{ImportKind, ImportReport, MAX_IMPORT_BYTES};
pub use in_use::{Deallocation, InUse};
pub use key_names::{key_description, key_descriptions};
pub use model::*;
pub use release::Release;
pub use storage::{
    default_store_path, StoreLocation, APPLICATION_ID, BUSY_TIMEOUT, SCHEMA_VERSION,
};
pub use tokens::{SessionEnd, TokenInfo, TokenSet, TOKEN_PREFIX};
pub use usage::{date_text, parse_date, Period, PoolCounts, UsageReport, UsageRow, MAX_PERIODS};
pub use views::{
    HostView, KeyChange, KeyView, LicenseChanges, LicenseKeyView, LicenseView, LoadView,
    LoadWarning, OrgEntry, OrgKey, OrgList, ReportView, RestrictionView, SessionEntry,
    StationEntry, StationLogon,
};
pub use workgroups::{Workgroup, MEDIA_TYPES};
