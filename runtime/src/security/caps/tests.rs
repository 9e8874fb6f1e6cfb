//! Order and set computation through a fake `CapsSys`; no capability changes here.

use super::*;
use serde_json::json;

struct Fake {
    supported: CapsHashSet,
    bounding: CapsHashSet,
    log: Vec<String>,
}

impl Fake {
    fn new() -> Self {
        Self {
            supported: ::caps::all(),
            bounding: ::caps::all(),
            log: Vec::new(),
        }
    }
}

impl CapsSys for Fake {
    fn supported(&self) -> CapsHashSet {
        self.supported.clone()
    }
    fn bounding(&self) -> Result<CapsHashSet, LibCapsError> {
        Ok(self.bounding.clone())
    }
    fn drop_bounding(&mut self, cap: Cap) -> Result<(), LibCapsError> {
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

#[test]
fn bounding_first_then_inheritable_effective_permitted_ambient() {
    let mut fake = Fake::new();
    fake.bounding = [Cap::CAP_CHOWN, Cap::CAP_KILL, Cap::CAP_SYS_ADMIN]
        .into_iter()
        .collect();
    let c = caps(json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"]
    }));
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
    apply_with(&mut fake, None).expect("ok");
    assert!(fake.bounding.is_empty());
    assert!(fake.log.contains(&"set Effective []".to_string()));
    assert!(fake.log.contains(&"set Permitted []".to_string()));
}

#[test]
fn a_second_bounding_pass_drops_nothing() {
    let mut fake = Fake::new();
    let c = caps(json!({"bounding": ["CAP_CHOWN"]}));
    drop_bounding_with(&mut fake, Some(&c)).expect("ok");
    let dropped = fake.log.len();
    assert_eq!(dropped, ::caps::all().len() - 1);
    apply_with(&mut fake, Some(&c)).expect("ok");
    assert!(fake.log[dropped..].iter().all(|l| !l.starts_with("drop")));
}

#[test]
fn a_cap_the_kernel_lacks_is_an_error_naming_it() {
    let mut fake = Fake::new();
    fake.supported.remove(&Cap::CAP_CHECKPOINT_RESTORE);
    let c = caps(json!({"permitted": ["CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"]}));
    let err = apply_with(&mut fake, Some(&c)).expect_err("unsupported");
    assert_eq!(
        err.to_string(),
        "process.capabilities.permitted: CAP_CHECKPOINT_RESTORE is not supported by the running kernel"
    );
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
