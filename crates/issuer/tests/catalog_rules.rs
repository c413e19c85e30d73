//! The license rules of the catalogs, each against the seed sentence it comes from (quoted
//! beside the test), and their enforcement when a file is planned and issued: a file that
//! breaks a rule is refused (`IssuerError::RuleViolated`, exit 22) before anything is
//! recorded, in `issue`, `update` and batches.
//!
//! Tests that issue a file from the VCC or Natterbox example catalogs, or one with the
//! `I3_TENANT_IWP_ORGANIZATION` key, need format version 2 (which accepts license names
//! without the `I3_ACCESS_` / `I3_LICENSE_` prefixes); refusals never reach the format.

mod common;

use common::{add_orders, counts, ledger, pq, request, update_by, Units, SL03};
use format::{
    Excludes, Holder, Implies, KeyRule, LicenseType, Method, Requires, SecretKey, Timestamp,
};
use issuer::catalog::{EXAMPLE_NATTERBOX, EXAMPLE_VCC};
use issuer::{Catalog, IssueRequest, IssuerError, Ledger, SiteDetails};

const ANALYZER: &str = "I3_ACCESS_INTERACTION_ANALYZER";
const RECORDER: &str = "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT";

fn t0() -> Timestamp {
    "2024-03-01T12:00:00Z".parse().unwrap()
}

