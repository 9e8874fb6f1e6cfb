//! The runtime's log sink: runc-compatible `--log FILE --log-format text|json`.
//!
//! containerd's shim reads the last `"level":"error"` line of the JSON log to report why a
//! runtime command failed, so the JSON shape follows runc's logrus output:
//! `{"level":"error","msg":"...","time":"2006-01-02T15:04:05Z"}`. Without `--log`, messages go
//! to stderr. Errors are logged exactly once, by `main`, never by the code that returns them.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::container::time::rfc3339_now;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

pub fn debug(msg: &str) {
    emit(Level::Debug, msg)
}

pub fn warn(msg: &str) {
    emit(Level::Warn, msg)
}

pub fn error(msg: &str) {
    emit(Level::Error, msg)
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

fn emit(level: Level, msg: &str) {
    let default = Sink {
        file: None,
        format: LogFormat::Text,
        debug: false,
    };
    let sink = SINK.get().unwrap_or(&default);
    if level == Level::Debug && !sink.debug {
        return;
    }
    match &sink.file {
        Some(path) => {
            let line = render(sink.format, level, msg, &rfc3339_now());
            // A log file we cannot open must not turn success into failure: fall back to stderr.
            match open_log(path) {
                Ok(mut f) => {
                    let _ = f.write_all(line.as_bytes());
                }
                Err(_) => eprint!("{line}"),
            }
            if level == Level::Error {
                eprintln!("ferrun: {msg}");
            }
        }
        None => eprintln!(
            "ferrun: {}{msg}",
            if level == Level::Warn {
                "warning: "
            } else {
                ""
            }
        ),
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
    fn text_lines_quote_the_message() {
        let line = render(LogFormat::Text, Level::Warn, "a b", "T");
        assert_eq!(line, "time=\"T\" level=warning msg=\"a b\"\n");
    }
}
