//! ferrun's entry point: parse, set up logging, protect our own binary when a container is
//! about to be made, dispatch, and map the outcome to runc's exit codes.

#![deny(unsafe_code)]

use ferrun::cli::{self, Cli, Command};
use ferrun::error::Error;
use ferrun::logging;

fn main() {
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
        // process exists (see sys/exe.rs). On success this does not return.
        if let Err(e) = ferrun::sys::exe::ensure_protected_exe() {
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
