//! `spec [--bundle DIR] [--rootless]`.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct SpecArgs {
    /// Directory to write config.json into (default: the current directory).
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Generate a config for a rootless container.
    #[arg(long)]
    pub rootless: bool,
}
