//! The ledger's rules, written once in plain Rust over values already read from storage:
//! what is available on an order line and for a part, which lines a file draws on
//! (perpetual and non-perpetual units), the install-site details rule, how a file id is
//! spelled and looked up by prefix, and how the names written into a signed file are
//! spelled. Storage only reads and writes rows; every decision is made here, so any engine
//! behind the ledger gives the same answers and the same errors.
//!
//! The schema's constraints (`orders.used <= quantity`, `quantity > 0`, one site name per
//! account, ...) stay as a second line of defence: a change that passes these rules never
//! meets them, and the error a user sees comes from here.

use format::{FileId, FormatError, LicenseType};

use super::SiteDetails;
use crate::catalog::Catalog;
use crate::error::IssuerError;
use crate::rules::IssueRequest;

/// One order line as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line's number (lines recorded earlier have lower numbers).
    pub id: i64,
    /// Units ordered.
    pub quantity: u64,
    /// Units its active files use.
    pub used: u64,
    /// Perpetual units (else usable by time-limited files only).
    pub perpetual: bool,
    /// Whether the line counts (an upgraded line is retired: no new file draws on it).
    pub active: bool,
}

impl Line {
    /// Units a new file may still take from this line: what is not used, and nothing on a
    /// retired line.
    pub fn available(&self) -> u64 {
        if self.active {
            self.quantity.saturating_sub(self.used)
        } else {
            0
        }
    }

    /// Whether a file may draw on this line: an active line, and a perpetual one when the
    /// file is perpetual (`perpetual_only`).
    pub fn usable(&self, perpetual_only: bool) -> bool {
        self.active && (self.perpetual || !perpetual_only)
    }
}

/// The account-wide counts of one part, over its order lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartTotals {
    /// Units ordered on active lines.
    pub total: u64,
    /// Of which perpetual.
    pub perpetual: u64,
    /// Of which non-perpetual.
    pub non_perpetual: u64,
    /// Units used by active files.
    pub used: u64,
    /// Units a new file may still take (each active line's [`Line::available`]).
    pub available: u64,
}

/// The counts of one part over the account's lines of that part. Orders belong to the
/// account, so these are also what each of its install sites may still have.
pub fn part_totals<'a>(lines: impl IntoIterator<Item = &'a Line>) -> PartTotals {
    let mut t = PartTotals::default();
    for l in lines {
        if l.active {
            t.total = t.total.saturating_add(l.quantity);
            if l.perpetual {
                t.perpetual = t.perpetual.saturating_add(l.quantity);
            }
        }
        // A retired line's units moved with its files to its successor: it uses none.
        t.used = t.used.saturating_add(l.used);
        t.available = t.available.saturating_add(l.available());
    }
    t.non_perpetual = t.total.saturating_sub(t.perpetual);
    t
}

/// The counts of one part at one install site: `used` by the site's active files, what
/// is still available to the account (and so to the site), and as total what the site can
/// have, `used + available`.
pub fn site_totals(account: &PartTotals, used_at_site: u64) -> PartTotals {
    PartTotals {
        total: used_at_site.saturating_add(account.available),
        used: used_at_site,
        ..*account
    }
}

/// Which lines of `part` a file takes `quantity` units from, and how many from each:
/// non-perpetual lines first (they can only serve time-limited files), then perpetual ones,
/// each in the order the lines were recorded; a perpetual file (`perpetual_only`) draws on
/// perpetual lines only. Refused with [`IssuerError::NotEnough`] naming what is available
/// (and, for a perpetual file, the non-perpetual units not counted).
pub fn allocate(
    account: &str,
    part: &str,
    lines: &[Line],
    quantity: u32,
    perpetual_only: bool,
    license_type: LicenseType,
) -> Result<Vec<(i64, u32)>, IssuerError> {
    let mut usable: Vec<&Line> = lines
        .iter()
        .filter(|l| l.usable(perpetual_only) && l.available() > 0)
        .collect();
    usable.sort_by_key(|l| (l.perpetual, l.id));
    let available: u64 = usable.iter().map(|l| l.available()).sum();
    if available < u64::from(quantity) {
        let not_counted: u64 = lines
            .iter()
            .filter(|l| perpetual_only && l.active && !l.perpetual)
            .map(Line::available)
            .sum();
        let note = if not_counted > 0 {
            format!(" (a {license_type} file uses perpetual units only; {not_counted} non-perpetual units not counted)")
        } else {
            String::new()
        };
        return Err(IssuerError::NotEnough {
            account: account.to_string(),
            part: part.to_string(),
            asked: quantity.into(),
            available,
            note,
        });
    }
    let mut left = u64::from(quantity);
    let mut out = Vec::new();
    for l in usable {
        if left == 0 {
            break;
        }
        let take = left.min(l.available());
        left -= take;
        out.push((l.id, u32::try_from(take).unwrap_or(u32::MAX)));
    }
    Ok(out)
}

