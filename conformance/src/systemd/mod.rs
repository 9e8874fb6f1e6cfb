//! The harness's own view of the systemd cgroup driver (`cgroup_driver: systemd`): where a
//! `slice:prefix:name` cgroupsPath puts the container (runc's conventions, docs/systemd.md in
//! runc's tree: the runtime-spec leaves systemd paths to the runtime), and what systemd says
//! about a unit (`systemctl show`, bounded). Used to find the scope's cgroup directory, to
//! check unit properties (`systemd_unit` steps) and to catch units left behind at teardown.

mod path;
mod systemctl;

pub use path::{expand_slice, SystemdPath};
pub use systemctl::{show, stop_and_reset, UnitState};
