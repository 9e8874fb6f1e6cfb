//! `process.capabilities` (runtime-spec config.md#linux-process): the five sets through the
//! `caps` crate.
//!
//! Order, as runc's `finalizeNamespace`: the bounding set is reduced first, while the
//! process still has CAP_SETPCAP in its effective set (the user switch empties the effective
//! set); then, after the user switch, inheritable → effective → permitted → ambient.
//! Inheritable goes first because raising it is checked against the current permitted set;
//! permitted goes after effective because the kernel rejects a permitted set smaller than
//! the current effective one; ambient goes last because an ambient cap must be both
//! permitted and inheritable.
//!
//! A missing set (or a missing `capabilities` object) means the empty set, as in runc.
//! An ambient capability that is not both permitted and inheritable in the config is left
//! out, as runc 1.1 does (the kernel would refuse it; `runc spec`'s default config relies on
//! this); raising one that is both and still failing is an error. Difference from runc 1.1,
//! on purpose: a capability the running kernel does not know is an error naming it (runc
//! logs a warning and ignores it). Unknown names never get here: oci-spec refuses them when
//! config.json is parsed, naming the string.

use std::collections::HashSet;

use ::caps::errors::CapsError as LibCapsError;
use ::caps::{CapSet, Capability as Cap, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    #[error("process.capabilities.{set}: {cap} is not known to the caps crate")]
    UnknownName { set: &'static str, cap: String },
    #[error("process.capabilities.{set}: {cap} is not supported by the running kernel")]
    UnsupportedByKernel { set: &'static str, cap: String },
    #[error("dropping {cap} from the bounding set: {source}")]
    DropBounding {
        cap: String,
        #[source]
        source: LibCapsError,
    },
    #[error("reading the bounding set: {source}")]
    ReadBounding {
        #[source]
        source: LibCapsError,
    },
    #[error("setting the {set} set to {caps}: {source}")]
    Set {
        set: &'static str,
        caps: String,
        #[source]
        source: LibCapsError,
    },
    #[error("raising ambient {cap} (it must be permitted and inheritable): {source}")]
    RaiseAmbient {
        cap: String,
        #[source]
        source: LibCapsError,
    },
    #[error("clearing the ambient set: {source}")]
    ClearAmbient {
        #[source]
        source: LibCapsError,
    },
}

/// The five sets, resolved to the caps crate's type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: CapsHashSet,
    pub effective: CapsHashSet,
    pub inheritable: CapsHashSet,
    pub permitted: CapsHashSet,
    pub ambient: CapsHashSet,
}

impl CapSets {
    /// Resolve the config's sets, refusing caps the kernel (`supported`) does not know.
    pub fn resolve(
        c: Option<&LinuxCapabilities>,
        supported: &CapsHashSet,
    ) -> Result<Self, CapsError> {
        let Some(c) = c else {
            return Ok(Self::default());
        };
        let one = |set, caps: &Option<Capabilities>| resolve_set(set, caps.as_ref(), supported);
        Ok(Self {
            bounding: one("bounding", c.bounding())?,
            effective: one("effective", c.effective())?,
            inheritable: one("inheritable", c.inheritable())?,
            permitted: one("permitted", c.permitted())?,
            ambient: one("ambient", c.ambient())?,
        })
    }
}

fn resolve_set(
    set: &'static str,
    caps: Option<&Capabilities>,
    supported: &CapsHashSet,
) -> Result<CapsHashSet, CapsError> {
    let mut out = HashSet::new();
    for spec_cap in caps.into_iter().flatten() {
        let name = format!("CAP_{spec_cap}");
        let cap: Cap = name.parse().map_err(|_| CapsError::UnknownName {
            set,
            cap: name.clone(),
        })?;
        if !supported.contains(&cap) {
            return Err(CapsError::UnsupportedByKernel { set, cap: name });
        }
        out.insert(cap);
    }
    Ok(out)
}

/// The capability syscalls, behind a seam so the order is unit-testable.
pub trait CapsSys {
    /// Every capability the running kernel knows.
    fn supported(&self) -> CapsHashSet;
    /// Whether `cap` is in the calling thread's bounding set.
    fn in_bounding(&self, cap: Cap) -> Result<bool, LibCapsError>;
    fn drop_bounding(&mut self, cap: Cap) -> Result<(), LibCapsError>;
    /// Set one of effective, permitted, inheritable.
    fn set(&mut self, set: CapSet, caps: &CapsHashSet) -> Result<(), LibCapsError>;
    fn clear_ambient(&mut self) -> Result<(), LibCapsError>;
    fn raise_ambient(&mut self, cap: Cap) -> Result<(), LibCapsError>;
}

/// The calling thread's capabilities through the caps crate.
pub struct HostCaps;

impl CapsSys for HostCaps {
    /// The caps crate's `thread_all_supported` and `read(Bounding)` probe each of its 41
    /// capabilities with one `PR_CAPBSET_READ` apiece, each time they are called. That
    /// prctl fails (EINVAL) exactly for the capabilities above the kernel's last one
    /// (`cap_valid`), so the supported ones are a prefix of the caps crate's list, found
    /// here with one probe on a current kernel and a bisection (6 probes) on an older one.
    /// No /proc/sys/kernel/cap_last_cap: the init calls this behind `pivot_root`, where the
    /// container may have no procfs.
    fn supported(&self) -> CapsHashSet {
        let mut known: Vec<Cap> = ::caps::all().into_iter().collect();
        known.sort_by_key(|c| c.index());
        let valid = |c: &Cap| ::caps::has_cap(None, CapSet::Bounding, *c).is_ok();
        let n = match known.last() {
            Some(last) if valid(last) => known.len(),
            _ => known.partition_point(valid),
        };
        known.truncate(n);
        known.into_iter().collect()
    }
    fn in_bounding(&self, cap: Cap) -> Result<bool, LibCapsError> {
        ::caps::has_cap(None, CapSet::Bounding, cap)
    }
    fn drop_bounding(&mut self, cap: Cap) -> Result<(), LibCapsError> {
        ::caps::drop(None, CapSet::Bounding, cap)
    }
    fn set(&mut self, set: CapSet, caps: &CapsHashSet) -> Result<(), LibCapsError> {
        ::caps::set(None, set, caps)
    }
    fn clear_ambient(&mut self) -> Result<(), LibCapsError> {
        ::caps::clear(None, CapSet::Ambient)
    }
    fn raise_ambient(&mut self, cap: Cap) -> Result<(), LibCapsError> {
        ::caps::raise(None, CapSet::Ambient, cap)
    }
}

/// Check that every named capability is known to the running kernel, without changing
/// anything (for `create`, before anything is made).
pub fn validate(c: Option<&LinuxCapabilities>) -> Result<(), CapsError> {
    CapSets::resolve(c, &HostCaps.supported()).map(drop)
}

/// Apply all five sets: bounding first, then inheritable, effective, permitted, ambient.
pub fn apply(c: &LinuxCapabilities) -> Result<(), CapsError> {
    drop_bounding_with(&mut HostCaps, Some(c))?;
    apply_with(&mut HostCaps, Some(c))
}

/// Set inheritable, effective, permitted and ambient, in that order (`None`: every set
/// empty). The bounding set is [`drop_bounding_with`]'s, called before the user switch.
pub fn apply_with(sys: &mut dyn CapsSys, c: Option<&LinuxCapabilities>) -> Result<(), CapsError> {
    let sets = CapSets::resolve(c, &sys.supported())?;
    set_process_sets(sys, &sets)
}

/// Reduce the bounding set to `config` (`None`: empty). Call it before the user switch:
/// it needs CAP_SETPCAP in the effective set.
pub fn drop_bounding_with(
    sys: &mut dyn CapsSys,
    c: Option<&LinuxCapabilities>,
) -> Result<(), CapsError> {
    let supported = sys.supported();
    let sets = CapSets::resolve(c, &supported)?;
    drop_bounding(sys, &supported, &sets.bounding)
}

/// Drop every supported capability outside `keep`, without reading the set first: dropping
/// one that is already gone changes nothing, so the result is the same set, for one prctl
/// per dropped capability instead of a read of all of them as well. Only a refused drop
/// costs a read, to tell a capability already gone (fine: nothing to do, as when the
/// caller lacks CAP_SETPCAP but the set is already small enough) from a real failure.
fn drop_bounding(
    sys: &mut dyn CapsSys,
    supported: &CapsHashSet,
    keep: &CapsHashSet,
) -> Result<(), CapsError> {
    let mut to_drop: Vec<Cap> = supported.difference(keep).copied().collect();
    to_drop.sort_by_key(|c| c.index());
    for cap in to_drop {
        let Err(source) = sys.drop_bounding(cap) else {
            continue;
        };
        match sys.in_bounding(cap) {
            Ok(false) => {}
            Ok(true) => {
                return Err(CapsError::DropBounding {
                    cap: cap.to_string(),
                    source,
                })
            }
            Err(source) => return Err(CapsError::ReadBounding { source }),
        }
    }
    Ok(())
}

fn set_process_sets(sys: &mut dyn CapsSys, sets: &CapSets) -> Result<(), CapsError> {
    for (name, set, caps) in [
        ("inheritable", CapSet::Inheritable, &sets.inheritable),
        ("effective", CapSet::Effective, &sets.effective),
        ("permitted", CapSet::Permitted, &sets.permitted),
    ] {
        sys.set(set, caps).map_err(|source| CapsError::Set {
            set: name,
            caps: list(caps),
            source,
        })?;
    }
    sys.clear_ambient()
        .map_err(|source| CapsError::ClearAmbient { source })?;
    // The kernel only lets a capability into the ambient set when it is both permitted and
    // inheritable. runc 1.1 skips the others, and its own `runc spec` default lists ambient
    // capabilities without inheritable ones, so refusing them would break that config.
    let mut ambient: Vec<Cap> = sets
        .ambient
        .iter()
        .copied()
        .filter(|c| sets.permitted.contains(c) && sets.inheritable.contains(c))
        .collect();
    ambient.sort_by_key(|c| c.index());
    for cap in ambient {
        sys.raise_ambient(cap)
            .map_err(|source| CapsError::RaiseAmbient {
                cap: cap.to_string(),
                source,
            })?;
    }
    Ok(())
}

fn list(caps: &CapsHashSet) -> String {
    let mut v: Vec<Cap> = caps.iter().copied().collect();
    v.sort_by_key(|c| c.index());
    let names: Vec<String> = v.iter().map(|c| c.to_string()).collect();
    format!("[{}]", names.join(" "))
}

#[cfg(test)]
mod tests;
