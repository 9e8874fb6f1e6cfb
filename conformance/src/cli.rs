//! Command-line types (clap derive) only.

use crate::report::progress;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "oci-conform",
    version,
    about = "Declarative conformance runner for OCI runtimes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run scenarios against one or more runtimes.
    Run(RunArgs),
    /// Check scenario files: schema, duplicate ids, spec references, snapshot names.
    Lint(LintArgs),
    /// Show what a filter selects, with host skip reasons.
    List(ListArgs),
    /// Side-by-side matrix of runtimes from report.json files.
    Matrix(MatrixArgs),
    /// Regression gate: fail when a scenario that passed in the baseline fails now.
    Gate(GateArgs),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Regenerate reports from an events.jsonl (e.g. after a run was killed).
    Report(ReportArgs),
    /// Mutation-test the pack: run it against mutants of a reference runtime, each breaking
    /// one promise, and report which scenarios kill them.
    Mutate(MutateArgs),
    /// Differential fuzzing of runtimes, or robustness fuzzing of the loader (docs/fuzz.md).
    Fuzz(FuzzArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keep {
    Always,
    Fail,
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// NAME=PATH of a runc-compatible runtime (repeatable).
    #[arg(long = "runtime", required = true)]
    pub runtimes: Vec<String>,
    /// Filter expression, e.g. `tag:cgroups !level:MAY lifecycle.*`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Scenarios run in parallel.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Shuffle the order with this seed (the order is sorted by id without it).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Comma-separated report formats: tap, junit, json, markdown.
    #[arg(long, default_value = "tap,junit,json,markdown")]
    pub report: String,
    /// Output directory for events.jsonl, reports and artifacts.
    #[arg(long, default_value = "oci-conform-out")]
    pub out: PathBuf,
    /// When to keep per-scenario artifacts and bundles.
    #[arg(long, value_enum, default_value_t = Keep::Fail)]
    pub keep: Keep,
    /// The static oci-probe binary (default: next to oci-conform, then target/*/oci-probe).
    #[arg(long)]
    pub probe: Option<PathBuf>,
    /// Write new or changed snapshots instead of failing on them.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Directory holding snapshots/ and expectations/ (default: found from SCENARIOS).
    #[arg(long)]
    pub suite_dir: Option<PathBuf>,
    /// Where bundles and runtime state go (default OUT/work). A tmpfs (e.g. /dev/shm/x) is
    /// much faster on hosts where creating inodes is slow.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Default per-step deadline in seconds.
    #[arg(long, default_value_t = 20)]
    pub step_timeout: u64,
    /// Runtime(s) whose results set the exit code (repeatable or comma-separated; default:
    /// all). The others are references: recorded and reported, a non-PASS of theirs is
    /// re-run once, and they never fail the run.
    #[arg(long, value_name = "RUNTIME")]
    pub judge: Vec<String>,
    /// The status line on stderr (counts so far, ETA), redrawn in place below the result
    /// lines: `auto` draws it when stderr is a terminal (and TERM is not `dumb`); elsewhere
    /// the output is the plain line per result, without escape codes.
    #[arg(long, value_enum, default_value_t = progress::Mode::Auto)]
    pub progress: progress::Mode,

    /// Scenario files or directories.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[arg(long)]
    pub suite_dir: Option<PathBuf>,
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub filter: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// NAME=PATH: also show what this runtime's `features` make UNSUPPORTED (repeatable).
    #[arg(long = "runtime")]
    pub runtimes: Vec<String>,
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Only rows where runtimes disagree.
    #[arg(long)]
    pub only_diverging: bool,
    /// Write matrix.md and matrix.json here (default: print Markdown to stdout, unless
    /// --html is given).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the matrix as one self-contained HTML page: pass-rate bars per area and
    /// runtime, then the scenarios (diverging first), each cell linked to the scenario file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Prefix of the page's links to the scenario files (a URL such as
    /// https://host/repo/blob/main/, or a path relative to the page). Default: the current
    /// directory as seen from the page, where the reports' relative paths (`scenarios/...`)
    /// start when `matrix` runs where `run` ran (the repository root).
    #[arg(long, value_name = "URL|PATH", requires = "html")]
    pub link_base: Option<String>,
    /// report.json files; `LABEL=report.json` names that report's columns `LABEL/runtime`
    /// (needed when two reports hold the same runtime, e.g. one per VM profile).
    #[arg(required = true, value_name = "[LABEL=]REPORT")]
    pub reports: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Comma-separated report formats: tap, junit, json, markdown.
    #[arg(long, default_value = "tap,junit,json,markdown")]
    pub report: String,
    /// Runtime(s) whose results set the exit code, as for `run` (default: all).
    #[arg(long, value_name = "RUNTIME")]
    pub judge: Vec<String>,
    /// Where to write the reports (default: the directory of EVENTS).
    #[arg(long)]
    pub out: Option<PathBuf>,
    pub events: PathBuf,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    #[arg(long)]
    pub baseline: PathBuf,
    /// Runtime(s) whose regressions fail the gate (repeatable or comma-separated; default:
    /// all). The others are reported as information.
    #[arg(long, value_name = "RUNTIME")]
    pub judge: Vec<String>,
    pub report: PathBuf,
}

#[derive(Debug, Args)]
pub struct MutateArgs {
    /// The reference runtime the mutants wrap (runc-compatible CLI).
    #[arg(long, default_value = "/usr/sbin/runc")]
    pub reference: PathBuf,
    /// The runtime name of the reference and its mutants: its expectations file applies.
    #[arg(long, default_value = "runc")]
    pub name: String,
    /// Mutants to run (repeatable or comma-separated; default: all). See `--list`.
    #[arg(long = "mutant", value_delimiter = ',')]
    pub mutants: Vec<String>,
    /// Print the mutants (name, level, spec, what they break) and exit.
    #[arg(long)]
    pub list: bool,
    /// Filter expression for the scenarios, as for `run`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Stop a mutant at its first confirmed kill (scenarios of the areas it touches first).
    #[arg(long)]
    pub first_kill: bool,
    /// Scenarios run in parallel.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Output directory: mutate.json, the reference's and each mutant's runs.
    #[arg(long, default_value = "oci-conform-mutate")]
    pub out: PathBuf,
    /// Where bundles and runtime state go (a tmpfs such as /dev/shm/x is faster).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The static oci-probe binary, as for `run`.
    #[arg(long)]
    pub probe: Option<PathBuf>,
    /// Directory holding snapshots/ and expectations/ (default: found from SCENARIOS).
    #[arg(long)]
    pub suite_dir: Option<PathBuf>,
    /// Default per-step deadline in seconds.
    #[arg(long, default_value_t = 20)]
    pub step_timeout: u64,
    /// Internal: act as mutant NAME around --reference for one runtime command (the
    /// wrapper scripts call this with the runtime's arguments after `--`).
    #[arg(long, value_name = "NAME", hide = true)]
    pub shim: Option<String>,
    /// Internal: with --shim, append a line here whenever the mutation changes something.
    #[arg(long, hide = true)]
    pub shim_log: Option<PathBuf>,
    /// Scenario files or directories.
    pub scenarios: Vec<PathBuf>,
    /// With --shim: the runtime's own arguments.
    #[arg(last = true, hide = true)]
    pub runtime_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// What to fuzz: `runtimes` (differential, needs --runtimes) or `loader` (oci-conform's
    /// scenario, expectation and config parsers, in process).
    #[arg(long, default_value = "runtimes")]
    pub target: String,
    /// NAME=PATH,... of two or more runtimes; the first is the reference.
    #[arg(long, value_delimiter = ',')]
    pub runtimes: Vec<String>,
    /// Generator seed (default: from the clock, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after this many configs (or loader inputs).
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this many seconds (default 60 when --count is not given).
    #[arg(long)]
    pub time: Option<u64>,
    /// Runs the minimizer may spend on one divergence.
    #[arg(long, default_value_t = 40)]
    pub min_budget: usize,
    /// Output directory: summary, report, reproducing scenarios, work files.
    #[arg(long, default_value = "oci-conform-fuzz")]
    pub out: PathBuf,
    /// Where bundles and runtime state go (default OUT/work).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The suite directory: expectations (known divergences) and the loader's corpus.
    #[arg(long, default_value = "scenarios")]
    pub suite_dir: PathBuf,
    /// The static oci-probe binary (found as for `run` by default).
    #[arg(long)]
    pub probe: Option<PathBuf>,
    /// Per-step deadline in seconds.
    #[arg(long, default_value_t = 10)]
    pub step_timeout: u64,
    /// Keep every config's bundle and artifacts (default: none).
    #[arg(long)]
    pub keep: bool,
}
