//! `exec [flags] ID [COMMAND [ARGS...]]` (runc's flags).

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// A process.json (runtime-spec `process` object) to run instead of COMMAND.
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Detach from the process (return once it runs).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Unix socket that receives the pty master (with --tty).
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// File to write the process's host pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Working directory in the container (absolute; empty: the container's process.cwd).
    #[arg(long)]
    pub cwd: Option<String>,
    /// Environment variables (KEY=VALUE), added to the container's.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Additional gids.
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Add a capability to the bounding, effective and permitted sets (and to the ambient set
    /// when the container's process has an inheritable set).
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// AppArmor profile for the process (default: the container's process.apparmorProfile).
    #[arg(long)]
    pub apparmor: Option<String>,
    /// SELinux label for the process (default: the container's process.selinuxLabel).
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// Run the process in an existing sub-cgroup of the container's cgroup:
    /// `[CONTROLLER[,CONTROLLER...]:]PATH`, repeatable once per controller.
    #[arg(long = "cgroup")]
    pub cgroup: Vec<String>,
    /// Allow exec in a paused container (the process starts frozen, until `resume`).
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    /// Pass N extra fds (3 .. 3+N-1) to the process.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Container id.
    pub id: String,
    /// Command and arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
