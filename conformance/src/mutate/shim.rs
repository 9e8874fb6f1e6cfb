//! The mutant at work: `oci-conform mutate --shim NAME --reference RUNTIME -- ARGS...` is what
//! a mutant's wrapper script runs for every runtime command. It finds the command word in
//! runc's argument vector, misbehaves when the command is the one its mutant breaks, and
//! otherwise replaces itself with the reference runtime (same pid, same stdio).

use super::catalog::{Action, Lie, Mutant};
use serde_json::Value;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// runc's global flags that take a value (runc.8.md, global options).
const GLOBAL_VALUE_FLAGS: &[&str] = &["--root", "--log", "--log-format", "--criu", "--rootless"];
/// `runc exec` flags that take a value (runc-exec.8.md).
const EXEC_VALUE_FLAGS: &[&str] = &[
    "--console-socket",
    "--cwd",
    "--env",
    "-e",
    "--user",
    "-u",
    "--additional-gids",
    "-g",
    "--process",
    "-p",
    "--apparmor",
    "--process-label",
    "--pid-file",
    "--cap",
    "-c",
    "--preserve-fds",
    "--cgroup",
];

/// Index of the command word (`create`, `state`...) in a runc argument vector.
pub fn command_index(args: &[String]) -> Option<usize> {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if !a.starts_with('-') {
            return Some(i);
        }
        if GLOBAL_VALUE_FLAGS.contains(&a.as_str()) {
            i += 1;
        }
        i += 1;
    }
    None
}

/// The value of `--NAME VALUE`, `--NAME=VALUE` or `-N VALUE` among a command's flags.
fn flag_value<'a>(args: &'a [String], spellings: &[&str]) -> Option<&'a str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if spellings.contains(&a.as_str()) {
            return it.next().map(String::as_str);
        }
        for s in spellings {
            if let Some(v) = a.strip_prefix(s).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
    }
    None
}

fn has_flag(args: &[String], spellings: &[&str]) -> bool {
    args.iter().any(|a| spellings.contains(&a.as_str()))
}

/// `exec`'s arguments (after the command word) without the flags in `drop` and their values.
/// Only the flags before the container id are touched: what follows is the process's argv.
pub fn strip_exec_flags(exec_args: &[String], drop: &[&str]) -> (Vec<String>, bool) {
    let mut out = Vec::with_capacity(exec_args.len());
    let mut dropped = false;
    let mut i = 0;
    while i < exec_args.len() {
        let a = &exec_args[i];
        if !a.starts_with('-') {
            out.extend(exec_args[i..].iter().cloned());
            break;
        }
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        let takes_value = !a.contains('=') && EXEC_VALUE_FLAGS.contains(&name);
        let width = if takes_value { 2 } else { 1 };
        if drop.contains(&name) {
            dropped = true;
        } else {
            out.extend(
                exec_args[i..(i + width).min(exec_args.len())]
                    .iter()
                    .cloned(),
            );
        }
        i += width;
    }
    (out, dropped)
}

