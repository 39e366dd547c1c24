//! The files research software carries (issue 9): the licence files `Cargo.toml` declares, a CITATION.cff of
//! this version that cites the reproduced paper, a CHANGELOG with an "Unreleased" section, and a README that
//! states the minimum Rust version `Cargo.toml` declares. Each check fails when one of them drifts from the
//! package metadata (e.g. a version bump without CITATION.cff).

use std::path::Path;

fn read(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value of a top-level `key: value` line of CITATION.cff (YAML), quotes removed.
fn cff_value(cff: &str, key: &str) -> Option<String> {
    cff.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().trim_matches('"').to_string())
}

#[test]
fn licence_files_match_the_declared_licence() {
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT OR Apache-2.0");
    let mit = read("LICENSE-MIT");
    assert!(mit.starts_with("MIT License"), "LICENSE-MIT is not the MIT licence");
    assert!(mit.contains("Copyright (c)") && mit.contains("the samsde developers"));
    let apache = read("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(
        apache.contains("END OF TERMS AND CONDITIONS"),
        "LICENSE-APACHE is truncated"
    );
}

#[test]
fn citation_cff_is_this_version_and_cites_the_paper() {
    let cff = read("CITATION.cff");
    assert_eq!(cff_value(&cff, "cff-version").as_deref(), Some("1.2.0"));
    assert_eq!(cff_value(&cff, "version").as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert!(cff_value(&cff, "title").is_some_and(|t| t.starts_with("samsde")));
    for key in ["message", "authors", "license", "references"] {
        assert!(
            cff.lines().any(|l| l.starts_with(&format!("{key}:"))),
            "CITATION.cff has no `{key}`"
        );
    }
    // The licences listed are the two of Cargo.toml.
    assert!(cff.contains("  - MIT\n") && cff.contains("  - Apache-2.0\n"));
    // The reproduced paper (docs/math-spec.md's provenance) is referenced with its arXiv id.
    assert!(cff.contains("Stability Analysis of Sharpness-Aware Minimization"));
    assert!(cff.contains("2301.06308"));
}

#[test]
fn changelog_and_readme_carry_what_they_must() {
    let changelog = read("CHANGELOG.md");
    assert!(changelog.starts_with("# Changelog"));
    assert!(changelog.contains("\n## Unreleased\n"));
    let readme = read("README.md");
    let msrv = env!("CARGO_PKG_RUST_VERSION");
    assert!(!msrv.is_empty(), "Cargo.toml declares no rust-version");
    assert!(
        readme.contains(&format!("Needs Rust {msrv} or newer")),
        "README does not state the rust-version {msrv} of Cargo.toml"
    );
    assert!(readme.contains("cargo install --path ."));
    for f in ["CITATION.cff", "LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"] {
        assert!(readme.contains(&format!("]({f})")), "README does not link {f}");
    }
}
