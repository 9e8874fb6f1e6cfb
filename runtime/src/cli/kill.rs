//! `kill [--all] ID [SIGNAL]`.

#[derive(Debug, Clone, clap::Args)]
pub struct KillArgs {
    /// Send the signal to every process in the container's cgroup.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Container id.
    pub id: String,
    /// Signal name (with or without SIG) or number; default SIGTERM.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}
