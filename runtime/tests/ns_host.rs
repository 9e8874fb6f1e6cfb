//! Namespaces (config-linux.md#namespaces), seen from inside the container and from the host:
//! new ones differ from the host's, unlisted ones are inherited, time offsets and id mappings
//! take effect, and `path` joins an existing namespace (another container's, or one made with
//! `unshare` and kept alive by a bind mount).

mod support;

use std::process::Command;

use serde_json::json;
use support::{host_ns, namespaces_plus, open_up, sh_bundle, sh_ok, Rt};

const KINDS: [&str; 6] = ["pid", "net", "ipc", "uts", "mnt", "cgroup"];

fn readlinks() -> String {
    KINDS
        .iter()
        .map(|k| format!("readlink /proc/self/ns/{k};"))
        .collect()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn new_namespaces_differ_from_the_hosts() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"namespaces": namespaces_plus(json!([{"type": "cgroup"}]))}});
    let out = sh_ok(&rt, "nsnew", &format!("{} echo $$", readlinks()), patch);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), KINDS.len() + 1, "{out}");
    for (kind, inside) in KINDS.iter().zip(&lines) {
        assert!(inside.starts_with(&format!("{kind}:[")), "{inside}");
        assert_ne!(*inside, host_ns(kind), "{kind} namespace is the host's");
    }
    assert_eq!(
        lines[KINDS.len()],
        "1",
        "the init is pid 1 of its pid namespace"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn unlisted_namespaces_are_inherited_from_the_runtime() {
    support::require_root();
    let rt = Rt::new();
    // Only mount and uts: pid, net, ipc and cgroup must be the host's.
    let patch = json!({"linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}]}});
    let out = sh_ok(&rt, "nsinh", &readlinks(), patch);
    let lines: Vec<&str> = out.lines().collect();
    for (kind, inside) in KINDS.iter().zip(&lines) {
        let shared = matches!(*kind, "pid" | "net" | "ipc" | "cgroup");
        assert_eq!(*inside == host_ns(kind), shared, "{kind}: {inside}");
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn network_namespace_has_only_loopback() {
    support::require_root();
    let rt = Rt::new();
    let out = sh_ok(&rt, "nsnet", "ls /sys/class/net", json!({}));
    assert_eq!(out, "lo\n");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn cgroup_namespace_makes_the_container_cgroup_its_root() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"namespaces": namespaces_plus(json!([{"type": "cgroup"}]))}});
    let inside = sh_ok(&rt, "nscg", "cat /proc/self/cgroup", patch);
    for line in inside.lines() {
        assert!(line.ends_with(":/"), "cgroupns root is not /: {line}");
    }
    // Without a cgroup namespace the host path shows.
    let id_tag = "nocgns";
    let out = sh_ok(&rt, id_tag, "cat /proc/self/cgroup", json!({}));
    // (v1: one line per hierarchy; v2: the single 0:: line.)
    assert!(
        out.lines()
            .any(|l| l.contains(":/ferrun-test-ft-nocgns-") && l.contains("/ft-nocgns-")),
        "{out}"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn time_namespace_applies_the_offsets() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {
        "namespaces": namespaces_plus(json!([{"type": "time"}])),
        "timeOffsets": {"monotonic": {"secs": 31536000, "nanosecs": 0},
                        "boottime": {"secs": 7200, "nanosecs": 500}}
    }});
    let before = host_uptime();
    let out = sh_ok(
        &rt,
        "nstime",
        "cat /proc/self/timens_offsets; cat /proc/uptime",
        patch,
    );
    let after = host_uptime();
    let mut lines = out.lines();
    let mut offsets: Vec<String> = lines
        .by_ref()
        .take(2)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    offsets.sort();
    assert_eq!(offsets, ["boottime 7200 500", "monotonic 31536000 0"]);
    let inside: f64 = lines
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        inside >= before + 7200.0 && inside <= after + 7200.0 + 1.0,
        "uptime inside {inside}, host {before}..{after}"
    );
}

