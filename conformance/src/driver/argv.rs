//! Argument vectors for runc-compatible CLIs (runc's command and flag names). Pure functions:
//! every scenario gets its own `--root` and `--log` so scenarios run side by side.

use std::path::{Path, PathBuf};

/// A runtime under test: the name used in reports and expectations, and its binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeBin {
    pub name: String,
    pub path: PathBuf,
}

impl RuntimeBin {
    /// Parses `NAME=PATH` (or a bare PATH, named after its file name).
    pub fn parse(spec: &str) -> Result<RuntimeBin, String> {
        let (name, path) = match spec.split_once('=') {
            Some((n, p)) => (n.to_string(), PathBuf::from(p)),
            None => {
                let p = PathBuf::from(spec);
                let n = p
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default();
                (n, p)
            }
        };
        let ok_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !ok_name {
            return Err(format!(
                "bad runtime name in `{spec}` (use NAME=PATH, NAME of [A-Za-z0-9._-])"
            ));
        }
        if path.as_os_str().is_empty() {
            return Err(format!("no runtime path in `{spec}`"));
        }
        Ok(RuntimeBin { name, path })
    }
}

/// Global flags for one scenario.
#[derive(Debug, Clone)]
pub struct Globals {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    /// `--systemd-cgroup` (runc.8.md, global options): the scenario's `cgroup_driver: systemd`.
    pub systemd_cgroup: bool,
}

fn s(p: &Path) -> String {
    p.to_string_lossy().to_string()
}

/// Builds argv vectors for one container of one runtime.
#[derive(Debug, Clone)]
pub struct Argv<'a> {
    pub bin: &'a RuntimeBin,
    pub globals: &'a Globals,
    pub id: &'a str,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOpts {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub cap: Vec<String>,
    pub no_new_privs: bool,
    pub detach: bool,
    pub tty: bool,
    /// `--console-socket PATH` (a detached tty).
    pub console_socket: Option<PathBuf>,
    pub process_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub flags: Vec<String>,
}

