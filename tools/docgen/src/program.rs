//! The programs that get pages and completions: each one's clap definition, taken from the
//! library the binary itself parses with, and the little prose a man page needs beyond it.

use clap::CommandFactory;

/// The workspace version, which ferrun, oci-conform and this tool share
/// (`version.workspace = true`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One binary: its command line and the hand-written parts of its main page.
pub struct Program {
    /// The binary's name, which is also its main page's name.
    pub bin: &'static str,
    /// Its manual section: 8 for ferrun (run by root, as runc(8)), 1 for oci-conform.
    pub section: &'static str,
    /// The command line exactly as the binary builds it.
    pub command: clap::Command,
    /// Paragraphs of the main page's DESCRIPTION after the one-line summary.
    pub description: &'static [&'static str],
    /// Further sections of the main page: (heading, paragraphs).
    pub sections: &'static [(&'static str, &'static [&'static str])],
    /// Pages of other programs the main page refers to, e.g. `runc(8)`.
    pub see_also: &'static [&'static str],
}

impl Program {
    /// The manual a page of this section belongs to (the .TH header's centre).
    pub fn manual(&self) -> &'static str {
        match self.section {
            "8" => "System Manager's Manual",
            _ => "User Commands",
        }
    }
}

/// Every program this tool documents.
pub fn programs() -> Vec<Program> {
    vec![ferrun(), oci_conform()]
}

fn ferrun() -> Program {
    Program {
        bin: "ferrun",
        section: "8",
        command: ferrun::cli::command(),
        description: &[
            "ferrun creates and runs containers from OCI bundles (a directory holding \
             config.json and the container's root filesystem) as the OCI runtime \
             specification describes. Its commands, flags, exit codes, state JSON and \
             on-disk conventions follow runc, so podman, containerd and scripts can call \
             ferrun wherever they call runc.",
            "Each command has its own page, listed under COMMANDS. Global options may be \
             given before or after the command, except --rootless, which goes before it.",
        ],
        sections: &[
            (
                "EXIT STATUS",
                &[
                    "0 on success; run exits with the container's exit code, 128+N when it \
                     was killed by signal N. 1 for a failure or a usage error, 3 for an \
                     unknown command, and 255 when exec fails before its process runs, as \
                     runc does.",
                ],
            ),
            (
                "FILES",
                &[
                    "/run/ferrun: the state of each container (the default --root; \
                     $XDG_RUNTIME_DIR/ferrun for a non-root user).",
                ],
            ),
        ],
        see_also: &["runc(8)", "podman(1)"],
    }
}

fn oci_conform() -> Program {
    Program {
        bin: "oci-conform",
        section: "1",
        command: oci_conform::cli::Cli::command(),
        description: &[
            "oci-conform runs declarative scenarios (YAML files, each citing the sentence of \
             the OCI runtime specification it checks) against one or more runc-compatible \
             runtimes side by side, and writes TAP, JUnit, JSON and Markdown reports. Its \
             other commands check scenario files, compare reports, gate regressions, \
             mutation-test the scenario pack and fuzz runtimes against each other.",
        ],
        sections: &[(
            "EXIT STATUS",
            &[
                "0 on success, 1 when something it checked failed (for run: a judged \
                 runtime's FAIL or XPASS), 2 for harness errors, 3 for usage or schema \
                 errors or an empty selection.",
            ],
        )],
        see_also: &["ferrun(8)", "runc(8)"],
    }
}
