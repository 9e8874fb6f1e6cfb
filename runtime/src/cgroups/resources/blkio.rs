//! `linux.resources.blockIO` (v1 blkio, v2 io).
//!
//! Weights: like runc 1.1 we prefer the BFQ files when the kernel has them (`blkio.bfq.weight`
//! on v1 takes the same 10..1000 range; `io.bfq.weight` on v2 too). Without BFQ, v2 falls back
//! to `io.weight` with runc's `ConvertBlkIOToIOWeightValue` (10..1000 → 1..10000).
//! Throttles: v1 has one file per kind ("MAJ:MIN RATE"), v2 one `io.max` with `rbps=`, `wbps=`,
//! `riops=`, `wiops=` keys.

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use super::{Probe, Version, Write};
use crate::cgroups::error::CgroupError;

const F: &str = "linux.resources.blockIO";

/// runc's `ConvertBlkIOToIOWeightValue`.
pub(crate) fn blkio_weight_to_io_weight(w: u16) -> u64 {
    if w == 0 {
        return 0;
    }
    1 + (u64::from(w).saturating_sub(10) * 9999) / 990
}

pub(super) fn blkio(
    v: Version,
    b: &LinuxBlockIo,
    probe: &dyn Probe,
) -> Result<Vec<Write>, CgroupError> {
    match v {
        Version::V1 => Ok(v1(b, probe)),
        Version::V2 => v2(b, probe),
    }
}

fn throttles(
    b: &LinuxBlockIo,
) -> [(
    &'static str,
    &Option<Vec<LinuxThrottleDevice>>,
    &'static str,
    &'static str,
); 4] {
    [
        (
            "throttleReadBpsDevice",
            b.throttle_read_bps_device(),
            "blkio.throttle.read_bps_device",
            "rbps",
        ),
        (
            "throttleWriteBpsDevice",
            b.throttle_write_bps_device(),
            "blkio.throttle.write_bps_device",
            "wbps",
        ),
        (
            "throttleReadIOPSDevice",
            b.throttle_read_iops_device(),
            "blkio.throttle.read_iops_device",
            "riops",
        ),
        (
            "throttleWriteIOPSDevice",
            b.throttle_write_iops_device(),
            "blkio.throttle.write_iops_device",
            "wiops",
        ),
    ]
}

fn v1(b: &LinuxBlockIo, probe: &dyn Probe) -> Vec<Write> {
    let bfq = probe.exists("blkio", "blkio.bfq.weight");
    let (weight_file, weight_device_file) = if bfq {
        ("blkio.bfq.weight", "blkio.bfq.weight_device")
    } else {
        ("blkio.weight", "blkio.weight_device")
    };
    let mut out = Vec::new();
    let field = |f: &str| format!("{F}.{f}");
    if let Some(wt) = b.weight().filter(|w| *w != 0) {
        out.push(Write::new(
            "blkio",
            weight_file,
            wt.to_string(),
            field("weight"),
        ));
    }
    if let Some(lw) = b.leaf_weight().filter(|w| *w != 0) {
        out.push(Write::new(
            "blkio",
            "blkio.leaf_weight",
            lw.to_string(),
            field("leafWeight"),
        ));
    }
    for (i, d) in b.weight_device().iter().flatten().enumerate() {
        let dev = format!("{}:{}", d.major(), d.minor());
        if let Some(wt) = d.weight() {
            let f = format!("{F}.weightDevice[{i}].weight");
            out.push(Write::new(
                "blkio",
                weight_device_file,
                format!("{dev} {wt}"),
                f,
            ));
        }
        if let Some(lw) = d.leaf_weight() {
            let f = format!("{F}.weightDevice[{i}].leafWeight");
            out.push(Write::new(
                "blkio",
                "blkio.leaf_weight_device",
                format!("{dev} {lw}"),
                f,
            ));
        }
    }
    for (name, list, file, _) in throttles(b) {
        for (i, d) in list.iter().flatten().enumerate() {
            let value = format!("{}:{} {}", d.major(), d.minor(), d.rate());
            out.push(Write::new("blkio", file, value, format!("{F}.{name}[{i}]")));
        }
    }
    out
}

