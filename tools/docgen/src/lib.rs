//! ferrun-docgen: the man pages and shell completions of ferrun and oci-conform, rendered from
//! the clap definitions their binaries parse with, so they cannot drift from the command lines.
//! A tool of its own so the shipped static ferrun does not carry clap_mangen and clap_complete
//! (its peak RSS is measured, issue 14).

pub mod completions;
pub mod man;
mod program;

use std::path::{Path, PathBuf};

pub use program::{programs, Program, VERSION};

#[derive(Debug, thiserror::Error)]
pub enum DocgenError {
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `OUT/man/manN/<page>.N` and `OUT/completions/{bash,zsh,fish}/<file>` for every
/// program, and returns the files written.
pub fn generate(out: &Path) -> Result<Vec<PathBuf>, DocgenError> {
    let mut written = Vec::new();
    for program in programs() {
        let man_dir = out.join("man").join(format!("man{}", program.section));
        for page in man::pages(&program) {
            written.push(write(&man_dir.join(&page.file), &page.roff)?);
        }
        for c in completions::completions(&program) {
            let path = out
                .join("completions")
                .join(c.shell.to_string())
                .join(&c.file);
            written.push(write(&path, &c.script)?);
        }
    }
    Ok(written)
}

fn write(path: &Path, content: &[u8]) -> Result<PathBuf, DocgenError> {
    let fail = |source| DocgenError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, content).map_err(fail)?;
    Ok(path.to_path_buf())
}
