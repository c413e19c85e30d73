//! The requests resource of the API: what it takes in attachments.

mod common;

use common::*;
use serde_json::json;

/// The API takes what the documentation promises: a request with five attachments of 1 MiB
/// (base64 makes the body 6.67 MiB), kept byte for byte.
#[tokio::test]
async fn the_api_takes_five_attachments_of_one_mib() {
    use base64::Engine as _;
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let max = issuer::ledger::MAX_ATTACHMENT_BYTES;
    let atts: Vec<serde_json::Value> = (0..issuer::ledger::MAX_ATTACHMENTS)
        .map(|i| {
            let bytes: Vec<u8> = (0..max).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            json!({
                "name": format!("log{i}.txt"),
                "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        })
        .collect();
    let body = json!({
        "account_id": p.contoso,
        "request": { "request_type": "Question", "subject": "Logs", "description": "five logs", "date_needed": "2099-12-24" },
        "attachments": atts,
    });
    assert!(
        body.to_string().len() > portal::MAX_BODY,
        "over the form's limit"
    );
    let r = p
        .api("POST", "/api/v1/requests", Some(&t), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.json()["number"].as_str().unwrap().to_string();
    let l = p.ledger();
    for i in 0..issuer::ledger::MAX_ATTACHMENTS {
        let a = l.request_attachment(&number, i as i64 + 1).unwrap();
        assert_eq!(a.bytes.len(), max);
    }
}
