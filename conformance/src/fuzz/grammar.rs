//! The grammar of generated configs: a config is the base bundle (runc's `runc spec`, the
//! probe as the process) plus a list of independent features, each a few JSON Patch
//! operations (RFC 6902) on fields of the runtime-spec. Features never touch the same
//! array index or create the same parent, so any subset of them is still a patch that
//! applies: that is what lets the minimizer drop features one by one.

use super::rng::Rng;
use serde_json::{json, Value};

/// One choice of the grammar. `class` names the field without its random values (e.g.
/// `process.rlimits.RLIMIT_CPU`, `mounts.tmpfs`): fingerprints of divergences are built
/// from classes, so two configs with different values in the same fields fall in one class.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub class: String,
    pub ops: Vec<Value>,
}

fn op(kind: &str, path: &str, value: Value) -> Value {
    json!({ "op": kind, "path": path, "value": value })
}

fn feature(class: impl Into<String>, ops: Vec<Value>) -> Feature {
    Feature {
        class: class.into(),
        ops,
    }
}

/// Per-field generators with the percentage of configs that get the field.
type Gen = fn(&mut Rng, &mut Vec<Feature>);
const GRAMMAR: &[(u64, Gen)] = &[
    (35, namespaces),
    (45, mounts),
    (40, rlimits),
    (45, capabilities),
    (35, user),
    (30, env),
    (20, cwd),
    (20, sysctl),
    (25, masked_paths),
    (25, readonly_paths),
    (15, devices),
    (35, resources),
    (15, hooks),
    (20, seccomp),
    (30, process_flags),
];

/// A config of the grammar: every field generator runs with its weight.
pub fn generate(rng: &mut Rng) -> Vec<Feature> {
    let mut out = Vec::new();
    for (percent, generator) in GRAMMAR {
        if rng.chance(*percent) {
            generator(rng, &mut out);
        }
    }
    out
}

const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_SYS_CHROOT",
    "CAP_MKNOD",
    "CAP_AUDIT_WRITE",
    "CAP_SETFCAP",
    "CAP_SYS_ADMIN",
    "CAP_SYS_PTRACE",
    "CAP_SYS_RESOURCE",
    "CAP_NET_ADMIN",
    "CAP_IPC_LOCK",
    "CAP_SYS_NICE",
    "CAP_CHECKPOINT_RESTORE",
];

fn namespaces(rng: &mut Rng, out: &mut Vec<Feature>) {
    // The mount namespace stays: without it the runtime mounts on the host.
    let mut ns = vec![json!({"type": "mount"})];
    for t in ["pid", "network", "ipc", "uts"] {
        if rng.chance(80) {
            ns.push(json!({ "type": t }));
        }
    }
    let mut class = "linux.namespaces".to_string();
    if rng.chance(30) {
        ns.push(json!({"type": "cgroup"}));
        class.push_str("+cgroup");
    }
    let mut ops = vec![];
    if rng.chance(10) {
        ns.push(json!({"type": "user"}));
        let map = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        ops.push(op("add", "/linux/uidMappings", map.clone()));
        ops.push(op("add", "/linux/gidMappings", map));
        class.push_str("+user");
    }
    ops.insert(0, op("replace", "/linux/namespaces", Value::Array(ns)));
    out.push(feature(class, ops));
}

fn mount_options(rng: &mut Rng, pool: &[&str]) -> Vec<String> {
    let n = rng.below(4);
    let mut opts: Vec<String> = (0..n).map(|_| rng.pick(pool).to_string()).collect();
    opts.dedup();
    opts
}