/// Applies a config edit to the bundle of a `create` / `run`; true when it changed something.
fn edit_bundle(cmd_args: &[String], f: fn(&mut Value) -> bool) -> Result<bool, String> {
    let bundle = match flag_value(cmd_args, &["--bundle", "-b"]) {
        Some(b) => PathBuf::from(b),
        None => std::env::current_dir().map_err(|e| format!("current directory: {e}"))?,
    };
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cfg: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if !f(&mut cfg) {
        return Ok(false);
    }
    let text = serde_json::to_string_pretty(&cfg).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

/// Rewrites `state` / `list` output; `None` when the lie does not apply to this text.
pub fn lie_about(lie: Lie, stdout: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(stdout).ok()?;
    match lie {
        Lie::StateStatusRunning => {
            if v["status"] == "running" || !v["status"].is_string() {
                return None;
            }
            v["status"] = "running".into();
        }
        Lie::StatePidOffByOne => {
            let pid = v["pid"].as_i64().filter(|p| *p > 0)?;
            v["pid"] = (pid + 1).into();
        }
        Lie::StateNoAnnotations => {
            v.as_object_mut()?.remove("annotations")?;
        }
        Lie::ListOmitsLast => {
            v.as_array_mut()?.pop()?;
        }
        Lie::RunExitZero | Lie::CreateExitZero => return None,
    }
    serde_json::to_string_pretty(&v).ok()
}

/// `list` in table or quiet form: the last container line goes.
fn lie_about_text(stdout: &str) -> Option<String> {
    let mut lines: Vec<&str> = stdout.lines().collect();
    let header = lines.first().is_some_and(|l| l.starts_with("ID "));
    if lines.len() <= usize::from(header) {
        return None;
    }
    lines.pop();
    Some(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// Records that the mutation changed something (one line per firing).
fn fired(log: Option<&Path>, what: &str) {
    if let Some(p) = log {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{what}");
        }
    }
}

/// Runs the reference with stdout captured and stdin/stderr shared; (exit code, stdout).
fn captured(reference: &Path, args: &[String]) -> Result<(i32, String), String> {
    let out = Command::new(reference)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", reference.display()))?;
    Ok((
        exit_code(out.status),
        String::from_utf8_lossy(&out.stdout).to_string(),
    ))
}

fn exit_code(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

/// What the shim does for one runtime invocation.
pub fn run(m: &Mutant, reference: &Path, args: &[String], log: Option<&Path>) -> i32 {
    match shim(m, reference, args, log) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("oci-conform mutate --shim {}: {e}", m.name);
            1
        }
    }
}

fn shim(m: &Mutant, reference: &Path, args: &[String], log: Option<&Path>) -> Result<i32, String> {
    let Some(ci) = command_index(args) else {
        return Err(pass_through(reference, args));
    };
    let cmd = args[ci].as_str();
    let rest = &args[ci + 1..];
    match (m.action, cmd) {
        (Action::Config(f), "create" | "run") => {
            let changed = edit_bundle(rest, f)?;
            if changed {
                fired(log, cmd);
            }
        }
        (Action::ExecDrop(flags), "exec") => {
            let (kept, dropped) = strip_exec_flags(rest, flags);
            if dropped {
                fired(log, cmd);
                let mut v = args[..=ci].to_vec();
                v.extend(kept);
                return Err(pass_through(reference, &v));
            }
        }
        (Action::Noop(c), _)
            if c == cmd && !(cmd == "delete" && has_flag(rest, &["--force", "-f"])) =>
        {
            fired(log, cmd);
            return Ok(0);
        }
        (Action::Lie(Lie::RunExitZero), "run") if !has_flag(rest, &["--detach", "-d"]) => {
            return relay_exit(reference, args, log, cmd);
        }
        (Action::Lie(Lie::CreateExitZero), "create" | "run") => {
            return relay_exit(reference, args, log, cmd);
        }
        (Action::Lie(lie), "state" | "list") => {
            return relay_output(lie, reference, args, log, cmd, rest)
        }
        _ => {}
    }
    Err(pass_through(reference, args))
}

/// Runs the reference and exits 0 whatever it answered.
fn relay_exit(
    reference: &Path,
    args: &[String],
    log: Option<&Path>,
    cmd: &str,
) -> Result<i32, String> {
    let status = Command::new(reference)
        .args(args)
        .status()
        .map_err(|e| format!("{}: {e}", reference.display()))?;
    if exit_code(status) != 0 {
        fired(log, cmd);
    }
    Ok(0)
}

fn relay_output(
    lie: Lie,
    reference: &Path,
    args: &[String],
    log: Option<&Path>,
    cmd: &str,
    rest: &[String],
) -> Result<i32, String> {
    let (code, stdout) = captured(reference, args)?;
    let applies = match lie {
        Lie::ListOmitsLast => cmd == "list",
        _ => cmd == "state",
    };
    let json = flag_value(rest, &["--format", "-f"]) == Some("json");
    let lied = match (applies, code, lie) {
        (true, 0, Lie::ListOmitsLast) if !json => lie_about_text(&stdout),
        (true, 0, _) => lie_about(lie, &stdout),
        _ => None,
    };
    if lied.is_some() {
        fired(log, cmd);
    }
    let text = lied.unwrap_or(stdout);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    Ok(code)
}

/// Replaces this process with the reference runtime; returns only the error.
fn pass_through(reference: &Path, args: &[String]) -> String {
    let e = Command::new(reference).args(args).exec();
    format!("{}: {e}", reference.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn finds_the_command_after_global_flags() {
        let a = v("--root /r --log /l --log-format json --systemd-cgroup state x");
        assert_eq!(command_index(&a), Some(7));
        assert_eq!(command_index(&v("--debug list")), Some(1));
        assert_eq!(command_index(&v("--root /r")), None);
    }

    #[test]
    fn strips_only_the_named_exec_flags_before_the_id() {
        let a = v("--detach --env A=1 -e B=2 --cwd /tmp --user 5 id /probe --env X");
        let (kept, dropped) = strip_exec_flags(&a, &["--env", "-e"]);
        assert!(dropped);
        assert_eq!(kept, v("--detach --cwd /tmp --user 5 id /probe --env X"));
        let (kept, dropped) = strip_exec_flags(&v("--cwd=/tmp id sh"), &["--cwd"]);
        assert!(dropped);
        assert_eq!(kept, v("id sh"));
        let (kept, dropped) = strip_exec_flags(&v("id /probe --cap X"), &["--cap"]);
        assert!(!dropped);
        assert_eq!(kept, v("id /probe --cap X"));
    }

    #[test]
    fn state_lies_change_one_field() {
        let s = r#"{"ociVersion":"1.0.2","id":"x","status":"created","pid":42,"bundle":"/b","annotations":{"a":"b"}}"#;
        let orig: Value = serde_json::from_str(s).unwrap();
        let check = |lie, key: &str, want: Option<Value>| {
            let out: Value = serde_json::from_str(&lie_about(lie, s).unwrap()).unwrap();
            let mut expected = orig.clone();
            match want {
                Some(w) => expected[key] = w,
                None => {
                    expected.as_object_mut().unwrap().remove(key);
                }
            }
            assert_eq!(out, expected);
        };
        check(Lie::StateStatusRunning, "status", Some("running".into()));
        check(Lie::StatePidOffByOne, "pid", Some(43.into()));
        check(Lie::StateNoAnnotations, "annotations", None);
        let stopped = r#"{"status":"stopped","pid":0}"#;
        assert!(lie_about(Lie::StatePidOffByOne, stopped).is_none());
        assert!(lie_about(Lie::StateStatusRunning, r#"{"status":"running"}"#).is_none());
    }

    #[test]
    fn list_lies_drop_the_last_container() {
        let out = lie_about(Lie::ListOmitsLast, r#"[{"id":"a"},{"id":"b"}]"#).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            serde_json::json!([{"id": "a"}])
        );
        assert!(lie_about(Lie::ListOmitsLast, "[]").is_none());
        assert_eq!(
            lie_about_text("ID  PID\na 1\nb 2\n").unwrap(),
            "ID  PID\na 1\n"
        );
        assert_eq!(lie_about_text("a\nb\n").unwrap(), "a\n");
        assert!(lie_about_text("ID  PID\n").is_none());
    }

    #[test]
    fn config_edits_reach_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::bundle::config::base_config();
        std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
        let args = vec![
            "--bundle".to_string(),
            dir.path().display().to_string(),
            "x".into(),
        ];
        assert!(edit_bundle(&args, super::super::edit::drop_hostname).unwrap());
        let after: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
                .unwrap();
        assert!(after.get("hostname").is_none());
        assert!(!edit_bundle(&args, super::super::edit::drop_hostname).unwrap());
    }
}
