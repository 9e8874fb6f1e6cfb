use super::*;
use crate::cgroups::layout::HierDir;
use crate::cgroups::Mode;

fn hier(controllers: &[&str], dir: &str) -> HierDir {
    HierDir {
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
        dir: PathBuf::from(dir),
        mount: None,
    }
}

/// This host's shape: separate cpu and cpuacct, a named systemd hierarchy, cgroup2 beside.
fn hybrid() -> Layout {
    Layout {
        mode: Mode::Hybrid,
        v1: vec![
            hier(&["cpu"], "/sys/fs/cgroup/cpu/ct"),
            hier(&["cpuacct"], "/sys/fs/cgroup/cpuacct/ct"),
            hier(&["memory"], "/sys/fs/cgroup/memory/ct"),
            hier(&["name=systemd"], "/sys/fs/cgroup/systemd/ct"),
        ],
        unified: Some(hier(&[], "/sys/fs/cgroup/unified/ct")),
    }
}

fn v2() -> Layout {
    Layout {
        mode: Mode::V2,
        v1: vec![],
        unified: Some(hier(&[], "/sys/fs/cgroup/ct")),
    }
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn dirs(layout: &Layout, a: &[&str]) -> Result<Vec<String>, SubCgroupError> {
    let sub = parse(&args(a))?;
    Ok(target_dirs(Some(layout), sub.as_ref())?
        .into_iter()
        .map(|d| d.display().to_string())
        .collect())
}

#[test]
fn without_the_flag_every_hierarchy_of_the_container_is_joined() {
    assert_eq!(
        dirs(&hybrid(), &[]).unwrap(),
        [
            "/sys/fs/cgroup/cpu/ct",
            "/sys/fs/cgroup/cpuacct/ct",
            "/sys/fs/cgroup/memory/ct",
            "/sys/fs/cgroup/systemd/ct",
            "/sys/fs/cgroup/unified/ct"
        ]
    );
    assert_eq!(target_dirs(None, None).unwrap(), Vec::<PathBuf>::new());
    let sub = parse(&args(&["x"])).unwrap();
    assert_eq!(
        target_dirs(None, sub.as_ref()).unwrap_err(),
        SubCgroupError::NoCgroup
    );
}

#[test]
fn a_path_without_controller_applies_to_every_hierarchy() {
    assert_eq!(
        dirs(&v2(), &["sub/a"]).unwrap(),
        ["/sys/fs/cgroup/ct/sub/a"]
    );
    // Relative to the container's cgroup even with a leading "/"; "/" and "" are the
    // container's cgroup itself.
    assert_eq!(dirs(&v2(), &["/sub"]).unwrap(), ["/sys/fs/cgroup/ct/sub"]);
    assert_eq!(dirs(&v2(), &["/"]).unwrap(), ["/sys/fs/cgroup/ct"]);
    assert_eq!(dirs(&v2(), &[""]).unwrap(), ["/sys/fs/cgroup/ct"]);
    let all = dirs(&hybrid(), &["s"]).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|d| d.ends_with("/ct/s")), "{all:?}");
}

#[test]
fn controllers_change_only_their_hierarchies() {
    assert_eq!(
        dirs(&hybrid(), &["memory:submem", "cpu,cpuacct:/subcpu"]).unwrap(),
        [
            "/sys/fs/cgroup/cpu/ct/subcpu",
            "/sys/fs/cgroup/cpuacct/ct/subcpu",
            "/sys/fs/cgroup/memory/ct/submem",
            "/sys/fs/cgroup/systemd/ct",
            "/sys/fs/cgroup/unified/ct"
        ]
    );
    assert_eq!(
        dirs(&hybrid(), &["name=systemd:s"]).unwrap()[3],
        "/sys/fs/cgroup/systemd/ct/s"
    );
}

