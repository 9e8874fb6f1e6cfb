//! Order and set computation through a fake `CapsSys`; no capability changes here.

use super::*;
use serde_json::json;

struct Fake {
    supported: CapsHashSet,
    bounding: CapsHashSet,
    /// Without CAP_SETPCAP every drop is refused (EPERM), even of a cap already gone.
    setpcap: bool,
    log: Vec<String>,
}

impl Fake {
    fn new() -> Self {
        Self {
            supported: ::caps::all(),
            bounding: ::caps::all(),
            setpcap: true,
            log: Vec::new(),
        }
    }
}

impl CapsSys for Fake {
    fn supported(&self) -> CapsHashSet {
        self.supported.clone()
    }
    fn in_bounding(&self, cap: Cap) -> Result<bool, LibCapsError> {
        Ok(self.bounding.contains(&cap))
    }
    fn drop_bounding(&mut self, cap: Cap) -> Result<(), LibCapsError> {
        if !self.setpcap {
            return Err("PR_CAPBSET_DROP failure: Operation not permitted".into());
        }
        self.bounding.remove(&cap);
        self.log.push(format!("drop {cap}"));
        Ok(())
    }
    fn set(&mut self, set: CapSet, caps: &CapsHashSet) -> Result<(), LibCapsError> {
        self.log.push(format!("set {set:?} {}", list(caps)));
        Ok(())
    }
    fn clear_ambient(&mut self) -> Result<(), LibCapsError> {
        self.log.push("clear Ambient".into());
        Ok(())
    }
    fn raise_ambient(&mut self, cap: Cap) -> Result<(), LibCapsError> {
        self.log.push(format!("raise {cap}"));
        Ok(())
    }
}

fn caps(v: serde_json::Value) -> LinuxCapabilities {
    serde_json::from_value(v).expect("valid capabilities")
}

fn drops(log: &[String]) -> Vec<&str> {
    log.iter().filter_map(|l| l.strip_prefix("drop ")).collect()
}

#[test]
fn bounding_first_then_inheritable_effective_permitted_ambient() {
    let mut fake = Fake::new();
    fake.supported = [Cap::CAP_CHOWN, Cap::CAP_KILL, Cap::CAP_SYS_ADMIN]
        .into_iter()
        .collect();
    let c = caps(json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"]
    }));
    drop_bounding_with(&mut fake, Some(&c)).expect("fake never fails");
    apply_with(&mut fake, Some(&c)).expect("fake never fails");
    assert_eq!(
        fake.log,
        [
            "drop CAP_SYS_ADMIN",
            "set Inheritable [CAP_KILL]",
            "set Effective [CAP_CHOWN]",
            "set Permitted [CAP_CHOWN CAP_KILL]",
            "clear Ambient",
            "raise CAP_KILL"
        ]
    );
}

#[test]
fn missing_capabilities_mean_every_set_empty_like_runc() {
    let mut fake = Fake::new();
    drop_bounding_with(&mut fake, None).expect("ok");
    apply_with(&mut fake, None).expect("ok");
    assert!(fake.bounding.is_empty());
    assert!(fake.log.contains(&"set Effective []".to_string()));
    assert!(fake.log.contains(&"set Permitted []".to_string()));
}

#[test]
fn the_bounding_set_ends_as_the_config_whatever_it_held_before() {
    // Caps already gone are dropped again (a no-op for the kernel): one prctl each,
    // instead of reading all of them first.
    let mut fake = Fake::new();
    fake.bounding = [Cap::CAP_CHOWN, Cap::CAP_SYS_ADMIN].into_iter().collect();
    let c = caps(json!({"bounding": ["CAP_CHOWN", "CAP_KILL"]}));
    drop_bounding_with(&mut fake, Some(&c)).expect("ok");
    assert_eq!(
        fake.bounding,
        [Cap::CAP_CHOWN].into_iter().collect::<CapsHashSet>()
    );
    let dropped = drops(&fake.log);
    assert_eq!(dropped.len(), ::caps::all().len() - 2);
    assert_eq!(dropped.first(), Some(&"CAP_DAC_OVERRIDE"), "in index order");
    assert!(!dropped.contains(&"CAP_KILL") && !dropped.contains(&"CAP_CHOWN"));
}