/// The rule and detail of a refusal, or a panic naming what came instead.
fn violation<T: std::fmt::Debug>(r: Result<T, IssuerError>) -> (String, String) {
    match r {
        Err(IssuerError::RuleViolated { rule, detail }) => (rule, detail),
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

/// Contoso with `orders` (perpetual) in the built-in catalog.
fn cic(dir: &std::path::Path, orders: &[(&str, u32)]) -> (Ledger, Catalog) {
    let (mut l, c) = ledger(dir);
    add_orders(&mut l, &c, orders, Units::Perpetual);
    (l, c)
}

fn cic_req(add: &[(&str, u32)]) -> IssueRequest {
    request(LicenseType::Production, SL03, add)
}

fn part(n: &str) -> String {
    format!("SW-001-4.0-{n}")
}

/// The request for the CIC 4.0 items `add` (short part names: `AA03`).
fn cic_add(add: &[(&str, u32)]) -> IssueRequest {
    let full: Vec<(String, u32)> = add.iter().map(|(p, q)| (part(p), *q)).collect();
    let refs: Vec<(&str, u32)> = full.iter().map(|(p, q)| (p.as_str(), *q)).collect();
    cic_req(&refs)
}

fn cic_orders(extra: &[(&str, u32)]) -> Vec<(String, u32)> {
    let mut v = vec![(SL03.to_string(), 5)];
    v.extend(extra.iter().map(|(p, q)| (part(p), *q)));
    v
}

fn with_orders(dir: &std::path::Path, extra: &[(&str, u32)]) -> (Ledger, Catalog) {
    let o = cic_orders(extra);
    let refs: Vec<(&str, u32)> = o.iter().map(|(p, q)| (p.as_str(), *q)).collect();
    cic(dir, &refs)
}

// ---------------------------------------------------------------------------------------------
// Every license of the seeds is in a catalog.

#[test]
fn every_license_named_in_the_seeds_is_in_a_catalog() {
    let cic = Catalog::built_in().unwrap();
    let vcc = Catalog::parse(EXAMPLE_VCC).unwrap();
    let nb = Catalog::parse(EXAMPLE_NATTERBOX).unwrap();
    let has = |c: &Catalog, name: &str| {
        let n = name.to_lowercase();
        c.licenses()
            .any(|l| l.key == name || l.description.to_lowercase().contains(&n))
            || c.has_feature(name)
    };
    // Seed 001: the access license types, the add-on and module table, the License
    // Allocation list, the session licenses and every key the seed prints.
    let seed_001 = [
        "Basic Station",
        "Client Access",
        "ACD Media 1",
        "ACD Media 2",
        "ACD Media 3",
        "ACD Access Social Media",
        "Direct Routed Work Items",
        "Group Routed Work Items",
        "Process Monitor",
        "Process Designer",
        "Analytics Core",
        "Analytics Designer",
        "Analytics Enterprise",
        "Interaction Analyzer Access",
        "Interaction Client Operator Add-On",
        "Interaction Client Outlook Add-In",
        "Interaction Dialer Add-On",
        "Interaction Feedback Access",
        "Interaction Optimizer Access Real-time Adherence",
        "Interaction Optimizer Client Access",
        "Interaction Optimizer Real-time Adherence Tracking",
        "Interaction Optimizer Schedulable",
        "Interaction Quality Manager",
        "Interaction Recorder Access",
        "Interaction Recorder Client Access",
        "Interaction Recorder Extreme Query",
        "Interaction Scripter",
        "Interaction Supervisor iPad Edition",
        "Interaction Supervisor Plug-in: Historical Reporting",
        "Interaction Supervisor Plug-In: Interaction Dialer",
        "Interaction Supervisor Plug-In: Reporting Assistant",
        "Interaction Supervisor Plug-In: System Status",
        "Interaction Supervisor Plug-In: Workgroup",
        "Interaction Tracker Access",
        "Salesforce Business User",
        "Salesforce Standard User",
        "Interaction Client Mobile Edition",
        "Interaction Data Extractor",
        "EASYSCRIPTER_EDITOR",
        "EASYSCRIPTER_EXECUTOR",
        "EASYSCRIPTER_REPORTING",
        "MSCRM_INTEGRATION",
        "Unified Messaging",
        "Call Center Workstation",
        "Basic Session",
        "Advanced Session",
        "Conference Session",
        "Media Session",
        "Mobilizer",
        // Keys printed in the seed.
        "I3_ACCESS_ACD_MEDIA_1",
        "I3_ACCESS_ACD_MEDIA_3_PLUS",
        "I3_ACCESS_ANALYTICS_CORE",
        "I3_ACCESS_ANALYTICS_DESIGNER",
        "I3_ACCESS_ANALYTICS_ENTERPRISE",
        "I3_ACCESS_CLIENT",
        "I3_ACCESS_DIALER_SUPERVISOR_PLUGIN",
        "I3_ACCESS_HISTORICAL_REPORT_SUPERVISOR_PLUGIN",
        "I3_ACCESS_INTERACTION_SCRIPTER_ADDON",
        "I3_ACCESS_IPA_DESIGNER",
        "I3_ACCESS_IPA_MONITOR",
        "I3_ACCESS_IPA_USER",
        "I3_ACCESS_IPA_USER_ACD",
        "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
        "I3_ACCESS_REPORT_ASSISTANT_SUPERVISOR_PLUGIN",
        "I3_ACCESS_SYSTEM_STATUS_SUPERVISOR_PLUGIN",
        "I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN",
        "I3_LICENSE_ADVANCED_SESSION_ADDON",
        "I3_LICENSE_BASIC_STATION",
        "I3_LICENSE_CONFERENCE_SESSION_ADDON",
        "I3_LICENSE_MEDIA_SESSION_ADDON",
        "I3_FEATURE_VERSION_CIC",
        "I3_FEATURE_RWP_CITY",
        "I3_FEATURE_SIP",
        "I3_FEATURE_SMS",
        "I3_FEATURE_MEDIA_SERVERS",
        "I3_FEATURE_ADVANCED_SECURITY",
        "I3_FEATURE_SU_ALLOWED",
        // "Requires the Interaction Analyzer Real Time Server, Interaction Recorder Server".
        "I3_FEATURE_ANALYZER_REAL_TIME_SERVER",
        "I3_FEATURE_RECORDER_SERVER",
    ];
    // Seed 000: "Server, Organization, Agent User, Enterprise User, Scheduled Reports", the
    // IWP_Supervisor and IWP_Agent access licenses, and Marquee.
    let seed_000 = [
        "I3_FEATURE_IWP_SERVER",
        "I3_TENANT_IWP_ORGANIZATION",
        "Agent User",
        "Enterprise User",
        "Scheduled Reports",
        "Interaction Web Portal Supervisor",
        "Interaction Web Portal Agent",
        "Marquee",
    ];
    let seed_002 = [
        "VCC Agent",
        "VCC Supervisor",
        "VCC Wallboard",
        "VCC Admin",
        "Historical Analytics Viewer",
        "Historical Analytics Creator",
        "Accent Conversion",
        "enhanced noise cancellation",
    ];
    let seed_004 = [
        "CTI",
        "Freedom",
        "Service Cloud Voice",
        "Cloud PBX",
        "Contact Center",
        "Record",
        "PCI",
        "Insight",
    ];
    for (c, names) in [
        (&cic, &seed_001[..]),
        (&cic, &seed_000[..]),
        (&vcc, &seed_002[..]),
        (&nb, &seed_004[..]),
    ] {
        for n in names {
            assert!(has(c, n), "{n} is in no catalog");
        }
    }
    // Every licence of the catalogs is granted by some part, but the PCI licence "Currently
    // not in use".
    for c in [&cic, &vcc, &nb] {
        for l in c.licenses() {
            let granted = c.parts().any(|p| p.grants.iter().any(|g| g.key == l.key));
            assert!(granted || l.key == "NB_PCI", "no part grants {}", l.key);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 001 (PureConnect Licensing Technical Reference).

/// "You cannot configure a Basic Station license as Concurrent. You cannot allocate a Basic
/// Station license to users." And: "For Dynamic Remote stations, where you provide just a
/// phone number, CIC allocates a Basic Station license if any are available" (the
/// AL01 example: 0 assigned, 25 pooled).
#[test]
fn basic_station_is_station_only_never_concurrent_and_pools_dynamic_remote_stations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = with_orders(dir.path(), &[("AL01", 25)]);
    let bs = c.license("I3_LICENSE_BASIC_STATION").unwrap();
    assert_eq!(bs.holders, [Holder::Station]);
    assert_eq!(bs.methods, [Method::Assignable]);
    // The pooled count of a station-only key is the dynamic remote pool, not concurrency.
    let req = cic_add(&[("AL01", 25)]);
    let plan = l.check(&c, &req).unwrap();
    assert!(plan.rules.keys.contains(&KeyRule {
        key: "I3_LICENSE_BASIC_STATION".into(),
        holders: vec![Holder::Station],
        methods: vec![Method::Assignable],
    }));
    let issued = l
        .issue(&c, &req, &SecretKey::generate(), None, t0())
        .unwrap();
    assert!(!issued.bytes.is_empty());
}

/// "Process Monitor (user license only)", "Process Designer (user license only)"; and "If the
/// station is an IPA station, select this license and then specify one of the following
/// license types".
#[test]
fn ipa_monitor_and_designer_are_user_only_and_one_ipa_type_per_holder() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = with_orders(
        dir.path(),
        &[("AL08", 5), ("AL09", 5), ("AL10", 5), ("AL11", 5)],
    );
    let plan = l
        .check(
            &c,
            &cic_add(&[("AL08", 5), ("AL09", 5), ("AL10", 5), ("AL11", 5)]),
        )
        .unwrap();
    for k in ["I3_ACCESS_IPA_MONITOR", "I3_ACCESS_IPA_DESIGNER"] {
        assert_eq!(plan.rules.holders(k), [Holder::User], "{k}");
    }
    assert_eq!(
        plan.rules.holders("I3_ACCESS_IPA_USER"),
        [Holder::User, Holder::Station]
    );
    assert_eq!(
        plan.rules.excludes,
        vec![Excludes {
            keys: vec![
                "I3_ACCESS_IPA_DESIGNER".into(),
                "I3_ACCESS_IPA_MONITOR".into(),
                "I3_ACCESS_IPA_USER".into(),
                "I3_ACCESS_IPA_USER_ACD".into(),
            ]
        }]
    );
}

/// "Media 1: Allows one interaction type ... Media 2: Allows two ... Media 3 Plus: Allows
/// three or more": the ACD levels are mutually exclusive; a file of two levels carries the
/// set cut to them.
#[test]
fn acd_media_levels_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = with_orders(dir.path(), &[("AL04", 10), ("AL06", 10)]);
    let plan = l
        .check(&c, &cic_add(&[("AL04", 10), ("AL06", 10)]))
        .unwrap();
    assert_eq!(
        plan.rules.excludes,
        vec![Excludes {
            keys: vec![
                "I3_ACCESS_ACD_MEDIA_1".into(),
                "I3_ACCESS_ACD_MEDIA_3_PLUS".into()
            ]
        }]
    );
    let all = c.rules_for([
        "I3_ACCESS_ACD_MEDIA_1",
        "I3_ACCESS_ACD_MEDIA_2",
        "I3_ACCESS_ACD_MEDIA_3_PLUS",
    ]);
    assert_eq!(all.excludes[0].keys.len(), 3);
}

/// "Interaction Analyzer Access: Allows real-time word/phrase spotting on CIC calls recorded
/// with Interaction Recorder. Requires the Interaction Analyzer Real Time Server, Interaction
/// Recorder Server, and Interaction Recorder add-on access licenses."
#[test]
fn analyzer_requires_recorder_access_and_both_servers() {
    let dir = tempfile::tempdir().unwrap();
    let orders = [
        ("AA03", 10),
        ("AA14", 10),
        ("AL06", 5),
        ("RS01", 1),
        ("AZ01", 1),
    ];
    let (mut l, c) = with_orders(dir.path(), &orders);
    let key = SecretKey::generate();
    // No Recorder access at all.
    let (rule, detail) = violation(l.issue(&c, &cic_add(&[("AA03", 10)]), &key, None, t0()));
    assert!(
        rule.starts_with(&format!(
            "requires | {ANALYZER} | {RECORDER} (catalog line "
        )),
        "{rule}"
    );
    assert!(
        detail.contains(&format!(
            "10 assigned {ANALYZER} but only 0 assigned {RECORDER}"
        )),
        "{detail}"
    );
    // Not enough: every assigned Analyzer needs an assigned Recorder.
    let (_, detail) = violation(l.check(&c, &cic_add(&[("AA03", 10), ("AL06", 5)])));
    assert!(
        detail.contains("10 assigned") && detail.contains("only 5 assigned"),
        "{detail}"
    );
    // Enough Recorder access, summed over the parts that grant it; no server yet.
    let licensed = [("AA03", 10), ("AL06", 5), ("AA14", 5)];
    let (rule, detail) = violation(l.check(&c, &cic_add(&licensed)));
    assert!(
        rule.starts_with(&format!(
            "needs | {ANALYZER} | I3_FEATURE_ANALYZER_REAL_TIME_SERVER"
        )),
        "{rule}"
    );
    assert!(
        detail.contains("neither grants nor enables I3_FEATURE_ANALYZER_REAL_TIME_SERVER"),
        "{detail}"
    );
    let mut one_server = licensed.to_vec();
    one_server.push(("AZ01", 1));
    let (rule, _) = violation(l.check(&c, &cic_add(&one_server)));
    assert!(rule.contains("I3_FEATURE_RECORDER_SERVER"), "{rule}");
    // Nothing was recorded by the refusals.
    for p in ["AA03", "AL06", "AA14"] {
        assert_eq!(counts(&l, &c, &part(p)).unwrap().1, 0, "{p}");
    }
    // With both servers the file is issued; the servers' features are in it.
    let mut all = one_server.clone();
    all.push(("RS01", 1));
    let req = cic_add(&all);
    let plan = l.check(&c, &req).unwrap();
    assert!(plan
        .features
        .contains(&"I3_FEATURE_RECORDER_SERVER".to_string()));
    assert!(plan
        .features
        .contains(&"I3_FEATURE_ANALYZER_REAL_TIME_SERVER".to_string()));
    assert_eq!(
        plan.rules.requires,
        vec![Requires {
            key: ANALYZER.into(),
            any_of: vec![RECORDER.into()]
        }]
    );
    l.issue(&c, &req, &key, None, t0()).unwrap();
    assert_eq!(counts(&l, &c, &part("AA03")).unwrap().1, 10);
}

/// "Interaction Web Portal does not run without this license" (Server); "systems without the
/// I3_TENANT_IWP_ORGANIZATION license only have access to Interaction Marquee
/// functionality"; "To enable Scheduled Reports, install the Interaction Web Portal framework
/// and apply this license"; "Interaction Web Portal is not required to use Interaction
/// Marquee" (seed 000).
#[test]
fn web_portal_licenses_need_the_organization_and_server_licenses_but_marquee() {
    let dir = tempfile::tempdir().unwrap();
    let orders = [
        ("WP01", 1),
        ("WP02", 10),
        ("WP03", 5),
        ("WP04", 50),
        ("WP05", 1),
        ("WP06", 1),
    ];
    let (mut l, c) = with_orders(dir.path(), &orders);
    let org = "I3_TENANT_IWP_ORGANIZATION";
    for (add, needs) in [
        (
            &[("WP03", 5)][..],
            format!("needs | I3_ACCESS_IWP_SUPERVISOR | {org}"),
        ),
        (
            &[("WP04", 50)][..],
            format!("needs | I3_ACCESS_IWP_AGENT | {org}"),
        ),
        (
            &[("WP06", 1), ("WP01", 1)][..],
            format!("needs | I3_LICENSE_IWP_SCHEDULED_REPORTS | {org}"),
        ),
        (
            &[("WP02", 10)][..],
            format!("needs | {org} | I3_FEATURE_IWP_SERVER"),
        ),
        (
            &[("WP02", 10), ("WP06", 1)][..],
            "needs | I3_LICENSE_IWP_SCHEDULED_REPORTS | I3_FEATURE_IWP_SERVER".to_string(),
        ),
    ] {
        let (rule, _) = violation(l.check(&c, &cic_add(add)));
        assert!(rule.starts_with(&needs), "{add:?}: {rule}");
    }
    // Marquee alone.
    l.issue(
        &c,
        &cic_add(&[("WP05", 1)]),
        &SecretKey::generate(),
        None,
        t0(),
    )
    .unwrap();
    // The organization license is counted, never pooled.
    assert_eq!(c.license(org).unwrap().methods, [Method::Assignable]);
    assert_eq!(
        c.license("I3_ACCESS_IWP_AGENT").unwrap().holders,
        [Holder::User]
    );
}

/// The whole portal: server, 10 organizations, supervisors, agents, Marquee and Scheduled
/// Reports ("an outsourcer with 10 clients ... would need 10 Organization licenses").
/// Needs format version 2 (the I3_TENANT_ key).
#[test]
fn web_portal_with_organizations_is_issued() {
    let dir = tempfile::tempdir().unwrap();
    let items = [
        ("WP01", 1),
        ("WP02", 10),
        ("WP03", 5),
        ("WP04", 50),
        ("WP05", 1),
        ("WP06", 1),
    ];
    let (mut l, c) = with_orders(dir.path(), &items);
    let key = SecretKey::generate();
    let issued = l.issue(&c, &cic_add(&items), &key, None, t0()).unwrap();
    let a = format::UnverifiedFile::parse(&issued.bytes)
        .unwrap()
        .verify(key.public_key())
        .unwrap()
        .activation()
        .clone();
    assert_eq!(
        a.license("I3_TENANT_IWP_ORGANIZATION")
            .map(|x| (x.assigned, x.pooled)),
        Some((10, 0))
    );
    assert!(a.features.contains(&"I3_FEATURE_IWP_SERVER".to_string()));
}

// Rules seed 001 leaves open, chosen in the catalog (each says why beside it).

#[test]
fn chosen_rules_of_the_cic_catalog_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = with_orders(
        dir.path(),
        &[
            ("AL07", 5),
            ("AL04", 5),
            ("AA13", 5),
            ("AA15", 5),
            ("AA11", 5),
            ("AA12", 5),
            ("AA05", 5),
        ],
    );
    // ACD Social Media ("routed social media interactions") requires an ACD level.
    let (rule, _) = violation(l.check(&c, &cic_add(&[("AL07", 5)])));
    assert!(
        rule.starts_with("requires | I3_ACCESS_ACD_SOCIAL_MEDIA | I3_ACCESS_ACD_MEDIA_1,"),
        "{rule}"
    );
    l.check(&c, &cic_add(&[("AL07", 5), ("AL04", 5)])).unwrap();
    // Quality Manager ("score Interaction Recorder's recorded interactions") requires
    // Recorder Client Access.
    let (rule, _) = violation(l.check(&c, &cic_add(&[("AA13", 5)])));
    assert!(
        rule.starts_with("requires | I3_ACCESS_QUALITY_MANAGER | I3_ACCESS_RECORDER_CLIENT"),
        "{rule}"
    );
    l.check(&c, &cic_add(&[("AA13", 5), ("AA15", 5)])).unwrap();
    // Real-time adherence tracking is measured against a schedule.
    violation(l.check(&c, &cic_add(&[("AA11", 5)])));
    l.check(&c, &cic_add(&[("AA11", 5), ("AA12", 5)])).unwrap();
    // Dialer calls go to ACD agents.
    violation(l.check(&c, &cic_add(&[("AA05", 5)])));
    l.check(&c, &cic_add(&[("AA05", 5), ("AL04", 5)])).unwrap();
    // One Analytics tier, one Salesforce user kind; the Arbitrary licenses are
    // concurrent-only ("0" Assignable Allowed in the License Allocation list).
    let r = c.rules_for([
        "I3_ACCESS_ANALYTICS_CORE",
        "I3_ACCESS_ANALYTICS_ENTERPRISE",
        "I3_ACCESS_SALESFORCE_BUSINESS_USER",
        "I3_ACCESS_SALESFORCE_STANDARD_USER",
        "I3_ACCESS_ARBITRARY_MSCRM_INTEGRATION",
    ]);
    assert_eq!(r.excludes.len(), 2);
    assert_eq!(
        r.methods("I3_ACCESS_ARBITRARY_MSCRM_INTEGRATION"),
        [Method::Concurrent]
    );
}

/// The seed's View License example (SL03, AL02 x50, AL06 x120, PL04 x100, PL06 x100,
/// PL09 x120: "I3_ACCESS_SYSTEM_STATUS_SUPERVISOR_PLUGIN (10 assigned, 6 pooled)" beside
/// "I3_ACCESS_CLIENT (170 assigned, 0 pooled)") keeps issuing: no rule is laid on the
/// Supervisor plug-ins, which the seed pools without pooled Client Access.
#[test]
fn the_seed_view_license_file_keeps_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let items = [
        ("AL02", 50),
        ("AL06", 120),
        ("PL04", 100),
        ("PL06", 100),
        ("PL09", 120),
    ];
    let (l, c) = with_orders(dir.path(), &items);
    let plan = l.check(&c, &cic_add(&items)).unwrap();
    assert_eq!(
        plan.rules,
        c.rules_for(plan.licenses.iter().map(|x| x.name.as_str()))
    );
    assert_eq!(
        plan.rules.keys,
        vec![KeyRule {
            key: "I3_LICENSE_BASIC_STATION".into(),
            holders: vec![Holder::Station],
            methods: vec![Method::Assignable],
        }]
    );
    assert!(plan.rules.requires.is_empty() && plan.rules.excludes.is_empty());
    // The same request gives the same rules, byte for byte.
    assert_eq!(plan, l.check(&c, &cic_add(&items)).unwrap());
}

