//! The mutants: each breaks exactly one promise of the runtime-spec (or of runc's command line
//! where the spec is silent) and names the section it breaks, at the level the pack's
//! convention gives it (scenarios/README.md: an option runc's man page states is a MUST,
//! what only runc's behaviour shows a SHOULD).

use super::{change, edit};
use serde_json::Value;

/// How a mutant misbehaves.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Edits the bundle's config.json before `create` / `run` hands it to the runtime.
    Config(fn(&mut Value) -> bool),
    /// Drops an `exec` flag (every spelling listed) with its value.
    ExecDrop(&'static [&'static str]),
    /// Answers this command with exit 0 without running it (`delete`: only without --force,
    /// so the harness's teardown still cleans up).
    Noop(&'static str),
    /// Rewrites a command's output or exit status.
    Lie(Lie),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    /// `state` says `running` whatever the status is.
    StateStatusRunning,
    /// `state` reports pid + 1 instead of the container process.
    StatePidOffByOne,
    /// `state` leaves the annotations out.
    StateNoAnnotations,
    /// `list` omits the last container.
    ListOmitsLast,
    /// A foreground `run` exits 0 whatever the container process did.
    RunExitZero,
    /// `create` / `run` report success after the runtime failed.
    CreateExitZero,
}

#[derive(Debug, Clone, Copy)]
pub struct Mutant {
    pub name: &'static str,
    /// The promise it breaks, as a sentence.
    pub breaks: &'static str,
    /// The spec (or runc man page) section of that promise.
    pub spec: &'static str,
    pub level: &'static str,
    /// Scenario areas and tags most likely to kill it: they run first with `--first-kill`.
    pub areas: &'static [&'static str],
    pub action: Action,
}

const fn config(
    name: &'static str,
    breaks: &'static str,
    spec: &'static str,
    areas: &'static [&'static str],
    f: fn(&mut Value) -> bool,
) -> Mutant {
    Mutant {
        name,
        breaks,
        spec,
        level: "MUST",
        areas,
        action: Action::Config(f),
    }
}

const fn other(
    name: &'static str,
    breaks: &'static str,
    spec: &'static str,
    level: &'static str,
    areas: &'static [&'static str],
    action: Action,
) -> Mutant {
    Mutant {
        name,
        breaks,
        spec,
        level,
        areas,
        action,
    }
}

