//! Shell completions (bash, zsh, fish) by clap_complete, from the same definition as the pages.
//! The file names are the ones each shell's completion loader looks for by command name.

use clap_complete::Shell;

use crate::program::Program;

/// The shells completions are made for.
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// One completion script.
pub struct Completion {
    pub shell: Shell,
    /// `ferrun` (bash), `_ferrun` (zsh), `ferrun.fish` (fish).
    pub file: String,
    pub script: Vec<u8>,
}

/// A program's completion script for every shell of [`SHELLS`].
pub fn completions(program: &Program) -> Vec<Completion> {
    SHELLS
        .iter()
        .map(|&shell| {
            let mut cmd = program.command.clone();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, program.bin, &mut script);
            Completion {
                shell,
                file: file_name(shell, program.bin),
                script,
            }
        })
        .collect()
}

/// The file name the shell's loader finds for `bin`: bash-completion's
/// `completions/<command>`, zsh's `_<command>` in $fpath, fish's `<command>.fish`.
pub fn file_name(shell: Shell, bin: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{bin}"),
        Shell::Fish => format!("{bin}.fish"),
        _ => bin.to_string(),
    }
}