/// Every development and evaluation server of the built-in catalog makes a file that keeps
/// the rules (the catalog refuses one that does not when it loads).
#[test]
fn development_and_evaluation_files_keep_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = with_orders(dir.path(), &[("DS1", 1), ("DS2", 1), ("EV01", 1)]);
    for (t, p) in [
        (LicenseType::DevelopmentSmall, "DS1"),
        (LicenseType::DevelopmentLarge, "DS2"),
        (LicenseType::Evaluation, "EV01"),
    ] {
        let plan = l.check(&c, &request(t, &part(p), &[])).unwrap();
        plan.rules.validate().unwrap();
        assert_eq!(
            plan.rules.holders("I3_LICENSE_BASIC_STATION"),
            [Holder::Station]
        );
        // A development system has every access key: the ACD levels exclude each other;
        // the evaluation system has one level only, so no set is left.
        assert_eq!(plan.rules.excludes.is_empty(), p == "EV01", "{p}");
    }
}

// ---------------------------------------------------------------------------------------------
// Count semantics, on a small catalog of their own.

const COUNTS: &str = "\
license | X | needs Y | holders=user
license | Y | paired with X | holders=user
license | Z | assignable only | holders=user | methods=assignable
license | W | brought by X | holders=user
requires | X | Y,Z
implies | X | W
version | T | 1 | features=T_BASE
server | T-S | T 1 | Server | types=production | features=*
access | T-X | T 1 | X with W | grants=X:1/1,W:1/1
access | T-XA | T 1 | X assigned | grants=X:1/0,W:1/0
access | T-XO | T 1 | X without W | grants=X:1/1
access | T-Y | T 1 | Y | grants=Y:1/1
access | T-YA | T 1 | Y assigned | grants=Y:1/0
access | T-Z | T 1 | Z | grants=Z:1/0
access | T-ZP | T 1 | Z pooled | grants=Z:0/1
";

