//! The probe's single error type and its exit codes.
//!
//! Scenarios match on the exit code, so every failure class has its own
//! stable, documented number (see README.md). The message always names the
//! thing that failed (path, syscall, file) and the errno as a symbolic name,
//! so a `stderr: { contains: EROFS }` matcher is enough to tell "read-only"
//! apart from "permission denied".

use std::fmt;

use crate::errno;

/// Exit code for a malformed command line.
pub const EXIT_USAGE: i32 = 2;
/// Exit code when reading a file, directory or /proc entry failed.
pub const EXIT_READ: i32 = 3;
/// Exit code when writing a file failed.
pub const EXIT_WRITE: i32 = 4;
/// Exit code when a system call the probe needs (not the one under test) failed.
pub const EXIT_SYSCALL: i32 = 5;
/// Exit code when the content of a kernel file could not be parsed.
pub const EXIT_PARSE: i32 = 6;
/// Exit code when stdout could not be written.
pub const EXIT_OUTPUT: i32 = 7;

/// Everything that can make a probe subcommand fail.
#[derive(Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// Bad command line; the message says what was expected.
    Usage(String),
    /// Reading `path` failed with `errno`.
    Read { path: String, errno: i32 },
    /// Writing `path` failed with `errno`.
    Write { path: String, errno: i32 },
    /// The helper system call `call` failed with `errno`.
    Syscall { call: &'static str, errno: i32 },
    /// `file` did not have the expected shape (`what` says which field).
    Parse { file: String, what: String },
    /// stdout is closed or full.
    Output { errno: i32 },
}

impl ProbeError {
    /// The process exit code for this error class.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProbeError::Usage(_) => EXIT_USAGE,
            ProbeError::Read { .. } => EXIT_READ,
            ProbeError::Write { .. } => EXIT_WRITE,
            ProbeError::Syscall { .. } => EXIT_SYSCALL,
            ProbeError::Parse { .. } => EXIT_PARSE,
            ProbeError::Output { .. } => EXIT_OUTPUT,
        }
    }

    /// Builds a read error from an `io::Error`.
    pub fn read(path: &str, err: &std::io::Error) -> Self {
        ProbeError::Read {
            path: path.to_string(),
            errno: err.raw_os_error().unwrap_or(0),
        }
    }

    /// Builds a write error from an `io::Error`.
    pub fn write(path: &str, err: &std::io::Error) -> Self {
        ProbeError::Write {
            path: path.to_string(),
            errno: err.raw_os_error().unwrap_or(0),
        }
    }

    /// Builds a syscall error from the current `errno`.
    pub fn last_os(call: &'static str) -> Self {
        ProbeError::Syscall {
            call,
            errno: errno::last(),
        }
    }
}

fn describe(errno_value: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno_value).to_string();
    // io::Error appends " (os error N)"; the symbolic name already says it.
    let text = text.split(" (os error").next().unwrap_or_default();
    format!("{} ({text})", errno::name(errno_value))
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Usage(msg) => write!(f, "usage: {msg}"),
            ProbeError::Read { path, errno } => write!(f, "read {path}: {}", describe(*errno)),
            ProbeError::Write { path, errno } => write!(f, "write {path}: {}", describe(*errno)),
            ProbeError::Syscall { call, errno } => write!(f, "{call}: {}", describe(*errno)),
            ProbeError::Parse { file, what } => write!(f, "parse {file}: {what}"),
            ProbeError::Output { errno } => write!(f, "write stdout: {}", describe(*errno)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(ProbeError::Usage("x".into()), EXIT_USAGE)]
    #[case(ProbeError::Read { path: "/a".into(), errno: 2 }, EXIT_READ)]
    #[case(ProbeError::Write { path: "/a".into(), errno: 30 }, EXIT_WRITE)]
    #[case(ProbeError::Syscall { call: "uname", errno: 1 }, EXIT_SYSCALL)]
    #[case(ProbeError::Parse { file: "f".into(), what: "w".into() }, EXIT_PARSE)]
    #[case(ProbeError::Output { errno: 32 }, EXIT_OUTPUT)]
    fn exit_codes_are_distinct_per_class(#[case] err: ProbeError, #[case] code: i32) {
        assert_eq!(err.exit_code(), code);
    }

    #[test]
    fn write_error_names_path_and_errno() {
        let err = ProbeError::Write {
            path: "/etc/x".into(),
            errno: libc::EROFS,
        };
        let text = err.to_string();
        assert_eq!(text, "write /etc/x: EROFS (Read-only file system)");
    }
}
