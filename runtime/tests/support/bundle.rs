//! Test bundles: a busybox-static rootfs in a tempdir and a config close to `runc spec`'s.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

pub const BUSYBOX: &str = "/bin/busybox";

/// A unique container id per test and call.
pub fn unique_id(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "ft-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Populate `rootfs` with busybox and its applet links.
pub fn busybox_rootfs(rootfs: &Path) {
    for d in ["bin", "proc", "sys", "dev", "tmp", "etc", "root"] {
        std::fs::create_dir_all(rootfs.join(d)).expect("rootfs dir");
    }
    std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copy busybox");
    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let link = rootfs.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link).expect("applet link");
        }
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").expect("group");
}

/// A config close to `runc spec`'s default, with terminal off and the given args.
pub fn base_config(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "ferrun-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// RFC 7396 JSON merge patch, enough to adjust a base config per test.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

pub struct Bundle {
    pub dir: tempfile::TempDir,
}

impl Bundle {
    pub fn new(config: &Value) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferrun-bundle-")
            .tempdir()
            .expect("bundle tempdir");
        busybox_rootfs(&dir.path().join("rootfs"));
        let b = Bundle { dir };
        b.write_config(config);
        b
    }

    pub fn with_args(args: &[&str], patch: Value) -> Self {
        let mut cfg = base_config(args);
        merge(&mut cfg, &patch);
        Self::new(&cfg)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_config(&self, config: &Value) {
        std::fs::write(
            self.path().join("config.json"),
            serde_json::to_vec_pretty(config).expect("config json"),
        )
        .expect("write config.json");
    }
}

/// The cgroup a test container gets: a nested absolute path whose parent is as unique as the
/// id, so the runner's cleanup removes it without racing other tests (or other checkouts'
/// test runs) that share the host.
pub fn cg_path(id: &str) -> String {
    format!("/{}/{id}", cg_parent(id))
}

/// The parent directory of `cg_path(id)`, which the runtime creates and (like runc) keeps.
pub fn cg_parent(id: &str) -> String {
    format!("ferrun-test-{id}")
}

/// A patch placing the container's cgroup at `cg_path(id)`.
pub fn cg(id: &str) -> Value {
    json!({"linux": {"cgroupsPath": cg_path(id)}})
}

/// A busybox bundle running `sh -c script` with `patch` merged over the base config (and
/// over the cgroup patch).
pub fn sh_bundle(id: &str, script: &str, patch: Value) -> Bundle {
    let mut cfg = base_config(&["sh", "-c", script]);
    merge(&mut cfg, &cg(id));
    merge(&mut cfg, &patch);
    Bundle::new(&cfg)
}

/// The base config's namespaces plus `extra`.
pub fn namespaces_plus(extra: Value) -> Value {
    let mut ns = base_config(&["true"])["linux"]["namespaces"].clone();
    for e in extra.as_array().expect("array") {
        ns.as_array_mut().expect("array").push(e.clone());
    }
    ns
}

/// The base config's mounts plus `extra`.
pub fn mounts_plus(extra: Value) -> Value {
    let mut m = base_config(&["true"])["mounts"].clone();
    for e in extra.as_array().expect("array") {
        m.as_array_mut().expect("array").push(e.clone());
    }
    m
}

/// Make a bundle traversable by other uids (tempdirs are 0700): needed when the container's
/// root is not host root (user namespaces) or the process runs as another user.
pub fn open_up(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