fn counts_ledger(dir: &std::path::Path) -> (Ledger, Catalog) {
    let c = Catalog::parse(COUNTS).unwrap();
    let mut l = common::open(dir);
    l.add_account("Contoso", "t").unwrap();
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "t")
        .unwrap();
    for p in ["T-S", "T-X", "T-XA", "T-XO", "T-Y", "T-YA", "T-Z", "T-ZP"] {
        l.add_order(&c, "Contoso", p, 100, true, "t").unwrap();
    }
    (l, c)
}

fn t_req(add: &[(&str, u32)]) -> IssueRequest {
    let mut r = request(LicenseType::Production, "T-S", add);
    r.product = "T".into();
    r.version = "1".into();
    r
}

/// requires: every assigned X needs an assigned Y or Z (summed over them); every pooled X
/// needs a pooled Y (Z may not be allocated concurrently, so its pooled count, which the
/// catalog's methods refuse anyway, never pairs). implies: W at least as many as X, assigned
/// and pooled.
#[test]
fn requires_and_implies_count_assigned_and_pooled_separately() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = counts_ledger(dir.path());
    let check = |add: &[(&str, u32)]| l.check(&c, &t_req(add)).map(|_| ());
    // 4 X (4 assigned, 4 pooled): 2 assigned Y + 2 assigned Z pair the assigned; the pooled
    // need 4 pooled Y.
    let (_, d) = violation(check(&[("T-X", 4), ("T-YA", 2), ("T-Z", 2)]));
    assert!(d.contains("4 pooled X but only 0 pooled Y or Z"), "{d}");
    // Assigned paired by the sum of Y and Z (2 + 2); pooled by Y (4).
    let ok = check(&[("T-X", 4), ("T-Y", 4)]);
    assert!(
        !matches!(ok, Err(IssuerError::RuleViolated { .. })),
        "{ok:?}"
    );
    // A pooled count of Z, which is never allocated concurrently, is refused by its methods.
    let (rule, d) = violation(check(&[("T-X", 4), ("T-Y", 4), ("T-ZP", 1)]));
    assert!(
        rule.starts_with("license | Z | holders=user | methods=assignable"),
        "{rule}"
    );
    assert!(d.contains("1 pooled Z"), "{d}");
    let (_, d) = violation(check(&[("T-XA", 5), ("T-YA", 2), ("T-Z", 2)]));
    assert!(d.contains("5 assigned X but only 4 assigned Y or Z"), "{d}");
    // implies: X without its W.
    let (rule, d) = violation(check(&[("T-XO", 1), ("T-Y", 1)]));
    assert!(rule.starts_with("implies | X | W"), "{rule}");
    assert!(d.contains("1 assigned X but only 0 assigned W"), "{d}");
    let (_, d) = violation(check(&[("T-XO", 1), ("T-XA", 1), ("T-Y", 2)]));
    assert!(d.contains("2 assigned X but only 1 assigned W"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// Seed 002 (Vonage Contact Center), the VCC example catalog.

fn example_ledger(dir: &std::path::Path, text: &str, parts: &[&str]) -> (Ledger, Catalog) {
    let c = Catalog::parse(text).unwrap();
    let mut l = common::open(dir);
    l.add_account("Contoso", "t").unwrap();
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "t")
        .unwrap();
    for p in parts {
        l.add_order(&c, "Contoso", p, 500, true, "t").unwrap();
    }
    (l, c)
}

fn product_req(product: &str, server: &str, add: &[(&str, u32)]) -> IssueRequest {
    let mut r = request(LicenseType::Production, server, add);
    r.product = product.into();
    r.version = "2022".into();
    r
}

const VCC_PARTS: [&str; 9] = [
    "VCC-PLATFORM",
    "VCC-AGENT",
    "VCC-SUPERVISOR",
    "VCC-WALLBOARD",
    "VCC-ADMIN",
    "VCC-HA-VIEWER",
    "VCC-HA-CREATOR",
    "VCC-ACCENT",
    "VCC-ENC",
];

/// "A user must have a Wallboard, Supervisor, or Admin VCC license to have a Historical
/// Analytics license. Agent users cannot have a license, and therefore access, to Historical
/// Analytics."
#[test]
fn vcc_historical_analytics_requires_wallboard_supervisor_or_admin_never_agent() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = example_ledger(dir.path(), EXAMPLE_VCC, &VCC_PARTS);
    let req = |add: &[(&str, u32)]| product_req("VCC", "VCC-PLATFORM", add);
    // Agents only: no Historical Analytics.
    let (rule, detail) = violation(l.check(&c, &req(&[("VCC-AGENT", 250), ("VCC-HA-VIEWER", 1)])));
    assert!(
        rule.starts_with("requires | VCC_HA_VIEWER | VCC_ADMIN,VCC_SUPERVISOR,VCC_WALLBOARD"),
        "{rule}"
    );
    assert!(
        detail.contains("1 assigned VCC_HA_VIEWER but only 0 assigned"),
        "{detail}"
    );
    // 40 Creators for 35 supervisors.
    let (rule, detail) =
        violation(l.check(&c, &req(&[("VCC-SUPERVISOR", 35), ("VCC-HA-CREATOR", 40)])));
    assert!(rule.starts_with("requires | VCC_HA_CREATOR |"), "{rule}");
    assert!(
        detail.contains("40 assigned VCC_HA_CREATOR but only 35 assigned"),
        "{detail}"
    );
    // The agents' exclusion travels in the file's rules.
    let r = c.rules_for(["VCC_AGENT", "VCC_SUPERVISOR", "VCC_HA_VIEWER"]);
    assert!(r.excludes.contains(&Excludes {
        keys: vec!["VCC_AGENT".into(), "VCC_HA_VIEWER".into()]
    }));
}

