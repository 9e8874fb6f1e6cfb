//! `events [--stats] [--interval D] ID`, with runc's flags and defaults.

#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// Print the resource statistics once and exit.
    #[arg(long)]
    pub stats: bool,
    /// Interval between statistics, in Go's duration syntax (5s, 100ms, 1m30s).
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// Container id.
    pub id: String,
}
