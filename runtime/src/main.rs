//! ferrun's entry point: parse, set up logging, protect our own binary when a container is
//! about to be made, dispatch, and map the outcome to runc's exit codes.

#![deny(unsafe_code)]

use ferrun::cli::{self, Cli, Command};
use ferrun::error::Error;
use ferrun::logging;

fn main() {
    // CVE-2019-5736 (see sys/exe.rs): a command that may make a container process re-executes
    // from a read-only mount of our binary first, before clap parses anything: the process
    // that is about to be replaced then touches little more than this, instead of clap's
    // code and heap (faults and CPU, docs/proof.md). The word test only moves the re-exec
    // earlier; the parsed command below still decides whether protection is required.
    let early =
        may_make_container(std::env::args_os()).then(ferrun::sys::exe::ensure_protected_exe);
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => std::process::exit(usage_failure(e)),
    };
    if cli.command.is_none() && !cli.version {
        // runc without a command prints its help and succeeds.
        let _ = cli::command().print_help();
        std::process::exit(0);
    }
    // runc's exec exits 255 for any failure before the process runs, these included.
    let exec = matches!(cli.command, Some(Command::Exec(_)));
    let fail = |e: Error| -> ! {
        let e = if exec { e.in_exec() } else { e };
        logging::error(&e.to_string());
        std::process::exit(e.exit_code())
    };
    if let Err(e) = logging::init(
        cli.global.log.clone(),
        cli.global.log_format,
        cli.global.debug,
    ) {
        eprintln!("ferrun: {e}");
        std::process::exit(if exec { 255 } else { 1 });
    }
    // Before ferrun holds any descriptor of its own (see commands/fds.rs).
    if let Err(e) = ferrun::commands::check_preserved_fds(&cli) {
        fail(e);
    }
    if needs_protected_exe(&cli) {
        // CVE-2019-5736: re-exec from a read-only detached mount before any container
        // process exists (see sys/exe.rs). On success this does not return. The early
        // attempt's outcome stands when there was one: asking again after a memfd re-exec
        // would find its marker gone and re-execute forever.
        if let Err(e) = early.unwrap_or_else(ferrun::sys::exe::ensure_protected_exe) {
            fail(Error::Usage(format!(
                "cannot protect the runtime binary (CVE-2019-5736): {e}"
            )));
        }
    }
    match ferrun::commands::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => fail(e),
    }
}

fn needs_protected_exe(cli: &Cli) -> bool {
    matches!(
        cli.command,
        Some(Command::Create(_)) | Some(Command::Run(_)) | Some(Command::Exec(_))
    )
}

/// Whether any argument is the name of a command that makes a container process. A superset
/// of [`needs_protected_exe`]: a container named `run` only costs a needless re-exec, and
/// whatever this misses is still protected after parsing.
fn may_make_container(mut args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    args.next();
    args.any(|a| matches!(a.as_encoded_bytes(), b"create" | b"run" | b"exec"))
}

/// What clap could not parse, with runc's exit codes: help and version succeed, `help foo`
/// is runc's unknown-topic error (3), any other usage error exits 1 (runc's `Incorrect
/// Usage`), not clap's 2.
fn usage_failure(e: clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            0
        }
        ErrorKind::InvalidSubcommand => {
            let topic = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            let e = Error::UnknownCommand(topic);
            eprintln!("ferrun: {e}");
            e.exit_code()
        }
        _ => {
            let _ = e.print();
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::may_make_container;

    fn words(line: &str) -> impl Iterator<Item = std::ffi::OsString> + '_ {
        line.split(' ').map(Into::into)
    }

    #[test]
    fn container_commands_are_seen_before_parsing() {
        for line in [
            "ferrun run -b /b id",
            "ferrun --root /r --log /l create id",
            "ferrun --debug exec -t id sh",
            "ferrun kill run",
        ] {
            assert!(may_make_container(words(line)), "{line}");
        }
        for line in [
            "run",
            "ferrun list",
            "ferrun state running",
            "ferrun --root /run",
        ] {
            assert!(!may_make_container(words(line)), "{line}");
        }
    }
}
