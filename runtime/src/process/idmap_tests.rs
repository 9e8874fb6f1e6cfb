use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxIdMapping, LinuxIdMappingBuilder};
use rstest::rstest;

use super::*;

fn map(container: u32, host: u32, size: u32) -> LinuxIdMapping {
    LinuxIdMappingBuilder::default()
        .container_id(container)
        .host_id(host)
        .size(size)
        .build()
        .unwrap()
}

const USER: Writer = Writer {
    privileged: false,
    euid: 1000,
    egid: 1001,
};

/// Records every call, so the order of writes and helper runs can be checked.
#[derive(Default)]
struct FakeSys {
    helpers: Vec<&'static str>,
    helper_fails: bool,
    calls: Vec<String>,
}

impl IdMapSys for FakeSys {
    fn write_proc(&mut self, path: &str, text: &str) -> std::io::Result<()> {
        self.calls.push(format!("write {path} {text:?}"));
        Ok(())
    }
    fn find_helper(&self, name: &str) -> Option<PathBuf> {
        self.helpers
            .contains(&name)
            .then(|| PathBuf::from("/usr/bin").join(name))
    }
    fn run_helper(&mut self, helper: &Path, args: &[String]) -> Result<(), String> {
        self.calls
            .push(format!("run {} {}", helper.display(), args.join(" ")));
        if self.helper_fails {
            return Err("exit status: 1: newuidmap: uid range not allowed".into());
        }
        Ok(())
    }
}

#[rstest]
#[case::own_uid(IdKind::Uid, vec![map(0, 1000, 1)], MapMethod::DirectUnprivileged)]
#[case::own_uid_other_inside(IdKind::Uid, vec![map(5, 1000, 1)], MapMethod::DirectUnprivileged)]
#[case::own_gid(IdKind::Gid, vec![map(0, 1001, 1)], MapMethod::DirectUnprivileged)]
#[case::gid_uses_egid_not_euid(IdKind::Gid, vec![map(0, 1000, 1)], MapMethod::Helper("/usr/bin/newgidmap".into()))]
#[case::range(IdKind::Uid, vec![map(0, 1000, 2)], MapMethod::Helper("/usr/bin/newuidmap".into()))]
#[case::two_lines(IdKind::Uid, vec![map(0, 1000, 1), map(1, 100000, 65536)], MapMethod::Helper("/usr/bin/newuidmap".into()))]
#[case::other_uid(IdKind::Uid, vec![map(0, 0, 1)], MapMethod::Helper("/usr/bin/newuidmap".into()))]
fn unprivileged_choice(
    #[case] kind: IdKind,
    #[case] maps: Vec<LinuxIdMapping>,
    #[case] want: MapMethod,
) {
    let helper = |name: &str| Some(PathBuf::from("/usr/bin").join(name));
    assert_eq!(choose(kind, &maps, USER, helper).unwrap(), want);
}

#[test]
fn root_writes_any_mapping_directly() {
    let root = Writer {
        privileged: true,
        euid: 0,
        egid: 0,
    };
    let maps = [map(0, 100000, 65536), map(65536, 1, 1)];
    let got = choose(IdKind::Uid, &maps, root, |_| None).unwrap();
    assert_eq!(got, MapMethod::Direct);
}

#[test]
fn no_helper_is_an_error_naming_the_field() {
    let err = choose(IdKind::Gid, &[map(0, 5000, 10)], USER, |_| None).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("linux.gidMappings"), "{text}");
    assert!(text.contains("newgidmap"), "{text}");
    assert!(text.contains("0 5000 10"), "{text}");
}

#[test]
fn direct_unprivileged_denies_setgroups_before_gid_map() {
    let mut sys = FakeSys::default();
    write_id_maps(&mut sys, 42, &[map(0, 1000, 1)], &[map(0, 1001, 1)], USER).unwrap();
    assert_eq!(
        sys.calls,
        [
            "write /proc/42/uid_map \"0 1000 1\\n\"",
            "write /proc/42/setgroups \"deny\"",
            "write /proc/42/gid_map \"0 1001 1\\n\"",
        ]
    );
}

#[test]
fn root_leaves_setgroups_alone() {
    let mut sys = FakeSys::default();
    let root = Writer {
        privileged: true,
        euid: 0,
        egid: 0,
    };
    write_id_maps(&mut sys, 7, &[map(0, 1000, 1)], &[map(0, 1000, 1)], root).unwrap();
    assert_eq!(
        sys.calls,
        [
            "write /proc/7/uid_map \"0 1000 1\\n\"",
            "write /proc/7/gid_map \"0 1000 1\\n\"",
        ]
    );
}

#[test]
fn ranges_go_through_the_helpers_with_every_line() {
    let mut sys = FakeSys {
        helpers: vec!["newuidmap", "newgidmap"],
        ..Default::default()
    };
    let uids = [map(0, 1000, 1), map(1, 100000, 65536)];
    write_id_maps(&mut sys, 9, &uids, &[map(0, 1001, 1)], USER).unwrap();
    assert_eq!(
        sys.calls,
        [
            "run /usr/bin/newuidmap 9 0 1000 1 1 100000 65536",
            "write /proc/9/setgroups \"deny\"",
            "write /proc/9/gid_map \"0 1001 1\\n\"",
        ]
    );
}

#[test]
fn helper_failure_names_field_and_argv() {
    let mut sys = FakeSys {
        helpers: vec!["newuidmap"],
        helper_fails: true,
        ..Default::default()
    };
    let err = write_id_maps(&mut sys, 9, &[map(0, 2000, 1)], &[], USER).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("linux.uidMappings"), "{text}");
    assert!(text.contains("uid range not allowed"), "{text}");
    assert!(text.contains("newuidmap 9 0 2000 1 failed"), "{text}");
}
