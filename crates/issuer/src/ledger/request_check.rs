//! The checks of an activation file request, each refusal naming the field it is about (by
//! its JSON name) so that every front end can show it next to that field, in its own words.

use format::Timestamp;

use super::portal::{NewRequest, REQUEST_CATEGORIES, REQUEST_FILE_TYPES, REQUEST_TYPES};

/// Deployment types of an activation file request (the reference's list).
pub const DEPLOYMENT_TYPES: &[&str] = &[
    "Production",
    "Lab",
    "Test",
    "Disaster Recovery Cold Standby",
    "Disaster Recovery Hot Standby",
];

/// Implementation types of an activation file request (the reference's list).
pub const IMPLEMENTATION_TYPES: &[&str] = &[
    "Add-on",
    "Migration",
    "New Deployment",
    "Reallocation",
    "Temporary",
    "Upgrade",
];

/// One thing wrong with a request: the field (its JSON name, `date_needed`) and why, as a
/// phrase that follows the field's name ("is in the past ...").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestProblem {
    /// The field's JSON name, as [`NewRequest`] serializes it.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for RequestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|v| v.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(y), Some(m), Some(d)) if y >= 2000 && (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// Why a short text is refused: a refused character, over the length limit or blanks around.
fn text_problem(v: &str) -> Option<String> {
    if let Some(why) = format::text::refused_char_reason(v) {
        return Some(format!("{why}: only printable characters are accepted"));
    }
    (v.len() > format::MAX_TEXT_LEN || v != v.trim()).then(|| {
        format!(
            "must be at most {} printable characters without leading or trailing blanks",
            format::MAX_TEXT_LEN
        )
    })
}

/// Why a host-ID code is refused (its check character, its length ...), if it is.
fn host_problem(code: &str) -> Option<String> {
    if code.is_empty() {
        return None;
    }
    match crate::host_code::parse_host_code("--host-id", code) {
        Ok(_) => None,
        Err(crate::IssuerError::HostId { source, .. }) => Some(source.to_string()),
        Err(crate::IssuerError::RequestCode { source, .. }) => Some(source.to_string()),
        Err(e) => Some(e.to_string()),
    }
}

/// The reason of a refusal, without the "request:" its message starts with.
pub fn reason_of(e: crate::IssuerError) -> String {
    match e {
        crate::IssuerError::MalformedRequest { reason } => reason,
        e => e.to_string(),
    }
}

/// The earliest date that is today somewhere on Earth (UTC-12): a date needed before it is
/// in the past for everyone.
pub fn earliest_today() -> String {
    Timestamp::now().plus_secs(-12 * 3600).date()
}

impl NewRequest {
    /// Every problem of the request, in the form's order, with a date needed of at least
    /// [`earliest_today`]. Empty when the request may be recorded.
    pub fn problems(&self) -> Vec<RequestProblem> {
        self.problems_on(&earliest_today())
    }

