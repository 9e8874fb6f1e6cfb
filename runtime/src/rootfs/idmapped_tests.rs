use super::*;
use rstest::rstest;
use serde_json::{json, Value};
use std::cell::RefCell;

fn spec(mounts: Value, linux: Value) -> Spec {
    serde_json::from_value(json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "mounts": mounts,
        "linux": linux,
    }))
    .expect("valid spec")
}

fn map(c: u32, h: u32, size: u32) -> LinuxIdMapping {
    serde_json::from_value(json!({"containerID": c, "hostID": h, "size": size})).expect("map")
}

const MAPS: &str = r#"[{"containerID": 0, "hostID": 1000, "size": 10}]"#;

fn maps() -> Value {
    serde_json::from_str(MAPS).expect("json")
}

#[test]
fn mappings_alone_map_the_top_mount_and_rbind_copies_the_tree() {
    let s = spec(
        json!([
            {"destination": "/a", "type": "bind", "source": "src", "options": ["rbind"],
             "uidMappings": maps(), "gidMappings": maps()},
            {"destination": "/b", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/c", "source": "/abs", "options": ["bind", "ridmap"],
             "uidMappings": maps(), "gidMappings": maps()}
        ]),
        json!({}),
    );
    let got = requests(&s, Path::new("/bundle")).expect("valid");
    let want_map = MappingSource::Maps {
        uid: vec![map(0, 1000, 10)],
        gid: vec![map(0, 1000, 10)],
    };
    assert_eq!(
        got,
        [
            Request {
                index: 0,
                source: "/bundle/src".into(),
                tree: true,
                scope: IdmapScope::Top,
                mapping: want_map.clone(),
            },
            Request {
                index: 2,
                source: "/abs".into(),
                tree: false,
                scope: IdmapScope::Recursive,
                mapping: want_map,
            },
        ]
    );
}

#[test]
fn an_option_without_mappings_takes_the_container_user_namespace() {
    let mounts =
        json!([{"destination": "/a", "type": "bind", "source": "/s", "options": ["idmap"]}]);
    let own = spec(
        mounts.clone(),
        json!({"namespaces": [{"type": "user"}], "uidMappings": maps(), "gidMappings": maps()}),
    );
    assert_eq!(
        requests(&own, Path::new("/b")).expect("valid")[0].mapping,
        MappingSource::Maps {
            uid: vec![map(0, 1000, 10)],
            gid: vec![map(0, 1000, 10)]
        }
    );
    let joined = spec(
        mounts,
        json!({"namespaces": [{"type": "user", "path": "/proc/42/ns/user"}]}),
    );
    assert_eq!(
        requests(&joined, Path::new("/b")).expect("valid")[0].mapping,
        MappingSource::Joined("/proc/42/ns/user".into())
    );
}

#[rstest]
#[case::not_a_bind(json!({"destination": "/a", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}),
    "mounts[0].options: id-mapped mounts are only supported for bind-mounts")]
#[case::no_userns_no_maps(json!({"destination": "/a", "type": "bind", "source": "/s", "options": ["idmap"]}),
    "mounts[0].uidMappings: id-mapped mounts must have both uid and gid mappings specified")]
#[case::uid_only(json!({"destination": "/a", "type": "bind", "source": "/s", "uidMappings": maps()}),
    "mounts[0].uidMappings: id-mapped mounts must have both uid and gid mappings specified")]
#[case::empty_gid(json!({"destination": "/a", "type": "bind", "source": "/s", "uidMappings": maps(), "gidMappings": []}),
    "mounts[0].uidMappings: id-mapped mounts must have both uid and gid mappings specified")]
#[case::zero_size(json!({"destination": "/a", "type": "bind", "source": "/s", "uidMappings": maps(),
    "gidMappings": [{"containerID": 0, "hostID": 1, "size": 0}]}),
    "mounts[0].gidMappings: mounts[0].gidMappings[0].size: a mapping must cover at least one id")]