/// An update's refusal in the caller's terms: the units the updated file already holds
/// were returned before the new file's were taken, so [`allocate`] saw them as asked and
/// available; the caller asked only for the units beyond them.
pub fn beyond_held(e: IssuerError, held: &[(String, u64)]) -> IssuerError {
    match e {
        IssuerError::NotEnough {
            account,
            part,
            asked,
            available,
            note,
        } => {
            let h = held.iter().find(|(p, _)| *p == part).map_or(0, |(_, n)| *n);
            if h == 0 {
                return IssuerError::NotEnough {
                    account,
                    part,
                    asked,
                    available,
                    note,
                };
            }
            IssuerError::NotEnough {
                account,
                part,
                asked: asked.saturating_sub(h),
                available: available.saturating_sub(h),
                note: format!("{note} (beyond the {h} the file already holds)"),
            }
        }
        other => other,
    }
}

/// The most address lines an install site has.
pub const MAX_ADDRESS_LINES: usize = 3;

/// The install-site details rule: at most [`MAX_ADDRESS_LINES`] address lines as given,
/// every value a text the ledger may store ([`super::check_text`]). Returns the details as
/// they are stored: empty address lines dropped (the lines kept move up).
pub fn site_details(d: &SiteDetails) -> Result<SiteDetails, IssuerError> {
    check_address_lines(d.address.len())?;
    for (what, v) in d.address.iter().map(|a| ("address", a)).chain([
        ("city", &d.city),
        ("state", &d.state),
        ("country", &d.country),
        ("postal code", &d.postal_code),
    ]) {
        super::check_text(what, v)?;
    }
    Ok(SiteDetails {
        address: d
            .address
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .collect(),
        ..d.clone()
    })
}

/// Refuse more than [`MAX_ADDRESS_LINES`] address lines (`given` of them).
pub fn check_address_lines(given: usize) -> Result<(), IssuerError> {
    if given > MAX_ADDRESS_LINES {
        return Err(IssuerError::MalformedRequest {
            reason: format!("an install site has at most three address lines, not {given}"),
        });
    }
    Ok(())
}

/// Length of a file id in hex digits.
pub const FILE_ID_LEN: usize = 32;

/// The shortest id prefix looked up (as git's shortest abbreviation).
pub const MIN_ID_PREFIX: usize = 4;

/// How many candidates an ambiguous prefix names at most.
pub const MAX_CANDIDATES: usize = 10;

/// A file id as a user may type it: blanks around it ignored, hex digits in any case.
/// Errors are the format's (the value is not 32 hex digits).
pub fn spell_file_id(given: &str) -> Result<FileId, FormatError> {
    given.trim().to_ascii_lowercase().parse()
}

/// A whole file id as given ([`spell_file_id`]); anything else names no file
/// ([`IssuerError::UnknownFile`], quoting what was given).
pub fn file_id(given: &str) -> Result<FileId, IssuerError> {
    spell_file_id(given).map_err(|_| IssuerError::UnknownFile {
        id: given.to_string(),
    })
}

/// How a given file id is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdLookup {
    /// As a whole id (lower case, trimmed); it may still name no file.
    Whole(String),
    /// As a prefix of hex digits (lower case) that exactly one file's id must start with.
    Prefix(String),
}

/// The file-id lookup rule: a whole id (any case, blanks around it ignored) or a value
/// that is not all hex digits is looked up as it is; a prefix of [`MIN_ID_PREFIX`] to
/// [`FILE_ID_LEN`] hex digits by prefix; a shorter one names no file.
pub fn id_lookup(given: &str) -> Result<IdLookup, IssuerError> {
    let id = given.trim().to_ascii_lowercase();
    if id.len() == FILE_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(IdLookup::Whole(id));
    }
    if id.len() < MIN_ID_PREFIX || id.len() > FILE_ID_LEN {
        return Err(IssuerError::UnknownFile {
            id: given.to_string(),
        });
    }
    Ok(IdLookup::Prefix(id))
}

