//! The crate's dependencies: what only tests use stays out of what users build.

/// The names listed in one `[section]` of Cargo.toml.
fn section(manifest: &str, name: &str) -> Vec<String> {
    let header = format!("[{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split(['.', '=']).next())
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .collect()
}

#[test]
fn test_only_crates_are_dev_dependencies() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let deps = section(&manifest, "dependencies");
    let dev = section(&manifest, "dev-dependencies");
    assert!(deps.contains(&"serde".to_string()), "{deps:?}");
    for test_only in ["insta", "tempfile", "rstest"] {
        assert!(
            !deps.contains(&test_only.to_string()),
            "{test_only} in [dependencies]"
        );
        assert!(
            dev.contains(&test_only.to_string()),
            "{test_only} not in [dev-dependencies]"
        );
    }
}
