//! proptest: any valid activation, signed, parses and verifies back to the same model, also
//! after CRLF conversion and trailing blanks.

use format::{
    sign, sign_v1, Activation, Chain, Excludes, FileId, FormatVersion, Holder, Host, Implies,
    KeyRule, LicenseCount, LicenseType, Method, OrderedItem, Requires, Restriction, Rules,
    SecretKey, Timestamp, UnverifiedFile,
};
use hostid::{Components, HostId};
use proptest::prelude::*;

/// Text without leading or trailing blanks, with characters JSON must escape (`"`, `\`) and
/// non-ASCII ones.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9\"\\\\/éü漢€]([A-Za-z0-9 .,()+\"\\\\/éü漢€-]{0,30}[A-Za-z0-9\"\\\\)éü漢€])?"
}

fn host() -> impl Strategy<Value = HostId> {
    (
        "[0-9a-f]{32}",
        "[0-9A-F-]{36}",
        any::<[u8; 6]>(),
        proptest::option::of("[A-Za-z ]{3,20}"),
    )
        .prop_map(|(m, d, mac, cpu)| {
            HostId::from_components(&Components {
                machine_id: Some(m),
                dmi_uuid: Some(d),
                macs: vec![mac],
                cpu,
            })
            .expect("three strong components")
        })
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // Up to the perpetual expiry, the latest a file may name.
    (0i64..=Timestamp::PERPETUAL.unix()).prop_map(|s| Timestamp::from_unix(s).expect("in range"))
}

fn names(prefix: &'static str, max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[A-Z0-9_]{1,24}", 0..max).prop_map(move |s| {
        s.into_iter()
            .map(|n| format!("{prefix}{n}"))
            .collect::<Vec<_>>()
    })
}

/// Rules over the generated access keys: none, or one of each kind.
fn rules() -> impl Strategy<Value = Rules> {
    prop_oneof![
        Just(Rules::default()),
        Just(Rules {
            keys: vec![KeyRule {
                key: "I3_LICENSE_BASIC_STATION".into(),
                holders: vec![Holder::Station],
                methods: vec![Method::Assignable],
            }],
            requires: vec![Requires {
                key: "X_ANALYZER".into(),
                any_of: vec!["X_RECORDER".into(), "X_SUPERVISOR".into()],
            }],
            implies: vec![Implies {
                key: "X_FREEDOM".into(),
                implied: "X_CTI".into(),
            }],
            excludes: vec![Excludes {
                keys: vec!["X_FREEDOM".into(), "X_VOICE".into()],
            }],
        }),
    ]
}

fn activation() -> impl Strategy<Value = Activation> {
    let ids = (
        any::<[u8; 16]>(),
        proptest::option::of(any::<[u8; 16]>()),
        any::<[u8; 16]>(),
        1u32..5,
        rules(),
    );
    let times = (timestamp(), timestamp(), timestamp(), 0u32..=3660);
    let texts = (text(), text(), text(), text(), text());
    let hosts = (host(), text(), proptest::option::of((host(), text())));
    let extra = (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    );
    let lists = (
        names("I3_FEATURE_", 8),
        names("I3_ACCESS_", 12),
        proptest::collection::vec((0u32..=10_000_000, 0u32..=10_000_000), 12),
        proptest::collection::btree_map(
            text(),
            (proptest::option::of(text()), 0u32..=10_000_000),
            0..6,
        ),
        proptest::sample::subsequence(
            vec![Restriction::HourlyDisconnect, Restriction::NotForProduction],
            0..=2,
        ),
    );
    (
        ids,
        times,
        texts,
        hosts,
        extra,
        lists,
        proptest::sample::select(LicenseType::ALL.to_vec()),
    )
        .prop_filter_map(
            "switchover host equal to primary, or a file superseding itself",
            |(
                (id, sup, lineage, generation, rules),
                (t1, t2, t3, grace),
                (product, version, by, sold, site),
                (ph, pm, sw),
                (st, mc, bu, de),
                (features, licenses, counts, items, restrictions),
                license_type,
            )| {
                let (valid_from, expires_at) = if t2 <= t3 { (t2, t3) } else { (t3, t2) };
                let a = Activation {
                    file_id: FileId(id),
                    supersedes: sup.map(FileId),
                    chain: Some(if generation == 1 {
                        Chain::first(FileId(id))
                    } else {
                        Chain {
                            lineage: FileId(lineage),
                            generation,
                        }
                    }),
                    product,
                    product_version: version,
                    license_type,
                    issued_at: t1,
                    valid_from,
                    expires_at,
                    grace_days: grace,
                    generated_by: by,
                    sold_to: sold,
                    install_site: site,
                    primary_host: Host {
                        host_id: ph,
                        machine: pm,
                        install_key: None,
                    },
                    switchover_host: sw.map(|(h, m)| Host {
                        host_id: h,
                        machine: m,
                        install_key: None,
                    }),
                    system_type: st.unwrap_or_default(),
                    mail_connector: mc.unwrap_or_default(),
                    bundle: bu.unwrap_or_default(),
                    description: de.unwrap_or_default(),
                    features,
                    licenses: licenses
                        .into_iter()
                        .zip(counts)
                        .map(|(name, (assigned, pooled))| LicenseCount {
                            name,
                            assigned,
                            pooled,
                        })
                        .collect(),
                    ordered_items: items
                        .into_iter()
                        .map(|(part, (d, quantity))| OrderedItem {
                            part,
                            description: d.unwrap_or_default(),
                            quantity,
                        })
                        .collect(),
                    restrictions,
                    rules,
                };
                a.validate().is_ok().then_some(a)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sign_parse_verify_gives_back_the_same_model(a in activation(), seed in any::<[u8; 32]>()) {
        let key = SecretKey::from_seed(&seed);
        let text = sign(&a, &key).expect("a valid model signs");
        let verified = UnverifiedFile::parse(text.as_bytes())
            .expect("parses")
            .verify(key.public_key())
            .expect("verifies");
        prop_assert_eq!(verified.activation(), &a);
        prop_assert_eq!(verified.key_id(), key.key_id());

        // The same after an editor converted line endings and added trailing blanks.
        let mangled: String = text.lines().map(|l| format!("{l} \r\n")).collect();
        let again = UnverifiedFile::parse(mangled.as_bytes())
            .expect("parses")
            .verify_with([key.public_key()])
            .expect("verifies");
        prop_assert_eq!(again.activation(), &a);
    }

    #[test]
    fn version_1_files_still_round_trip(a in activation(), seed in any::<[u8; 32]>()) {
        // What version 1 can say: no chain, no rules.
        let a = Activation { chain: None, rules: Rules::default(), ..a };
        let key = SecretKey::from_seed(&seed);
        let text = sign_v1(&a, &key).expect("a valid model signs as version 1");
        prop_assert!(text.contains("Format: i3lic-activation/1\n"));
        let verified = UnverifiedFile::parse(text.as_bytes())
            .expect("parses")
            .verify(key.public_key())
            .expect("verifies");
        prop_assert_eq!(verified.version(), FormatVersion::V1);
        prop_assert_eq!(verified.activation(), &a);
    }
}
