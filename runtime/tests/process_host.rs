//! `process` (config.md#process, config.md#linux-process): args, env, cwd, user, rlimits,
//! noNewPrivileges, oomScoreAdj, capabilities, and which file descriptors reach the
//! container (CVE-2024-21626; `--preserve-fds`), read back from /proc/self inside.

mod support;

use serde_json::json;
use support::{fds_of, give_fds, sh, sh_bundle, sh_ok, status_field, Rt};

#[test]
#[ignore = "needs root and busybox-static"]
fn args_env_and_cwd() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("args");
    let mut cfg = support::base_config(&[
        "/bin/sh",
        "-c",
        "printf '%s|' \"$0\" \"$@\"; echo; echo \"$FOO\"; pwd; env | sort | grep -v -e '^PWD=' -e '^SHLVL=' -e '^HOME='",
        "zero",
        "one two",
        "three",
    ]);
    support::merge(
        &mut cfg,
        &json!({"process": {"cwd": "/tmp", "env": ["PATH=/bin", "FOO=bar baz", "EMPTY="]},
                "linux": {"cgroupsPath": support::cg_path(&id)}}),
    );
    let b = support::Bundle::new(&cfg);
    let out = rt
        .run_with(&["run", "-b", b.path().to_str().unwrap(), &id], |c| {
            c.env("FERRUN_PROOF_HOST_ONLY", "leak");
        })
        .ok()
        .out;
    assert_eq!(
        out, "zero|one two|three|\nbar baz\n/tmp\nEMPTY=\nFOO=bar baz\nPATH=/bin\n",
        "args, cwd and exactly the configured env (none of the host's)"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn user_uid_gid_umask_and_additional_gids() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"process": {"user": {"uid": 1000, "gid": 1001, "umask": 63,
                                             "additionalGids": [10, 20]}}});
    let out = sh_ok(
        &rt,
        "user",
        "id -u; id -g; grep -E '^(Uid|Gid|Groups|Umask):' /proc/self/status; \
         touch /dev/shm/f; stat -c %a:%u:%g /dev/shm/f",
        patch,
    );
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "1000",
            "1001",
            "Umask: 0077",
            "Uid: 1000 1000 1000 1000",
            "Gid: 1001 1001 1001 1001",
            "Groups: 10 20",
            "600:1000:1001"
        ],
        "{out}"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn rlimits_are_lowered() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"process": {"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400}
    ]}});
    let out = sh_ok(
        &rt,
        "rlim",
        "ulimit -n; grep -E '^Max (open files|core file size|processes)' /proc/self/limits",
        patch,
    );
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "256",
            "Max core file size 0 0 bytes",
            "Max processes 300 400 processes",
            "Max open files 256 512 files"
        ]
    );
}

