//! A fresh bucket on the S3-compatible server `scripts/test` starts on loopback (moto's server
//! mode, at `ROOKERY_TEST_S3`), and a listing of what a test's media store holds.

use object_store::ObjectStore;
use rookery::config::{Config, MediaBackend, S3Config};

/// The S3-compatible endpoint; tests that need it fail with a clear message without it.
pub fn endpoint() -> String {
    std::env::var("ROOKERY_TEST_S3").unwrap_or_else(|_| {
        panic!(
            "ROOKERY_TEST_S3 is not set: run the suite with scripts/test, which starts moto_server"
        )
    })
}

/// Creates an empty bucket with a unique name and returns settings for it.
pub async fn fresh_bucket() -> S3Config {
    let endpoint = endpoint();
    let bucket = format!(
        "rookery-{}",
        rookery::service::secrets::random_token()[..12]
            .to_lowercase()
            .replace(['-', '_'], "0")
    );
    let resp = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("S3 server at {endpoint} is not answering: {e}"));
    assert!(
        resp.status().is_success(),
        "creating bucket {bucket}: {}",
        resp.status()
    );
    // Files are read by browsers and other servers without credentials, as docs/API.md asks of
    // a production bucket: anyone may get objects, nobody may list them.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
        }],
    });
    let resp = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}?policy"))
        .header("content-type", "application/json")
        .body(policy.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "bucket policy: {}",
        resp.status()
    );
    S3Config {
        endpoint,
        bucket,
        region: "us-east-1".into(),
        access_key_id: "rookery-test".into(),
        secret_access_key: "rookery-test-secret".into(),
        public_base_url: String::new(),
    }
}

/// The `[media]` table of a config file for a fresh bucket (see `binary::write_config`), with
/// `media_keys` (lines of other `[media]` keys) added.
pub async fn media_toml(media_keys: &str) -> String {
    let s3 = fresh_bucket().await;
    format!(
        "[media]\nbackend = \"s3\"\n{media_keys}\n\n[media.s3]\nendpoint = \"{}\"\nbucket = \"{}\"\nregion = \"{}\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
        s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key
    )
}

/// Every key in the media store `cfg` names: files under the folder, or objects in the bucket.
pub async fn stored_keys(cfg: &Config) -> Vec<String> {
    match cfg.media.backend {
        MediaBackend::Local => files_under(std::path::Path::new(&cfg.media.dir)),
        MediaBackend::S3 => {
            let s3 = &cfg.media.s3;
            let store = object_store::aws::AmazonS3Builder::new()
                .with_endpoint(&s3.endpoint)
                .with_bucket_name(&s3.bucket)
                .with_region(&s3.region)
                .with_access_key_id(&s3.access_key_id)
                .with_secret_access_key(&s3.secret_access_key)
                .with_allow_http(true)
                .build()
                .unwrap();
            use futures_util::TryStreamExt;
            let objects: Vec<_> = store.list(None).try_collect().await.unwrap();
            objects
                .into_iter()
                .map(|o| o.location.to_string())
                .collect()
        }
    }
}

/// Every regular file under `dir` (relative paths); scratch folders are not media.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}