/// "A user can have one of the following Historical Analytics licenses: Viewer, Creator";
/// "When you create a new user, you must set their VCC license" (one per user).
#[test]
fn vcc_one_historical_analytics_licence_and_one_vcc_licence_per_user() {
    let c = Catalog::parse(EXAMPLE_VCC).unwrap();
    let r = c.rules_for([
        "VCC_ADMIN",
        "VCC_AGENT",
        "VCC_SUPERVISOR",
        "VCC_WALLBOARD",
        "VCC_HA_CREATOR",
        "VCC_HA_VIEWER",
    ]);
    r.validate().unwrap();
    assert!(r.excludes.contains(&Excludes {
        keys: vec!["VCC_HA_CREATOR".into(), "VCC_HA_VIEWER".into()]
    }));
    assert!(r.excludes.contains(&Excludes {
        keys: ["VCC_ADMIN", "VCC_AGENT", "VCC_SUPERVISOR", "VCC_WALLBOARD"]
            .map(String::from)
            .to_vec()
    }));
    for k in ["VCC_AGENT", "VCC_HA_VIEWER", "VCC_HA_CREATOR"] {
        assert_eq!(r.holders(k), [Holder::User], "{k}");
    }
}

/// "Accent Conversion: To use this feature, you must first purchase a license" (set on a
/// user, with their VCC license: chosen as a requires rule).
#[test]
fn vcc_accent_conversion_goes_with_a_vcc_licence() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = example_ledger(dir.path(), EXAMPLE_VCC, &VCC_PARTS);
    let (rule, _) = violation(l.check(
        &c,
        &product_req("VCC", "VCC-PLATFORM", &[("VCC-ACCENT", 3)]),
    ));
    assert!(
        rule.starts_with("requires | VCC_ACCENT_CONVERSION |"),
        "{rule}"
    );
}