/// What a prefix names, from the ids found with it (sorted, at most [`MAX_CANDIDATES`] + 1
/// of them) and, asked only when there are several, how many ids start with it: none is
/// [`IssuerError::UnknownFile`], one is that id, several [`IssuerError::AmbiguousId`].
pub fn prefix_match<E: From<IssuerError>>(
    given: &str,
    prefix: &str,
    found: Vec<String>,
    total: impl FnOnce() -> Result<u64, E>,
) -> Result<String, E> {
    let mut found = found.into_iter();
    match (found.next(), found.len()) {
        (None, _) => Err(IssuerError::UnknownFile {
            id: given.to_string(),
        }
        .into()),
        (Some(one), 0) => Ok(one),
        (Some(first), _) => Err(IssuerError::AmbiguousId {
            prefix: prefix.to_string(),
            candidates: std::iter::once(first)
                .chain(found)
                .take(MAX_CANDIDATES)
                .collect(),
            total: total()?,
        }
        .into()),
    }
}

/// Whether two names (of accounts, of install sites of one account) name the same thing:
/// compared without case, as the ledger looks names up (ASCII letters, as SQLite's
/// `NOCASE`), so `contoso` is `Contoso`.
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A part number as the catalog spells it (`sw-001-4.0-al02` is `SW-001-4.0-AL02`); one
/// the catalog does not know stays as given, to be refused with its suggestions.
pub fn canonical_part(catalog: &Catalog, part: &str) -> String {
    catalog
        .lookup_part(part)
        .map_or_else(|_| part.to_string(), |p| p.number.clone())
}