fn v2(b: &LinuxBlockIo, probe: &dyn Probe) -> Result<Vec<Write>, CgroupError> {
    let leaf = b.leaf_weight().is_some_and(|w| w != 0)
        || b.weight_device()
            .iter()
            .flatten()
            .any(|d| d.leaf_weight().is_some());
    if leaf {
        return Err(CgroupError::unsupported(
            format!("{F}.leafWeight"),
            "leaf weights are not supported on cgroup v2",
        ));
    }
    let bfq = probe.exists("io", "io.bfq.weight");
    let mut out = Vec::new();
    if let Some(wt) = b.weight().filter(|w| *w != 0) {
        let (file, value) = if bfq {
            ("io.bfq.weight", u64::from(wt))
        } else {
            ("io.weight", blkio_weight_to_io_weight(wt))
        };
        out.push(Write::new(
            "io",
            file,
            value.to_string(),
            format!("{F}.weight"),
        ));
    }
    for (i, d) in b.weight_device().iter().flatten().enumerate() {
        if let Some(wt) = d.weight() {
            let (file, value) = if bfq {
                ("io.bfq.weight", u64::from(wt))
            } else {
                ("io.weight", blkio_weight_to_io_weight(wt))
            };
            let v = format!("{}:{} {}", d.major(), d.minor(), value);
            out.push(Write::new(
                "io",
                file,
                v,
                format!("{F}.weightDevice[{i}].weight"),
            ));
        }
    }
    for (name, list, _, key) in throttles(b) {
        for (i, d) in list.iter().flatten().enumerate() {
            let value = format!("{}:{} {}={}", d.major(), d.minor(), key, d.rate());
            out.push(Write::new(
                "io",
                "io.max",
                value,
                format!("{F}.{name}[{i}]"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use rstest::rstest;

    fn bio(json: &str) -> LinuxBlockIo {
        serde_json::from_str(json).expect("blockIO json")
    }

    const THROTTLE: &str = r#"{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
        "throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":100}]}"#;

    #[rstest]
    #[case::min(10, 1)]
    #[case::default_500(500, 4950)]
    #[case::max(1000, 10000)]
    fn converts_weight(#[case] w: u16, #[case] want: u64) {
        assert_eq!(blkio_weight_to_io_weight(w), want);
    }

    #[rstest]
    #[case::v1_plain(Version::V1, false, r#"{"weight":300,"weightDevice":[{"major":8,"minor":0,"weight":200}]}"#,
        &["blkio.weight=300", "blkio.weight_device=8:0 200"][..])]
    #[case::v1_bfq(Version::V1, true, r#"{"weight":300}"#, &["blkio.bfq.weight=300"][..])]
    #[case::v1_throttle(Version::V1, false, THROTTLE,
        &["blkio.throttle.read_bps_device=8:0 1048576", "blkio.throttle.write_iops_device=8:16 100"][..])]
    #[case::v2_io_weight(Version::V2, false, r#"{"weight":500}"#, &["io.weight=4950"][..])]
    #[case::v2_bfq(Version::V2, true, r#"{"weight":500}"#, &["io.bfq.weight=500"][..])]
    #[case::v2_throttle(Version::V2, false, THROTTLE, &["io.max=8:0 rbps=1048576", "io.max=8:16 wiops=100"][..])]
    fn renders(#[case] v: Version, #[case] bfq: bool, #[case] json: &str, #[case] want: &[&str]) {
        let probe = if bfq {
            MapProbe::with(&[
                ("blkio/blkio.bfq.weight", "100"),
                ("io/io.bfq.weight", "default 100"),
            ])
        } else {
            MapProbe::default()
        };
        assert_eq!(render(&blkio(v, &bio(json), &probe).expect("plan")), want);
    }

    #[test]
    fn v2_refuses_leaf_weight() {
        let err = blkio(
            Version::V2,
            &bio(r#"{"leafWeight":10}"#),
            &MapProbe::default(),
        )
        .expect_err("leaf");
        assert!(
            err.to_string()
                .starts_with("linux.resources.blockIO.leafWeight"),
            "{err}"
        );
    }
}
