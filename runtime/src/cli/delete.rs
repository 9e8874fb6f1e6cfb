//! `delete [--force] ID`.

#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    /// Kill the container with SIGKILL first if it is still running.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Container id.
    pub id: String,
}