    /// Every problem of the request, a date needed before `today` (`YYYY-MM-DD`) refused.
    pub fn problems_on(&self, today: &str) -> Vec<RequestProblem> {
        let mut out = Vec::new();
        let mut bad = |field: &'static str, reason: String| {
            out.push(RequestProblem { field, reason });
        };
        let one_of = |v: &str, list: &[&str]| {
            format!("'{}' is not one of: {}", v.escape_debug(), list.join(", "))
        };
        if !REQUEST_TYPES.contains(&self.request_type.as_str()) {
            bad("request_type", one_of(&self.request_type, REQUEST_TYPES));
        }
        let question = self.request_type == REQUEST_TYPES[0];
        if question {
            for (field, v) in [("category", &self.category), ("file_type", &self.file_type)] {
                if !v.is_empty() {
                    bad(field, "must be empty for a question".into());
                }
            }
            if self.urgent {
                bad("urgent", "a question is not urgent".into());
            }
        } else {
            if !REQUEST_CATEGORIES.contains(&self.category.as_str()) {
                bad("category", one_of(&self.category, REQUEST_CATEGORIES));
            }
            if !REQUEST_FILE_TYPES.contains(&self.file_type.as_str()) {
                bad("file_type", one_of(&self.file_type, REQUEST_FILE_TYPES));
            }
        }
        if self.subject.is_empty() {
            bad("subject", "is empty".into());
        } else if let Some(why) = text_problem(&self.subject) {
            bad("subject", why);
        }
        if self.description.len() > 20_000 {
            bad("description", "must be at most 20000 bytes of text".into());
        } else if let Some((at, c)) = self.description.chars().enumerate().find(|&(_, c)| {
            // Free text: line breaks and tabs pass, every other refused character is named.
            format::text::is_refused_char(c) && !matches!(c, '\n' | '\r' | '\t')
        }) {
            bad(
                "description",
                format!(
                    "holds the {} U+{:04X} at character {}",
                    format::text::refused_char_kind(c),
                    u32::from(c),
                    at + 1
                ),
            );
        }
        if !is_date(&self.date_needed) {
            bad(
                "date_needed",
                format!(
                    "'{}' must be a date YYYY-MM-DD",
                    self.date_needed.escape_debug()
                ),
            );
        } else if self.date_needed.as_str() < today {
            bad(
                "date_needed",
                format!(
                    "{} is in the past: give today or a later date",
                    self.date_needed
                ),
            );
        }
        for (field, v) in [
            ("date_reason", &self.date_reason),
            ("host_id", &self.host_id),
            ("backup_host_id", &self.backup_host_id),
            ("contact_name", &self.contact_name),
            ("contact_email", &self.contact_email),
            ("order_number", &self.order_number),
        ] {
            if let Some(why) = text_problem(v) {
                bad(field, why);
            } else if field.ends_with("host_id") {
                if let Some(why) = host_problem(v) {
                    bad(field, why);
                }
            } else if field == "contact_email" && !v.is_empty() {
                if let Err(e) = super::portal::check_email(v) {
                    bad(field, reason_of(e));
                }
            }
        }
        for (field, v, list) in [
            ("deployment_type", &self.deployment_type, DEPLOYMENT_TYPES),
            (
                "implementation_type",
                &self.implementation_type,
                IMPLEMENTATION_TYPES,
            ),
        ] {
            if !v.is_empty() && !list.contains(&v.as_str()) {
                bad(field, one_of(v, list));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";

    fn request() -> NewRequest {
        NewRequest {
            request_type: "Activation File Request".into(),
            category: REQUEST_CATEGORIES[0].into(),
            file_type: REQUEST_FILE_TYPES[0].into(),
            subject: "New server".into(),
            date_needed: "2026-12-24".into(),
            host_id: HOST.into(),
            contact_name: "Ann Smith".into(),
            contact_email: "ann@example.com".into(),
            deployment_type: "Production".into(),
            implementation_type: "Migration".into(),
            order_number: "SO-1234".into(),
            ..NewRequest::default()
        }
    }

    fn fields(r: &NewRequest) -> Vec<&'static str> {
        r.problems_on("2026-12-07")
            .iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn a_complete_request_has_no_problem() {
        assert_eq!(fields(&request()), Vec::<&str>::new());
        let r = NewRequest {
            date_needed: "2026-12-07".into(),
            ..request()
        };
        assert_eq!(fields(&r), Vec::<&str>::new(), "today is not past");
    }

    #[test]
    fn a_past_date_is_refused_with_its_reason() {
        let r = NewRequest {
            date_needed: "2026-12-06".into(),
            ..request()
        };
        let p = r.problems_on("2026-12-07");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "date_needed");
        assert!(p[0].reason.contains("in the past"), "{}", p[0].reason);
    }

    #[test]
    fn a_host_id_with_a_wrong_check_character_is_refused() {
        let mut wrong = HOST.to_string();
        wrong.pop();
        wrong.push('V');
        let r = NewRequest {
            backup_host_id: wrong,
            ..request()
        };
        let p = r.problems_on("2026-12-07");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].field, "backup_host_id");
        assert!(p[0].reason.contains("check character"), "{}", p[0].reason);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let r = NewRequest {
            subject: String::new(),
            date_needed: "soon".into(),
            contact_email: "ann".into(),
            deployment_type: "Cloud".into(),
            implementation_type: "Rehost".into(),
            order_number: " SO".into(),
            ..request()
        };
        assert_eq!(
            fields(&r),
            [
                "subject",
                "date_needed",
                "contact_email",
                "order_number",
                "deployment_type",
                "implementation_type"
            ]
        );
    }
}
