//! The OpenAPI document is generated from the API's types: what the types say is what it
//! says.

mod common;

use common::*;

#[tokio::test]
async fn the_document_follows_the_types() {
    let p = Portal::new();
    let doc = p.get("/api/v1/openapi.json", None).await.json();
    let schemas = &doc["components"]["schemas"];
    // `account` of the issue request may be left out: the address names the account.
    let required: Vec<&str> = schemas["IssueRequest"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!required.contains(&"account"), "{required:?}");
    assert!(required.contains(&"host_id"), "{required:?}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Each route but the document itself needs the token and documents its refusals.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if path == "/api/v1/openapi.json" {
                assert!(op.get("security").is_none(), "{method} {path}");
                continue;
            }
            assert_eq!(
                op["security"][0]["bearer"],
                serde_json::json!([]),
                "{method} {path}"
            );
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path}"
            );
        }
    }
    // The error body's kinds are documented once, on the type.
    let kind = schemas["ErrorDetail"]["properties"]["kind"]["description"]
        .as_str()
        .unwrap();
    assert!(kind.contains("not-enough"), "{kind}");
}
