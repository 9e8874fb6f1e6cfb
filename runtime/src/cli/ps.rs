//! `ps [--format table|json] ID [PS_ARGS...]`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PsFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PsArgs {
    /// Output format: table (filtered `ps` output) or json (the pids).
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: PsFormat,
    /// Container id.
    pub id: String,
    /// Options for ps(1) (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}