pub const MUTANTS: &[Mutant] = &[
    config(
        "drop-masked-paths",
        "linux.maskedPaths are not masked",
        "config-linux.md#masked-paths",
        &["masked"],
        edit::drop_masked_paths,
    ),
    config(
        "drop-readonly-paths",
        "linux.readonlyPaths stay writable",
        "config-linux.md#readonly-paths",
        &["readonly"],
        edit::drop_readonly_paths,
    ),
    config(
        "drop-one-capability",
        "the first effective capability is dropped from every set",
        "config.md#linux-process",
        &["caps", "capabilities"],
        edit::drop_one_capability,
    ),
    config(
        "drop-rlimits",
        "process.rlimits are not applied",
        "config.md#posix-process",
        &["rlimits"],
        edit::drop_rlimits,
    ),
    config(
        "drop-hostname",
        "hostname is not set",
        "config.md#hostname",
        &["hostname"],
        edit::drop_hostname,
    ),
    config(
        "drop-domainname",
        "domainname is not set",
        "config.md#domainname",
        &["hostname"],
        edit::drop_domainname,
    ),
    config(
        "drop-ipc-namespace",
        "the ipc namespace is not created",
        "config-linux.md#namespaces",
        &["namespaces"],
        edit::drop_ipc_namespace,
    ),
    config(
        "drop-pid-namespace",
        "the pid namespace is not created",
        "config-linux.md#namespaces",
        &["namespaces"],
        edit::drop_pid_namespace,
    ),
    config(
        "drop-last-env",
        "the last process.env entry is missing",
        "config.md#process",
        &["process", "env"],
        edit::drop_last_env,
    ),
    config(
        "extra-env",
        "the environment holds a variable process.env does not list",
        "config.md#process",
        &["process", "env"],
        edit::extra_env,
    ),
    config(
        "ignore-cwd",
        "process.cwd is ignored (the process starts in /)",
        "config.md#process",
        &["process", "cwd"],
        edit::ignore_cwd,
    ),
    config(
        "drop-no-new-privileges",
        "noNewPrivileges is not set",
        "config.md#linux-process",
        &["process", "nnp"],
        edit::drop_no_new_privileges,
    ),
    config(
        "drop-additional-gids",
        "process.user.additionalGids are not added",
        "config.md#posix-platform-user",
        &["process", "user"],
        edit::drop_additional_gids,
    ),
    config(
        "ignore-uid",
        "process.user.uid is ignored (the process runs as uid 0)",
        "config.md#posix-platform-user",
        &["process", "user"],
        edit::ignore_uid,
    ),
    config(
        "drop-umask",
        "process.user.umask is not applied",
        "config.md#posix-platform-user",
        &["process", "user"],
        edit::drop_umask,
    ),
    config(
        "drop-oom-score-adj",
        "process.oomScoreAdj is not applied",
        "config.md#linux-process",
        &["process", "oom"],
        edit::drop_oom_score_adj,
    ),
    config(
        "drop-mount-ro",
        "a mount's `ro` option is dropped",
        "config.md#linux-mount-options",
        &["mounts"],
        edit::drop_mount_ro,
    ),
    config(
        "drop-scenario-mount",
        "a configured mount is not made",
        "config.md#mounts",
        &["mounts"],
        edit::drop_scenario_mount,
    ),
    config(
        "drop-seccomp",
        "linux.seccomp is not loaded",
        "config-linux.md#seccomp",
        &["seccomp"],
        edit::drop_seccomp,
    ),
    config(
        "drop-sysctl",
        "linux.sysctl is not written",
        "config-linux.md#sysctl",
        &["sysctl"],
        edit::drop_sysctl,
    ),
    config(
        "drop-memory-limits",
        "linux.resources.memory is not applied",
        "config-linux.md#memory",
        &["cgroups", "memory"],
        edit::drop_memory_limits,
    ),
    config(
        "drop-pids-limit",
        "linux.resources.pids is not applied",
        "config-linux.md#pids",
        &["cgroups", "pids"],
        edit::drop_pids_limit,
    ),
    config(
        "drop-cpu-limits",
        "linux.resources.cpu is not applied",
        "config-linux.md#cpu",
        &["cgroups", "cpu"],
        edit::drop_cpu_limits,
    ),
    config(
        "drop-device-rules",
        "the device cgroup rules are not applied (every device allowed)",
        "config-linux.md#allowed-device-list",
        &["devices"],
        edit::drop_device_rules,
    ),
    config(
        "drop-devices",
        "linux.devices are not created",
        "config-linux.md#devices",
        &["devices"],
        edit::drop_devices,
    ),
    config(
        "drop-prestart-hooks",
        "prestart hooks do not run",
        "config.md#prestart",
        &["hooks"],
        edit::drop_prestart_hooks,
    ),
    config(
        "drop-create-runtime-hooks",
        "createRuntime hooks do not run",
        "config.md#createruntime-hooks",
        &["hooks", "namespaces"],
        edit::drop_create_runtime_hooks,
    ),
    config(
        "drop-poststop-hooks",
        "poststop hooks do not run",
        "config.md#poststop",
        &["hooks"],
        edit::drop_poststop_hooks,
    ),
    config(
        "drop-rootfs-propagation",
        "linux.rootfsPropagation is not applied",
        "config-linux.md#rootfs-mount-propagation",
        &["propagation"],
        edit::drop_rootfs_propagation,
    ),
    config(
        "writable-root",
        "root.readonly is ignored",
        "config.md#root",
        &["root", "readonly"],
        edit::writable_root,
    ),
    config(
        "drop-mount-nosuid",
        "a mount's `nosuid` option is dropped",
        "config.md#linux-mount-options",
        &["mounts"],
        change::drop_mount_nosuid,
    ),
    config(
        "drop-mount-nodev",
        "a mount's `nodev` option is dropped",
        "config.md#linux-mount-options",
        &["mounts", "devices"],
        change::drop_mount_nodev,
    ),
    config(
        "drop-mount-noexec",
        "a mount's `noexec` option is dropped",
        "config.md#linux-mount-options",
        &["mounts"],
        change::drop_mount_noexec,
    ),
    config(
        "tmpfs-mode-changed",
        "a tmpfs mount gets another `mode=` than configured",
        "config.md#linux-mount-options",
        &["mounts"],
        change::tmpfs_mode_changed,
    ),
    config(
        "rlimit-value-changed",
        "an rlimit is set to another value than configured",
        "config.md#posix-process",
        &["rlimits"],
        change::rlimit_value_changed,
    ),
    config(
        "extra-capability",
        "the process holds a capability (CAP_SYS_ADMIN) no set lists",
        "config.md#linux-process",
        &["caps", "capabilities"],
        change::extra_capability,
    ),
    config(
        "uid-changed",
        "the process runs as another uid than process.user.uid",
        "config.md#posix-platform-user",
        &["process", "user"],
        change::uid_changed,
    ),
    config(
        "gid-changed",
        "the process runs as another gid than process.user.gid",
        "config.md#posix-platform-user",
        &["process", "user"],
        change::gid_changed,
    ),
    config(
        "extra-additional-gid",
        "the process holds a supplementary group additionalGids does not list",
        "config.md#posix-platform-user",
        &["process", "user"],
        change::extra_additional_gid,
    ),
    config(
        "umask-changed",
        "process.user.umask is set to another value",
        "config.md#posix-platform-user",
        &["process", "user"],
        change::umask_changed,
    ),
    config(
        "env-value-changed",
        "a process.env variable has another value",
        "config.md#process",
        &["process", "env"],
        change::env_value_changed,
    ),
    config(
        "extra-arg",
        "the process gets an argument process.args does not list",
        "config.md#process",
        &["process"],
        change::extra_arg,
    ),
    config(
        "cwd-changed",
        "the process starts in another existing directory than process.cwd",
        "config.md#process",
        &["process", "cwd"],
        change::cwd_changed,
    ),
    config(
        "hostname-changed",
        "the hostname is set to another value",
        "config.md#hostname",
        &["hostname"],
        change::hostname_changed,
    ),
    config(
        "drop-one-masked-path",
        "the last of several linux.maskedPaths is not masked",
        "config-linux.md#masked-paths",
        &["masked"],
        change::drop_one_masked_path,
    ),
    config(
        "drop-one-readonly-path",
        "the last of several linux.readonlyPaths stays writable",
        "config-linux.md#readonly-paths",
        &["readonly"],
        change::drop_one_readonly_path,
    ),
    config(
        "oom-score-adj-changed",
        "process.oomScoreAdj is set to another value",
        "config.md#linux-process",
        &["process", "oom"],
        change::oom_score_adj_changed,
    ),
    config(
        "seccomp-default-allow",
        "the seccomp default action becomes SCMP_ACT_ALLOW",
        "config-linux.md#seccomp",
        &["seccomp"],
        change::seccomp_default_allow,
    ),
    config(
        "seccomp-drop-one-rule",
        "the last seccomp syscall rule is not loaded",
        "config-linux.md#seccomp",
        &["seccomp"],
        change::seccomp_drop_one_rule,
    ),
    config(
        "sysctl-value-changed",
        "a sysctl is written with another value",
        "config-linux.md#sysctl",
        &["sysctl"],
        change::sysctl_value_changed,
    ),
    config(
        "memory-limit-doubled",
        "the memory limit is twice the configured one",
        "config-linux.md#memory",
        &["cgroups", "memory"],
        change::memory_limit_doubled,
    ),
    config(
        "cpu-quota-changed",
        "the cpu quota is twice the configured one",
        "config-linux.md#cpu",
        &["cgroups", "cpu"],
        change::cpu_quota_changed,
    ),
    config(
        "pids-limit-changed",
        "the pids limit is one more than configured",
        "config-linux.md#pids",
        &["cgroups", "pids"],
        change::pids_limit_changed,
    ),
    config(
        "extra-device",
        "a device linux.devices does not list is created",
        "config-linux.md#devices",
        &["devices"],
        change::extra_device,
    ),
    config(
        "drop-poststart-hooks",
        "poststart hooks do not run",
        "config.md#poststart",
        &["hooks"],
        change::drop_poststart_hooks,
    ),
    config(
        "drop-create-container-hooks",
        "createContainer hooks do not run",
        "config.md#createcontainer-hooks",
        &["hooks"],
        change::drop_create_container_hooks,
    ),
    config(
        "drop-start-container-hooks",
        "startContainer hooks do not run",
        "config.md#startcontainer-hooks",
        &["hooks"],
        change::drop_start_container_hooks,
    ),
    config(
        "hook-args-dropped",
        "hooks run without their args",
        "config.md#posix-platform-hooks",
        &["hooks"],
        change::hook_args_dropped,
    ),
    config(
        "hook-env-dropped",
        "hooks run without their env",
        "config.md#posix-platform-hooks",
        &["hooks"],
        change::hook_env_dropped,
    ),
    config(
        "hook-timeout-ignored",
        "a hook's timeout is not enforced",
        "config.md#posix-platform-hooks",
        &["hooks"],
        change::hook_timeout_ignored,
    ),
    config(
        "readonly-root-forced",
        "root.readonly is forced on",
        "config.md#root",
        &["root", "readonly"],
        change::readonly_root_forced,
    ),
    config(
        "no-new-privileges-forced",
        "noNewPrivileges is forced on",
        "config.md#linux-process",
        &["process", "nnp"],
        change::no_new_privileges_forced,
    ),
    other(
        "state-status-running",
        "`state` reports status running whatever the status is",
        "runtime.md#state",
        "MUST",
        &["state", "lifecycle"],
        Action::Lie(Lie::StateStatusRunning),
    ),
    other(
        "state-pid-lie",
        "`state` reports a pid that is not the container process",
        "runtime.md#state",
        "MUST",
        &["state"],
        Action::Lie(Lie::StatePidOffByOne),
    ),
    other(
        "state-no-annotations",
        "`state` leaves the annotations out",
        "runtime.md#state",
        "MUST",
        &["state"],
        Action::Lie(Lie::StateNoAnnotations),
    ),
    other(
        "kill-ignored",
        "`kill` exits 0 without sending the signal",
        "runtime.md#kill",
        "MUST",
        &["lifecycle", "errors"],
        Action::Noop("kill"),
    ),
    other(
        "delete-leaves-state",
        "`delete` exits 0 and leaves the container",
        "runtime.md#delete",
        "MUST",
        &["lifecycle", "errors"],
        Action::Noop("delete"),
    ),
    other(
        "start-ignored",
        "`start` exits 0 without running the program",
        "runtime.md#start",
        "MUST",
        &["lifecycle", "errors"],
        Action::Noop("start"),
    ),
    other(
        "pause-ignored",
        "`pause` exits 0 without freezing the container",
        "runc-pause.8.md",
        "SHOULD",
        &["exec", "cgroups", "lifecycle"],
        Action::Noop("pause"),
    ),
    other(
        "list-omits-container",
        "`list` omits a container",
        "runc-list.8.md",
        "SHOULD",
        &["state", "cli"],
        Action::Lie(Lie::ListOmitsLast),
    ),
    other(
        "run-exit-zero",
        "a foreground `run` exits 0 whatever the process's exit code",
        "runc-run.8.md",
        "SHOULD",
        &["lifecycle", "errors", "cli"],
        Action::Lie(Lie::RunExitZero),
    ),
    other(
        "create-exit-zero",
        "`create` / `run` exit 0 when they failed",
        "runtime.md#create",
        "MUST",
        &["errors", "config"],
        Action::Lie(Lie::CreateExitZero),
    ),
    other(
        "exec-ignores-env",
        "`exec --env` is ignored",
        "runc-exec.8.md#options",
        "MUST",
        &["exec"],
        Action::ExecDrop(&["--env", "-e"]),
    ),
    other(
        "exec-ignores-user",
        "`exec --user` is ignored",
        "runc-exec.8.md#options",
        "MUST",
        &["exec"],
        Action::ExecDrop(&["--user", "-u"]),
    ),
    other(
        "exec-ignores-cwd",
        "`exec --cwd` is ignored",
        "runc-exec.8.md#options",
        "MUST",
        &["exec"],
        Action::ExecDrop(&["--cwd"]),
    ),
    other(
        "exec-ignores-cap",
        "`exec --cap` is ignored",
        "runc-exec.8.md#options",
        "MUST",
        &["exec", "caps"],
        Action::ExecDrop(&["--cap", "-c"]),
    ),
];

pub fn find(name: &str) -> Option<&'static Mutant> {
    MUTANTS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_cover_the_issue() {
        let mut names: Vec<&str> = MUTANTS.iter().map(|m| m.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(n >= 30, "{n} mutants");
        for m in MUTANTS {
            assert!(m.spec.contains(".md"), "{} cites no spec", m.name);
            assert!(!m.areas.is_empty(), "{} names no area", m.name);
            assert!(["MUST", "SHOULD"].contains(&m.level), "{}", m.name);
        }
    }
}
