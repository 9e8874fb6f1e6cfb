//! ferrun's entry point: parse, set up logging, protect our own binary when a container is
//! about to be made, dispatch, and map the outcome to runc's exit codes.

#![deny(unsafe_code)]

use clap::Parser;
use ferrun::cli::{Cli, Command};
use ferrun::logging;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = logging::init(
        cli.global.log.clone(),
        cli.global.log_format,
        cli.global.debug,
    ) {
        eprintln!("ferrun: {e}");
        std::process::exit(1);
    }
    // Before ferrun holds any descriptor of its own (see commands/fds.rs).
    if let Err(e) = ferrun::commands::check_preserved_fds(&cli) {
        logging::error(&e.to_string());
        std::process::exit(e.exit_code());
    }
    if matches!(
        cli.command,
        Some(Command::Create(_)) | Some(Command::Run(_)) | Some(Command::Exec(_))
    ) {
        // CVE-2019-5736: re-exec from a read-only detached mount before any container
        // process exists (see sys/exe.rs). On success this does not return.
        if let Err(e) = ferrun::sys::exe::ensure_protected_exe() {
            logging::error(&format!(
                "cannot protect the runtime binary (CVE-2019-5736): {e}"
            ));
            std::process::exit(1);
        }
    }
    let code = match ferrun::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            logging::error(&e.to_string());
            e.exit_code()
        }
    };
    std::process::exit(code);
}
