//! The generated pages and completions against the command lines they come from: every
//! command has a page naming each of its flags, every completion offers every command, and
//! each shell accepts its script.
//!
//! The zsh, fish and groff checks need those programs: they are `#[ignore]`d for a plain
//! `cargo test`, and CI (`--include-ignored`, FERRUN_ROOT_TESTS=1) runs them, where a missing
//! program FAILS the test (scripts/setup.sh installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap_complete::Shell;
use ferrun_docgen::{completions, man, programs, Program};

/// Every command of runc, which ferrun must document under runc's page names.
const RUNC_COMMANDS: [&str; 16] = [
    "checkpoint",
    "create",
    "delete",
    "events",
    "exec",
    "kill",
    "list",
    "pause",
    "ps",
    "restore",
    "resume",
    "run",
    "spec",
    "start",
    "state",
    "update",
];

fn program(bin: &str) -> Program {
    programs()
        .into_iter()
        .find(|p| p.bin == bin)
        .unwrap_or_else(|| panic!("no program {bin}"))
}

/// The built command tree (global options propagated), as the binary's parser sees it.
fn built(p: &Program) -> clap::Command {
    let mut cmd = p.command.clone();
    cmd.build();
    cmd
}

/// Every (nested) command that must have a page, as its command line: `ferrun create`.
fn documented(cmd: &clap::Command, out: &mut Vec<clap::Command>) {
    for sub in cmd.get_subcommands().filter(|c| man::is_documented(c)) {
        out.push(sub.clone());
        documented(sub, out);
    }
}

fn commands_of(p: &Program) -> Vec<clap::Command> {
    let mut out = Vec::new();
    documented(&built(p), &mut out);
    out
}

/// The page for a command line: `ferrun create` -> `ferrun-create.8`.
fn page_for<'a>(pages: &'a [man::Page], command: &str) -> &'a man::Page {
    pages
        .iter()
        .find(|p| p.command == command)
        .unwrap_or_else(|| panic!("no page for `{command}`"))
}

#[test]
fn every_command_has_a_page_and_no_page_is_stale() {
    for p in programs() {
        let pages = man::pages(&p);
        let mut want: Vec<String> = vec![format!("{}.{}", p.bin, p.section)];
        for cmd in commands_of(&p) {
            let line = cmd.get_bin_name().expect("built").to_string();
            want.push(format!("{}.{}", line.replace(' ', "-"), p.section));
        }
        let mut got: Vec<String> = pages.iter().map(|pg| pg.file.clone()).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{}", p.bin);
    }
}

#[test]
fn ferrun_documents_every_runc_command_and_no_help_page() {
    let files: Vec<String> = man::pages(&program("ferrun"))
        .into_iter()
        .map(|p| p.file)
        .collect();
    for c in RUNC_COMMANDS.iter().chain(&["features"]) {
        assert!(files.contains(&format!("ferrun-{c}.8")), "{c}: {files:?}");
    }
    assert!(!files.iter().any(|f| f == "ferrun-help.8"), "{files:?}");
    assert_eq!(files.len(), RUNC_COMMANDS.len() + 2, "{files:?}");
}

#[test]
fn oci_conform_has_a_page_per_subcommand() {
    let files: Vec<String> = man::pages(&program("oci-conform"))
        .into_iter()
        .map(|p| p.file)
        .collect();
    for c in [
        "run", "lint", "list", "matrix", "gate", "schema", "report", "mutate", "fuzz",
    ] {
        assert!(
            files.contains(&format!("oci-conform-{c}.1")),
            "{c}: {files:?}"
        );
    }
}

/// A flag as roff writes it: every `-` escaped.
fn roff_flag(long: &str) -> String {
    format!("\\-\\-{}", long.replace('-', "\\-"))
}

/// The header lines of a page's option entries (the line after each `.TP`), where an
/// option is described: the SYNOPSIS alone naming a flag does not count.
fn option_headers(page: &str) -> Vec<&str> {
    let lines: Vec<&str> = page.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .map(|w| w[1])
        .collect()
}

#[test]
fn every_page_names_each_visible_long_flag_of_its_command() {
    let mut checked = 0;
    for p in programs() {
        let pages = man::pages(&p);
        let root = built(&p);
        let mut cmds = vec![root.clone()];
        cmds.extend(commands_of(&p));
        for cmd in cmds {
            let line = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string();
            let page = String::from_utf8(page_for(&pages, &line).roff.clone()).unwrap();
            let headers = option_headers(&page);
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let Some(long) = arg.get_long() else { continue };
                let flag = format!("\\fB{}\\fR", roff_flag(long));
                assert!(
                    headers.iter().any(|h| h.contains(&flag)),
                    "the page of `{line}` does not mention --{long}"
                );
                checked += 1;
            }
            for hidden in cmd.get_arguments().filter(|a| a.is_hide_set()) {
                if let Some(long) = hidden.get_long() {
                    assert!(
                        !page.contains(&roff_flag(long)),
                        "the page of `{line}` shows the internal --{long}"
                    );
                }
            }
        }
    }
    // ferrun's commands alone have well over a hundred flags with the global ones.
    assert!(checked > 150, "only {checked} flags checked");
}

