//! Records the git commit ferrun is built from, for `ferrun --version` (runc prints its
//! commit the same way). `FERRUN_COMMIT` overrides it, for builds from a source tarball; a
//! tree outside git says so instead of inventing a commit.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=FERRUN_COMMIT");
    // The static build links in this order (Makefile, `--symbol-ordering-file`): a new list
    // must relink, which cargo does not know on its own.
    println!("cargo:rerun-if-changed=hot-symbols.txt");
    let commit = std::env::var("FERRUN_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown (not built from a git checkout)".to_string());
    // Rebuild when HEAD moves: HEAD itself changes on a checkout, the branch's ref on a
    // commit (worktrees keep both in their own git dir, which --git-path finds).
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    // A missing file would count as changed on every build, rebuilding ferrun each time.
    .filter(|p| std::path::Path::new(p).exists())
    {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=FERRUN_COMMIT={commit}");
}