/// Raising a hard limit needs CAP_SYS_RESOURCE. Without it (this project's host: root lacks
/// it) create fails naming the limit and leaves nothing behind (podman needs `--ulimit` here
/// for exactly this reason); with it the container gets the raised limit.
#[test]
#[ignore = "needs root and busybox-static"]
fn raising_an_rlimit_above_the_hard_limit_needs_cap_sys_resource() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = support::unique_id("rlimup");
    let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .unwrap()
        .1;
    let patch = json!({"process": {"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}]}});
    if support::has_effective_cap(support::CAP_SYS_RESOURCE) {
        let out = sh_ok(&rt, "rlimup", "ulimit -Hn", patch);
        assert_eq!(out.trim(), (hard + 1).to_string());
        return;
    }
    let b = sh_bundle(&id, "true", patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.err.contains("RLIMIT_NOFILE"), "{done:?}");
    assert!(!rt.state_dir_exists(&id));
    assert!(support::cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn no_new_privileges_both_ways() {
    support::require_root();
    let rt = Rt::new();
    for (nnp, want) in [(true, "1"), (false, "0")] {
        let patch = json!({"process": {"noNewPrivileges": nnp}});
        let out = sh_ok(&rt, "nnp", "cat /proc/self/status", patch);
        assert_eq!(
            status_field(&out, "NoNewPrivs").as_deref(),
            Some(want),
            "{nnp}"
        );
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn oom_score_adj_is_set() {
    support::require_root();
    let rt = Rt::new();
    // Raising needs no privilege; lowering needs CAP_SYS_RESOURCE, which this host lacks.
    let patch = json!({"process": {"oomScoreAdj": 500}});
    let out = sh_ok(&rt, "oom", "cat /proc/self/oom_score_adj", patch);
    assert_eq!(out, "500\n");
}

fn cap_mask(caps: &[u32]) -> String {
    format!("{:016x}", caps.iter().fold(0u64, |m, c| m | 1 << c))
}

/// For uid 0 the kernel grants the bounding set on execve (root's file caps are "all"), so
/// the effective set ends up as runc's users know it; CAP_CHOWN decides whether chown works.
#[test]
#[ignore = "needs root and busybox-static"]
fn capabilities_decide_what_root_may_do() {
    support::require_root();
    let rt = Rt::new();
    let with_chown = ["CAP_CHOWN", "CAP_KILL"];
    let without = ["CAP_KILL"];
    for (set, ok) in [(&with_chown[..], true), (&without[..], false)] {
        let patch = json!({"process": {"capabilities": {
            "bounding": set, "effective": set, "permitted": set}}});
        let out = sh_ok(
            &rt,
            "capchown",
            "touch /tmp/f; chown 1234 /tmp/f 2>/dev/null && echo chowned || echo denied; \
             grep -E '^Cap(Eff|Bnd)' /proc/self/status",
            patch,
        );
        let want_mask = cap_mask(if ok { &[0, 5] } else { &[5] });
        assert!(
            out.starts_with(if ok { "chowned\n" } else { "denied\n" }),
            "{out}"
        );
        assert_eq!(status_field(&out, "CapEff").unwrap(), want_mask, "{out}");
        assert_eq!(status_field(&out, "CapBnd").unwrap(), want_mask, "{out}");
    }
}

/// For a non-root user all five sets are visible separately: inheritable and bounding as
/// given, permitted = effective = ambient after execve of a file without file caps.
#[test]
#[ignore = "needs root and busybox-static"]
fn all_five_capability_sets_for_a_non_root_user() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"process": {"user": {"uid": 1000, "gid": 1000}, "capabilities": {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"]
    }}});
    let out = sh_ok(&rt, "capsets", "grep ^Cap /proc/self/status", patch);
    assert_eq!(
        status_field(&out, "CapInh").unwrap(),
        cap_mask(&[5, 10]),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CapPrm").unwrap(),
        cap_mask(&[10]),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CapEff").unwrap(),
        cap_mask(&[10]),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CapBnd").unwrap(),
        cap_mask(&[0, 5, 7, 10]),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CapAmb").unwrap(),
        cap_mask(&[10]),
        "{out}"
    );
}

/// `runc spec` writes ambient capabilities without inheritable ones; such an ambient cap can
/// never be raised. runc warns and runs the container; a runc-compatible runtime must too.
#[test]
#[ignore = "needs root and busybox-static"]
fn runc_spec_default_capabilities_run() {
    support::require_root();
    let rt = Rt::new();
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let patch = json!({"process": {"capabilities": {
        "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps}}});
    let done = sh(&rt, "capamb", "echo ran", patch);
    assert_eq!(
        (done.code, done.out.as_str()),
        (Some(0), "ran\n"),
        "{done:?}"
    );
}

/// Only 0, 1, 2 reach the container's init when nothing is preserved, even though the
/// runtime was started with an extra inheritable fd (CVE-2024-21626). Seen from the host
/// after exec: busybox sh keeps fds of its own, so the init is `sleep`, not a shell.
#[test]
#[ignore = "needs root and busybox-static"]
fn no_host_fd_leaks_into_the_container() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("fdleak");
    let b = support::Bundle::with_args(&["sleep", "60"], support::cg(&id));
    let leak = std::fs::File::open("/etc/hostname").unwrap();
    rt.run_with(&["create", "-b", b.path().to_str().unwrap(), &id], |c| {
        give_fds(c, vec![(leak, 7)])
    })
    .ok();
    let pid = rt.pid(&id);
    rt.ok(&["start", &id]);
    support::wait_exec(pid, "sleep");
    assert_eq!(fds_of(pid), [0, 1, 2]);
    rt.ok(&["delete", "--force", &id]);
}

fn files(dir: &std::path::Path) -> (std::fs::File, std::fs::File, std::path::PathBuf) {
    let three = dir.join("three");
    std::fs::write(&three, "three\n").unwrap();
    let four = dir.join("four");
    let f4 = std::fs::File::create(&four).unwrap();
    (std::fs::File::open(&three).unwrap(), f4, four)
}

#[test]
#[ignore = "needs root and busybox-static"]
fn preserve_fds_passes_exactly_the_next_n() {
    support::require_root();
    let rt = Rt::new();
    let dir = tempfile::tempdir().unwrap();
    // From the host: the init (sleep) holds 0-4, not 5.
    let id = support::unique_id("pfds");
    let b = support::Bundle::with_args(&["sleep", "60"], support::cg(&id));
    let (f3, f4, _) = files(dir.path());
    let f5 = std::fs::File::open("/etc/hostname").unwrap();
    let args = [
        "create",
        "--preserve-fds",
        "2",
        "-b",
        b.path().to_str().unwrap(),
        &id,
    ];
    rt.run_with(&args, |c| give_fds(c, vec![(f3, 3), (f4, 4), (f5, 5)]))
        .ok();
    let pid = rt.pid(&id);
    rt.ok(&["start", &id]);
    support::wait_exec(pid, "sleep");
    assert_eq!(fds_of(pid), [0, 1, 2, 3, 4]);
    let target = std::fs::read_link(format!("/proc/{pid}/fd/3")).unwrap();
    assert_eq!(target, dir.path().join("three"));
    rt.ok(&["delete", "--force", &id]);
    // From inside: the preserved fds are usable.
    let id = support::unique_id("pfdsio");
    let b = sh_bundle(&id, "cat <&3; echo four >&4", json!({}));
    let (f3, f4, four) = files(dir.path());
    let args = [
        "run",
        "--preserve-fds",
        "2",
        "-b",
        b.path().to_str().unwrap(),
        &id,
    ];
    let out = rt
        .run_with(&args, |c| give_fds(c, vec![(f3, 3), (f4, 4)]))
        .ok()
        .out;
    assert_eq!(out, "three\n");
    assert_eq!(std::fs::read_to_string(&four).unwrap(), "four\n");
}

/// runc sets HOME from the container's /etc/passwd when process.env has none ("/" for a uid
/// that is not listed); programs and shells rely on it.
#[test]
#[ignore = "needs root and busybox-static"]
fn home_comes_from_the_containers_passwd_when_env_has_none() {
    support::require_root();
    let rt = Rt::new();
    for (uid, want) in [(0, "HOME=/root"), (1000, "HOME=/")] {
        let patch = json!({"process": {"env": ["PATH=/bin"], "user": {"uid": uid, "gid": uid}}});
        let out = sh_ok(&rt, "home", "env | grep '^HOME=' || echo no-HOME", patch);
        assert_eq!(out.trim(), want, "uid {uid}");
    }
    // An explicit HOME is kept.
    let patch = json!({"process": {"env": ["PATH=/bin", "HOME=/tmp"]}});
    let out = sh_ok(&rt, "home", "echo $HOME", patch);
    assert_eq!(out, "/tmp\n");
}

/// `linux.personality` LINUX32: `uname -m` reports a 32-bit machine (runc 1.2 behaviour;
/// runc 1.1.5 has no personality support).
#[test]
#[ignore = "needs root and busybox-static"]
fn personality_linux32_changes_uname() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"personality": {"domain": "LINUX32"}}});
    let out = sh_ok(&rt, "pers", "uname -m", patch);
    assert_eq!(out, "i686\n");
    let out = sh_ok(&rt, "pers", "uname -m", json!({}));
    assert_eq!(out, "x86_64\n");
}

/// A paused container refuses exec (exit 255, runc's words); `--ignore-paused` lets it in,
/// frozen with the rest until `resume` (runc's cgroups.bats "exec --ignore-paused").
#[test]
#[ignore = "needs root and busybox-static"]
fn exec_in_a_paused_container_needs_ignore_paused() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("paused");
    let b = support::Bundle::with_args(&["sleep", "60"], support::cg(&id));
    rt.create_start(&b, &id);
    rt.ok(&["pause", &id]);
    let refused = rt.run(&["exec", &id, "echo", "ok"]);
    assert_eq!(refused.code, Some(255), "{refused:#?}");
    assert!(
        refused.err.contains("cannot exec in a paused container"),
        "{}",
        refused.err
    );
    let mut resume = rt.cmd();
    resume.args(["resume", &id]);
    let resumer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        support::run_watched(&mut resume, support::WATCHDOG)
    });
    let started = std::time::Instant::now();
    let done = rt.run(&["exec", "--ignore-paused", &id, "echo", "ok"]);
    let resumed = resumer.join().expect("resume thread");
    assert_eq!(resumed.code, Some(0), "{resumed:#?}");
    assert_eq!(
        (done.code, done.out.as_str()),
        (Some(0), "ok\n"),
        "{done:#?}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "the exec'd process ran before resume"
    );
    rt.ok(&["delete", "--force", &id]);
}

