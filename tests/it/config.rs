//! `config/example.toml` stays in step with the `Config` struct, and the defaults are the embedded
//! ones the README promises.

use std::collections::BTreeSet;

use rookery::config::{Config, Protocol};
use serde_json::Value;

fn flatten(prefix: &str, v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// Keys of example.toml, counting commented-out `# key = value` lines (optional keys shown unset),
/// and checking that each key line follows a comment.
fn example_keys() -> BTreeSet<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .expect("config/example.toml");
    let key_line = regex::Regex::new(r"^#?\s*([a-z0-9_]+)\s*=").unwrap();
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    let mut prev = "";
    for line in text.lines() {
        let t = line.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some(c) = key_line.captures(t)
            && !section.is_empty()
        {
            let commented_value = t.starts_with('#');
            if !commented_value {
                assert!(
                    prev.starts_with('#'),
                    "{section}.{} in config/example.toml has no doc comment above it",
                    &c[1]
                );
            }
            keys.insert(format!("{section}.{}", &c[1]));
        }
        prev = t;
    }
    keys
}

#[test]
fn example_toml_lists_every_key_and_parses() {
    let mut expected = BTreeSet::new();
    flatten(
        "",
        &serde_json::to_value(Config::default()).unwrap(),
        &mut expected,
    );
    let documented = example_keys();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "keys missing from config/example.toml: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "config/example.toml names unknown keys: {unknown:?}"
    );

    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .unwrap();
    let parsed: Config = toml::from_str(&text).expect("example.toml deserialises into Config");
    let defaults = Config::default();
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        serde_json::to_value(&defaults).unwrap(),
        "example.toml values differ from the built-in defaults"
    );
}

#[test]
fn embedded_default_is_local_sqlite_over_http() {
    let c = Config::default();
    assert_eq!(c.server.domain, "localhost:8080");
    assert_eq!(c.server.bind, "127.0.0.1:8080");
    assert_eq!(c.database.url, "sqlite://data/rookery.db");
    assert_eq!(c.media.dir, "data/media");
    assert_eq!(c.protocol(), Protocol::Http);
    assert!(c.allow_http());
    assert_eq!(c.base_url(), "http://localhost:8080");
    assert_eq!(c.streaming_url(), "ws://localhost:8080");

    let mut public = Config::default();
    public.server.domain = "social.example.org".into();
    assert_eq!(public.protocol(), Protocol::Https);
    assert!(!public.allow_http());
    assert_eq!(public.streaming_url(), "wss://social.example.org");
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad_key = dir.path().join("a.toml");
    std::fs::write(&bad_key, "[server]\ndomian = \"x\"\n").unwrap();
    let err = Config::load(Some(&bad_key)).unwrap_err().to_string();
    assert!(err.contains("domian"), "{err}");

    let bad_mode = dir.path().join("b.toml");
    std::fs::write(&bad_mode, "[registrations]\nmode = \"sometimes\"\n").unwrap();
    assert!(Config::load(Some(&bad_mode)).is_err());

    let bad_domain = dir.path().join("c.toml");
    std::fs::write(&bad_domain, "[server]\ndomain = \"https://x.example/\"\n").unwrap();
    assert!(Config::load(Some(&bad_domain)).is_err());

    assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
}