fn host_uptime() -> f64 {
    let s = std::fs::read_to_string("/proc/uptime").unwrap();
    s.split(' ').next().unwrap().parse().unwrap()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn user_namespace_maps_ids() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("nsuser");
    let patch = json!({"linux": {
        "namespaces": namespaces_plus(json!([{"type": "user"}])),
        "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}]
    }});
    let b = sh_bundle(
        &id,
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; sleep 0.2",
        patch,
    );
    open_up(b.path());
    let out = rt
        .run(&["run", "-b", b.path().to_str().unwrap(), &id])
        .ok()
        .out;
    let words: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(words[0], ["0", "200000", "65536"], "{out}");
    assert_eq!(words[1], ["0", "300000", "65536"], "{out}");
    assert_eq!(words[2], ["0"]);
    assert_eq!(words[3], ["0"]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn user_namespace_root_is_an_unprivileged_host_uid() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("nsuserh");
    let patch = json!({"linux": {
        "namespaces": namespaces_plus(json!([{"type": "user"}])),
        "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}]
    }});
    let b = sh_bundle(&id, "sleep 60", patch);
    open_up(b.path());
    let pid = rt.create_start(&b, &id);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(
        support::status_field(&status, "Uid")
            .unwrap()
            .split_whitespace()
            .next(),
        Some("200000")
    );
    assert_eq!(
        support::status_field(&status, "Gid")
            .unwrap()
            .split_whitespace()
            .next(),
        Some("300000")
    );
    let user = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    assert_ne!(user.to_string_lossy(), host_ns("user"));
    rt.ok(&["delete", "--force", &id]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn joins_another_containers_namespaces_by_path() {
    support::require_root();
    let rt = Rt::new();
    let a = support::unique_id("nsjoina");
    let ba = sh_bundle(&a, "sleep 60", json!({"hostname": "alpha"}));
    let pid_a = rt.create_start(&ba, &a);
    let ns = |k: &str| format!("/proc/{pid_a}/ns/{k}");
    let b = support::unique_id("nsjoinb");
    let patch = json!({"hostname": null, "linux": {"namespaces": [
        {"type": "mount"},
        {"type": "pid", "path": ns("pid")},
        {"type": "network", "path": ns("net")},
        {"type": "ipc", "path": ns("ipc")},
        {"type": "uts", "path": ns("uts")}
    ]}});
    let bb = sh_bundle(
        &b,
        "for k in net ipc uts; do readlink /proc/self/ns/$k; done; hostname; \
         cat /proc/1/cmdline | tr '\\0' ' '; echo; test $$ != 1 && echo notone",
        patch,
    );
    let out = rt
        .run(&["run", "-b", bb.path().to_str().unwrap(), &b])
        .ok()
        .out;
    let want_ns: Vec<String> = ["net", "ipc", "uts"]
        .iter()
        .map(|k| {
            std::fs::read_link(ns(k))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], want_ns[..], "{out}");
    assert_eq!(lines[3], "alpha", "uts joined: {out}");
    assert_eq!(lines[4].trim(), "sleep 60", "pid joined: pid 1 is a's init");
    assert_eq!(lines[5], "notone");
    rt.ok(&["delete", "--force", &a]);
}

/// Namespaces made by `unshare --net=FILE --uts=FILE --mount=FILE`: util-linux bind-mounts
/// the ns files onto FILE so they outlive the process. Unmounted on drop.
const NS_FILES: [&str; 3] = ["net", "uts", "mnt"];

struct PersistentNs {
    dir: tempfile::TempDir,
}

impl PersistentNs {
    fn new(hostname: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferrun-proof-ns-")
            .tempdir()
            .unwrap();
        for f in NS_FILES {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        // From here on, drop unmounts whatever of the below succeeded.
        let me = PersistentNs { dir };
        // A private mount of the directory itself: persisting an ns file fails on a shared
        // parent mount (the kernel refuses a loop of mount propagation).
        let d = me.path("");
        let st = Command::new("sh")
            .args([
                "-c",
                &format!("mount --bind {d} {d} && mount --make-private {d}"),
            ])
            .status()
            .unwrap();
        assert!(st.success(), "mount --bind/--make-private {d}: {st}");
        let st = Command::new("unshare")
            .arg(format!("--net={}", me.path("net")))
            .arg(format!("--uts={}", me.path("uts")))
            .arg(format!("--mount={}", me.path("mnt")))
            .args(["hostname", hostname])
            .status()
            .expect("spawn unshare");
        assert!(
            st.success(),
            "unshare --net=FILE --uts=FILE --mount=FILE: {st}"
        );
        me
    }

    fn path(&self, f: &str) -> String {
        self.dir.path().join(f).to_string_lossy().into_owned()
    }
}

impl Drop for PersistentNs {
    fn drop(&mut self) {
        for f in NS_FILES {
            let _ = nix::mount::umount2(
                self.dir.path().join(f).as_path(),
                nix::mount::MntFlags::MNT_DETACH,
            );
        }
        let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn joins_a_namespace_kept_alive_by_a_bind_mount() {
    support::require_root();
    let ns = PersistentNs::new("persisted");
    let rt = Rt::new();
    let patch = json!({"hostname": null, "linux": {"namespaces": [
        {"type": "mount"}, {"type": "pid"}, {"type": "ipc"},
        {"type": "network", "path": ns.path("net")},
        {"type": "uts", "path": ns.path("uts")}
    ]}});
    let out = sh_ok(
        &rt,
        "nsbind",
        "stat -L -c %i /proc/self/ns/net; hostname",
        patch,
    );
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(ns.path("net")).unwrap().ino();
    assert_eq!(out, format!("{ino}\npersisted\n"));
}

#[test]
#[ignore = "needs root and busybox-static"]
fn hostname_is_set_in_a_uts_namespace_joined_by_path() {
    support::require_root();
    let ns = PersistentNs::new("before");
    let rt = Rt::new();
    // runc's rule: a uts entry, new or joined, is enough for `hostname`.
    let patch = json!({"hostname": "joined", "linux": {"namespaces": [
        {"type": "mount"}, {"type": "pid"},
        {"type": "uts", "path": ns.path("uts")}
    ]}});
    let out = sh_ok(&rt, "nsutsj", "hostname", patch);
    assert_eq!(out, "joined\n");
    let after = Command::new("nsenter")
        .arg(format!("--uts={}", ns.path("uts")))
        .arg("hostname")
        .output()
        .expect("nsenter");
    assert_eq!(String::from_utf8_lossy(&after.stdout), "joined\n");
    assert_ne!(host_hostname(), "joined", "the host's name is untouched");
}

fn host_hostname() -> String {
    nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn joins_a_mount_namespace_by_path() {
    support::require_root();
    let ns = PersistentNs::new("mnt");
    let rt = Rt::new();
    let patch = json!({"hostname": null, "linux": {"namespaces": [
        {"type": "mount", "path": ns.path("mnt")}, {"type": "pid"}
    ]}});
    let out = sh_ok(
        &rt,
        "nsmntj",
        "stat -L -c %i /proc/self/ns/mnt; ls /bin/busybox",
        patch,
    );
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(ns.path("mnt")).unwrap().ino();
    assert_eq!(out, format!("{ino}\n/bin/busybox\n"));
}

#[test]
#[ignore = "needs root and busybox-static"]
fn without_a_mount_namespace_the_runtimes_is_shared_and_left_clean() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("nsmnth");
    // runc's host-mntns test drops maskedPaths, readonlyPaths and root.readonly too: they
    // would change mounts of the shared namespace.
    let namespaces: Vec<_> = support::namespaces_plus(json!([]))
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] != "mount")
        .cloned()
        .collect();
    let patch = json!({"root": {"readonly": false},
        "linux": {"namespaces": namespaces, "maskedPaths": [], "readonlyPaths": []}});
    let b = sh_bundle(&id, "readlink /proc/self/ns/mnt; sleep 60", patch);
    std::fs::write(b.path().join("rootfs/marker"), "inside\n").unwrap();
    rt.create_start(&b, &id);
    // exec lands in the container's root too, not at the host's (runc 1.1.5 leaves it there).
    let out = rt.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "readlink /proc/self/ns/mnt; cat /marker",
    ]);
    assert_eq!(out, format!("{}\ninside\n", host_ns("mnt")));
    rt.ok(&["delete", "--force", &id]);
    let bundle = b.path().to_string_lossy().into_owned();
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let left: Vec<&str> = mi.lines().filter(|l| l.contains(&bundle)).collect();
    for l in &left {
        let target = l.split(' ').nth(4).unwrap();
        let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
    }
    assert!(left.is_empty(), "mounts left under the bundle: {left:?}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn no_pivot_leaves_no_unmasked_procfs_to_mount_from() {
    support::require_root();
    let rt = Rt::new();
    // runc's no_pivot.bats: with the host's /proc still in the namespace, a new user
    // namespace could mount a procfs without the maskedPaths.
    let caps = [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP",
    ];
    let id = support::unique_id("npproc");
    let b = sh_bundle(
        &id,
        "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted' 2>&1",
        json!({"process": {"capabilities": {"bounding": caps, "permitted": caps}}}),
    );
    let done = rt.run(&["run", "--no-pivot", "-b", b.path().to_str().unwrap(), &id]);
    assert_ne!(done.code, Some(0), "{}{}", done.out, done.err);
    assert!(done.out.contains("permission denied"), "{}", done.out);
}