#[test]
fn pages_carry_name_version_and_see_also() {
    let version = ferrun_docgen::VERSION;
    for p in programs() {
        let pages = man::pages(&p);
        let main = String::from_utf8(pages[0].roff.clone()).unwrap();
        assert!(
            main.contains(&format!(".TH {} {}", p.bin, p.section)),
            "{main}"
        );
        for sub in &pages[1..] {
            let name = sub.name.replace('-', "\\-");
            assert!(
                main.contains(&format!("\\fB{name}\\fR({})", p.section)),
                "{}'s SEE ALSO lacks {}",
                p.bin,
                sub.name
            );
            let text = String::from_utf8(sub.roff.clone()).unwrap();
            assert!(text.contains(".SH NAME\n"), "{}", sub.name);
            assert!(text.contains(&format!("{name} \\- ")), "{}: NAME", sub.name);
            assert!(
                text.contains(&format!("\"{} {version}\"", p.bin)),
                "{}",
                sub.name
            );
        }
        for section in [
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH \"SEE ALSO\"",
            ".SH VERSION",
        ] {
            assert!(main.contains(section), "{}: {section}", p.bin);
        }
    }
}

#[test]
fn oci_conform_and_the_generator_share_the_version() {
    let cmd = program("oci-conform").command;
    assert_eq!(cmd.get_version(), Some(ferrun_docgen::VERSION));
}

#[test]
fn generate_writes_the_layout_make_install_reads() {
    let dir = tempfile::tempdir().unwrap();
    let files = ferrun_docgen::generate(dir.path()).unwrap();
    for f in [
        "man/man8/ferrun.8",
        "man/man8/ferrun-create.8",
        "man/man1/oci-conform.1",
        "man/man1/oci-conform-run.1",
        "completions/bash/ferrun",
        "completions/zsh/_ferrun",
        "completions/fish/ferrun.fish",
        "completions/bash/oci-conform",
        "completions/zsh/_oci-conform",
        "completions/fish/oci-conform.fish",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing: {files:?}");
    }
}

fn completion(p: &Program, shell: Shell) -> completions::Completion {
    completions::completions(p)
        .into_iter()
        .find(|c| c.shell == shell)
        .unwrap()
}

fn script(p: &Program, shell: Shell) -> String {
    String::from_utf8(completion(p, shell).script).unwrap()
}

/// The shell's completion script of `p` written to `dir`, for the shell to read.
fn script_file(dir: &Path, p: &Program, shell: Shell) -> PathBuf {
    let c = completion(p, shell);
    let path = dir.join(&c.file);
    std::fs::write(&path, &c.script).unwrap();
    path
}

#[test]
fn zsh_completion_lists_every_command() {
    for p in programs() {
        let text = script(&p, Shell::Zsh);
        for cmd in commands_of(&p) {
            // _arguments' command list: 'create:Create a container ...'
            let entry = format!("'{}:", cmd.get_name());
            assert!(text.contains(&entry), "{}: zsh lacks {entry}", p.bin);
        }
    }
}

/// What bash's completion function offers after `words` (the last one being completed).
fn bash_complete(script: &Path, bin: &str, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}' || exit 1\n\
         complete -p {bin} >/dev/null || exit 1\n\
         fn=$(complete -p {bin} | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT={point}\n\
         \"$fn\" {bin} '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words = quoted.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash completion of {line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_parses_and_completes_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for p in programs() {
        let path = script_file(dir.path(), &p, Shell::Bash);
        let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(syntax.status.success(), "bash -n {}", path.display());
        for cmd in commands_of(&p) {
            let name = cmd.get_name();
            let offered = bash_complete(&path, p.bin, &[p.bin, name]);
            assert!(
                offered.iter().any(|o| o == name),
                "{} {name}<TAB> offers {offered:?}",
                p.bin
            );
        }
    }
    let dir_path = dir.path().join("ferrun");
    assert_eq!(
        bash_complete(&dir_path, "ferrun", &["ferrun", "de"]),
        ["delete"]
    );
    let kill_flags = bash_complete(&dir_path, "ferrun", &["ferrun", "kill", "--a"]);
    assert_eq!(kill_flags, ["--all"]);
}

/// Fails (it was requested) unless `prog` runs.
fn require(prog: &str) {
    if Command::new(prog).arg("--version").output().is_err() {
        let ci = if std::env::var("FERRUN_ROOT_TESTS").as_deref() == Ok("1") {
            " (FERRUN_ROOT_TESTS=1 requires every ignored test to run)"
        } else {
            ""
        };
        panic!("this test was requested, but {prog} is not installed (scripts/setup.sh installs it){ci}");
    }
}

#[test]
#[ignore = "needs zsh"]
fn zsh_accepts_its_completions() {
    require("zsh");
    let dir = tempfile::tempdir().unwrap();
    for p in programs() {
        let path = script_file(dir.path(), &p, Shell::Zsh);
        let out = Command::new("zsh").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "zsh -n {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs fish"]
fn fish_accepts_and_completes_every_command() {
    require("fish");
    let dir = tempfile::tempdir().unwrap();
    for p in programs() {
        let path = script_file(dir.path(), &p, Shell::Fish);
        let syntax = Command::new("fish").arg("-n").arg(&path).output().unwrap();
        assert!(syntax.status.success(), "fish -n {}", path.display());
        for cmd in commands_of(&p) {
            let name = cmd.get_name();
            let program = format!(
                "source '{}'; complete -C '{} {name}'",
                path.display(),
                p.bin
            );
            let out = Command::new("fish")
                .args(["--no-config", "-c", &program])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.lines().any(|l| l.split('\t').next() == Some(name)),
                "fish: {} {name}<TAB> offers {text:?}",
                p.bin
            );
        }
    }
}

#[test]
#[ignore = "needs groff"]
fn every_page_renders_without_groff_warnings() {
    require("groff");
    let dir = tempfile::tempdir().unwrap();
    for p in programs() {
        for page in man::pages(&p) {
            let path = dir.path().join(&page.file);
            std::fs::write(&path, &page.roff).unwrap();
            // -ww: every warning; -z: no output, only the diagnostics.
            let out = Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "groff on {}: {}",
                page.file,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
