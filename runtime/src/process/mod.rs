//! Spawning the container: the clone, the parent<->init channel and its typed messages, the
//! init's phases, `start`'s wake-up and `run`'s wait.
//!
//! ```text
//!   ferrun create (parent)                         container init (child of one clone)
//!   ──────────────────────                         ───────────────────────────────────
//!   plan namespaces, claim state dir, make cgroup
//!   bind <state>/exec.sock (listening)
//!   clone(CLONE_NEW*) ───────────────────────────▶ close stray fds, wait for Go
//!    (cgroup v2: clone3 into the cgroup, birth.rs)
//!   write uid/gid maps, add pid to cgroup,
//!   apply resources ── ParentMsg::Go ────────────▶ setns joins, unshare cgroupns, hostname,
//!                                                  rootfs::prepare
//!                    ◀── ChildMsg::RunCreateHooks ─
//!   prestart + createRuntime hooks
//!                    ── ParentMsg::HooksDone ────▶ createContainer hooks, pivot_root, console,
//!                                                  sysctl, rootfs::finalize, cwd, security,
//!                                                  resolve the executable
//!   (with SCMP_ACT_NOTIFY rules, once the filter is loaded:)
//!                    ◀── ChildMsg::SeccompFd ──────
//!   pidfd_getfd, send it to listenerPath
//!                    ── ParentMsg::SeccompDone ──▶ close the fd, go on
//!                    ◀── ChildMsg::Ready ──────────
//!   save state "created", pid file, exit 0         accept() on exec.sock  (blocked)
//!
//!   ferrun start: connect exec.sock, send 1 byte ▶ startContainer hooks, execve
//!   EOF on the connection = exec happened          (the connection is CLOEXEC)
//!   a JSON InitFailure on it = init failed
//! ```
//! Any failure in init is sent as `ChildMsg::Failed{phase, errno, message}`; the parent
//! kills the child and removes everything it made.

pub mod birth;
pub mod channel;
pub mod exec;
pub mod idmap;
pub mod idmapped;
pub mod init;
pub mod launch;
pub mod listener;
pub mod messages;
pub mod start;
pub mod ttyproxy;
pub mod wait;

pub use launch::{launch, LaunchConfig, LaunchError, Launched};
pub use messages::{InitFailure, Phase};
