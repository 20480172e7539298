//! Moderators: people holding a token (secret `MODERATOR_TOKENS`, `name:token` pairs separated
//! by commas; the admin token counts as moderator `admin`). A request proves it is a moderator
//! with `Authorization: Bearer <token>`; the log names the moderator, never the token.

/// One moderator.
#[derive(Clone, PartialEq, Eq)]
pub struct Moderator {
    pub name: String,
    pub token: String,
}

impl std::fmt::Debug for Moderator {
    /// Names the moderator; the token stays out of every debug print and log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Moderator({})", self.name)
    }
}

/// Parses `MODERATOR_TOKENS`: `alice:token1,bob:token2`; entries without a name or a token are
/// ignored, and so are tokens shorter than 16 characters (too easy to guess).
pub fn parse(raw: &str) -> Vec<Moderator> {
    raw.split(',')
        .filter_map(|entry| {
            let (name, token) = entry.trim().split_once(':')?;
            let (name, token) = (name.trim(), token.trim());
            (!name.is_empty() && token.len() >= 16 && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_'))
                .then(|| Moderator { name: name.to_owned(), token: token.to_owned() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moderators_are_named_tokens() {
        let m = parse(" alice:0123456789abcdef , bob:short,:nameless0123456789, carol:fedcba9876543210 ");
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, vec!["alice", "carol"]);
        assert!(!format!("{m:?}").contains("0123456789abcdef"), "tokens never print");
    }
}
