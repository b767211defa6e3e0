//! The layers of `src/` import one way only (issue 24; docs/ARCHITECTURE.md, "Layers"): a module
//! may name (`crate::…`, in `use` lines or inline paths) only modules of a lower layer or of its
//! own group, `http`, `web` and `federation::inbound` reach `storage` only through `service`, and
//! nothing below `http` names `axum`. The test fails on any import against the rule, naming its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of `src/` by layer, highest first. Modules of one group may name each other.
const LAYERS: &[(u8, &[&str])] = &[
    (7, &["server"]),
    // Requests in, pages and responses out.
    // `federation::inbound` receives activities as `http` receives requests, and calls services.
    (6, &["http", "web", "federation::inbound"]),
    // What the instance does; `state` is its context (`AppState`).
    (5, &["service", "state"]),
    // The ActivityPub documents we send and check (actors, notes, signatures).
    (4, &["federation"]),
    // API entities, as Mastodon documents them.
    (3, &["api_types"]),
    // Infrastructure: errors, the job queue, the media store, the streaming hub, egress, text.
    (2, &["error"]),
    (2, &["jobs"]),
    (2, &["media"]),
    (2, &["realtime"]),
    (2, &["net"]),
    (2, &["text"]),
    (1, &["storage"]),
    (0, &["config"]),
];

/// Names reachable as `crate::NAME` that are not modules (macros exported at the crate root).
const NOT_MODULES: &[&str] = &["on_db", "bind_args"];

/// Imports that skip a layer: requests reach the database only through services.
const SKIPS: &[(&str, &str)] = &[
    ("http", "storage"),
    ("web", "storage"),
    ("federation::inbound", "storage"),
];

/// Submodules that are layers of their own (named `parent::child`, files under `parent/child/`).
const SUBMODULE_LAYERS: &[(&str, &str)] = &[("federation", "inbound")];

/// Layers (by group) in which `axum` must not be named: everything below `http`.
const NO_AXUM_BELOW: u8 = 6;

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

/// The module named at `at`: its first path segment, or `parent::child` for a
/// [`SUBMODULE_LAYERS`] entry.
fn ident_at(code: &str, at: usize) -> String {
    let first: String = code[at..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let rest = &code[at + first.len()..];
    for (parent, child) in SUBMODULE_LAYERS {
        if first == *parent
            && let Some(after) = rest.strip_prefix("::").and_then(|r| r.strip_prefix(child))
            && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            return format!("{parent}::{child}");
        }
    }
    first
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
        let mut parts = rel.split('/');
        let mut top = parts.next().unwrap().trim_end_matches(".rs").to_string();
        if let Some(child) = parts.next()
            && SUBMODULE_LAYERS.contains(&(top.as_str(), child.trim_end_matches(".rs")))
        {
            top = format!("{top}::{}", child.trim_end_matches(".rs"));
        }
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
    let wrong: Vec<String> = found
        .iter()
        .map(|((file, name), line)| {
            format!("src/{file}:{line} names `{name}`, a layer above or beside it")
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