#[test]
fn only_caps_the_kernel_knows_are_dropped() {
    let mut fake = Fake::new();
    fake.supported.remove(&Cap::CAP_CHECKPOINT_RESTORE);
    fake.bounding.remove(&Cap::CAP_CHECKPOINT_RESTORE);
    drop_bounding_with(&mut fake, None).expect("ok");
    assert!(fake.bounding.is_empty());
    assert!(!drops(&fake.log).contains(&"CAP_CHECKPOINT_RESTORE"));
}

#[test]
fn the_process_sets_leave_the_bounding_set_alone() {
    // After the user switch CAP_SETPCAP is gone: the second step must not drop anything.
    let mut fake = Fake::new();
    fake.setpcap = false;
    apply_with(&mut fake, Some(&caps(json!({"bounding": ["CAP_CHOWN"]})))).expect("ok");
    assert!(drops(&fake.log).is_empty());
    assert_eq!(fake.bounding, ::caps::all());
}

#[test]
fn without_setpcap_a_set_already_small_enough_is_fine() {
    let mut fake = Fake::new();
    fake.setpcap = false;
    fake.bounding = [Cap::CAP_KILL].into_iter().collect();
    let c = caps(json!({"bounding": ["CAP_CHOWN", "CAP_KILL"]}));
    drop_bounding_with(&mut fake, Some(&c)).expect("nothing left to drop");
    assert_eq!(
        fake.bounding,
        [Cap::CAP_KILL].into_iter().collect::<CapsHashSet>()
    );
}

#[test]
fn without_setpcap_a_cap_still_present_is_an_error_naming_it() {
    let mut fake = Fake::new();
    fake.setpcap = false;
    fake.bounding = [Cap::CAP_KILL, Cap::CAP_SYS_ADMIN].into_iter().collect();
    let c = caps(json!({"bounding": ["CAP_KILL"]}));
    let err = drop_bounding_with(&mut fake, Some(&c)).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "dropping CAP_SYS_ADMIN from the bounding set: caps error: PR_CAPBSET_DROP failure: Operation not permitted"
    );
}

#[test]
fn a_cap_the_kernel_lacks_is_an_error_naming_it() {
    let mut fake = Fake::new();
    fake.supported.remove(&Cap::CAP_CHECKPOINT_RESTORE);
    let c = caps(json!({"permitted": ["CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"]}));
    let err = drop_bounding_with(&mut fake, Some(&c)).expect_err("unsupported");
    assert_eq!(
        err.to_string(),
        "process.capabilities.permitted: CAP_CHECKPOINT_RESTORE is not supported by the running kernel"
    );
    let err = apply_with(&mut fake, Some(&c)).expect_err("unsupported");
    assert!(err.to_string().contains("CAP_CHECKPOINT_RESTORE"), "{err}");
    assert!(fake.log.is_empty(), "nothing changed before the error");
}

#[test]
fn every_spec_capability_is_known_to_the_caps_crate() {
    let all: Vec<String> = ::caps::all().iter().map(|c| c.to_string()).collect();
    let c = caps(json!({ "bounding": all }));
    let sets = CapSets::resolve(Some(&c), &::caps::all()).expect("all resolve");
    assert_eq!(sets.bounding, ::caps::all());
}

#[test]
fn unknown_names_fail_when_parsing_the_config() {
    let err = serde_json::from_value::<LinuxCapabilities>(json!({"bounding": ["CAP_BOGUS"]}))
        .expect_err("unknown");
    assert!(err.to_string().contains("CAP_BOGUS"), "{err}");
}

#[test]
fn ambient_caps_not_permitted_and_inheritable_are_left_out_like_runc() {
    // `runc spec`'s default: ambient listed, inheritable empty.
    let mut fake = Fake::new();
    let c = caps(json!({
        "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    }));
    apply_with(&mut fake, Some(&c)).expect("ok");
    let raised: Vec<&String> = fake.log.iter().filter(|l| l.starts_with("raise")).collect();
    assert_eq!(raised, ["raise CAP_KILL"]);
}

#[test]
fn the_host_probe_finds_the_kernels_caps() {
    // Every cap up to /proc/sys/kernel/cap_last_cap, whatever the caps crate knows beyond.
    let last: u8 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .expect("procfs")
        .trim()
        .parse()
        .expect("a number");
    let want: CapsHashSet = ::caps::all()
        .into_iter()
        .filter(|c| c.index() <= last)
        .collect();
    assert_eq!(HostCaps.supported(), want);
    assert_eq!(
        HostCaps.supported(),
        ::caps::runtime::thread_all_supported()
    );
}
