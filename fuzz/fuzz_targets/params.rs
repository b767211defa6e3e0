//! The bracket-parameter parser (`Params<T>`'s query, form and multipart keys): any bytes either
//! parse into a JSON object within the bounds or are refused; nothing panics or recurses deeply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rookery::http::extract::params::{MAX_TREE_DEPTH, form_tree};

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tree) = form_tree(data) {
        let v = serde_json::Value::Object(tree);
        assert!(depth(&v) <= MAX_TREE_DEPTH, "nesting past the bound");
    }
});
