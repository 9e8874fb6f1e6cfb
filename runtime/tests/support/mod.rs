//! The one helper module of the integration tests (`mod support;` in each test file).
//!
//! - `gate`: every root test is `#[ignore = "needs root ..."]` and starts with
//!   `support::require_root()` (or `support::require(&[...])`), which fails the test, naming
//!   what is missing, when it was requested on a host that cannot run it.
//! - `bundle`: busybox-static bundles in tempdirs and config patches.
//! - `rt`: `Rt`, the runtime under test with a private state root and a watchdog, which
//!   force-deletes its containers and removes their cgroups even when the test panics.
//! - `host`: what the tests read back from the host (cgroups, /proc, mountinfo, fds).
// Every test binary compiles this module and uses a different part of it.
#![allow(dead_code, unused_imports)]

mod bundle;
mod gate;
mod host;
mod rt;

pub use bundle::*;
pub use gate::*;
pub use host::*;
pub use rt::*;
