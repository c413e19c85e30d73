//! The fields a refusal may name. The library's messages name each field by its command-line
//! flag (the issuer's own front end); the portal's pages and API name the same field in their
//! own words through [`name_fields`], from this one list, so no front end shows another's
//! names.

/// A field of a request that a message may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The primary server's host-ID code.
    HostId,
    /// The switchover server's host-ID code.
    SwitchoverHostId,
    /// The server item.
    ServerPart,
    /// The switchover server item.
    SwitchoverPart,
    /// The related production file of a disaster recovery file.
    Related,
    /// Add-on items and quantities.
    Add,
    /// Quantities set (an update that lowers or removes items).
    Set,
    /// The parts an upgrade moves.
    Part,
    /// An upgrade of every part.
    Mirror,
    /// Deactivating the disaster recovery files too.
    WithRecovery,
    /// A release receipt.
    Receipt,
    /// A portal user's certification.
    Certified,
    /// The accounts a portal user may see.
    Accounts,
}

impl Field {
    /// Every field, the longer flags before those they start with (so `--switchover-host-id`
    /// is never read as `--switchover-` and `--host-id`).
    pub const ALL: [Field; 13] = [
        Field::SwitchoverHostId,
        Field::SwitchoverPart,
        Field::ServerPart,
        Field::HostId,
        Field::Related,
        Field::Add,
        Field::Set,
        Field::Part,
        Field::Mirror,
        Field::WithRecovery,
        Field::Receipt,
        Field::Certified,
        Field::Accounts,
    ];

    /// The command-line flag, as the library's messages write it.
    pub fn flag(self) -> &'static str {
        match self {
            Field::HostId => "--host-id",
            Field::SwitchoverHostId => "--switchover-host-id",
            Field::ServerPart => "--server-part",
            Field::SwitchoverPart => "--switchover-part",
            Field::Related => "--related",
            Field::Add => "--add",
            Field::Set => "--set",
            Field::Part => "--part",
            Field::Mirror => "--mirror",
            Field::WithRecovery => "--with-recovery",
            Field::Receipt => "--receipt",
            Field::Certified => "--certified",
            Field::Accounts => "--account",
        }
    }

    /// The name of the field in the portal's JSON API.
    pub fn json_name(self) -> &'static str {
        match self {
            Field::HostId => "host_id",
            Field::SwitchoverHostId => "switchover_host_id",
            Field::ServerPart => "server_part",
            Field::SwitchoverPart => "switchover_part",
            Field::Related => "related",
            Field::Add | Field::Set => "add",
            Field::Part => "parts",
            Field::Mirror => "mirror",
            Field::WithRecovery => "with_recovery",
            Field::Receipt => "receipt",
            Field::Certified => "certified",
            Field::Accounts => "accounts",
        }
    }

    /// The field of a flag, if it is one of these.
    pub fn of_flag(flag: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.flag() == flag)
    }
}

/// `msg` with every flag of [`Field::ALL`] (and its placeholder argument, `--related ID`,
/// `--receipt FILE`) written as `name` calls the field. A flag is only replaced whole: not
/// when a letter, digit or `-` follows it.
pub fn name_fields(msg: &str, name: impl Fn(Field) -> String) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    'scan: while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        for f in Field::ALL {
            let Some(after) = tail.strip_prefix(f.flag()) else {
                continue;
            };
            if after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                continue;
            }
            // The flag's placeholder argument goes with it.
            let after = after
                .strip_prefix(" ID")
                .filter(|_| f == Field::Related)
                .or_else(|| after.strip_prefix(" FILE").filter(|_| f == Field::Receipt))
                .unwrap_or(after);
            out.push_str(&name(f));
            rest = after;
            continue 'scan;
        }
        out.push_str("--");
        rest = &tail[2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_the_front_ends_names() {
        let api = |f: Field| f.json_name().to_string();
        assert_eq!(
            name_fields("it is a server item; give it with --server-part", api),
            "it is a server item; give it with server_part"
        );
        assert_eq!(
            name_fields("bad --switchover-host-id and --host-id", api),
            "bad switchover_host_id and host_id"
        );
        assert_eq!(
            name_fields("needs the related production file (--related ID)", api),
            "needs the related production file (related)"
        );
        // Not a flag of these: left alone.
        assert_eq!(name_fields("--db x --added", api), "--db x --added");
        for f in Field::ALL {
            assert_eq!(Field::of_flag(f.flag()), Some(f));
            assert!(!f.json_name().contains('-'), "{f:?}");
        }
    }
}
