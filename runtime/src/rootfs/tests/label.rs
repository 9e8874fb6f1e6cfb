//! linux.mountLabel: which mounts get `context="..."` (runc 1.1's rootfs_linux.go).

use super::*;

const LABEL: &str = "system_u:object_r:container_file_t:s0:c1,c2";

fn labelled(mut mounts: Vec<serde_json::Value>) -> Spec {
    let mut v = serde_json::to_value(full_config(false)).expect("serializes");
    let list = v["mounts"].as_array_mut().expect("mounts");
    list.append(&mut mounts);
    v["linux"]["mountLabel"] = json!(LABEL);
    serde_json::from_value(v).expect("valid")
}

#[test]
fn tmpfs_devpts_and_masks_get_the_label_proc_and_binds_do_not() {
    let f = full_fake();
    f.dir("/dev/mqueue").dir("/sys");
    let s = labelled(vec![
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}),
    ]);
    let ops = run_all(&f, &s, &DEFAULT).expect("setup succeeds");
    let mounts: Vec<&String> = ops.iter().filter(|o| o.starts_with("mount ")).collect();
    let ctx = format!("context=\"{LABEL}\"");
    let with_label = |dest: &str| -> Vec<&&String> {
        mounts
            .iter()
            .filter(|o| o.contains(&format!(" @{dest} ")) && o.contains(&ctx))
            .collect()
    };
    // One mount each: the label goes to the new filesystem, not to its remounts.
    assert_eq!(with_label("/dev").len(), 1, "{mounts:#?}");
    assert!(with_label("/dev")[0].ends_with(&format!("mode=755,size=65536k,{ctx}")));
    assert_eq!(with_label("/dev/pts").len(), 1, "{mounts:#?}");
    assert_eq!(with_label("/tmp").len(), 1, "{mounts:#?}");
    assert_eq!(
        with_label("/proc/acpi"),
        [&&format!("mount tmpfs @/proc/acpi tmpfs RDONLY {ctx}")],
        "the masked directory's tmpfs"
    );
    for dest in [
        "/proc",
        "/data",
        "/dev/mqueue",
        "/sys",
        "/proc/kcore",
        "/proc/sys",
    ] {
        assert!(with_label(dest).is_empty(), "{dest}: {mounts:#?}");
    }
}

#[test]
fn without_a_label_nothing_changes() {
    let f = full_fake();
    let ops = run_all(&f, &full_config(false), &DEFAULT).expect("setup succeeds");
    assert!(!ops.iter().any(|o| o.contains("context=")), "{ops:#?}");
}

#[test]
fn the_cgroup_v1_tmpfs_gets_the_label_and_its_binds_do_not() {
    let f = fake();
    let s = spec(json!({
        "mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}],
        "linux": {"mountLabel": LABEL}
    }));
    f.host_path("/sys/fs/cgroup/cpu,cpuacct/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/memory/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/systemd/ctr", FileKind::Dir);
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    let labelled: Vec<&String> = ops.iter().filter(|o| o.contains("context=")).collect();
    assert_eq!(
        labelled,
        [&format!(
            "mount tmpfs @/sys/fs/cgroup tmpfs NOSUID|NODEV|NOEXEC mode=755,context=\"{LABEL}\""
        )]
    );
}

#[test]
fn a_tmpcopyup_tmpfs_gets_the_label_on_its_detached_mount() {
    let f = full_fake();
    let s = labelled(vec![
        json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}),
    ]);
    let ops = run_all(&f, &s, &DEFAULT).expect("setup succeeds");
    let ctx = format!("context=\"{LABEL}\"");
    assert!(
        ops.iter()
            .any(|o| o.starts_with("mount_detached tmpfs tmpfs") && o.contains(&ctx)),
        "{ops:#?}"
    );
}
