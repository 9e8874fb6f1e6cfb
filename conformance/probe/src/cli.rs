//! Command-line parsing: `oci-probe SUBCOMMAND [ARGS...]` into [`Command`].
//!
//! Hand-written (no clap: std + libc only) and pure, so every subcommand's
//! argument rules are unit-tested without running anything.

use crate::error::ProbeError;

/// One probe invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Sleep(f64),
    Exit(i32),
    Hostname,
    Domainname,
    Id,
    Caps,
    Cgroup,
    Mountinfo,
    Seccomp,
    Syscall { name: String, args: Vec<String> },
    Rlimits,
    Env,
    Cwd,
    Cat(String),
    Write { path: String, text: String },
    Ls(String),
    Stat(String),
    Sysctl(String),
    Fds,
    Nnp,
    Oom,
    Umask,
    Ns,
    Pid,
    Signals,
    Tty,
    Help,
}

/// One line per subcommand, printed by `help` and on usage errors.
pub const USAGE: &str = "\
oci-probe SUBCOMMAND [ARGS]
  sleep SECS            sleep (fractions allowed), then exit 0
  exit N                exit with status N
  hostname | domainname the UTS names
  id                    {uid,gid,euid,egid,groups} as JSON
  caps                  the five capability sets as JSON (hex and names)
  cgroup | mountinfo    /proc/self/cgroup | /proc/self/mountinfo verbatim
  seccomp | nnp | oom   Seccomp mode | NoNewPrivs | oom_score_adj
  umask | pid | cwd     the process umask (octal) | pid | working directory
  syscall NAME [ARG..]  run one system call, print ok or the errno name
  rlimits               every RLIMIT_* as JSON {soft,hard}
  env                   the environment, one VAR=value per line
  cat PATH | ls PATH    a file's bytes | a directory's sorted entries
  write PATH TEXT       write TEXT (no newline) to PATH, creating it
  stat PATH             {type,mode,uid,gid,major,minor,size} as JSON (lstat)
  sysctl NAME           the value of a dotted sysctl from /proc/sys
  fds                   the open file descriptors, one per line
  ns                    readlink of each /proc/self/ns/* as JSON
  signals               wait for one signal, print its name, exit 0
  tty                   isatty of fds 0, 1, 2 as JSON
";

fn usage(msg: impl Into<String>) -> ProbeError {
    ProbeError::Usage(msg.into())
}

fn no_args(sub: &str, rest: &[String], cmd: Command) -> Result<Command, ProbeError> {
    if rest.is_empty() {
        Ok(cmd)
    } else {
        Err(usage(format!("{sub} takes no arguments")))
    }
}

fn one_arg(sub: &str, rest: &[String]) -> Result<String, ProbeError> {
    match rest {
        [only] => Ok(only.clone()),
        _ => Err(usage(format!("{sub} takes exactly one argument"))),
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, ProbeError> {
    let (sub, rest) = args
        .split_first()
        .ok_or_else(|| usage("missing subcommand"))?;
    let sub = sub.as_str();
    match sub {
        "sleep" => {
            let raw = one_arg(sub, rest)?;
            let secs: f64 = raw
                .parse()
                .map_err(|_| usage(format!("sleep: not a number of seconds: {raw:?}")))?;
            if !(secs.is_finite() && secs >= 0.0) {
                return Err(usage(format!("sleep: out of range: {raw:?}")));
            }
            Ok(Command::Sleep(secs))
        }
        "exit" => {
            let raw = one_arg(sub, rest)?;
            let code: i32 = raw
                .parse()
                .ok()
                .filter(|c| (0..=255).contains(c))
                .ok_or_else(|| usage(format!("exit: status must be 0..=255: {raw:?}")))?;
            Ok(Command::Exit(code))
        }
        "syscall" => {
            let (name, args) = rest
                .split_first()
                .ok_or_else(|| usage("syscall needs a NAME"))?;
            Ok(Command::Syscall {
                name: name.clone(),
                args: args.to_vec(),
            })
        }
        "write" => match rest {
            [path, text] => Ok(Command::Write {
                path: path.clone(),
                text: text.clone(),
            }),
            _ => Err(usage("write takes PATH TEXT")),
        },
        "cat" => Ok(Command::Cat(one_arg(sub, rest)?)),
        "ls" => Ok(Command::Ls(one_arg(sub, rest)?)),
        "stat" => Ok(Command::Stat(one_arg(sub, rest)?)),
        "sysctl" => Ok(Command::Sysctl(one_arg(sub, rest)?)),
        _ => parse_plain(sub, rest),
    }
}

fn parse_plain(sub: &str, rest: &[String]) -> Result<Command, ProbeError> {
    let cmd = match sub {
        "hostname" => Command::Hostname,
        "domainname" => Command::Domainname,
        "id" => Command::Id,
        "caps" => Command::Caps,
        "cgroup" => Command::Cgroup,
        "mountinfo" => Command::Mountinfo,
        "seccomp" => Command::Seccomp,
        "rlimits" => Command::Rlimits,
        "env" => Command::Env,
        "cwd" => Command::Cwd,
        "fds" => Command::Fds,
        "nnp" => Command::Nnp,
        "oom" => Command::Oom,
        "umask" => Command::Umask,
        "ns" => Command::Ns,
        "pid" => Command::Pid,
        "signals" => Command::Signals,
        "tty" => Command::Tty,
        "help" | "--help" | "-h" => Command::Help,
        other => return Err(usage(format!("unknown subcommand {other:?}"))),
    };
    no_args(sub, rest, cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[rstest]
    #[case("sleep 300", Command::Sleep(300.0))]
    #[case("sleep 0.5", Command::Sleep(0.5))]
    #[case("exit 42", Command::Exit(42))]
    #[case("hostname", Command::Hostname)]
    #[case("caps", Command::Caps)]
    #[case("cat /etc/hostname", Command::Cat("/etc/hostname".into()))]
    #[case("write /x hi", Command::Write { path: "/x".into(), text: "hi".into() })]
    #[case("syscall mkdir /d", Command::Syscall { name: "mkdir".into(), args: vec!["/d".into()] })]
    #[case("syscall getpid", Command::Syscall { name: "getpid".into(), args: vec![] })]
    #[case("sysctl kernel.shmmax", Command::Sysctl("kernel.shmmax".into()))]
    #[case("--help", Command::Help)]
    fn parses(#[case] line: &str, #[case] expected: Command) {
        assert_eq!(parse(&argv(line)), Ok(expected));
    }

    #[rstest]
    #[case("", "missing subcommand")]
    #[case("frobnicate", "unknown subcommand")]
    #[case("sleep", "exactly one argument")]
    #[case("sleep soon", "not a number")]
    #[case("sleep -1", "out of range")]
    #[case("exit 256", "0..=255")]
    #[case("exit x", "0..=255")]
    #[case("hostname extra", "takes no arguments")]
    #[case("write /x", "PATH TEXT")]
    #[case("syscall", "needs a NAME")]
    fn rejects(#[case] line: &str, #[case] fragment: &str) {
        let err = parse(&argv(line)).unwrap_err();
        assert!(err.to_string().contains(fragment), "{err}");
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
    }
}
