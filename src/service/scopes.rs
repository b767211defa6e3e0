//! OAuth scopes as Mastodon defines them (docs.joinmastodon.org/api/oauth-scopes/).
//!
//! A granted scope covers a required one when they are equal, when the granted one is its parent
//! (`read` covers `read:statuses`, `admin:read` covers `admin:read:accounts`), or through the legacy
//! `follow` scope, which covers the follow, block and mute sub-scopes.

use std::fmt;

/// Every scope an application may ask for.
pub const KNOWN: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// What the deprecated `follow` scope still grants.
const FOLLOW_COVERS: &[&str] = &[
    "read:blocks",
    "read:follows",
    "read:mutes",
    "write:blocks",
    "write:follows",
    "write:mutes",
];

/// The scope granted when a request names none (Mastodon's default).
pub const DEFAULT: &str = "read";

/// A validated, de-duplicated set of scopes, kept in the order asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space- (or `+`-) separated list. An empty list yields [`DEFAULT`].
    ///
    /// Errors: the first unknown scope.
    pub fn parse(s: &str) -> Result<Scopes, String> {
        let mut out: Vec<String> = Vec::new();
        for part in s.split(|c: char| c.is_whitespace() || c == '+' || c == ',') {
            if part.is_empty() {
                continue;
            }
            if !KNOWN.contains(&part) {
                return Err(part.to_string());
            }
            if !out.iter().any(|s| s == part) {
                out.push(part.to_string());
            }
        }
        if out.is_empty() {
            out.push(DEFAULT.to_string());
        }
        Ok(Scopes(out))
    }

    /// True when one of these scopes grants `required`.
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|g| covers(g, required))
    }

    /// True when every scope of `other` is granted by these.
    pub fn covers_all(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.allows(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

fn covers(granted: &str, required: &str) -> bool {
    granted == required
        || required
            .strip_prefix(granted)
            .is_some_and(|rest| rest.starts_with(':'))
        || (granted == "follow" && FOLLOW_COVERS.contains(&required))
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_and_legacy_follow() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:accounts"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:media"));
        assert!(s.allows("write:follows"));
        assert!(!s.allows("write"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:accounts"));
        assert!(!admin.allows("admin:write:accounts"));
        assert!(!Scopes::parse("readx").is_ok());
        assert!(!Scopes::parse("read").unwrap().allows("read_"));
    }

    #[test]
    fn empty_defaults_to_read_and_dedupes() {
        assert_eq!(Scopes::parse("  ").unwrap().to_string(), "read");
        assert_eq!(
            Scopes::parse("read+write read").unwrap().to_string(),
            "read write"
        );
    }
}