fn mounts(rng: &mut Rng, out: &mut Vec<Feature>) {
    let count = 1 + rng.below(3);
    for i in 0..count {
        let dest = match rng.below(6) {
            0 => "/tmp".to_string(),
            1 => "/mnt".to_string(),
            2 => format!("/fz{i}/deeper"),
            _ => format!("/fz{i}"),
        };
        let (class, m) = match rng.weighted(&[5, 3, 1, 1]) {
            0 => {
                let pool = [
                    "ro",
                    "rw",
                    "nosuid",
                    "nodev",
                    "noexec",
                    "mode=0700",
                    "mode=1777",
                    "size=64k",
                    "uid=1000",
                    "gid=1000",
                    "noatime",
                    "strictatime",
                    "nr_inodes=100",
                ];
                let options = mount_options(rng, &pool);
                (
                    "mounts.tmpfs",
                    json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": options}),
                )
            }
            1 => {
                let pool = [
                    "ro",
                    "nosuid",
                    "nodev",
                    "noexec",
                    "private",
                    "rprivate",
                    "slave",
                    "rslave",
                    "unbindable",
                    "noatime",
                    "rro",
                ];
                let mut options = vec![rng.pick(&["bind", "rbind"]).to_string()];
                options.extend(mount_options(rng, &pool));
                let source = rng.pick(&["{{rootfs}}/etc", "{{rootfs}}/bin", "{{scratch}}"]);
                (
                    "mounts.bind",
                    json!({"destination": dest, "type": "bind", "source": source, "options": options}),
                )
            }
            2 => {
                let options = mount_options(rng, &["nosuid", "noexec", "nodev", "ro"]);
                (
                    "mounts.mqueue",
                    json!({"destination": dest, "type": "mqueue", "source": "mqueue", "options": options}),
                )
            }
            _ => {
                let options = mount_options(rng, &["nosuid", "noexec", "nodev", "ro", "hidepid=2"]);
                (
                    "mounts.proc",
                    json!({"destination": dest, "type": "proc", "source": "proc", "options": options}),
                )
            }
        };
        out.push(feature(class, vec![op("add", "/mounts/-", m)]));
    }
}

fn rlimits(rng: &mut Rng, out: &mut Vec<Feature>) {
    // (type, smallest soft value that still lets the probe run, largest hard value)
    const TYPES: &[(&str, u64, u64)] = &[
        ("RLIMIT_CPU", 10, 100_000),
        ("RLIMIT_FSIZE", 0, 1 << 40),
        ("RLIMIT_NPROC", 64, 100_000),
        ("RLIMIT_CORE", 0, 1 << 30),
        ("RLIMIT_STACK", 1 << 20, 1 << 30),
        ("RLIMIT_MEMLOCK", 0, 1 << 30),
        ("RLIMIT_AS", 1 << 28, 1 << 40),
        ("RLIMIT_NICE", 0, 40),
        ("RLIMIT_MSGQUEUE", 0, 1 << 24),
        ("RLIMIT_SIGPENDING", 16, 100_000),
        ("RLIMIT_RTPRIO", 0, 99),
        ("RLIMIT_LOCKS", 0, 100_000),
    ];
    for (t, lo, hi) in TYPES {
        if !rng.chance(25) {
            continue;
        }
        let hard = if rng.chance(15) {
            u64::MAX
        } else {
            rng.range(*lo, *hi)
        };
        let mut soft = rng.range(*lo, (*hi).min(hard));
        if rng.chance(5) {
            // An invalid pair: every runtime must refuse it the same way.
            soft = hard.saturating_add(1);
        }
        let value = json!({ "type": t, "soft": soft, "hard": hard });
        out.push(feature(
            format!("process.rlimits.{t}"),
            vec![op("add", "/process/rlimits/-", value)],
        ));
    }
}

fn capabilities(rng: &mut Rng, out: &mut Vec<Feature>) {
    for set in [
        "bounding",
        "effective",
        "permitted",
        "inheritable",
        "ambient",
    ] {
        if !rng.chance(50) {
            continue;
        }
        let mut names: Vec<Value> = rng.subset(CAPS, 25).into_iter().map(Value::from).collect();
        if rng.chance(5) {
            names.push("CAP_FUZZ_UNKNOWN".into());
        }
        let path = format!("/process/capabilities/{set}");
        out.push(feature(
            format!("process.capabilities.{set}"),
            vec![op("add", &path, Value::Array(names))],
        ));
    }
}

fn user(rng: &mut Rng, out: &mut Vec<Feature>) {
    if rng.chance(60) {
        let uid = *rng.pick(&[0, 1000, 65534, 12345]);
        out.push(feature(
            "process.user.uid",
            vec![op("replace", "/process/user/uid", uid.into())],
        ));
    }
    if rng.chance(50) {
        let gid = *rng.pick(&[0, 5, 1000, 65534]);
        out.push(feature(
            "process.user.gid",
            vec![op("replace", "/process/user/gid", gid.into())],
        ));
    }
    if rng.chance(40) {
        let gids = rng.subset(&[10u32, 20, 1000, 65534, 0], 40);
        out.push(feature(
            "process.user.additionalGids",
            vec![op("add", "/process/user/additionalGids", json!(gids))],
        ));
    }
    if rng.chance(30) {
        let umask = *rng.pick(&[0u32, 0o22, 0o27, 0o77]);
        out.push(feature(
            "process.user.umask",
            vec![op("add", "/process/user/umask", umask.into())],
        ));
    }
}

