//! Robustness fuzz of ferrun's config loading (`container::config::load_bundle`: JSON parse,
//! capability filtering, the oci-spec types, validation, seccomp compilation, id-mapped mount
//! requests): mutants of rich configs must be refused with an error, never panic. Stable Rust
//! and in process (cargo-fuzz needs nightly), with a seeded generator so a finding reproduces.
//! The quick test runs a few hundred inputs; the campaign runs for FERRUN_CONFIG_FUZZ_SECS:
//! `FERRUN_CONFIG_FUZZ_SECS=600 cargo test -p ferrun --release --test config_fuzz -- --ignored --nocapture`

use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The default spec plus every field family the loader checks.
fn rich(rootless: bool) -> Value {
    let mut s = ferrun::specgen::default_spec(rootless);
    s["process"]["rlimits"] = json!([{"type": "RLIMIT_CPU", "soft": 10, "hard": 20}, {"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64}]);
    s["process"]["user"] =
        json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 18});
    s["process"]["capabilities"]["inheritable"] = json!(["CAP_KILL", "CAP_FOO"]);
    s["mounts"].as_array_mut().unwrap().push(json!({"destination": "/b", "type": "bind", "source": "/tmp", "options": ["rbind", "ro", "rro", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}));
    s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    s["linux"]["sysctl"] = json!({"kernel.shmmax": "1024", "net.ipv4.ip_forward": "1"});
    s["linux"]["devices"] =
        json!([{"path": "/dev/fz", "type": "c", "major": 1, "minor": 5, "fileMode": 438}]);
    s["linux"]["resources"]["memory"] = json!({"limit": 67108864, "swap": -1});
    s["linux"]["resources"]["cpu"] =
        json!({"shares": 512, "quota": 1000, "period": 100000, "cpus": "0-1"});
    s["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 3}]}]});
    s["hooks"] = json!({"prestart": [{"path": "/bin/true", "timeout": 0}], "createRuntime": [{"path": "relative"}]});
    s["linux"]["intelRdt"] = json!({"closID": "x"});
    s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 9});
    s["linux"]["personality"] = json!({"domain": "LINUX32"});
    s
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "0",
    "1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\"",
    "\"/\"",
    "\"..\"",
    "\"\\u0000\"",
    "[]",
    "{}",
    "\"CAP_\"",
    "\"SCMP_ACT_KILL\"",
];

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Text mutations (spans deleted or duplicated, tokens inserted, numbers made extreme,
/// values swapped between configs) and structural ones (a field set to another's value).
fn mutant(rng: &mut Rng, corpus: &[String]) -> String {
    let mut s = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(3) {
        let a = floor(&s, rng.below(s.len() + 1));
        let b = floor(&s, a + 1 + rng.below(16)).max(a);
        s = match rng.below(5) {
            0 => format!("{}{}", &s[..a], &s[b..]),
            1 => format!("{}{}{}", &s[..b], &s[a..b], &s[b..]),
            2 => format!("{}{}{}", &s[..a], TOKENS[rng.below(TOKENS.len())], &s[a..]),
            3 => match s[a..].find(|c: char| c.is_ascii_digit()) {
                Some(off) => {
                    let at = a + off;
                    let end = s[at..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(s.len(), |e| at + e);
                    let v = [
                        "0",
                        "4294967295",
                        "4294967296",
                        "18446744073709551615",
                        "99999999999999999999",
                    ];
                    format!("{}{}{}", &s[..at], v[rng.below(v.len())], &s[end..])
                }
                None => s,
            },
            _ => structural(rng, &s).unwrap_or(s),
        };
    }
    s
}

/// Replaces a random value of the document by a random value found elsewhere in it.
fn structural(rng: &mut Rng, s: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(s).ok()?;
    let mut pointers = Vec::new();
    collect(&doc, String::new(), &mut pointers);
    let (to, from) = (
        &pointers[rng.below(pointers.len())],
        &pointers[rng.below(pointers.len())],
    );
    let value = doc.pointer(from)?.clone();
    *doc.pointer_mut(to)? = value;
    Some(doc.to_string())
}

fn collect(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            collect(
                x,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| collect(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// Feeds mutants to load_bundle; returns (inputs, accepted, panics with their inputs).
fn campaign(seed: u64, time: Duration, max: u64) -> (u64, u64, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rootfs")).unwrap();
    let corpus: Vec<String> = [
        ferrun::specgen::default_spec(false),
        ferrun::specgen::default_spec(true),
        rich(false),
        rich(true),
    ]
    .iter()
    .map(|v| serde_json::to_string_pretty(v).unwrap())
    .collect();
    let mut rng = Rng(seed);
    let (mut inputs, mut accepted, mut panics) = (0u64, 0u64, Vec::new());
    let start = Instant::now();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed() < time && inputs < max {
        let input = mutant(&mut rng, &corpus);
        std::fs::write(dir.path().join("config.json"), &input).unwrap();
        inputs += 1;
        match catch_unwind(AssertUnwindSafe(|| {
            ferrun::container::config::load_bundle(dir.path())
        })) {
            Ok(Ok(_)) => accepted += 1,
            Ok(Err(_)) => {}
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panics.push((msg, input));
            }
        }
    }
    std::panic::set_hook(hook);
    (inputs, accepted, panics)
}

fn report(inputs: u64, accepted: u64, panics: &[(String, String)]) {
    eprintln!(
        "config fuzz: {inputs} inputs, {accepted} accepted, {} panic(s)",
        panics.len()
    );
    for (msg, input) in panics.iter().take(5) {
        eprintln!("panic: {msg}\ninput: {input}\n");
    }
}

#[test]
fn mutated_configs_never_panic_the_loader() {
    let (inputs, accepted, panics) = campaign(1, Duration::from_secs(60), 400);
    report(inputs, accepted, &panics);
    assert_eq!(inputs, 400);
    assert!(panics.is_empty());
}

#[test]
#[ignore = "a timed campaign: FERRUN_CONFIG_FUZZ_SECS (default 600) and FERRUN_CONFIG_FUZZ_SEED"]
fn config_fuzz_campaign() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let secs = env("FERRUN_CONFIG_FUZZ_SECS", 600);
    let (inputs, accepted, panics) = campaign(
        env("FERRUN_CONFIG_FUZZ_SEED", 7),
        Duration::from_secs(secs),
        u64::MAX,
    );
    report(inputs, accepted, &panics);
    assert!(panics.is_empty());
}