fn bad_entries_are_refused_naming_the_field(#[case] mount: Value, #[case] want: &str) {
    let e = requests(&spec(json!([mount]), json!({})), Path::new("/b")).expect_err("refused");
    assert!(e.to_string().starts_with(want), "{e}");
}

/// Records what `prepare` asks of the system; fds are /dev/null stand-ins.
#[derive(Default)]
struct Fake {
    calls: RefCell<Vec<String>>,
    fail: Option<(&'static str, i32)>,
}

impl Fake {
    fn fd(&self, call: String, step: &str) -> io::Result<OwnedFd> {
        self.calls.borrow_mut().push(call);
        match self.fail {
            Some((s, errno)) if s == step => Err(io::Error::from_raw_os_error(errno)),
            _ => Ok(std::fs::File::open("/dev/null")?.into()),
        }
    }
}

impl IdmapSys for Fake {
    fn userns(&mut self, uid: &[LinuxIdMapping], _: &[LinuxIdMapping]) -> io::Result<OwnedFd> {
        self.fd(format!("userns {}", uid[0].host_id()), "userns")
    }
    fn open_userns(&mut self, path: &Path) -> io::Result<OwnedFd> {
        self.fd(format!("open {}", path.display()), "userns")
    }
    fn clone_tree(&mut self, source: &Path, recursive: bool) -> io::Result<OwnedFd> {
        self.fd(format!("tree {} {recursive}", source.display()), "tree")
    }
    fn set_idmap(&mut self, _: &OwnedFd, _: &OwnedFd, recursive: bool) -> io::Result<()> {
        self.fd(format!("idmap {recursive}"), "idmap").map(drop)
    }
}

fn request(index: usize, host: u32, scope: IdmapScope) -> Request {
    Request {
        index,
        source: format!("/src{index}").into(),
        tree: index % 2 == 0,
        scope,
        mapping: MappingSource::Maps {
            uid: vec![map(0, host, 1)],
            gid: vec![map(0, host, 1)],
        },
    }
}

#[test]
fn mounts_with_one_mapping_share_a_user_namespace() {
    let mut f = Fake::default();
    let reqs = [
        request(0, 1000, IdmapScope::Top),
        request(1, 1000, IdmapScope::Recursive),
        request(2, 2000, IdmapScope::Top),
    ];
    let made = IdmappedMounts::prepare(&mut f, &reqs, false).expect("made");
    assert_eq!(made.handles().len(), 3);
    assert_eq!(
        f.calls.into_inner(),
        [
            "userns 1000",
            "tree /src0 true",
            "idmap false",
            "tree /src1 false",
            "idmap true",
            "userns 2000",
            "tree /src2 true",
            "idmap false",
        ]
    );
}

#[test]
fn rootless_is_refused_before_anything_is_made() {
    let mut f = Fake::default();
    let e = IdmappedMounts::prepare(&mut f, &[request(3, 1, IdmapScope::Top)], true)
        .expect_err("rootless");
    assert_eq!(
        e.to_string(),
        "mounts[3]: id-mapped mounts are not supported for rootless containers"
    );
    assert!(f.calls.into_inner().is_empty());
    let none = IdmappedMounts::prepare(&mut Fake::default(), &[], true).expect("nothing to do");
    assert!(none.handles().is_empty());
}

#[rstest]
#[case("idmap", libc::EINVAL, "mounts[0]: cannot make the id-mapped mount of /src0: mount_setattr: Invalid argument (os error 22) (the source's filesystem may not support id-mapped mounts on this kernel)")]
#[case("tree", libc::ENOENT, "mounts[0]: cannot make the id-mapped mount of /src0: open_tree: No such file or directory (os error 2)")]
fn a_failed_step_names_the_mount_and_the_step(
    #[case] step: &'static str,
    #[case] errno: i32,
    #[case] want: &str,
) {
    let mut f = Fake {
        fail: Some((step, errno)),
        ..Fake::default()
    };
    let e = IdmappedMounts::prepare(&mut f, &[request(0, 1, IdmapScope::Top)], false)
        .expect_err("fails");
    assert_eq!(e.to_string(), want);
    assert_eq!(e.errno(), Some(errno));
}
