//! oci-conform: a declarative conformance runner for runc-compatible OCI runtimes.
//!
//! Scenario YAML (scenario/) -> bundle (bundle/) -> runtime commands (driver/) and host-side
//! observations (probe/) -> normalizers (normalize/) and matchers (expect/) / snapshots
//! (snapshot/) -> events and reports (report/). Host requirements live in host/, and
//! runner/ orchestrates scenarios, teardown and leak checks.

// unsafe is allowed only where nix leaves no safe way: the signal handler install, the
// SCM_RIGHTS descriptor and the terminal's width (TIOCGWINSZ), each marked with
// #[allow(unsafe_code)] and a SAFETY comment.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bundle;
/// The command line, in the library so tools (the man-page and completion generator) can read
/// its definition.
pub mod cli;
pub mod driver;
pub mod expect;
pub mod fuzz;
pub mod host;
pub mod mutate;
pub mod normalize;
pub mod probe;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod snapshot;
pub mod systemd;