fn env(rng: &mut Rng, out: &mut Vec<Feature>) {
    let n = 1 + rng.below(3);
    for i in 0..n {
        let (class, entry) = match rng.weighted(&[6, 1, 1, 1]) {
            0 => ("process.env.plain", format!("FZ_{i}=v{}", rng.below(1000))),
            1 => ("process.env.empty-value", format!("FZ_{i}=")),
            2 => ("process.env.override-path", "PATH=/bin".to_string()),
            _ => ("process.env.value-with-equals", format!("FZ_{i}=a=b")),
        };
        out.push(feature(
            class,
            vec![op("add", "/process/env/-", entry.into())],
        ));
    }
}

fn cwd(rng: &mut Rng, out: &mut Vec<Feature>) {
    let (class, dir) = *rng.pick(&[
        ("process.cwd.existing", "/etc"),
        ("process.cwd.existing", "/tmp"),
        ("process.cwd.missing", "/fzcwd/sub"),
        ("process.cwd.proc", "/proc"),
    ]);
    out.push(feature(
        class,
        vec![op("replace", "/process/cwd", dir.into())],
    ));
}

fn sysctl(rng: &mut Rng, out: &mut Vec<Feature>) {
    let pool = [
        ("kernel.shmmax", "68719476736"),
        ("kernel.msgmax", "8192"),
        ("fs.mqueue.msg_max", "20"),
        ("net.ipv4.ip_forward", "1"),
        ("net.ipv4.ping_group_range", "0 2147483647"),
        ("kernel.domainname", "fz.example"),
    ];
    let mut map = serde_json::Map::new();
    for (k, v) in rng.subset(&pool, 35) {
        map.insert(k.to_string(), v.into());
    }
    if map.is_empty() {
        map.insert("kernel.msgmax".into(), "8192".into());
    }
    let class = format!(
        "linux.sysctl.{}",
        map.keys().cloned().collect::<Vec<_>>().join(",")
    );
    out.push(feature(
        class,
        vec![op("add", "/linux/sysctl", Value::Object(map))],
    ));
}

fn masked_paths(rng: &mut Rng, out: &mut Vec<Feature>) {
    let pool = [
        ("file", "/etc/hostname"),
        ("dir", "/etc"),
        ("missing", "/proc/fz-missing"),
        ("proc-file", "/proc/kmsg"),
        ("dir", "/tmp"),
    ];
    path_list(rng, out, "maskedPaths", &pool);
}

fn readonly_paths(rng: &mut Rng, out: &mut Vec<Feature>) {
    let pool = [
        ("dir", "/etc"),
        ("dir", "/tmp"),
        ("missing", "/fz-missing"),
        ("file", "/etc/passwd"),
        ("proc", "/proc/sys/kernel"),
    ];
    path_list(rng, out, "readonlyPaths", &pool);
}

/// Some of `pool`'s (kind, path) entries appended to linux.`field`, one feature each, of
/// class `linux.field.kind`.
fn path_list(rng: &mut Rng, out: &mut Vec<Feature>, field: &str, pool: &[(&str, &str)]) {
    let ptr = format!("/linux/{field}/-");
    for (kind, path) in rng.subset(pool, 35) {
        out.push(feature(
            format!("linux.{field}.{kind}"),
            vec![op("add", &ptr, path.into())],
        ));
    }
}

