//! The pre-check against hand-built layouts over a tempdir (no root needed).

use super::*;
use crate::cgroups::testing::TreeHost as Host;

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).expect("resources json")
}

#[test]
fn a_cgroup_that_does_not_exist_yet_passes_with_no_processes() {
    let h = Host::new();
    let found = h.hybrid("a/ctr").precheck(None).expect("precheck");
    assert_eq!(found.processes, 0);
    assert!(!h.p("freezer/a").exists(), "the pre-check makes nothing");
}

#[test]
fn processes_already_there_are_counted_with_child_cgroups() {
    let h = Host::new();
    h.put("pids/a/ctr", "cgroup.procs", "10\n11\n");
    h.put("pids/a/ctr/sub", "cgroup.procs", "12\n");
    h.put("freezer/a/ctr", "freezer.state", "THAWED\n");
    let found = h.hybrid("a/ctr").precheck(None).expect("precheck");
    assert_eq!(found.processes, 3);
}

#[rstest::rstest]
#[case::frozen("FROZEN\n")]
#[case::freezing("FREEZING\n")]
fn v1_frozen_cgroup_is_refused_in_runcs_words(#[case] state: &str) {
    let h = Host::new();
    h.put("freezer/a/ctr", "freezer.state", state);
    h.put("freezer/a/ctr", "freezer.self_freezing", "1\n");
    let err = h.hybrid("a/ctr").precheck(None).expect_err("frozen");
    assert!(
        matches!(
            err,
            CgroupError::AlreadyFrozen {
                ancestor: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("container's cgroup unexpectedly frozen: "),
        "{err}"
    );
}

#[test]
fn v1_cgroup_under_a_frozen_parent_is_refused_even_before_it_exists() {
    let h = Host::new();
    h.put("freezer/a", "freezer.state", "FROZEN\n");
    h.put("freezer/a", "freezer.self_freezing", "1\n");
    let err = h.hybrid("a/ctr").precheck(None).expect_err("parent frozen");
    assert!(
        matches!(err, CgroupError::AlreadyFrozen { ancestor: true, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("frozen parent"), "{err}");
    // Existing, frozen only through the parent (self_freezing 0).
    h.put("freezer/a/ctr", "freezer.state", "FROZEN\n");
    h.put("freezer/a/ctr", "freezer.self_freezing", "0\n");
    let err = h.hybrid("a/ctr").precheck(None).expect_err("parent frozen");
    assert!(
        matches!(err, CgroupError::AlreadyFrozen { ancestor: true, .. }),
        "{err:?}"
    );
}

#[test]
fn thawed_cgroups_pass() {
    let h = Host::new();
    h.put("freezer/a", "freezer.state", "THAWED\n");
    h.put("freezer/a/ctr", "freezer.state", "THAWED\n");
    h.put("unified/a/ctr", "cgroup.freeze", "0\n");
    h.hybrid("a/ctr").precheck(None).expect("thawed");
}

#[test]
fn cgroup2_freeze_of_the_cgroup_or_an_ancestor_is_refused() {
    let h = Host::new();
    h.put("unified/a/ctr", "cgroup.freeze", "1\n");
    let err = h.v2("a/ctr").precheck(None).expect_err("frozen");
    assert!(
        matches!(
            err,
            CgroupError::AlreadyFrozen {
                ancestor: false,
                ..
            }
        ),
        "{err:?}"
    );
    let h = Host::new();
    h.put("unified/a", "cgroup.freeze", "1\n");
    let err = h.v2("a/b/ctr").precheck(None).expect_err("ancestor frozen");
    assert!(
        matches!(err, CgroupError::AlreadyFrozen { ancestor: true, .. }),
        "{err:?}"
    );
    // A hybrid host's cgroup2 hierarchy freezes tasks too.
    let h = Host::new();
    h.put("unified/a", "cgroup.freeze", "1\n");
    assert!(h.hybrid("a/ctr").precheck(None).is_err());
}

#[rstest::rstest]
#[case::hybrid(Mode::Hybrid, "this host is hybrid")]
#[case::v1(Mode::V1, "this host is cgroup v1")]
fn unified_is_an_invalid_configuration_off_cgroup2(#[case] mode: Mode, #[case] why: &str) {
    let r = resources(r#"{"unified":{"memory.min":"131072"}}"#);
    let msg = validate(mode, &r).expect_err("refused").to_string();
    assert!(
        msg.starts_with(
            "invalid configuration: linux.resources.unified: cannot use unified on cgroup v1"
        ),
        "{msg}"
    );
    assert!(msg.contains(why), "{msg}");
}

#[test]
fn empty_unified_and_cgroup2_hosts_pass_validation() {
    validate(Mode::Hybrid, &resources(r#"{"unified":{}}"#)).expect("empty map, as runc");
    validate(Mode::V2, &resources(r#"{"unified":{"memory.min":"1"}}"#)).expect("v2");
    let h = Host::new();
    let r = resources(r#"{"unified":{"pids.max":"5"}}"#);
    let err = h.hybrid("ctr").precheck(Some(&r)).expect_err("hybrid");
    assert!(matches!(err, CgroupError::InvalidConfig { .. }), "{err:?}");
}
