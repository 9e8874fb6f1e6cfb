//! `checkpoint` and `restore` flags: runc 1.1.5's names, defaults and help words
//! (man/runc-checkpoint.8.md, man/runc-restore.8.md).

use std::path::PathBuf;

/// The flags both commands take.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CriuArgs {
    /// Path for the criu image files (default: ./checkpoint, created if missing).
    #[arg(long = "image-path")]
    pub image_path: Option<PathBuf>,
    /// Path for saving work files and logs (default: the image path).
    #[arg(long = "work-path")]
    pub work_path: Option<PathBuf>,
    /// Allow open tcp connections.
    #[arg(long = "tcp-established")]
    pub tcp_established: bool,
    /// Allow external unix sockets.
    #[arg(long = "ext-unix-sk")]
    pub ext_unix_sk: bool,
    /// Allow shell jobs.
    #[arg(long = "shell-job")]
    pub shell_job: bool,
    /// Handle file locks, for safety.
    #[arg(long = "file-locks")]
    pub file_locks: bool,
    /// Use userfaultfd to lazily restore memory pages.
    #[arg(long = "lazy-pages")]
    pub lazy_pages: bool,
    /// cgroups mode: soft|full|strict|ignore (default: soft).
    #[arg(long = "manage-cgroups-mode")]
    pub manage_cgroups_mode: Option<String>,
    /// Create a namespace, but don't restore its properties (only "network").
    #[arg(long = "empty-ns")]
    pub empty_ns: Vec<String>,
    /// Enable auto deduplication of memory images.
    #[arg(long = "auto-dedup")]
    pub auto_dedup: bool,
}

#[derive(Debug, Clone, clap::Args)]
#[command(about = "checkpoint a running container")]
pub struct CheckpointArgs {
    /// Container id.
    pub id: String,
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Path for previous criu image files in pre-dump (relative to the image path).
    #[arg(long = "parent-path")]
    pub parent_path: Option<PathBuf>,
    /// Leave the process running after checkpointing.
    #[arg(long = "leave-running")]
    pub leave_running: bool,
    /// criu writes \0 to this FD once lazy-pages is ready.
    #[arg(long = "status-fd", default_value_t = -1, allow_negative_numbers = true)]
    pub status_fd: i32,
    /// ADDRESS:PORT of the page server.
    #[arg(long = "page-server")]
    pub page_server: Option<String>,
    /// Dump container's memory information only, leave the container running after this.
    #[arg(long = "pre-dump")]
    pub pre_dump: bool,
}

#[derive(Debug, Clone, clap::Args)]
#[command(about = "restore a container from a previous checkpoint")]
pub struct RestoreArgs {
    /// Container id (a new one: it must not exist).
    pub id: String,
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Path to an AF_UNIX socket which will receive the pty master of a terminal container.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Path to the root of the bundle directory (default: the current directory).
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Detach from the container's process.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Specify the file to write the process id to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Disable the use of the subreaper used to reap reparented processes.
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,
    /// Do not use pivot root (accepted as runc does: CRIU sets the restored root itself).
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// An LSM profile to be used during restore, in the form TYPE:NAME.
    #[arg(long = "lsm-profile")]
    pub lsm_profile: Option<String>,
    /// An LSM mount context to be used during restore.
    #[arg(long = "lsm-mount-context")]
    pub lsm_mount_context: Option<String>,
}