/// The seed's account: "250 licenses are assigned to agents, 5 to wallboard users, 35 to
/// supervisor users, and 15 to admin users", with Historical Analytics for the 55 others.
/// Needs format version 2 (VCC_ names).
#[test]
fn vcc_file_is_issued_from_the_example_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = example_ledger(dir.path(), EXAMPLE_VCC, &VCC_PARTS);
    let req = product_req(
        "VCC",
        "VCC-PLATFORM",
        &[
            ("VCC-AGENT", 250),
            ("VCC-WALLBOARD", 5),
            ("VCC-SUPERVISOR", 35),
            ("VCC-ADMIN", 15),
            ("VCC-HA-VIEWER", 40),
            ("VCC-HA-CREATOR", 15),
            ("VCC-ACCENT", 100),
        ],
    );
    let plan = l.check(&c, &req).unwrap();
    assert!(plan.rules.requires.iter().any(|r| r.key == "VCC_HA_VIEWER"));
    let key = SecretKey::generate();
    let issued = l.issue(&c, &req, &key, None, t0()).unwrap();
    let a = format::UnverifiedFile::parse(&issued.bytes)
        .unwrap()
        .verify(key.public_key())
        .unwrap()
        .activation()
        .clone();
    assert_eq!(a.product, "VCC");
    assert_eq!(a.license("VCC_AGENT").map(|x| x.assigned), Some(250));
}

