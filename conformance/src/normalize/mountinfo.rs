//! /proc/<pid>/mountinfo (proc(5)) -> a list of mounts without ids or device numbers.
//!
//! `parse` keeps everything a matcher may ask about (target, type, source, root, per-mount
//! options, super options, propagation); `snapshot` keeps only what is stable across hosts and
//! runtimes: block-device sources and their filesystem types become `<DEV>`/`<BLOCKFS>`.

use super::Context;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    pub root: String,
    pub target: String,
    pub options: Vec<String>,
    pub propagation: Vec<String>,
    pub fstype: String,
    pub source: String,
    pub super_options: Vec<String>,
}

/// Undoes the kernel's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &s[i + 1..(i + 4).min(s.len())];
            if oct.len() == 3 && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                if let Ok(v) = u8::from_str_radix(oct, 8) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_opts(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|o| !o.is_empty())
        .map(String::from)
        .collect()
}

/// Parses mountinfo text; malformed lines are skipped (the kernel does not write any).
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let sep = fields.iter().position(|f| *f == "-")?;
    if sep < 6 || fields.len() < sep + 3 {
        return None;
    }
    let propagation = fields[6..sep]
        .iter()
        .map(|f| f.split(':').next().unwrap_or(f).to_string())
        .collect();
    Some(Mount {
        root: unescape(fields[3]),
        target: unescape(fields[4]),
        options: split_opts(fields[5]),
        propagation,
        fstype: fields[sep + 1].to_string(),
        source: unescape(fields[sep + 2]),
        super_options: fields
            .get(sep + 3)
            .map(|s| split_opts(s))
            .unwrap_or_default(),
    })
}

fn propagation(m: &Mount) -> Vec<String> {
    if m.propagation.is_empty() {
        vec!["private".to_string()]
    } else {
        m.propagation.clone()
    }
}

/// Full form for matchers: values as the kernel shows them (matchers see raw observations;
/// only snapshots are normalized).
pub fn to_json(mounts: &[Mount]) -> Value {
    Value::Array(
        mounts
            .iter()
            .map(|m| {
                json!({
                    "target": m.target,
                    "type": m.fstype,
                    "source": m.source,
                    "root": m.root,
                    "options": m.options,
                    "super_options": m.super_options,
                    "propagation": propagation(m),
                })
            })
            .collect(),
    )
}

/// Stable form for snapshots.
pub fn snapshot(mounts: &[Mount], ctx: &Context) -> Value {
    Value::Array(
        mounts
            .iter()
            .map(|m| {
                let block = m.source.starts_with("/dev/") && m.fstype != "devtmpfs";
                let root = ctx.scrub(&m.root);
                json!({
                    "target": m.target,
                    "type": if block { "<BLOCKFS>".to_string() } else { m.fstype.clone() },
                    "source": if block { "<DEV>".to_string() } else { ctx.scrub(&m.source) },
                    "root": if root.starts_with("<BUNDLE>") || root == "/" { root } else { "<HOSTPATH>".into() },
                    "options": m.options,
                    "propagation": propagation(m),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
1201 1100 254:1 /work/b/run1__x/rootfs / ro,relatime master:1 - ext4 /dev/vda1 rw,errors=remount-ro
1202 1201 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1203 1201 0:62 / /my\\040dir ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,size=64k,inode64
";

    #[test]
    fn parses_fields_and_escapes() {
        let m = parse(SAMPLE);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].target, "/");
        assert_eq!(m[0].propagation, vec!["master"]);
        assert_eq!(m[2].target, "/my dir");
        assert_eq!(m[2].options, vec!["ro", "nosuid", "nodev", "noexec"]);
        assert_eq!(m[2].super_options, vec!["ro", "size=64k", "inode64"]);
        assert_eq!(m[1].fstype, "proc");
    }

    #[test]
    fn snapshot_hides_host_specifics() {
        let ctx = Context {
            bundle_marker: "run1__x".into(),
            ..Default::default()
        };
        let s = snapshot(&parse(SAMPLE), &ctx);
        assert_eq!(s[0]["source"], "<DEV>");
        assert_eq!(s[0]["type"], "<BLOCKFS>");
        assert_eq!(s[0]["root"], "<BUNDLE>/rootfs");
        assert_eq!(s[1]["propagation"], serde_json::json!(["private"]));
        assert!(s[2].get("super_options").is_none());
    }

    #[test]
    fn skips_garbage_lines() {
        assert!(parse("not a mountinfo line\n").is_empty());
    }
}
