//! Container id validation, as runc does it: ids become directory names under `--root`, so
//! they may not contain `/` or be `.`/`..` (a path-traversal guard), and runc restricts them to
//! `[A-Za-z0-9_+.-]+`.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("container id must not be empty")]
    Empty,
    #[error("invalid container id {0:?}: only letters, digits, '_', '+', '-' and '.' are allowed")]
    BadCharacters(String),
    #[error("invalid container id {0:?}")]
    Reserved(String),
}

pub fn validate_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if id == "." || id == ".." {
        return Err(IdError::Reserved(id.to_string()));
    }
    let ok = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if !ok {
        return Err(IdError::BadCharacters(id.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("abc", true)]
    #[case("a.b-c_d+e", true)]
    #[case(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        true
    )]
    #[case("", false)]
    #[case(".", false)]
    #[case("..", false)]
    #[case("a/b", false)]
    #[case("../x", false)]
    #[case("a b", false)]
    #[case("ä", false)]
    fn ids(#[case] id: &str, #[case] ok: bool) {
        assert_eq!(validate_id(id).is_ok(), ok, "{id:?}");
    }
}
