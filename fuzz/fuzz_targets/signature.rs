//! HTTP signature headers (draft-cavage) as the GET and inbox checks parse them, and the RSA
//! check run on whatever signature bytes they carry.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use rookery::federation::signatures::{UnverifiedGet, rsa_sha256_verifies};

/// A 2048-bit RSA public key made for this target, so that verification runs to the end.
const KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3Huc5sOzEr5e9H+ISryt
qmNZa/hgAsZSSp5svP7EyktAnGP0lEFfGxbEhhzyr2aMZw1hGWRWK/Nj8IvxyH5g
QcQ09srarq9zNzwH5qkgb7B6cAwtQZ5PLWC2UvHg0fesDh2S/CrJdkbMsrtAiF8C
ZcLeqiEr55Ev2mlZ2ukiNxVr4yxydjgh/C8N3wkG0C4arcU4gTs+RM66RYS/2VAF
QTdWk449V7uUlJ4/SVBYjNibGLGOO2qvtiGP8+Ve92W78JK2PuMEyXVbOMXF4fz2
DrSWYASqOVT7wzWRtmUuQkFrFdT2O1mIaoWoePN5aTkzNRoCeVWSZzVzp21xY8eo
iwIDAQAB
-----END PUBLIC KEY-----";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    let Ok(value) = HeaderValue::from_str(text) else {
        return;
    };
    headers.insert("signature", value);
    headers.insert("host", HeaderValue::from_static("example.com"));
    if let Ok(date) = HeaderValue::from_str(
        &chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    ) {
        headers.insert("date", date);
    }
    let uri: Uri = "/users/alice/outbox?page=1".parse().unwrap();
    if let Ok(parsed) = UnverifiedGet::parse(&Method::GET, &uri, &headers, "example.com") {
        let _ = parsed.key_id();
        let _ = parsed.verify(KEY);
    }
    // The signature value alone, as raw base64 of any length.
    let _ = rsa_sha256_verifies(KEY, b"(request-target): get /", text);
});