// ---------------------------------------------------------------------------------------------
// Seed 004 (Natterbox), the Natterbox example catalog.

const NB_PARTS: [&str; 8] = [
    "NB-PLATFORM",
    "NB-FREEDOM",
    "NB-CTI",
    "NB-SCV",
    "NB-PBX",
    "NB-CC",
    "NB-RECORD",
    "NB-INSIGHT",
];

/// "Assigning a Freedom license automatically assigns a CTI license, and removing the
/// Freedom license automatically removes the CTI license."
#[test]
fn natterbox_freedom_implies_cti() {
    let dir = tempfile::tempdir().unwrap();
    let (_, c) = example_ledger(dir.path(), EXAMPLE_NATTERBOX, &NB_PARTS);
    let r = c.rules_for(["NB_FREEDOM", "NB_CTI"]);
    assert_eq!(
        r.implies,
        vec![Implies {
            key: "NB_FREEDOM".into(),
            implied: "NB_CTI".into()
        }]
    );
    // The Freedom part grants its CTI licence with it, so a Freedom file keeps the rule; a
    // catalog whose Freedom part forgot the CTI licence makes files that break it.
    let freedom = c.part("NB-FREEDOM").unwrap();
    assert!(freedom.grants.iter().any(|g| g.key == "NB_CTI"));
    let broken =
        EXAMPLE_NATTERBOX.replace("grants=NB_FREEDOM:1/0,NB_CTI:1/0", "grants=NB_FREEDOM:1/0");
    let dir2 = tempfile::tempdir().unwrap();
    let (l, c2) = example_ledger(dir2.path(), &broken, &NB_PARTS);
    let (rule, detail) = violation(l.check(
        &c2,
        &product_req("NB", "NB-PLATFORM", &[("NB-FREEDOM", 10), ("NB-CTI", 4)]),
    ));
    assert!(rule.starts_with("implies | NB_FREEDOM | NB_CTI"), "{rule}");
    assert!(
        detail.contains("10 assigned NB_FREEDOM but only 4 assigned NB_CTI"),
        "{detail}"
    );
}

/// "A user cannot have Freedom and SCV, they are mutually exclusive."
#[test]
fn natterbox_freedom_and_service_cloud_voice_exclude_each_other() {
    let c = Catalog::parse(EXAMPLE_NATTERBOX).unwrap();
    let r = c.rules_for(["NB_FREEDOM", "NB_CTI", "NB_SERVICE_CLOUD_VOICE"]);
    assert_eq!(
        r.excludes,
        vec![Excludes {
            keys: vec!["NB_FREEDOM".into(), "NB_SERVICE_CLOUD_VOICE".into()]
        }]
    );
    r.validate().unwrap();
    // Implying CTI while excluding SCV is consistent; a catalog where Freedom implied SCV is not.
    let bad = format!("{EXAMPLE_NATTERBOX}implies | NB_FREEDOM | NB_SERVICE_CLOUD_VOICE\n");
    let e = Catalog::parse(&bad).unwrap_err();
    assert!(
        e.to_string()
            .contains("NB_FREEDOM implies NB_SERVICE_CLOUD_VOICE"),
        "{e}"
    );
    assert!(e.line().is_some());
}

