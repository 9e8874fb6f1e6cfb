//! Command-line structs only (clap derive), with runc's command names, flags and defaults, so
//! podman, containerd and scripts can call ferrun exactly as they call runc.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::logging::LogFormat;

pub mod create;
pub mod delete;
pub mod events;
pub mod exec;
pub mod kill;
pub mod list;
pub mod ps;
pub mod spec;
pub mod update;

pub use create::{CreateArgs, RunArgs};
pub use delete::DeleteArgs;
pub use events::EventsArgs;
pub use exec::ExecArgs;
pub use kill::KillArgs;
pub use list::{ListArgs, ListFormat};
pub use ps::{PsArgs, PsFormat};
pub use spec::SpecArgs;
pub use update::UpdateArgs;

#[derive(Debug, Parser)]
#[command(
    name = "ferrun",
    about = "ferrun: a runc-compatible OCI container runtime",
    disable_version_flag = true,
    allow_external_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print the version (as `runc --version` does).
    #[arg(short = 'v', long = "version", global = true)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Root directory for container state (default /run/ferrun, or $XDG_RUNTIME_DIR/ferrun
    /// for a non-root user).
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    /// Append log messages to this file instead of stderr.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format: text or json (json lines as runc's logrus writes them).
    #[arg(long = "log-format", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Use systemd for cgroups (not supported yet: a clear error).
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless cgroup handling: true, false or auto (runc's values; auto = euid != 0 or inside a
    /// user namespace). A non-root caller always needs a user namespace (see `ferrun::rootless`).
    /// Not global: it goes before the command, as with runc, so `spec --rootless` keeps its own
    /// flag.
    #[arg(long, default_value = "auto", value_parser = ["true", "false", "auto"])]
    pub rootless: String,
    /// Path to criu (accepted for compatibility; checkpoint/restore is not implemented yet).
    #[arg(long, global = true, hide = true)]
    pub criu: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container (init blocks until `start`).
    Create(CreateArgs),
    /// Start a created container's user process.
    Start(IdArg),
    /// Create and start a container; waits for it unless --detach.
    Run(RunArgs),
    /// Print a container's state as JSON.
    State(IdArg),
    /// List containers.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Send a signal to a container's init (or all its processes with --all).
    Kill(KillArgs),
    /// Delete a container and everything the runtime made for it.
    Delete(DeleteArgs),
    /// Run a new process inside a running container.
    Exec(ExecArgs),
    /// Freeze every process of a running container.
    Pause(IdArg),
    /// Thaw a paused container.
    Resume(IdArg),
    /// List the processes running in a container.
    Ps(PsArgs),
    /// Change a container's cgroup resource limits.
    Update(UpdateArgs),
    /// Print container resource statistics (and OOM notices) as JSON lines.
    Events(EventsArgs),
    /// Write a default config.json to the bundle.
    Spec(SpecArgs),
    /// Print the runtime-spec features document (what ferrun implements).
    Features,
    /// Any other runc command: reported as not implemented.
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(Debug, Clone, clap::Args)]
pub struct IdArg {
    /// Container id.
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use rstest::rstest;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Command lines as podman, containerd and scripts write them.
    #[rstest]
    #[case(&["ferrun", "spec", "--rootless"])]
    #[case(&["ferrun", "--rootless", "false", "list", "-q"])]
    #[case(&["ferrun", "--root", "/r", "--log", "/l.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/p", "c1"])]
    #[case(&["ferrun", "kill", "--all", "c1", "KILL"])]
    #[case(&["ferrun", "delete", "--force", "c1"])]
    #[case(&["ferrun", "exec", "-t", "--console-socket", "/s", "c1", "sh", "-c", "ls -l"])]
    #[case(&["ferrun", "run", "-d", "--keep", "-b", "/b", "c1"])]
    #[case(&["ferrun", "update", "--memory", "-1", "c1"])]
    #[case(&["ferrun", "events", "--interval", "100ms", "c1"])]
    #[case(&["ferrun", "events", "--stats", "c1"])]
    fn runc_command_lines_parse(#[case] argv: &[&str]) {
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }

    #[test]
    fn exec_keeps_the_command_flags_for_the_command() {
        let cli = Cli::try_parse_from(["ferrun", "exec", "c1", "ls", "-la"]).unwrap();
        let Some(Command::Exec(a)) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(a.command, ["ls", "-la"]);
    }
}
