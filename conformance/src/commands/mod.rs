//! Glue between the CLI and the library: one function per subcommand, each returning the
//! process exit code.

/// `println!` for command output that a closed pipe cannot crash: `oci-conform list | head`
/// closes stdout early, and `println!` panics on the broken pipe. Output stops quietly
/// instead and the command still ends with its own exit code (a gate that found a regression
/// must not exit 0 because its reader went away).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same broken-pipe handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(format_args!($($arg)*))
    };
}

mod fuzz;
mod list;
mod matrix;
mod mutate;
mod run;

use crate::cli::{Cli, Cmd, LintArgs};
use oci_conform::scenario::{lint, load};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 3;

pub fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Cmd::Lint(a) => lint_cmd(&a),
        Cmd::Schema => {
            let schema = oci_conform::scenario::schema::json_schema();
            outln!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            EXIT_OK
        }
        Cmd::List(a) => list::run(&a),
        Cmd::Run(a) => run::run(&a),
        Cmd::Matrix(a) => matrix::matrix(&a),
        Cmd::Gate(a) => matrix::gate(&a),
        Cmd::Report(a) => run::report(&a),
        Cmd::Mutate(a) => mutate::run(&a),
        Cmd::Fuzz(a) => fuzz::run(&a),
    }
}

/// Writes command output; a reader that went away (EPIPE) is not an error of the command.
pub fn write_stdout(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("oci-conform: cannot write to stdout: {e}")
        }
        _ => {}
    }
}

/// The directory holding snapshots/ and expectations/: the nearest ancestor of the first
/// input that has either, or is named `scenarios`; else the input's own directory.
pub fn find_suite_dir(inputs: &[PathBuf]) -> PathBuf {
    let Some(first) = inputs.first() else {
        return PathBuf::from(".");
    };
    let abs = std::fs::canonicalize(first).unwrap_or_else(|_| first.clone());
    let start = if abs.is_dir() {
        abs.clone()
    } else {
        abs.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    for dir in start.ancestors() {
        if dir.join("snapshots").is_dir()
            || dir.join("expectations").is_dir()
            || dir.file_name().is_some_and(|n| n == "scenarios")
        {
            return dir.to_path_buf();
        }
    }
    start
}

/// Discovers and loads; prints every load error. `None` when the input itself is unusable.
pub fn load_inputs(inputs: &[PathBuf]) -> Option<(Vec<load::Loaded>, Vec<load::LoadError>)> {
    match load::discover(inputs) {
        Ok(files) => Some(load::load_all(&files)),
        Err(e) => {
            eprintln!("oci-conform: {e}");
            None
        }
    }
}

fn lint_cmd(a: &LintArgs) -> i32 {
    let Some((loaded, errors)) = load_inputs(&a.scenarios) else {
        return EXIT_USAGE;
    };
    for e in &errors {
        eprintln!("{e}");
    }
    let suite = a
        .suite_dir
        .clone()
        .unwrap_or_else(|| find_suite_dir(&a.scenarios));
    let problems = lint::lint(&loaded, &suite);
    for p in &problems {
        eprintln!("{p}");
    }
    let total = errors.len() + problems.len();
    if total > 0 || loaded.is_empty() {
        eprintln!(
            "lint: {} scenario(s) ok, {} problem(s)",
            loaded.len(),
            total.max(1)
        );
        EXIT_USAGE
    } else {
        outln!("lint: {} scenario(s) ok", loaded.len());
        EXIT_OK
    }
}
