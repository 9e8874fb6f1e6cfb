//! The runtime's log sink: runc-compatible `--log FILE --log-format text|json --debug`.
//!
//! containerd's shim reads the last `"level":"error"` line of the JSON log to report why a
//! runtime command failed, so the JSON shape follows runc's logrus output:
//! `{"level":"error","msg":"...","time":"2006-01-02T15:04:05Z"}`, and the text shape is
//! logrus's `time="..." level=debug msg="..."`. Errors are logged exactly once, by `main`,
//! never by the code that returns them.
//!
//! Where lines go:
//! - with `--log FILE`: rendered lines to the file; errors also to stderr as `ferrun: msg`;
//! - without it, with `--debug` or `--log-format json`: rendered lines to stderr, as runc
//!   writes them (runc's debug.bats greps stderr for `level=debug`);
//! - otherwise, for a person at a terminal: `ferrun: msg` and `ferrun: warning: msg`.
//!
//! The container init is a clone of this process, so it shares the sink, but it must never
//! write to it itself: after pivot_root the log path names a file in the container, and its
//! stderr may be the container's. [`forward`] sends its lines over the init channel to the
//! runtime, which writes them ([`relay`]); [`silence`] drops them once the channel is gone.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::container::time::rfc3339_now;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    Debug,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug)]
struct Sink {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends one line elsewhere (the init's channel to the runtime).
pub type Forwarder = Box<dyn Fn(Level, &str) + Send>;

/// Where this process's lines go: the sink (the runtime), another process (the container
/// init, through its channel), or nowhere (the init once its channel is closed).
enum Route {
    Sink,
    Forward(Forwarder),
    Silent,
}

static ROUTE: Mutex<Route> = Mutex::new(Route::Sink);

/// `--log FILE` cannot be opened for appending: runc refuses to run any command then.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the log file {} (--log): {source}", path.display())]
pub struct LogFileError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Configure the sink once, from the global flags. Like runc, a `--log` file that cannot be
/// opened (a missing directory, no permission) fails the command before it does anything,
/// instead of losing every message that follows. The file is opened again for each message,
/// so no descriptor of ours stays open (it could land among the fds `--preserve-fds` passes).
pub fn init(file: Option<PathBuf>, format: LogFormat, debug: bool) -> Result<(), LogFileError> {
    if let Some(path) = &file {
        open_log(path).map_err(|source| LogFileError {
            path: path.clone(),
            source,
        })?;
    }
    let _ = SINK.set(Sink {
        file,
        format,
        debug,
    });
    Ok(())
}

fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Whether `--debug` was given: callers skip building debug messages otherwise.
pub fn debug_enabled() -> bool {
    SINK.get().is_some_and(|s| s.debug)
}

/// A debug line, formatted only when `--debug` is on: `ferrun::debug!("pid {}", pid)`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::logging::debug_enabled() {
            $crate::logging::debug(&format!($($arg)*));
        }
    };
}

pub fn debug(msg: &str) {
    emit(Level::Debug, msg)
}

pub fn warn(msg: &str) {
    emit(Level::Warn, msg)
}

pub fn error(msg: &str) {
    emit(Level::Error, msg)
}

/// In the container init: send every line to the runtime through `send` from now on.
pub fn forward(send: Forwarder) {
    set_route(Route::Forward(send));
}

/// In the container init, once its channel to the runtime is closed: drop every line.
pub fn silence() {
    set_route(Route::Silent);
}

fn set_route(route: Route) {
    *ROUTE.lock().unwrap_or_else(|p| p.into_inner()) = route;
}

/// A line the container init forwarded: written as if it were ours.
pub fn relay(level: Level, msg: &str) {
    write(level, msg)
}

/// Render one log line; separate from I/O so the format is unit-tested.
fn render(format: LogFormat, level: Level, msg: &str, time: &str) -> String {
    match format {
        LogFormat::Json => {
            let line = serde_json::json!({ "level": level.as_str(), "msg": msg, "time": time });
            format!("{line}\n")
        }
        LogFormat::Text => format!("time=\"{time}\" level={} msg={msg:?}\n", level.as_str()),
    }
}

/// The plain form for a person at a terminal (no `--log`, `--debug` or json).
fn plain(level: Level, msg: &str) -> String {
    match level {
        Level::Warn => format!("ferrun: warning: {msg}\n"),
        _ => format!("ferrun: {msg}\n"),
    }
}

fn emit(level: Level, msg: &str) {
    if level == Level::Debug && !debug_enabled() {
        return;
    }
    let route = ROUTE.lock().unwrap_or_else(|p| p.into_inner());
    match &*route {
        Route::Sink => write(level, msg),
        Route::Forward(send) => send(level, msg),
        Route::Silent => {}
    }
}

fn write(level: Level, msg: &str) {
    let default = Sink {
        file: None,
        format: LogFormat::Text,
        debug: false,
    };
    let sink = SINK.get().unwrap_or(&default);
    if level == Level::Debug && !sink.debug {
        return;
    }
    let line = || render(sink.format, level, msg, &rfc3339_now());
    match &sink.file {
        Some(path) => {
            // A log file we cannot open must not turn success into failure: fall back to stderr.
            match open_log(path) {
                Ok(mut f) => {
                    let _ = f.write_all(line().as_bytes());
                }
                Err(_) => eprint!("{}", line()),
            }
            if level == Level::Error {
                eprint!("{}", plain(level, msg));
            }
        }
        None if sink.debug || sink.format == LogFormat::Json => eprint!("{}", line()),
        None => eprint!("{}", plain(level, msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_match_runc_shape() {
        let line = render(
            LogFormat::Json,
            Level::Error,
            "boom \"x\"",
            "2026-01-01T00:00:00Z",
        );
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "boom \"x\"");
        assert_eq!(v["time"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_log_file_in_a_missing_directory_is_an_error_naming_it() {
        let err = init(
            Some(PathBuf::from("/nonexistent/dir/log")),
            LogFormat::Text,
            false,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "cannot open the log file /nonexistent/dir/log (--log): No such file or directory (os error 2)"
        );
    }

    #[test]
    fn plain_lines_are_for_people() {
        assert_eq!(plain(Level::Error, "boom"), "ferrun: boom\n");
        assert_eq!(plain(Level::Warn, "hm"), "ferrun: warning: hm\n");
    }

    #[test]
    fn levels_cross_the_init_channel() {
        let json = serde_json::to_string(&Level::Debug).unwrap();
        assert_eq!(serde_json::from_str::<Level>(&json).unwrap(), Level::Debug);
    }

    #[test]
    fn text_lines_quote_the_message() {
        let line = render(LogFormat::Text, Level::Warn, "a b", "T");
        assert_eq!(line, "time=\"T\" level=warning msg=\"a b\"\n");
    }
}
