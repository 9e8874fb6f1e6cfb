//! Command-line structs only (clap derive), with runc's command names, flags and defaults, so
//! podman, containerd and scripts can call ferrun exactly as they call runc.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::logging::LogFormat;

pub mod create;
pub mod criu;
pub mod delete;
pub mod events;
pub mod exec;
pub mod kill;
pub mod list;
pub mod ps;
pub mod spec;
pub mod update;

pub use create::{CreateArgs, RunArgs};
pub use criu::{CheckpointArgs, CriuArgs, RestoreArgs};
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
    about = "Open Container Initiative runtime (runc-compatible)",
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

/// runc's help layout (urfave/cli): `NAME:` on the first line, `<binary> <command> - <what it
/// does>` on the second, which runc's help.bats and scripts that scrape help read.
const ROOT_HELP: &str = "NAME:\n   {name} - {about}\n\nUSAGE:\n   {usage}\n\nCOMMANDS:\n{subcommands}\n\nGLOBAL OPTIONS:\n{options}\n";

/// The command-line definition with runc's help layout on every command.
pub fn command() -> clap::Command {
    // A flag given twice keeps its last value, as runc's parser does, instead of an error.
    Cli::command()
        .args_override_self(true)
        .help_template(ROOT_HELP)
        .mut_subcommands(|c| {
            let template = format!(
                "NAME:\n   ferrun {} - {{about}}\n\nUSAGE:\n   {{usage}}\n\n{{all-args}}\n",
                c.get_name()
            );
            c.help_template(template).args_override_self(true)
        })
}

/// Parse a command line (argv[0] included) against [`command`].
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
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
    /// Use systemd for cgroups: the container's cgroup is a transient scope unit
    /// (linux.cgroupsPath is "slice:prefix:name"; cgroup v2 only).
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    // Not global: it goes before the command, as with runc, so `spec --rootless` keeps its own
    // flag. A non-root caller always needs a user namespace (see `ferrun::rootless`).
    /// Rootless cgroup handling: true, false or auto (runc's values; auto = euid != 0 or inside a
    /// user namespace).
    #[arg(long, default_value = "auto", value_parser = ["true", "false", "auto"])]
    pub rootless: String,
    /// Path to the criu binary used for checkpoint and restore (default: criu from $PATH).
    #[arg(long, global = true)]
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
    /// Checkpoint a running container with CRIU.
    Checkpoint(CheckpointArgs),
    /// Restore a container from a previous checkpoint with CRIU.
    Restore(RestoreArgs),
    /// A command runc does not have either: runc's "No help topic" error, exit 3.
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
    #[case(&["ferrun", "kill", "c1", "0"])]
    #[case(&["ferrun", "kill", "-a", "c1", "0"])]
    #[case(&["ferrun", "create", "--debug", "c1"])]
    #[case(&["ferrun", "events", "--interval", "100ms", "c1"])]
    #[case(&["ferrun", "events", "--stats", "c1"])]
    #[case(&["ferrun", "checkpoint", "--image-path", "/i", "--work-path", "/w", "--leave-running", "--tcp-established", "c1"])]
    #[case(&["ferrun", "checkpoint", "--pre-dump", "--parent-path", "../pre", "--manage-cgroups-mode", "soft", "--empty-ns", "network", "c1"])]
    #[case(&["ferrun", "checkpoint", "--lazy-pages", "--status-fd", "3", "--page-server", "10.0.0.1:27", "--auto-dedup", "c1"])]
    #[case(&["ferrun", "--criu", "/usr/sbin/criu", "restore", "-d", "-b", "/b", "--pid-file", "/p", "--console-socket", "/s", "c1"])]
    #[case(&["ferrun", "restore", "--no-subreaper", "--no-pivot", "--lsm-profile", "apparmor:x", "--lsm-mount-context", "ctx", "--ext-unix-sk", "--shell-job", "--file-locks", "c1"])]
    fn runc_command_lines_parse(#[case] argv: &[&str]) {
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }

    /// runc's update takes `--cpu-quota -1` (no limit) as a value, not as a flag.
    #[test]
    fn a_negative_cpu_quota_is_a_value() {
        let cli = parse_from(["ferrun", "update", "--cpu-quota", "-1", "c1"]).unwrap();
        let Some(Command::Update(a)) = cli.command else {
            panic!("not update")
        };
        assert_eq!((a.cpu_quota, a.id.as_str()), (Some(-1), "c1"));
        let cli = parse_from(["ferrun", "update", "--cpu-rt-runtime", "-1", "c1"]).unwrap();
        let Some(Command::Update(a)) = cli.command else {
            panic!("not update")
        };
        assert_eq!(a.cpu_rt_runtime, Some(-1));
    }

    /// runc's help.bats: `NAME:` first, then `<binary> <command> - ...`, exit 0, for every
    /// command runc has .
    #[rstest]
    fn help_has_runc_layout(
        #[values(
            "checkpoint",
            "create",
            "delete",
            "events",
            "exec",
            "kill",
            "list",
            "pause",
            "ps",
            "restore",
            "resume",
            "run",
            "spec",
            "start",
            "state",
            "update"
        )]
        cmd: &str,
    ) {
        let e = parse_from(["ferrun", cmd, "-h"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
        let text = e.render().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME:", "{text}");
        assert!(
            lines[1].starts_with(&format!("   ferrun {cmd} - ")),
            "{text}"
        );
    }

    #[test]
    fn root_help_has_runc_layout() {
        let text = command().render_help().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME:");
        assert!(
            lines[1].starts_with("   ferrun - Open Container Initiative runtime"),
            "{text}"
        );
    }

    #[test]
    fn a_flag_given_twice_keeps_the_last_value() {
        let cli =
            parse_from(["ferrun", "--root", "/a", "--root", "/b", "list", "-q", "-q"]).unwrap();
        assert_eq!(cli.global.root.as_deref(), Some(std::path::Path::new("/b")));
    }

    #[test]
    fn repeatable_flags_still_add_up() {
        let cli = parse_from(["ferrun", "exec", "-e", "A=1", "-e", "B=2", "c1", "true"]).unwrap();
        let Some(Command::Exec(a)) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(a.env, ["A=1", "B=2"]);
    }

    #[test]
    fn global_flags_are_taken_after_the_command() {
        let cli = parse_from(["ferrun", "create", "--debug", "--log", "/l", "c1"]).unwrap();
        assert!(cli.global.debug);
        assert_eq!(cli.global.log.as_deref(), Some(std::path::Path::new("/l")));
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