fn devices(rng: &mut Rng, out: &mut Vec<Feature>) {
    let pool = [
        json!({"path": "/dev/fzzero", "type": "c", "major": 1, "minor": 5, "fileMode": 438, "uid": 0, "gid": 0}),
        json!({"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}),
        json!({"path": "/dev/fzfifo", "type": "p"}),
        json!({"path": "/dev/fzowned", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 1000, "gid": 1000}),
    ];
    let mut list = rng.subset(&pool, 40);
    if list.is_empty() {
        list.push(pool[0].clone());
    }
    let mut ops = vec![op("add", "/linux/devices", Value::Array(list))];
    let mut class = "linux.devices".to_string();
    if rng.chance(50) {
        let rule = json!({"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"});
        ops.push(op("add", "/linux/resources/devices/-", rule));
        class.push_str("+allow-rule");
    }
    out.push(feature(class, ops));
}

fn resources(rng: &mut Rng, out: &mut Vec<Feature>) {
    if rng.chance(50) {
        let limit: i64 = if rng.chance(10) {
            -1
        } else {
            rng.range(16, 4096) as i64
        };
        out.push(feature(
            "linux.resources.pids",
            vec![op("add", "/linux/resources/pids", json!({"limit": limit}))],
        ));
    }
    if rng.chance(50) {
        let limit = rng.range(64, 1024) << 20;
        let mut mem = json!({ "limit": limit });
        let mut class = "linux.resources.memory".to_string();
        if rng.chance(30) {
            mem["reservation"] = json!(limit / 2);
            class.push_str("+reservation");
        }
        if rng.chance(20) {
            mem["swap"] = json!(if rng.chance(50) { -1 } else { limit as i64 * 2 });
            class.push_str("+swap");
        }
        out.push(feature(
            class,
            vec![op("add", "/linux/resources/memory", mem)],
        ));
    }
    if rng.chance(50) {
        let mut cpu = serde_json::Map::new();
        if rng.chance(60) {
            cpu.insert("shares".into(), rng.range(2, 4096).into());
        }
        if rng.chance(50) {
            cpu.insert("quota".into(), rng.range(1000, 200_000).into());
            cpu.insert("period".into(), 100_000.into());
        }
        if rng.chance(30) {
            cpu.insert("cpus".into(), (*rng.pick(&["0", "0-1", "1"])).into());
            cpu.insert("mems".into(), "0".into());
        }
        let class = format!(
            "linux.resources.cpu.{}",
            cpu.keys().cloned().collect::<Vec<_>>().join(",")
        );
        out.push(feature(
            class,
            vec![op("add", "/linux/resources/cpu", Value::Object(cpu))],
        ));
    }
}

fn hooks(rng: &mut Rng, out: &mut Vec<Feature>) {
    // Host-side hooks run host binaries; createContainer/startContainer run in the
    // container, where busybox provides /bin/true and /bin/false.
    let kinds = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ];
    let mut map = serde_json::Map::new();
    for k in rng.subset(&kinds, 35) {
        let path = if rng.chance(15) {
            "/bin/false"
        } else {
            "/bin/true"
        };
        map.insert(
            k.to_string(),
            json!([{ "path": path, "args": [path.rsplit('/').next().unwrap_or(path)] }]),
        );
    }
    if map.is_empty() {
        map.insert("createRuntime".into(), json!([{"path": "/bin/true"}]));
    }
    let class = format!(
        "hooks.{}",
        map.iter()
            .map(|(k, v)| {
                let fails = v.to_string().contains("false");
                format!("{k}{}", if fails { "(fails)" } else { "" })
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    out.push(feature(
        class,
        vec![op("add", "/hooks", Value::Object(map))],
    ));
}

fn seccomp(rng: &mut Rng, out: &mut Vec<Feature>) {
    let action = *rng.pick(&[
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",
    ]);
    let names = rng.subset(&["mkdir", "mkdirat", "chmod", "personality", "unshare"], 50);
    let names = if names.is_empty() {
        vec!["mkdir"]
    } else {
        names
    };
    let mut rule = json!({ "names": names, "action": action });
    if action == "SCMP_ACT_ERRNO" && rng.chance(50) {
        rule["errnoRet"] = json!(*rng.pick(&[1, 13, 38]));
    }
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [rule],
    });
    out.push(feature(
        format!("linux.seccomp.{action}"),
        vec![op("add", "/linux/seccomp", profile)],
    ));
}

fn process_flags(rng: &mut Rng, out: &mut Vec<Feature>) {
    if rng.chance(40) {
        out.push(feature(
            "process.noNewPrivileges",
            vec![op("replace", "/process/noNewPrivileges", false.into())],
        ));
    }
    if rng.chance(30) {
        let adj = *rng.pick(&[-1000i64, -500, 0, 500, 1000]);
        out.push(feature(
            "process.oomScoreAdj",
            vec![op("add", "/process/oomScoreAdj", adj.into())],
        ));
    }
    if rng.chance(30) {
        out.push(feature(
            "root.readonly",
            vec![op("replace", "/root/readonly", false.into())],
        ));
    }
    if rng.chance(30) {
        let name = *rng.pick(&["fz", "a.b-c", ""]);
        out.push(feature(
            "hostname",
            vec![op("replace", "/hostname", name.into())],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_configs() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..50).map(|_| generate(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn every_subset_of_features_applies_to_the_base_config() {
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            let features = generate(&mut rng);
            let keep: Vec<&Feature> = features.iter().step_by(2).collect();
            for set in [features.iter().collect::<Vec<_>>(), keep] {
                let ops: Vec<Value> = set.iter().flat_map(|f| f.ops.clone()).collect();
                let ops: Vec<crate::scenario::PatchOp> =
                    serde_json::from_value(Value::Array(ops)).expect("ops parse");
                let mut config = crate::bundle::config::base_config();
                crate::bundle::patch::apply(&mut config, &ops).expect("patch applies");
            }
        }
    }
}