/// `req` with the names a signed file carries spelled as recorded: the account and the
/// install site as the ledger spells them (`account`, `site`: the stored names of those
/// `req` names, when found) and part numbers as the catalog spells them. Names and part
/// numbers are matched without case; what is signed is the recorded spelling. A name not
/// found stays as given, to be refused when it is looked up.
pub fn canonical_request(
    catalog: &Catalog,
    req: &IssueRequest,
    account: Option<String>,
    site: Option<String>,
) -> IssueRequest {
    let mut r = req.clone();
    if let Some(a) = account {
        r.account = a;
    }
    if let Some(s) = site {
        r.site = s;
    }
    r.server_part = canonical_part(catalog, &r.server_part);
    if let Some(p) = &r.switchover_part {
        r.switchover_part = Some(canonical_part(catalog, p));
    }
    for a in &mut r.add {
        a.part = canonical_part(catalog, &a.part);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, quantity: u64, used: u64, perpetual: bool, active: bool) -> Line {
        Line {
            id,
            quantity,
            used,
            perpetual,
            active,
        }
    }

    #[test]
    fn a_retired_line_has_nothing_available() {
        assert_eq!(line(1, 5, 2, true, true).available(), 3);
        assert_eq!(line(1, 5, 0, true, false).available(), 0);
        // A counter above the quantity (a damaged ledger) is never negative.
        assert_eq!(line(1, 5, 7, true, true).available(), 0);
        assert!(!line(1, 5, 0, true, false).usable(false));
        assert!(!line(1, 5, 0, false, true).usable(true));
        assert!(line(1, 5, 0, false, true).usable(false));
    }

    #[test]
    fn part_totals_count_active_lines_and_split_perpetual_units() {
        let lines = [
            line(1, 10, 4, true, true),
            line(2, 3, 1, false, true),
            // Retired by an upgrade: its units are on its successor.
            line(3, 7, 0, true, false),
        ];
        let t = part_totals(&lines);
        assert_eq!(
            t,
            PartTotals {
                total: 13,
                perpetual: 10,
                non_perpetual: 3,
                used: 5,
                available: 8
            }
        );
        assert_eq!(t.used + t.available, t.total);
        let s = site_totals(&t, 2);
        assert_eq!((s.total, s.used, s.available), (10, 2, 8));
        assert_eq!((s.perpetual, s.non_perpetual), (10, 3));
        assert_eq!(part_totals(&[]), PartTotals::default());
    }

    #[test]
    fn allocation_takes_non_perpetual_lines_first_in_recorded_order() {
        let lines = [
            line(5, 4, 0, true, true),
            line(2, 4, 3, true, true),
            line(9, 2, 0, false, true),
            line(7, 3, 1, false, true),
            line(1, 9, 0, false, false),
        ];
        let t = LicenseType::Trial;
        assert_eq!(
            allocate("A", "P", &lines, 6, false, t).unwrap(),
            [(7, 2), (9, 2), (2, 1), (5, 1)]
        );
        // A perpetual file draws on perpetual lines only.
        let p = LicenseType::Production;
        assert_eq!(
            allocate("A", "P", &lines, 5, true, p).unwrap(),
            [(2, 1), (5, 4)]
        );
        match allocate("A", "P", &lines, 6, true, p) {
            Err(IssuerError::NotEnough {
                asked,
                available,
                note,
                ..
            }) => {
                assert_eq!((asked, available), (6, 5));
                assert!(note.contains("4 non-perpetual units not counted"), "{note}");
            }
            other => panic!("{other:?}"),
        }
        match allocate("A", "P", &lines, 10, false, t) {
            Err(IssuerError::NotEnough {
                available, note, ..
            }) => assert_eq!((available, note.as_str()), (9, "")),
            other => panic!("{other:?}"),
        }
        assert_eq!(allocate("A", "P", &[], 0, true, p).unwrap(), []);
    }

    #[test]
    fn site_details_allow_three_address_lines_and_drop_empty_ones() {
        let d = SiteDetails {
            address: vec!["".into(), "1 Main St".into(), "".into()],
            city: "Carmel".into(),
            ..Default::default()
        };
        let kept = site_details(&d).unwrap();
        assert_eq!(kept.address, ["1 Main St"]);
        assert_eq!(kept.city, "Carmel");
        let four = SiteDetails {
            address: vec!["a".into(), "b".into(), "c".into(), "".into()],
            ..Default::default()
        };
        let e = site_details(&four).unwrap_err().to_string();
        assert!(e.contains("at most three address lines, not 4"), "{e}");
        for bad in [" lead", "trail ", "a\u{1b}b", "\u{202e}x"] {
            let d = SiteDetails {
                postal_code: bad.into(),
                ..Default::default()
            };
            assert!(site_details(&d).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_ids_are_spelled_in_any_case_and_looked_up_by_prefix() {
        let id = "1855ae5d55e32e1c00fc29806544c5be";
        assert_eq!(
            file_id(&format!(" {} ", id.to_uppercase()))
                .unwrap()
                .to_string(),
            id
        );
        assert!(matches!(
            file_id("nope"),
            Err(IssuerError::UnknownFile { id }) if id == "nope"
        ));
        assert_eq!(
            id_lookup(&id.to_uppercase()).unwrap(),
            IdLookup::Whole(id.into())
        );
        assert_eq!(
            id_lookup("not-hex").unwrap(),
            IdLookup::Whole("not-hex".into())
        );
        assert_eq!(
            id_lookup(" 1855A ").unwrap(),
            IdLookup::Prefix("1855a".into())
        );
        assert!(matches!(
            id_lookup("185"),
            Err(IssuerError::UnknownFile { .. })
        ));
        assert!(matches!(
            id_lookup(&format!("{id}0")),
            Err(IssuerError::UnknownFile { .. })
        ));
        let never = || -> Result<u64, IssuerError> { panic!("counted without need") };
        assert_eq!(
            prefix_match("1855", "1855", vec![id.into()], never).unwrap(),
            id
        );
        assert!(matches!(
            prefix_match("ffff", "ffff", vec![], never),
            Err(IssuerError::UnknownFile { .. })
        ));
        let many: Vec<String> = (0..=MAX_CANDIDATES).map(|i| format!("{i:032x}")).collect();
        match prefix_match("0000", "0000", many, || Ok::<_, IssuerError>(40)) {
            Err(IssuerError::AmbiguousId {
                candidates, total, ..
            }) => assert_eq!((candidates.len(), total), (MAX_CANDIDATES, 40)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_are_the_same_without_case() {
        assert!(same_name("Contoso", "cONTOSO"));
        assert!(!same_name("Contoso", "Contoso Ltd"));
        // As SQLite's NOCASE: only ASCII letters fold.
        assert!(!same_name("Ä", "ä"));
    }

    #[test]
    fn a_request_is_spelled_as_recorded() {
        let catalog = Catalog::built_in().unwrap();
        let mut req = crate::ledger::test_support::request("contoso", "hq", "m", 2, 1);
        req.server_part = "sw-001-4.0-sl03".into();
        req.add[0].part = "Sw-001-4.0-aL02".into();
        req.switchover_part = Some("no-such-part".into());
        let r = canonical_request(&catalog, &req, Some("Contoso".into()), None);
        assert_eq!((r.account.as_str(), r.site.as_str()), ("Contoso", "hq"));
        assert_eq!(r.server_part, "SW-001-4.0-SL03");
        assert_eq!(r.add[0].part, "SW-001-4.0-AL02");
        assert_eq!(r.switchover_part.as_deref(), Some("no-such-part"));
    }
}
