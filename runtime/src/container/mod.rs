//! Containers as the CLI sees them: ids, the persisted state, the state store under `--root`
//! and the status guards (`can_start`, `can_kill`, ...). One file per concern.
//!
//! On-disk layout (the same shape as runc's): `<root>/<id>/state.json` (atomic writes),
//! `<root>/<id>/lock` (flock: two commands on one container serialize), and while the
//! container is `created`, `<root>/<id>/exec.sock`, on which the blocked init waits for `start`.

pub mod checkpoint;
pub mod checks;
pub mod config;
pub mod create;
pub mod delete;
pub mod exec;
pub mod exec_cgroup;
pub mod exec_process;
pub mod id;
pub mod kill;
pub mod pause;
pub mod pidfile;
pub mod restore;
mod restore_root;
pub mod start;
pub mod state;
pub mod status;
pub mod store;
pub mod time;

pub use id::validate_id;
pub use state::{ContainerState, OciState};
pub use status::Status;
pub use store::{ContainerDir, StateStore, StoreError};