/// "Contact Center ... allows users to receive calls via a call queue" and "Cloud PBX - Gives
/// access to the phone system itself" (Contact Center requires Cloud PBX: chosen).
#[test]
fn natterbox_contact_center_requires_cloud_pbx() {
    let dir = tempfile::tempdir().unwrap();
    let (l, c) = example_ledger(dir.path(), EXAMPLE_NATTERBOX, &NB_PARTS);
    let (rule, _) = violation(l.check(
        &c,
        &product_req("NB", "NB-PLATFORM", &[("NB-FREEDOM", 10), ("NB-CC", 10)]),
    ));
    assert!(
        rule.starts_with("requires | NB_CONTACT_CENTER | NB_CLOUD_PBX"),
        "{rule}"
    );
}

/// A Natterbox file: Freedom users with Cloud PBX and Contact Center, a few on Service Cloud
/// Voice, Record and Insight. Needs format version 2 (NB_ names).
#[test]
fn natterbox_file_is_issued_from_the_example_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = example_ledger(dir.path(), EXAMPLE_NATTERBOX, &NB_PARTS);
    let req = product_req(
        "NB",
        "NB-PLATFORM",
        &[
            ("NB-FREEDOM", 40),
            ("NB-SCV", 10),
            ("NB-PBX", 50),
            ("NB-CC", 30),
            ("NB-RECORD", 50),
            ("NB-INSIGHT", 5),
        ],
    );
    let key = SecretKey::generate();
    let issued = l.issue(&c, &req, &key, None, t0()).unwrap();
    let a = format::UnverifiedFile::parse(&issued.bytes)
        .unwrap()
        .verify(key.public_key())
        .unwrap()
        .activation()
        .clone();
    assert_eq!(a.license("NB_CTI").map(|x| x.assigned), Some(40));
}

// ---------------------------------------------------------------------------------------------
// Enforcement in update and batches (issue: above). Upgrade moves order lines and writes no
// file; the files of the new version are issued or updated through the same plan.

#[test]
fn an_update_that_breaks_a_rule_is_refused_and_the_old_file_stays_active() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = with_orders(dir.path(), &[("AL06", 11), ("AA03", 20)]);
    let key = SecretKey::generate();
    let id = l
        .issue(&c, &cic_add(&[("AL06", 10)]), &key, None, t0())
        .unwrap()
        .file_id
        .to_string();
    let mut u = update_by("tester");
    u.add = vec![pq(&part("AA03"), 20)];
    let (rule, detail) = violation(l.check_update(&c, &id, &u));
    assert!(
        rule.starts_with(&format!("requires | {ANALYZER}")),
        "{rule}"
    );
    assert!(
        detail.contains("20 assigned") && detail.contains("only 10 assigned"),
        "{detail}"
    );
    violation(l.update(&c, &id, &u, &key, None, t0()));
    // The old file is still active and nothing moved.
    assert_eq!(counts(&l, &c, &part("AL06")).unwrap().1, 10);
    assert_eq!(counts(&l, &c, &part("AA03")).unwrap().1, 0);
    let mut ok = update_by("tester");
    ok.add = vec![pq(&part("AL06"), 1)];
    l.update(&c, &id, &ok, &key, None, t0()).unwrap();
}

#[test]
fn a_batch_with_one_request_that_breaks_a_rule_issues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = with_orders(dir.path(), &[("AL06", 10), ("AA03", 5)]);
    let mut good = cic_add(&[("AL06", 5)]);
    good.machine = "ic1".into();
    let mut bad = cic_add(&[("AA03", 5)]);
    bad.machine = "ic2".into();
    bad.host_id = common::host(2);
    let r = l.issue_batch(&c, &[good, bad], &SecretKey::generate(), None, t0());
    match r {
        Err(e @ IssuerError::Batch { position: 2, .. }) => {
            assert_eq!(e.exit_code(), 22);
            assert!(
                e.to_string().contains("nothing of the batch was issued"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(counts(&l, &c, &part("AL06")).unwrap().1, 0);
}

#[test]
fn a_rule_violation_is_exit_22() {
    let e = IssuerError::RuleViolated {
        rule: "requires | A | B (catalog line 1)".into(),
        detail: "d".into(),
    };
    assert_eq!(e.exit_code(), 22);
    assert_eq!(
        e.to_string(),
        "license rule requires | A | B (catalog line 1): d"
    );
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    every_license_named_in_the_seeds_is_in_a_catalog,
    basic_station_is_station_only_never_concurrent_and_pools_dynamic_remote_stations,
    ipa_monitor_and_designer_are_user_only_and_one_ipa_type_per_holder,
    acd_media_levels_exclude_each_other,
    analyzer_requires_recorder_access_and_both_servers,
    web_portal_licenses_need_the_organization_and_server_licenses_but_marquee,
    web_portal_with_organizations_is_issued,
    chosen_rules_of_the_cic_catalog_are_enforced,
    the_seed_view_license_file_keeps_every_rule,
    development_and_evaluation_files_keep_the_rules,
    requires_and_implies_count_assigned_and_pooled_separately,
    vcc_historical_analytics_requires_wallboard_supervisor_or_admin_never_agent,
    vcc_one_historical_analytics_licence_and_one_vcc_licence_per_user,
    vcc_accent_conversion_goes_with_a_vcc_licence,
    vcc_file_is_issued_from_the_example_catalog,
    natterbox_freedom_and_service_cloud_voice_exclude_each_other,
    natterbox_contact_center_requires_cloud_pbx,
    natterbox_file_is_issued_from_the_example_catalog,
    an_update_that_breaks_a_rule_is_refused_and_the_old_file_stays_active,
    a_batch_with_one_request_that_breaks_a_rule_issues_nothing,
    a_rule_violation_is_exit_22,
);