impl Argv<'_> {
    fn base(&self, with_globals: bool) -> Vec<String> {
        let mut v = vec![s(&self.bin.path)];
        if with_globals {
            v.push("--root".into());
            v.push(s(&self.globals.root));
            if let Some(log) = &self.globals.log {
                v.extend(["--log".into(), s(log), "--log-format".into(), "json".into()]);
            }
            if self.globals.systemd_cgroup {
                v.push("--systemd-cgroup".into());
            }
        }
        v
    }

    fn cmd(&self, words: &[&str]) -> Vec<String> {
        let mut v = self.base(true);
        v.extend(words.iter().map(|w| w.to_string()));
        v
    }

    pub fn create(&self, bundle: &Path, pid_file: Option<&Path>, extra: &[String]) -> Vec<String> {
        let mut v = self.cmd(&["create", "--bundle"]);
        v.push(s(bundle));
        if let Some(p) = pid_file {
            v.extend(["--pid-file".into(), s(p)]);
        }
        v.extend(extra.iter().cloned());
        v.push(self.id.into());
        v
    }

    pub fn run(&self, bundle: &Path, detach: bool, extra: &[String]) -> Vec<String> {
        let mut v = self.cmd(&["run", "--bundle"]);
        v.push(s(bundle));
        if detach {
            v.push("--detach".into());
        }
        v.extend(extra.iter().cloned());
        v.push(self.id.into());
        v
    }

    /// `VERB FLAGS... ID`: checkpoint and restore, whose flags the caller builds.
    pub fn with_flags(&self, verb: &str, flags: &[String]) -> Vec<String> {
        let mut v = self.cmd(&[verb]);
        v.extend(flags.iter().cloned());
        v.push(self.id.into());
        v
    }

    /// `start`, `state`, `pause`, `resume`: verb + id.
    pub fn simple(&self, verb: &str) -> Vec<String> {
        self.cmd(&[verb, self.id])
    }

    pub fn list(&self, json: bool, quiet: bool) -> Vec<String> {
        let mut v = self.cmd(&["list", "--format", if json { "json" } else { "table" }]);
        if quiet {
            v.push("--quiet".into());
        }
        v
    }

    pub fn kill(&self, signal: &str, all: bool) -> Vec<String> {
        let mut v = self.cmd(&["kill"]);
        if all {
            v.push("--all".into());
        }
        v.extend([self.id.to_string(), signal.to_string()]);
        v
    }

    pub fn delete(&self, force: bool) -> Vec<String> {
        let mut v = self.cmd(&["delete"]);
        if force {
            v.push("--force".into());
        }
        v.push(self.id.into());
        v
    }

    pub fn exec(&self, o: &ExecOpts) -> Vec<String> {
        let mut v = self.cmd(&["exec"]);
        if o.detach {
            v.push("--detach".into());
        }
        if o.tty {
            v.push("--tty".into());
        }
        if let Some(s) = &o.console_socket {
            v.extend(["--console-socket".into(), s.display().to_string()]);
        }
        if let Some(p) = &o.pid_file {
            v.extend(["--pid-file".into(), s(p)]);
        }
        for e in &o.env {
            v.extend(["--env".into(), e.clone()]);
        }
        if let Some(c) = &o.cwd {
            v.extend(["--cwd".into(), c.clone()]);
        }
        if let Some(u) = &o.user {
            v.extend(["--user".into(), u.clone()]);
        }
        for c in &o.cap {
            v.extend(["--cap".into(), c.clone()]);
        }
        if o.no_new_privs {
            v.push("--no-new-privs".into());
        }
        if let Some(p) = &o.process_file {
            v.extend(["--process".into(), s(p)]);
        }
        v.extend(o.flags.iter().cloned());
        v.push(self.id.into());
        if o.process_file.is_none() {
            v.extend(o.args.iter().cloned());
        }
        v
    }

    pub fn ps(&self, json: bool) -> Vec<String> {
        self.cmd(&[
            "ps",
            "--format",
            if json { "json" } else { "table" },
            self.id,
        ])
    }

    pub fn events_stats(&self) -> Vec<String> {
        self.cmd(&["events", "--stats", self.id])
    }

    pub fn update(&self, resources: Option<&Path>, args: &[String]) -> Vec<String> {
        let mut v = self.cmd(&["update"]);
        if let Some(r) = resources {
            v.extend(["--resources".into(), s(r)]);
        }
        v.extend(args.iter().cloned());
        v.push(self.id.into());
        v
    }

    pub fn features(bin: &RuntimeBin) -> Vec<String> {
        vec![s(&bin.path), "features".into()]
    }

    /// `raw`: the scenario's words, optionally after the global flags.
    pub fn raw(&self, words: &[String], with_globals: bool) -> Vec<String> {
        let mut v = self.base(with_globals);
        v.extend(words.iter().cloned());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn fixture() -> (RuntimeBin, Globals) {
        (
            RuntimeBin {
                name: "runc".into(),
                path: "/usr/sbin/runc".into(),
            },
            Globals {
                root: "/r".into(),
                log: Some("/l.json".into()),
                systemd_cgroup: false,
            },
        )
    }

    const G: [&str; 6] = [
        "/usr/sbin/runc",
        "--root",
        "/r",
        "--log",
        "/l.json",
        "--log-format",
    ];

    fn with_globals(rest: &[&str]) -> Vec<String> {
        G.iter()
            .chain(["json"].iter())
            .chain(rest.iter())
            .map(|s| s.to_string())
            .collect()
    }

    #[rstest]
    #[case::create(|a: &Argv| a.create(Path::new("/b"), Some(Path::new("/p")), &[]), &["create", "--bundle", "/b", "--pid-file", "/p", "c1"][..])]
    #[case::run_detached(|a: &Argv| a.run(Path::new("/b"), true, &[]), &["run", "--bundle", "/b", "--detach", "c1"][..])]
    #[case::start(|a: &Argv| a.simple("start"), &["start", "c1"][..])]
    #[case::kill_all(|a: &Argv| a.kill("KILL", true), &["kill", "--all", "c1", "KILL"][..])]
    #[case::delete_force(|a: &Argv| a.delete(true), &["delete", "--force", "c1"][..])]
    #[case::list(|a: &Argv| a.list(true, false), &["list", "--format", "json"][..])]
    #[case::ps(|a: &Argv| a.ps(true), &["ps", "--format", "json", "c1"][..])]
    #[case::events(|a: &Argv| a.events_stats(), &["events", "--stats", "c1"][..])]
    #[case::update(|a: &Argv| a.update(Some(Path::new("/res.json")), &[]), &["update", "--resources", "/res.json", "c1"][..])]
    fn builds(#[case] f: fn(&Argv) -> Vec<String>, #[case] rest: &[&str]) {
        let (bin, g) = fixture();
        let a = Argv {
            bin: &bin,
            globals: &g,
            id: "c1",
        };
        assert_eq!(f(&a), with_globals(rest));
    }

    #[test]
    fn systemd_driver_adds_the_global_flag_before_every_command() {
        let (bin, mut g) = fixture();
        g.systemd_cgroup = true;
        let a = Argv {
            bin: &bin,
            globals: &g,
            id: "c1",
        };
        // A global option: before the command word, as runc's CLI parses it.
        let mut want = with_globals(&["--systemd-cgroup", "delete", "--force", "c1"]);
        assert_eq!(a.delete(true), want);
        want = with_globals(&["--systemd-cgroup", "kill", "--all", "c1", "KILL"]);
        assert_eq!(a.kill("KILL", true), want);
    }

    #[test]
    fn exec_puts_flags_before_id_and_args_after() {
        let (bin, g) = fixture();
        let a = Argv {
            bin: &bin,
            globals: &g,
            id: "c1",
        };
        let o = ExecOpts {
            args: vec!["/probe".into(), "id".into()],
            env: vec!["A=1".into()],
            user: Some("1000:1000".into()),
            cap: vec!["CAP_KILL".into()],
            no_new_privs: true,
            ..Default::default()
        };
        let tty = ExecOpts {
            args: vec!["sh".into()],
            tty: true,
            detach: true,
            console_socket: Some("/tmp/c.sock".into()),
            ..Default::default()
        };
        assert_eq!(
            a.exec(&tty),
            with_globals(&[
                "exec",
                "--detach",
                "--tty",
                "--console-socket",
                "/tmp/c.sock",
                "c1",
                "sh"
            ])
        );
        assert_eq!(
            a.exec(&o),
            with_globals(&[
                "exec",
                "--env",
                "A=1",
                "--user",
                "1000:1000",
                "--cap",
                "CAP_KILL",
                "--no-new-privs",
                "c1",
                "/probe",
                "id"
            ])
        );
    }

    #[test]
    fn raw_without_globals() {
        let (bin, g) = fixture();
        let a = Argv {
            bin: &bin,
            globals: &g,
            id: "c1",
        };
        assert_eq!(
            a.raw(&["--version".into()], false),
            vec!["/usr/sbin/runc", "--version"]
        );
    }

    #[rstest]
    #[case("runc=/usr/sbin/runc", Some(("runc", "/usr/sbin/runc")))]
    #[case("/usr/bin/crun", Some(("crun", "/usr/bin/crun")))]
    #[case("bad name=/x", None)]
    #[case("x=", None)]
    fn runtime_specs(#[case] spec: &str, #[case] want: Option<(&str, &str)>) {
        let got = RuntimeBin::parse(spec).ok().map(|r| (r.name, r.path));
        assert_eq!(got, want.map(|(n, p)| (n.to_string(), PathBuf::from(p))));
    }
}