/// Wait for `cmd` (stdio as the caller set it up), bounded by the watchdog.
fn finish(mut cmd: std::process::Command) -> std::process::Output {
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(support::WATCHDOG) else {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("{cmd:?} did not finish within {:?}", support::WATCHDOG);
    };
    out.expect("wait")
}

/// Run `cmd` with stdout and stderr on pipes (what runc hands a foreground process, and what
/// shims and `$(...)` hand a runtime): (exit code, stdout, stderr).
fn with_pipes(mut cmd: std::process::Command) -> (Option<i32>, String, String) {
    use std::process::Stdio;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = finish(cmd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Stdio pipes become the process user's before it switches to that user (runc's
/// fixStdioPermissions), so a non-root process can reopen them (`echo > /dev/stderr`); a file
/// handed down as stdout keeps its owner, since it is the caller's, not the container's.
#[test]
#[ignore = "needs root and busybox-static"]
fn stdio_pipes_are_given_to_the_process_user_files_are_not() {
    use std::os::unix::fs::MetadataExt;
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("stdio");
    let b = support::Bundle::with_args(&["sleep", "60"], support::cg(&id));
    rt.create_start(&b, &id);
    let script = "echo out > /dev/stdout && echo err > /dev/stderr";
    let mut exec = rt.cmd();
    exec.args(["exec", "-u", "1000:1000", &id, "sh", "-c", script]);
    assert_eq!(
        with_pipes(exec),
        (Some(0), "out\n".to_string(), "err\n".to_string())
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let mut exec = rt.cmd();
    exec.args(["exec", "-u", "1000:1000", &id, "sh", "-c", "echo kept"]);
    exec.stdout(std::fs::File::create(&file).unwrap());
    exec.stderr(std::process::Stdio::piped());
    let done = finish(exec);
    assert_eq!(done.status.code(), Some(0), "{done:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept\n");
    assert_eq!(
        std::fs::metadata(&file).unwrap().uid(),
        0,
        "the caller's file was chowned"
    );
    rt.ok(&["delete", "--force", &id]);
}
