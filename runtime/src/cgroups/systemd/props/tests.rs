use super::*;
use rstest::rstest;

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).expect("resources json")
}

fn ctx(version: u32) -> Context {
    Context {
        version,
        devices: false,
        user: false,
    }
}

/// `Name=value` per property, in order, for compact expectations.
fn render(props: &[Property]) -> Vec<String> {
    props
        .iter()
        .map(|p| {
            let v = match &p.value {
                Value::Bool(b) => b.to_string(),
                Value::U64(INFINITY) => "infinity".into(),
                Value::U64(n) => n.to_string(),
                Value::Str(s) => s.clone(),
                Value::U32s(v) => format!("{v:?}"),
                Value::Bytes(v) => format!("{v:?}"),
                Value::Pairs(v) => format!("{v:?}"),
                Value::Strs(v) => format!("{v:?}"),
            };
            format!("{}={v}", p.name)
        })
        .collect()
}

fn translate(json: &str, version: u32) -> Vec<String> {
    render(&resource_properties(&resources(json), ctx(version)).expect("translates"))
}

#[rstest]
#[case::memory_limit(r#"{"memory":{"limit":67108864}}"#, &["MemoryMax=67108864"][..])]
#[case::memory_unlimited(r#"{"memory":{"limit":-1}}"#, &["MemoryMax=infinity", "MemorySwapMax=infinity"][..])]
#[case::reservation(r#"{"memory":{"reservation":1048576}}"#, &["MemoryLow=1048576"][..])]
#[case::swap_is_memsw_minus_memory(
    r#"{"memory":{"limit":1000,"swap":3000}}"#,
    &["MemoryMax=1000", "MemorySwapMax=2000"][..]
)]
#[case::swap_unlimited(r#"{"memory":{"limit":1000,"swap":-1}}"#, &["MemoryMax=1000", "MemorySwapMax=infinity"][..])]
#[case::shares_to_weight(r#"{"cpu":{"shares":1024}}"#, &["CPUWeight=39"][..])]
#[case::quota_rounds_up_to_10ms(
    r#"{"cpu":{"quota":12345,"period":100000}}"#,
    &["CPUQuotaPeriodUSec=100000", "CPUQuotaPerSecUSec=130000"][..]
)]
#[case::quota_default_period(r#"{"cpu":{"quota":50000}}"#, &["CPUQuotaPerSecUSec=500000"][..])]
#[case::quota_unlimited(r#"{"cpu":{"quota":-1}}"#, &["CPUQuotaPerSecUSec=infinity"][..])]
#[case::period_alone(r#"{"cpu":{"period":50000}}"#, &["CPUQuotaPeriodUSec=50000"][..])]
#[case::cpuset(
    r#"{"cpu":{"cpus":"0-2,9","mems":"0"}}"#,
    &["AllowedCPUs=[7, 2]", "AllowedMemoryNodes=[1]"][..]
)]
#[case::pids(r#"{"pids":{"limit":16}}"#, &["TasksMax=16"][..])]
#[case::pids_unlimited(r#"{"pids":{"limit":-1}}"#, &["TasksMax=infinity"][..])]
#[case::pids_unset(r#"{"pids":{"limit":0}}"#, &[][..])]
#[case::io_weight(r#"{"blockIO":{"weight":500}}"#, &["IOWeight=4950"][..])]
#[case::files_only(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":0}],"cpu":{"idle":1}}"#, &[][..])]
fn translates_resources_like_runc(#[case] json: &str, #[case] want: &[&str]) {
    assert_eq!(translate(json, 252), want);
}

#[rstest]
#[case::no_period_before_242(r#"{"cpu":{"quota":50000,"period":100000}}"#, 241, &["CPUQuotaPerSecUSec=500000"][..])]
#[case::no_cpuset_before_244(r#"{"cpu":{"cpus":"0"}}"#, 243, &[][..])]
fn leaves_newer_properties_to_the_files_on_old_systemd(
    #[case] json: &str,
    #[case] version: u32,
    #[case] want: &[&str],
) {
    assert_eq!(translate(json, version), want);
}

