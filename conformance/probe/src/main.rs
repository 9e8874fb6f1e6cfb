//! oci-probe: a static helper copied into test rootfs images as `/probe`.
//!
//! Each subcommand reports one thing the containerised process can see
//! (ids, capabilities, mounts, limits, namespaces, …) on stdout, as JSON
//! where the conformance runner's `json` matcher or a normalizer reads it
//! and as plain text otherwise. Exit status 0 means the probe worked; each
//! failure class has its own exit code (see `error.rs` and README.md) and
//! a message on stderr naming the path or call and the errno.

// The probe is std + libc only (it is linked statically into minimal rootfs images), so the
// few questions std cannot ask go to libc directly. Only the modules below that say so may
// use `unsafe`, and every block says why it is sound.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod caps;
mod cli;
mod errno;
mod error;
mod files;
#[allow(unsafe_code)] // get*id, getgroups, uname, isatty
mod identity;
mod json;
#[allow(unsafe_code)] // getrlimit
mod rlimits;
#[allow(unsafe_code)] // sigprocmask + sigwait
mod signals;
mod status;
#[allow(unsafe_code)] // syscall(2) with caller-described arguments
mod syscalls;

use std::io::Write;

use cli::Command;
use error::ProbeError;
use json::Json;

/// What a subcommand produced: bytes for stdout and the exit status.
#[derive(Debug)]
struct Outcome {
    stdout: Vec<u8>,
    exit: i32,
}

impl Outcome {
    fn text(s: impl Into<String>) -> Self {
        Outcome {
            stdout: s.into().into_bytes(),
            exit: 0,
        }
    }

    fn line(s: impl std::fmt::Display) -> Self {
        Outcome::text(format!("{s}\n"))
    }

    fn json(j: Json) -> Self {
        Outcome::line(j.render())
    }
}

fn proc_file(path: &str) -> Result<Outcome, ProbeError> {
    Ok(Outcome {
        stdout: files::cat(path)?,
        exit: 0,
    })
}

fn status_number(key: &str) -> Result<Outcome, ProbeError> {
    let text = status::read_own()?;
    Ok(Outcome::line(status::number(&text, key)?))
}

fn execute(cmd: Command) -> Result<Outcome, ProbeError> {
    match cmd {
        Command::Sleep(secs) => {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            Ok(Outcome::text(""))
        }
        Command::Exit(code) => Ok(Outcome {
            stdout: Vec::new(),
            exit: code,
        }),
        Command::Hostname => Ok(Outcome::line(identity::uts_names()?.0)),
        Command::Domainname => Ok(Outcome::line(identity::uts_names()?.1)),
        Command::Id => Ok(Outcome::json(identity::id()?)),
        Command::Caps => Ok(Outcome::json(caps::report(&status::read_own()?)?)),
        Command::Cgroup => proc_file("/proc/self/cgroup"),
        Command::Mountinfo => proc_file("/proc/self/mountinfo"),
        Command::Seccomp => status_number("Seccomp"),
        Command::Nnp => status_number("NoNewPrivs"),
        Command::Syscall { name, args } => Ok(Outcome::line(syscalls::run(&name, &args)?)),
        Command::Rlimits => Ok(Outcome::json(rlimits::report()?)),
        Command::Env => Ok(Outcome::text(
            std::env::vars_os()
                .map(|(k, v)| format!("{}={}\n", k.to_string_lossy(), v.to_string_lossy()))
                .collect::<String>(),
        )),
        Command::Cwd => {
            let cwd = std::env::current_dir().map_err(|e| ProbeError::read(".", &e))?;
            Ok(Outcome::line(cwd.display()))
        }
        Command::Cat(path) => proc_file(&path),
        Command::Write { path, text } => files::write(&path, &text).map(|_| Outcome::text("")),
        Command::Ls(path) => Ok(Outcome::text(files::ls(&path)?)),
        Command::Stat(path) => Ok(Outcome::json(files::stat(&path)?)),
        Command::Sysctl(name) => proc_file(&files::sysctl_path(&name)),
        Command::Fds => Ok(Outcome::text(files::fds()?)),
        Command::Oom => {
            let raw = files::cat("/proc/self/oom_score_adj")?;
            Ok(Outcome::line(String::from_utf8_lossy(&raw).trim()))
        }
        Command::Umask => Ok(Outcome::line(identity::umask()?)),
        Command::Ns => Ok(Outcome::json(identity::namespaces()?)),
        Command::Pid => Ok(Outcome::line(std::process::id())),
        Command::Signals => Ok(Outcome::line(signals::wait_one()?)),
        Command::Tty => Ok(Outcome::json(identity::ttys())),
        Command::Help => Ok(Outcome::text(cli::USAGE)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = cli::parse(&args).and_then(execute);
    let code = match result {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&outcome.stdout).and_then(|_| out.flush()) {
                Ok(()) => outcome.exit,
                Err(e) => report(&ProbeError::Output {
                    errno: e.raw_os_error().unwrap_or(0),
                }),
            }
        }
        Err(err) => {
            if matches!(err, ProbeError::Usage(_)) {
                eprint!("{}", cli::USAGE);
            }
            report(&err)
        }
    };
    std::process::exit(code);
}

fn report(err: &ProbeError) -> i32 {
    eprintln!("oci-probe: {err}");
    err.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn exit_status_is_the_requested_one_with_no_output() {
        let out = execute(Command::Exit(42)).unwrap();
        assert_eq!((out.exit, out.stdout.len()), (42, 0));
    }

    #[test]
    fn sysctl_reads_proc_sys() {
        let out = execute(Command::Sysctl("kernel.ostype".into())).unwrap();
        assert_eq!(out.stdout, b"Linux\n");
    }

    #[test]
    fn json_reports_end_with_a_newline() {
        let out = execute(Command::Tty).unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with("{\"stdin\":") && text.ends_with("}\n"),
            "{text}"
        );
    }

    #[test]
    fn failures_keep_their_exit_code() {
        let err = execute(Command::Cat("/nonexistent/oci-probe".into())).unwrap_err();
        assert_eq!(err.exit_code(), error::EXIT_READ);
    }

    #[rstest]
    #[case("sleep")]
    #[case("exit")]
    #[case("domainname")]
    #[case("caps")]
    #[case("mountinfo")]
    #[case("seccomp")]
    #[case("syscall")]
    #[case("rlimits")]
    #[case("write")]
    #[case("stat")]
    #[case("sysctl")]
    #[case("fds")]
    #[case("ns")]
    #[case("signals")]
    #[case("tty")]
    fn usage_documents_each_subcommand(#[case] name: &str) {
        assert!(cli::USAGE.contains(name), "{name} missing from USAGE");
    }
}
