//! License keys in words, as Interaction Administrator names them ("Client Access"): the
//! descriptions of the product catalogs (`crates/issuer/catalog/*.catalog`, `license`
//! records). An activation file carries only the keys, so a server names them from here;
//! a test keeps this table equal to the catalogs.

/// Every catalog key with its description, sorted by key.
const NAMES: &[(&str, &str)] = &[
    ("I3_ACCESS_ACD_MEDIA_1", "ACD Media 1"),
    ("I3_ACCESS_ACD_MEDIA_2", "ACD Media 2"),
    ("I3_ACCESS_ACD_MEDIA_3_PLUS", "ACD Media 3 Plus"),
    ("I3_ACCESS_ACD_SOCIAL_MEDIA", "ACD Access Social Media"),
    ("I3_ACCESS_ANALYTICS_CORE", "Analytics Core"),
    ("I3_ACCESS_ANALYTICS_DESIGNER", "Analytics Designer"),
    ("I3_ACCESS_ANALYTICS_ENTERPRISE", "Analytics Enterprise"),
    (
        "I3_ACCESS_ARBITRARY_EASYSCRIPTER_EDITOR",
        "Arbitrary: EASYSCRIPTER_EDITOR",
    ),
    (
        "I3_ACCESS_ARBITRARY_EASYSCRIPTER_EXECUTOR",
        "Arbitrary: EASYSCRIPTER_EXECUTOR",
    ),
    (
        "I3_ACCESS_ARBITRARY_EASYSCRIPTER_REPORTING",
        "Arbitrary: EASYSCRIPTER_REPORTING",
    ),
    (
        "I3_ACCESS_ARBITRARY_MSCRM_INTEGRATION",
        "Arbitrary: MSCRM_INTEGRATION",
    ),
    (
        "I3_ACCESS_CALL_CENTER_WORKSTATION",
        "Call Center Workstation",
    ),
    ("I3_ACCESS_CLIENT", "Client Access"),
    (
        "I3_ACCESS_CLIENT_MOBILE_EDITION_ADDON",
        "Interaction Client Mobile Edition",
    ),
    (
        "I3_ACCESS_CLIENT_OPERATOR_ADDON",
        "Interaction Client Operator Add-On",
    ),
    (
        "I3_ACCESS_CLIENT_OUTLOOK_ADDIN",
        "Interaction Client Outlook Add-In",
    ),
    ("I3_ACCESS_DATA_EXTRACTOR", "Interaction Data Extractor"),
    ("I3_ACCESS_DIALER_ADDON", "Interaction Dialer Add-On"),
    (
        "I3_ACCESS_DIALER_SUPERVISOR_PLUGIN",
        "Interaction Supervisor Plug-In: Interaction Dialer",
    ),
    ("I3_ACCESS_FEEDBACK", "Interaction Feedback Access"),
    (
        "I3_ACCESS_HISTORICAL_REPORT_SUPERVISOR_PLUGIN",
        "Interaction Supervisor Plug-in: Historical Reporting",
    ),
    (
        "I3_ACCESS_INTERACTION_ANALYZER",
        "Interaction Analyzer Access",
    ),
    (
        "I3_ACCESS_INTERACTION_SCRIPTER_ADDON",
        "Interaction Scripter",
    ),
    ("I3_ACCESS_IPA_DESIGNER", "IPA Process Designer"),
    ("I3_ACCESS_IPA_MONITOR", "IPA Process Monitor"),
    ("I3_ACCESS_IPA_USER", "IPA Direct Routed Work Items"),
    ("I3_ACCESS_IPA_USER_ACD", "IPA Group Routed Work Items"),
    (
        "I3_ACCESS_IWP_AGENT",
        "Interaction Web Portal Agent (Agent User)",
    ),
    (
        "I3_ACCESS_IWP_SUPERVISOR",
        "Interaction Web Portal Supervisor (Enterprise User)",
    ),
    (
        "I3_ACCESS_OPTIMIZER_CLIENT",
        "Interaction Optimizer Client Access",
    ),
    (
        "I3_ACCESS_OPTIMIZER_RTA",
        "Interaction Optimizer Access Real-time Adherence",
    ),
    (
        "I3_ACCESS_OPTIMIZER_RTA_TRACKING",
        "Interaction Optimizer Real-time Adherence Tracking",
    ),
    (
        "I3_ACCESS_OPTIMIZER_SCHEDULABLE",
        "Interaction Optimizer Schedulable",
    ),
    ("I3_ACCESS_QUALITY_MANAGER", "Interaction Quality Manager"),
    (
        "I3_ACCESS_RECORDER_CLIENT",
        "Interaction Recorder Client Access",
    ),
    (
        "I3_ACCESS_RECORDER_EXTREME_QUERY",
        "Interaction Recorder Extreme Query",
    ),
    (
        "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
        "Interaction Recorder Access",
    ),
    (
        "I3_ACCESS_REPORT_ASSISTANT_SUPERVISOR_PLUGIN",
        "Interaction Supervisor Plug-In: Reporting Assistant",
    ),
    (
        "I3_ACCESS_SALESFORCE_BUSINESS_USER",
        "Salesforce Business User",
    ),
    (
        "I3_ACCESS_SALESFORCE_STANDARD_USER",
        "Salesforce Standard User",
    ),
    (
        "I3_ACCESS_SUPERVISOR_IPAD_EDITION",
        "Interaction Supervisor iPad Edition",
    ),
    (
        "I3_ACCESS_SYSTEM_STATUS_SUPERVISOR_PLUGIN",
        "Interaction Supervisor Plug-In: System Status",
    ),
    ("I3_ACCESS_TRACKER", "Interaction Tracker Access"),
    ("I3_ACCESS_UNIFIED_MESSAGING_ADDON", "Unified Messaging"),
    (
        "I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN",
        "Interaction Supervisor Plug-In: Workgroup",
    ),
    ("I3_LICENSE_ADVANCED_SESSION_ADDON", "Advanced Session"),
    ("I3_LICENSE_BASIC_SESSION_ADDON", "Basic Session"),
    ("I3_LICENSE_BASIC_STATION", "Basic Station"),
    ("I3_LICENSE_CONFERENCE_SESSION_ADDON", "Conference Session"),
    ("I3_LICENSE_IWP_MARQUEE", "Interaction Marquee"),
    (
        "I3_LICENSE_IWP_SCHEDULED_REPORTS",
        "Interaction Web Portal Scheduled Reports",
    ),
    ("I3_LICENSE_MEDIA_SESSION_ADDON", "Media Session"),
    (
        "I3_LICENSE_MOBILIZER_SESSION_ADDON",
        "Interaction Mobilizer Session (time-based)",
    ),
    (
        "I3_TENANT_IWP_ORGANIZATION",
        "Interaction Web Portal Organization",
    ),
    ("NB_CLOUD_PBX", "Cloud PBX"),
    ("NB_CONTACT_CENTER", "Contact Center"),
    ("NB_CTI", "CTI"),
    ("NB_FREEDOM", "Freedom"),
    ("NB_INSIGHT", "Insight"),
    ("NB_PCI", "PCI"),
    ("NB_RECORD", "Record"),
    ("NB_SERVICE_CLOUD_VOICE", "Service Cloud Voice"),
    ("VCC_ACCENT_CONVERSION", "Accent Conversion"),
    ("VCC_ADMIN", "VCC Admin licence"),
    ("VCC_AGENT", "VCC Agent licence"),
    ("VCC_HA_CREATOR", "Historical Analytics Creator"),
    ("VCC_HA_VIEWER", "Historical Analytics Viewer"),
    (
        "VCC_NOISE_CANCELLATION",
        "Vonage enhanced noise cancellation",
    ),
    ("VCC_SUPERVISOR", "VCC Supervisor licence"),
    ("VCC_WALLBOARD", "VCC Wallboard licence"),
];

/// The key's name in words (`I3_ACCESS_CLIENT` → `Client Access`), if the catalogs know it.
pub fn key_description(key: &str) -> Option<&'static str> {
    NAMES
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| NAMES[i].1)
}

/// Every key the table names, with its description, sorted by key.
pub fn key_descriptions() -> &'static [(&'static str, &'static str)] {
    NAMES
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is the catalogs' `license` records, no more, no less.
    #[test]
    fn the_table_is_the_catalogs_descriptions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../issuer/catalog");
        let mut from_catalogs: Vec<(String, String)> = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the catalogs") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a catalog");
            for line in text.lines() {
                let f: Vec<&str> = line.split('|').map(str::trim).collect();
                if f.first() == Some(&"license") && f.len() >= 3 {
                    from_catalogs.push((f[1].to_string(), f[2].to_string()));
                }
            }
        }
        from_catalogs.sort();
        let table: Vec<(String, String)> = NAMES
            .iter()
            .map(|(k, d)| ((*k).to_string(), (*d).to_string()))
            .collect();
        assert_eq!(table, from_catalogs);
        assert_eq!(key_description("I3_ACCESS_CLIENT"), Some("Client Access"));
        assert_eq!(key_description("I3_NOT_A_KEY"), None);
    }
}
