//! `oci-conform`: parse the command line, dispatch, map the outcome to an exit code
//! (0 ok, 1 failures, 2 harness errors, 3 usage/schema errors or an empty selection).

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod commands;

use clap::Parser;
use oci_conform::cli;

fn main() {
    let args = cli::Cli::parse();
    let code = commands::dispatch(args);
    std::process::exit(code);
}
