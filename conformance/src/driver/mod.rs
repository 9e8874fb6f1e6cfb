//! Runs any runc-compatible binary: argv building (global `--root`/`--log` per scenario),
//! per-command deadlines that kill a hanging runtime, and the evidence of each invocation.

pub mod argv;
pub mod console;
pub mod exec;
pub mod signal;
pub mod subreaper;

pub use argv::{Globals, RuntimeBin};
pub use exec::{run_command, Evidence};