#[rstest]
#[case::cpu_max(r#"{"cpu.max":"max 50000"}"#, &["CPUQuotaPeriodUSec=50000", "CPUQuotaPerSecUSec=infinity"][..])]
#[case::cpu_max_quota(r#"{"cpu.max":"25000"}"#, &["CPUQuotaPeriodUSec=100000", "CPUQuotaPerSecUSec=250000"][..])]
#[case::weight(r#"{"cpu.weight":"200"}"#, &["CPUWeight=200"][..])]
#[case::memory(
    r#"{"memory.high":"max","memory.min":"4096","pids.max":"7"}"#,
    &["MemoryHigh=infinity", "MemoryMin=4096", "TasksMax=7"][..]
)]
#[case::cpuset(r#"{"cpuset.cpus":"1"}"#, &["AllowedCPUs=[2]"][..])]
#[case::files_only(r#"{"memory.oom.group":"1","io.max":"8:0 rbps=1"}"#, &[][..])]
fn translates_unified_keys_like_runc(#[case] unified: &str, #[case] want: &[&str]) {
    let json = format!(r#"{{"unified":{unified}}}"#);
    assert_eq!(translate(&json, 252), want);
}

#[rstest]
#[case::swap_without_limit(r#"{"memory":{"swap":3000}}"#, "linux.resources.memory.swap")]
#[case::bad_cpus(r#"{"cpu":{"cpus":"3-1"}}"#, "linux.resources.cpu.cpus")]
#[case::bad_unified(r#"{"unified":{"pids.max":"lots"}}"#, "linux.resources.unified")]
fn refuses_what_cannot_be_translated_naming_the_field(#[case] json: &str, #[case] field: &str) {
    let err = resource_properties(&resources(json), ctx(252)).expect_err("refused");
    assert!(err.to_string().starts_with(field), "{err}");
}

#[rstest]
#[case::single("5", &[0b10_0000][..])]
#[case::range("0-3", &[0b1111][..])]
#[case::second_byte("8,10", &[0, 0b101][..])]
#[case::spaces(" 0 , 2-3 \n", &[0b1101][..])]
fn converts_lists_to_little_endian_bitmasks(#[case] list: &str, #[case] want: &[u8]) {
    assert_eq!(range_to_bits(list).expect("valid"), want);
}

#[rstest]
#[case::empty("")]
#[case::reversed("3-1")]
#[case::word("all")]
#[case::huge("0-99999999")]
fn refuses_bad_lists(#[case] list: &str) {
    assert!(range_to_bits(list).is_err(), "{list:?}");
}

fn devices(json: &str, version: u32, user: bool) -> Vec<String> {
    let r = resources(&format!(r#"{{"devices":{json}}}"#));
    let c = Context {
        version,
        devices: true,
        user,
    };
    render(&resource_properties(&r, c).expect("translates"))
}

#[test]
fn default_policy_is_strict_with_runcs_default_devices() {
    let got = devices(r#"[{"allow":false,"access":"rwm"}]"#, 252, false);
    assert_eq!(got[..2], ["DevicePolicy=strict", "DeviceAllow=[]"]);
    let list = &got[2];
    for entry in [
        r#"("char-*", "m")"#,
        r#"("block-*", "m")"#,
        r#"("/dev/char/1:3", "rwm")"#,
        r#"("char-136", "rwm")"#,
        r#"("/dev/char/10:200", "rwm")"#,
    ] {
        assert!(list.contains(entry), "{entry} missing from {list}");
    }
}

#[rstest]
#[case::allow_all(r#"[{"allow":true,"access":"rwm"}]"#, 252)]
#[case::deny_list(r#"[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":3,"access":"rwm"}]"#, 252)]
#[case::wildcard_major(
    r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","minor":3,"access":"r"}]"#,
    252
)]
#[case::major_only_before_240(r#"[{"allow":false,"access":"rwm"}]"#, 239)]
fn leaves_what_systemd_cannot_say_to_ferruns_own_filter(#[case] json: &str, #[case] version: u32) {
    assert_eq!(
        devices(json, version, false),
        ["DevicePolicy=auto", "DeviceAllow=[]"]
    );
}

#[test]
fn user_instances_get_no_device_policy() {
    assert!(devices(r#"[{"allow":false,"access":"rwm"}]"#, 252, true).is_empty());
}

#[test]
fn a_scope_is_delegated_and_accounted() {
    let u = UnitRecord::parse("c1", Some("machine.slice:ferrun:c1"), false).expect("unit");
    assert_eq!(
        render(&unit_properties(&u, 42)),
        [
            "Description=libcontainer container c1",
            "Slice=machine.slice",
            "Delegate=true",
            "PIDs=[42]",
            "MemoryAccounting=true",
            "CPUAccounting=true",
            "IOAccounting=true",
            "TasksAccounting=true",
            "DefaultDependencies=false",
        ]
    );
}

#[test]
fn a_slice_wants_its_parent_and_is_not_delegated() {
    let u = UnitRecord::parse("c1", Some("machine.slice:ferrun:pod.slice"), false).expect("unit");
    let got = render(&unit_properties(&u, 42));
    assert!(
        got.contains(&r#"Wants=["machine.slice"]"#.to_string()),
        "{got:?}"
    );
    assert!(!got
        .iter()
        .any(|p| p.starts_with("Slice=") || p.starts_with("Delegate=")));
}
