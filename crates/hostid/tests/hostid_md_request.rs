//! docs/HOSTID.md section 12: the example request code is what the crate writes for the
//! example machine and the install key given, and its stated figures hold.

use hostid::{Components, HostId, RequestCode, REQUEST_PRINTED_LEN, REQUEST_SYMBOLS};

fn doc() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/HOSTID.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hex32(s: &str) -> [u8; 32] {
    std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
}

#[test]
fn the_request_code_example_is_what_the_crate_writes() {
    let doc = doc();
    let sec = &doc[doc.find("\n## 12. Request codes").expect("section 12")..];
    let key = "ed3234b276d4ceda57d59bad14fbaf5a773c0f318c999de3a60d53c5a5b34c05";
    assert!(sec.contains(key));
    let host = HostId::strong_from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    })
    .expect("example machine");
    let code = RequestCode::new(host, hex32(key)).expect("strong");
    let printed = code.to_string();
    assert!(
        sec.contains(&format!("```text\n{printed}\n```")),
        "{printed}"
    );
    assert_eq!((REQUEST_SYMBOLS, REQUEST_PRINTED_LEN), (112, 134));
    assert!(sec.contains("112 symbols") && sec.contains("134 characters"));
    // The first 59 symbols are the strong code's payload under version symbol 3.
    let plain = printed.replace('-', "");
    let strong = host.to_string().replace('-', "");
    assert_eq!(&plain[1..59], &strong[1..59]);
    assert_eq!(printed.parse::<RequestCode>(), Ok(code));
}
