//! ferrun: a runc-compatible OCI container runtime.
//!
//! The binary (`main.rs`) parses the command line and dispatches to `commands/`; everything
//! else lives in this library so integration tests and benchmarks can reach it.
//! docs/architecture.md describes the layering ("Layering"), the process model and the
//! parent/init protocol ("Process model") and the sys/ seam ("The sys/ seam").

// The seam rule: `unsafe` only in sys/ (allowed on its `mod` below), each block with a
// SAFETY comment.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod cgroups;
pub mod cli;
pub mod commands;
pub mod container;
pub mod criu;
pub mod error;
pub mod features;
pub mod hooks;
pub mod logging;
pub mod mountinfo;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod rootless;
pub mod security;
pub mod signals;
pub mod specgen;
#[allow(unsafe_code)]
pub mod sys;
pub mod sysctl;
pub mod tty;
