//! CRIU through its RPC interface (`criu swrk`), the way runc drives it. The messages are
//! rust-criu's generated protobuf module; the conversation is ours (`swrk`), since rust-criu's
//! own `Criu` API has no pre-dump, track_mem, config file, LSM options, restore pid or
//! notification callback with state (docs/architecture.md, "CRIU").

pub mod log;
pub mod mounts;
pub mod opts;
pub mod swrk;

use std::path::{Path, PathBuf};

use rpc::{Criu_features, Criu_req, Criu_req_type};
pub use rust_criu::rust_criu_protobuf::rpc;

#[derive(Debug, thiserror::Error)]
pub enum CriuError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} (criu socket): {1}")]
    Socket(&'static str, #[source] nix::errno::Errno),
    /// runc's words: "criu failed: type DUMP errno 0".
    #[error("criu failed: type {kind} errno {errno}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Failed {
        kind: String,
        errno: i32,
        message: String,
    },
    #[error("criu failed: {0}")]
    Exit(String),
    #[error("criu protocol: {0}")]
    Protocol(String),
    #[error("criu did not answer within {0}s")]
    Timeout(u64),
    #[error("wait for criu: {0}")]
    Wait(std::io::Error),
    /// runc's "CRIU version %d must be %d or higher".
    #[error("CRIU version {have} must be {need} or higher")]
    TooOld { have: u32, need: u32 },
    /// runc's "criu is missing features: [...]".
    #[error("criu is missing features: [{0}]")]
    MissingFeatures(String),
    #[error("{0}")]
    Other(String),
}

/// CRIU said no to a dump or restore: its answer, and the Error lines of its log.
#[derive(Debug, thiserror::Error)]
#[error("{verb} of container {id:?} failed: {source}{}", quote(reason.as_deref(), log))]
pub struct Failure {
    pub verb: &'static str,
    pub id: String,
    pub source: CriuError,
    pub log: PathBuf,
    pub reason: Option<String>,
}

impl Failure {
    /// The failure with the reason read from `log`.
    pub fn new(verb: &'static str, id: &str, source: CriuError, log: PathBuf) -> Box<Failure> {
        let reason = log::reason(&log);
        Box::new(Failure {
            verb,
            id: id.to_string(),
            source,
            log,
            reason,
        })
    }
}

fn quote(reason: Option<&str>, log: &Path) -> String {
    match reason {
        Some(r) => format!("; criu's log {} says: {r}", log.display()),
        None => format!(" (no Error line in {})", log.display()),
    }
}

/// The criu binary: `--criu`, else `criu` from $PATH (runc's default).
pub fn binary(flag: Option<&Path>) -> PathBuf {
    flag.map_or_else(|| PathBuf::from("criu"), Path::to_path_buf)
}

/// CRIU's version as runc compares it: major*10000 + minor*100 + sublevel (3.17.1 = 31701).
pub fn version(binary: &Path) -> Result<u32, CriuError> {
    let mut req = Criu_req::new();
    req.set_type(Criu_req_type::VERSION);
    let launch = swrk::Launch {
        binary,
        inherit: &[],
        stdio: false,
    };
    let resp = swrk::call(&launch, req, &mut swrk::Quiet)?;
    let v = &resp.version;
    let part = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok(part(v.major_number()) * 10000 + part(v.minor_number()) * 100 + part(v.sublevel()))
}

/// `need` or newer, else runc's error.
pub fn require(have: u32, need: u32) -> Result<(), CriuError> {
    if have < need {
        return Err(CriuError::TooOld { have, need });
    }
    Ok(())
}

/// runc's feature check before a pre-dump (mem_track) or a lazy-pages dump (lazy_pages).
pub fn check_features(binary: &Path, mem_track: bool, lazy_pages: bool) -> Result<(), CriuError> {
    let mut want = Criu_features::new();
    if mem_track {
        want.set_mem_track(true);
    }
    if lazy_pages {
        want.set_lazy_pages(true);
    }
    let mut req = Criu_req::new();
    req.set_type(Criu_req_type::FEATURE_CHECK);
    req.features = protobuf::MessageField::some(want);
    let launch = swrk::Launch {
        binary,
        inherit: &[],
        stdio: false,
    };
    let resp = swrk::call(&launch, req, &mut swrk::Quiet)
        .map_err(|e| CriuError::Other(format!("CRIU feature check failed: {e}")))?;
    let have = &resp.features;
    let mut missing = Vec::new();
    if mem_track && !have.mem_track() {
        missing.push("MemTrack");
    }
    if lazy_pages && !have.lazy_pages() {
        missing.push("LazyPages");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CriuError::MissingFeatures(missing.join(" ")))
    }
}
