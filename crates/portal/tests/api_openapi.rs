//! The OpenAPI document is generated from the API's types: what the types say is what it
//! says, and every route of the API is in it.

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

/// Every route of the API is in the OpenAPI document, and every path in it answers.
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let p = Portal::new();
    let doc = p.get("/api/v1/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let types: Vec<&str> = format::LicenseType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let enum_of = |v: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = serde_json::from_value(v.clone()).unwrap();
        v.sort();
        v
    };
    let mut want: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    want.sort();
    assert_eq!(
        enum_of(&doc["components"]["schemas"]["IssueRequest"]["properties"]["type"]["enum"]),
        want
    );
    let files_get = &doc["paths"]["/api/v1/accounts/{id}/files"]["get"]["parameters"];
    let type_param = files_get
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "type")
        .unwrap();
    let mut with_any = want.clone();
    with_any.insert(0, String::new());
    assert_eq!(
        enum_of(&type_param["schema"]["enum"]),
        with_any,
        "empty means any type"
    );
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let src = include_str!("../src/lib.rs");
    let routed: Vec<String> = src
        .match_indices("\"/api/v1/")
        .map(|(i, _)| src[i + 1..i + 1 + src[i + 1..].find('"').unwrap()].to_string())
        .collect();
    let mut a = paths.clone();
    a.sort();
    let mut b = routed.clone();
    b.sort();
    b.dedup();
    assert_eq!(a, b, "document paths vs routes");
    let t = p.token("staff@vendor.example");
    for path in paths {
        let concrete = path
            .replace("{id}", &p.contoso.to_string())
            .replace("{file}", "00000000000000000000000000000000")
            .replace("{number}", "AFR-0000001");
        for m in doc["paths"][&path].as_object().unwrap().keys() {
            let r = p.api(&m.to_uppercase(), &concrete, Some(&t), None).await;
            assert_ne!(r.status, 405, "{m} {path} is routed");
            assert_ne!(r.status, 500, "{m} {path}");
        }
    }
}
