//! The pages' own CSS and JavaScript, embedded in the binary and served at
//! `/assets/NAME.HASH.EXT`: the hash is of the content, so a changed file gets a new address and
//! every address can be cached for good. The pages' CSP allows scripts and styles from here only.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Name, content type and content of each file under `src/web/static`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("static/app.js"),
    ),
    (
        "calls.js",
        "text/javascript; charset=utf-8",
        include_str!("static/calls.js"),
    ),
    (
        "pages.js",
        "text/javascript; charset=utf-8",
        include_str!("static/pages.js"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("static/icon.svg")),
    (
        "stories.css",
        "text/css; charset=utf-8",
        include_str!("static/stories.css"),
    ),
    (
        "stories.js",
        "text/javascript; charset=utf-8",
        include_str!("static/stories.js"),
    ),
    (
        "shorts.css",
        "text/css; charset=utf-8",
        include_str!("static/shorts.css"),
    ),
    (
        "shorts.js",
        "text/javascript; charset=utf-8",
        include_str!("static/shorts.js"),
    ),
];

/// One embedded file: its address (`/assets/pages.0123abcd.css`), content type and content.
pub struct Asset {
    pub name: &'static str,
    pub path: String,
    pub content_type: &'static str,
    pub body: &'static str,
}

fn all() -> &'static [Asset] {
    static ALL: OnceLock<Vec<Asset>> = OnceLock::new();
    ALL.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, content_type, body)| {
                let hash = hex::encode(&Sha256::digest(body.as_bytes())[..4]);
                let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
                Asset {
                    name,
                    path: format!("/assets/{stem}.{hash}.{ext}"),
                    content_type,
                    body,
                }
            })
            .collect()
    })
}

/// The address of the embedded file `name` (`"pages.css"`), for templates.
///
/// Panics on a name that is not embedded: templates name files that exist, and a test renders
/// every page.
pub fn url(name: &str) -> &'static str {
    all()
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.path.as_str())
        .unwrap_or_else(|| panic!("no embedded asset {name}"))
}

/// The embedded file served at `/assets/{file}`, if any.
pub fn find(file: &str) -> Option<&'static Asset> {
    all()
        .iter()
        .find(|a| a.path.strip_prefix("/assets/") == Some(file))
}

#[cfg(test)]
mod tests {
    /// Every `assets::url("…")` in a template names an embedded file.
    #[test]
    fn templates_name_embedded_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/templates");
        let re = regex::Regex::new(r#"assets::url\("([^"]+)"\)"#).unwrap();
        let mut seen = 0;
        let entries = std::fs::read_dir(dir)
            .unwrap()
            .chain(std::fs::read_dir(format!("{dir}/app")).unwrap());
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&path).unwrap();
                for c in re.captures_iter(&text) {
                    assert!(
                        super::find(super::url(&c[1]).trim_start_matches("/assets/")).is_some()
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen >= 4, "templates link their assets");
    }
}
