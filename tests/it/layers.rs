//! The layers of `src/` import one way only (issue 24; docs/ARCHITECTURE.md, "Layers"): a module
//! may name (`crate::…`, in `use` lines or inline paths) only modules of a lower layer or of its
//! own group, `http` and `web` reach `storage` only through `service`, and nothing below `http`
//! names `axum`. Imports that break the rule today are listed
//! in [`DEBTS`], each as the file and the module it names; the test fails on any import not listed
//! (naming its file and line) and on a listed one that is gone, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of `src/` by layer, highest first. Modules of one group may name each other.
const LAYERS: &[(u8, &[&str])] = &[
    (7, &["server"]),
    // Requests in, pages and responses out.
    (6, &["http", "web"]),
    // What the instance does; `state` is its context (`AppState`).
    (5, &["service", "state"]),
    // The ActivityPub documents we send and check (actors, notes, signatures).
    (4, &["federation"]),
    // API entities, as Mastodon documents them.
    (3, &["api_types"]),
    // Infrastructure: errors, the job queue, the media store, the streaming hub, egress.
    (2, &["error"]),
    (2, &["jobs"]),
    (2, &["media"]),
    (2, &["realtime"]),
    (2, &["net"]),
    (1, &["storage"]),
    (0, &["config"]),
];

/// Names reachable as `crate::NAME` that are not modules (macros exported at the crate root).
const NOT_MODULES: &[&str] = &["on_db", "bind_args"];

/// Imports that skip a layer: requests reach the database only through services.
const SKIPS: &[(&str, &str)] = &[("http", "storage"), ("web", "storage")];

/// Layers (by group) in which `axum` must not be named: everything below `http`.
const NO_AXUM_BELOW: u8 = 6;

/// Imports against the rule that exist today, to be removed as issue 24 moves code (file under
/// `src/`, module named). Do not add to this list: move the code instead.
const DEBTS: &[(&str, &str)] = &[
    ("api_types/instance.rs", "service"),
    ("api_types/oauth.rs", "service"),
    ("error.rs", "axum"),
    ("federation/activities.rs", "service"),
    ("federation/activities.rs", "state"),
    ("federation/actor.rs", "service"),
    ("federation/actor.rs", "state"),
    ("federation/context.rs", "service"),
    ("federation/context.rs", "state"),
    ("federation/keys.rs", "state"),
    ("federation/note.rs", "service"),
    ("federation/note.rs", "state"),
    ("federation/protocol/peertube.rs", "service"),
    ("federation/signatures.rs", "service"),
    ("http/activitypub.rs", "storage"),
    ("http/extract/pagination.rs", "storage"),
    ("http/mastodon/api/v1/accounts.rs", "storage"),
    ("http/mastodon/api/v1/admin/accounts.rs", "storage"),
    ("http/mastodon/api/v1/admin/domain_blocks.rs", "storage"),
    ("http/mastodon/api/v1/admin/reports.rs", "storage"),
    ("http/mastodon/api/v1/apps.rs", "storage"),
    ("http/mastodon/api/v1/follow_requests.rs", "storage"),
    ("http/mastodon/api/v1/instance.rs", "storage"),
    ("http/mastodon/api/v1/media.rs", "storage"),
    ("http/mastodon/api/v1/notifications.rs", "storage"),
    ("http/mastodon/api/v1/statuses.rs", "storage"),
    ("http/mastodon/api/v1/streaming.rs", "storage"),
    ("http/mastodon/api/v1/tags.rs", "storage"),
    ("http/mastodon/api/v2/notifications.rs", "storage"),
    ("http/mastodon/api/v2/search.rs", "storage"),
    ("http/oauth.rs", "storage"),
    ("http/settings.rs", "storage"),
    ("http/web/shorts.rs", "storage"),
    ("http/web/stories.rs", "storage"),
    ("http/well_known.rs", "storage"),
    ("state.rs", "axum"),
];

fn group_of(module: &str) -> Option<(u8, usize)> {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, names))| names.contains(&module))
        .map(|(i, (layer, _))| (*layer, i))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments (line comments and their doc forms; lines kept).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(code: &str, at: usize) -> String {
    code[at..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Modules named by `crate::NAME` (also in `crate::{a, b::c}` groups) and `axum` paths, each with
/// the byte offset where it is named.
fn names_in(code: &str) -> Vec<(usize, String)> {
    let word_before = |i: usize| {
        code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':')
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if word_before(i) {
            continue;
        }
        let at = i + "crate::".len();
        if !code[at..].starts_with('{') {
            out.push((i, ident_at(code, at)));
            continue;
        }
        // A group: the first name of each item at the group's own depth.
        let mut depth = 0;
        let mut item_start = true;
        for (j, c) in code[at..].char_indices() {
            match c {
                '{' => {
                    depth += 1;
                    item_start = depth == 1;
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => item_start = true,
                c if item_start && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                    out.push((i, ident_at(code, at + j)));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    for (i, _) in code.match_indices("axum") {
        let after = code[i + 4..].chars().next();
        if !word_before(i) && after.is_some_and(|c| c == ':' || c == ';') {
            out.push((i, "axum".into()));
        }
    }
    out
}

#[test]
fn layers_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    // (file, module named) -> first line.
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let Some((layer, group)) = group_of(&top) else {
            unknown.insert(top);
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        for (at, name) in names_in(&code) {
            let line = code[..at].matches('\n').count() + 1;
            {
                let wrong = if name == "axum" {
                    layer < NO_AXUM_BELOW
                } else if NOT_MODULES.contains(&name.as_str()) || name == top {
                    false
                } else {
                    match group_of(&name) {
                        Some((l, g)) => {
                            (g != group && l >= layer)
                                || SKIPS.contains(&(top.as_str(), name.as_str()))
                        }
                        None => {
                            unknown.insert(name.clone());
                            false
                        }
                    }
                };
                if wrong {
                    found.entry((rel.clone(), name)).or_insert(line);
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "top-level modules without a layer in tests/it/layers.rs: {unknown:?}"
    );
    let debts: BTreeSet<(String, String)> = DEBTS
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(k, _)| !debts.contains(k))
        .map(|((file, name), line)| {
            format!("src/{file}:{line} names `{name}`, a layer above or beside it")
        })
        .collect();
    let paid: Vec<String> = debts
        .iter()
        .filter(|k| !found.contains_key(*k))
        .map(|(file, name)| format!("src/{file} no longer names `{name}`: remove it from DEBTS"))
        .collect();
    assert!(
        new.is_empty() && paid.is_empty(),
        "{}",
        new.iter()
            .chain(&paid)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
