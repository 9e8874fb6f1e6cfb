//! `create` and `run` flags (runc's names and defaults).

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Container id.
    pub id: String,
    /// Bundle directory holding config.json (default: the current directory).
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket that receives the pty master when process.terminal is true.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// File to write the container init's host pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root (e.g. on an initramfs root).
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N extra fds (3 .. 3+N-1) to the container process.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Detach from the container's process (return once it has started).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep the container's state after it exits (do not delete it).
    #[arg(long)]
    pub keep: bool,
}