#[test]
fn comounted_controllers_must_agree_on_the_path() {
    let layout = Layout {
        mode: Mode::V1,
        v1: vec![hier(&["cpu", "cpuacct"], "/sys/fs/cgroup/cpu,cpuacct/ct")],
        unified: None,
    };
    assert_eq!(
        dirs(&layout, &["cpu:a", "cpuacct:a"]).unwrap(),
        ["/sys/fs/cgroup/cpu,cpuacct/ct/a"]
    );
    let e = dirs(&layout, &["cpu:a", "cpuacct:b"]).unwrap_err();
    assert!(e.to_string().contains("different paths"), "{e}");
}

#[test]
fn paths_that_leave_the_container_cgroup_are_refused_naming_the_path() {
    for bad in ["..", "../ct2", "a/../../x", "../ct-sibling"] {
        let e = dirs(&v2(), &[bad]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("bad sub cgroup path: {bad} is not a sub cgroup path of /sys/fs/cgroup/ct")
        );
    }
    assert!(matches!(
        dirs(&hybrid(), &["cpu:.."]).unwrap_err(),
        SubCgroupError::Escapes { .. }
    ));
    // Climbing out and back in stays inside, as runc's lexical join has it.
    assert_eq!(dirs(&v2(), &["../ct/a"]).unwrap(), ["/sys/fs/cgroup/ct/a"]);
    assert_eq!(dirs(&v2(), &["a/../b"]).unwrap(), ["/sys/fs/cgroup/ct/b"]);
}

#[test]
fn malformed_flags_and_unknown_controllers_are_refused() {
    let msg = |a: &[&str], l: &Layout| dirs(l, a).unwrap_err().to_string();
    assert_eq!(
        msg(&["a:b:c"], &hybrid()),
        "invalid --cgroup argument: a:b:c"
    );
    assert_eq!(
        msg(&["x", "y"], &hybrid()),
        "invalid --cgroup argument: x (missing <controller>: prefix)"
    );
    assert_eq!(
        msg(&[":x"], &hybrid()),
        "invalid --cgroup argument: :x (empty <controller> prefix)"
    );
    assert_eq!(
        msg(&["cpu:/", "cpu:a"], &hybrid()),
        "invalid --cgroup argument: controller cpu specified multiple times"
    );
    assert!(msg(&["whaaat:/"], &hybrid()).contains("unknown controller whaaat"));
    // cgroup2 is no controller: on a v2 host only the controller-less form names it.
    assert!(msg(&["memory:/"], &v2()).contains("unknown controller memory"));
}

#[test]
fn v2_fallback_is_the_inits_cgroup_below_the_containers() {
    let dir = Path::new("/sys/fs/cgroup/pod/ct");
    assert_eq!(
        init_cgroup_dir(dir, "0::/pod/ct/foo\n"),
        Some(PathBuf::from("/sys/fs/cgroup/pod/ct/foo"))
    );
    assert_eq!(
        init_cgroup_dir(dir, "0::/pod/ct/a/b\n"),
        Some(PathBuf::from("/sys/fs/cgroup/pod/ct/a/b"))
    );
    // Still in the container's cgroup itself, elsewhere, or no cgroup2 line: nothing to try.
    assert_eq!(init_cgroup_dir(dir, "0::/pod/ct\n"), None);
    assert_eq!(init_cgroup_dir(dir, "0::/other\n"), None);
    assert_eq!(init_cgroup_dir(dir, "4:memory:/pod/ct/foo\n"), None);
}

#[test]
fn only_a_v2_exec_without_cgroup_flag_falls_back() {
    // Our own pid: its /proc/<pid>/cgroup exists, so only the conditions decide.
    let me = std::process::id() as i32;
    assert_eq!(v2_fallback(Some(&hybrid()), None, me)(), None);
    let sub = parse(&args(&["x"])).unwrap();
    assert_eq!(v2_fallback(Some(&v2()), sub.as_ref(), me)(), None);
    assert_eq!(v2_fallback(None, None, me)(), None);
}
