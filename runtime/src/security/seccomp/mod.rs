//! seccomp through libseccomp: [`compile`] turns `linux.seccomp` into a [`Filter`] (pure:
//! nothing reaches the kernel until [`Filter::load`]); [`plan`] holds the rule translation,
//! which matches runc 1.1.
//!
//! The filter is built with libseccomp's NO_NEW_PRIVS attribute off: ferrun sets
//! `no_new_privs` itself, in runc's order (see `security/order.rs`), so loading without
//! `noNewPrivileges` needs CAP_SYS_ADMIN and must happen before capabilities are dropped.
//!
//! Like runc 1.1, a syscall newer than every syscall the profile names returns ENOSYS
//! rather than the default action (`enosys.rs`); the filter is then installed with
//! `seccomp(2)` directly (`load.rs`), otherwise libseccomp loads it. A filter with
//! SCMP_ACT_NOTIFY rules is always installed by `load.rs`, with a listener whose fd goes to
//! a [`Handoff`] (the init's, which passes it to its runtime: `process/listener.rs`).

pub mod enosys;
mod load;
pub mod plan;

use std::os::fd::{AsFd, BorrowedFd};

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use oci_spec::runtime::LinuxSeccomp;

pub use plan::{Action, Condition, Flags, Op, Plan, Rule, SkipReason, Skipped};

/// What receives a filter's listener fd right after it is installed; the fd is closed when
/// it returns. Its error is a sentence.
pub type Handoff<'a> = dyn FnMut(BorrowedFd<'_>) -> Result<(), String> + 'a;

/// More rules than this turn on libseccomp's binary-tree optimisation, as runc does
/// (libseccomp <= 2.5.4 misbehaves with the tree and zero rules).
const OPTIMIZE_ABOVE: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// runc 1.1.5's words, after the field.
    #[error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action")]
    NotifyDefault,
    #[error("{field}: SCMP_ACT_NOTIFY cannot be used for the write syscall")]
    NotifyWrite { field: String },
    #[error("linux.seccomp.listenerPath: listenerPath is not set, and the SCMP_ACT_NOTIFY rules need a seccomp agent listening there")]
    NoListenerPath,
    #[error("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules (the kernel accepts it only for a filter with a listener)")]
    WaitKillableWithoutNotify,
    #[error("seccomp notify unsupported: libseccomp API level {0}, want at least 6 (libseccomp >= 2.5.0 and Linux >= 5.7)")]
    NotifyApiLevel(u32),
    #[error("{field}: errnoRet {value} does not fit in 16 bits")]
    ErrnoRetOutOfRange { field: String, value: u32 },
    #[error("{field}: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE")]
    ErrnoRetWithoutErrno { field: String },
    #[error("{field}: argument index {index} is out of range (syscalls take at most 6)")]
    ArgIndexOutOfRange { field: String, index: usize },
    #[error("{field}: empty syscall name")]
    EmptySyscallName { field: String },
    #[error("passing the seccomp notify fd to the runtime: {0}")]
    Handoff(String),
    #[error("the filter has SCMP_ACT_NOTIFY rules but nothing to hand its listener fd to")]
    NoHandoff,
    #[error("{step}: {errno}")]
    Patch {
        step: &'static str,
        errno: nix::errno::Errno,
    },
    #[error("{step}: {source}")]
    Libseccomp {
        step: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
}

impl SeccompError {
    /// The errno libseccomp (or the kernel through it) reported, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Libseccomp { source, .. } => source.sysrawrc().map(i32::abs),
            Self::Patch { errno, .. } => Some(*errno as i32),
            _ => None,
        }
    }
}

fn lib_err(
    step: impl Into<String>,
) -> impl FnOnce(libseccomp::error::SeccompError) -> SeccompError {
    let step = step.into();
    move |source| SeccompError::Libseccomp { step, source }
}

/// A libseccomp filter ready to load. Dropping it loads nothing.
#[must_use = "a compiled seccomp filter does nothing until it is loaded"]
pub struct Filter {
    ctx: ScmpFilterContext,
    skipped: Vec<Skipped>,
    /// runc's ENOSYS stub; empty when the default action needs none.
    enosys_stub: Vec<enosys::Insn>,
    flags: Flags,
    /// SCMP_ACT_NOTIFY rules: loaded with a listener (see [`Filter::load`]).
    listener: bool,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl Filter {
    /// Install the filter on the calling thread (init is single-threaded; TSYNC is set
    /// only when the config asks for it). A filter with a listener hands its fd to
    /// `handoff` before this returns, and needs one.
    pub fn load(self, handoff: Option<&mut Handoff<'_>>) -> Result<(), SeccompError> {
        if self.listener {
            let handoff = handoff.ok_or(SeccompError::NoHandoff)?;
            return load::load_raw(&self.ctx, &self.enosys_stub, self.flags, Some(handoff));
        }
        if self.enosys_stub.is_empty() {
            return self
                .ctx
                .load()
                .map_err(lib_err("loading the seccomp filter"));
        }
        load::load_raw(&self.ctx, &self.enosys_stub, self.flags, None)
    }

    /// The filter has SCMP_ACT_NOTIFY rules, so loading it makes a listener fd that must
    /// reach the seccomp agent.
    pub fn has_listener(&self) -> bool {
        self.listener
    }

    /// The ENOSYS stub [`Filter::load`] puts in front of libseccomp's program (may be empty).
    pub fn enosys_stub(&self) -> &[enosys::Insn] {
        &self.enosys_stub
    }

    /// Syscall entries left out of the filter and why (for a debug log line).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Write libseccomp's pseudo-filter-code text of the filter to `fd` (debugging, tests).
    pub fn export_pfc(&self, fd: impl AsFd) -> Result<(), SeccompError> {
        self.ctx
            .export_pfc(fd)
            .map_err(lib_err("exporting the filter"))
    }
}

/// Build the libseccomp filter for `cfg` without loading it.
pub fn compile(cfg: &LinuxSeccomp) -> Result<Filter, SeccompError> {
    build(plan::plan(cfg)?)
}

/// Build a filter from an already translated plan.
pub fn build(plan: Plan) -> Result<Filter, SeccompError> {
    if plan.listener {
        // runc 1.1.5's check: user notification needs libseccomp API level 6.
        let api = libseccomp::get_api();
        if api < 6 {
            return Err(SeccompError::NotifyApiLevel(api));
        }
    }
    let mut ctx = ScmpFilterContext::new(scmp_action(plan.default_action))
        .map_err(lib_err("creating the filter"))?;
    ctx.set_ctl_nnp(false)
        .map_err(lib_err("clearing libseccomp's no_new_privs attribute"))?;
    for (i, arch) in plan.architectures.iter().enumerate() {
        ctx.add_arch(*arch).map_err(lib_err(format!(
            "linux.seccomp.architectures[{i}]: adding the architecture to the filter"
        )))?;
    }
    set_flags(&mut ctx, plan.flags)?;
    if plan.rules.len() > OPTIMIZE_ABOVE {
        ctx.set_ctl_optimize(2)
            .map_err(lib_err("enabling binary-tree optimisation"))?;
    }
    for rule in &plan.rules {
        let conditions: Vec<ScmpArgCompare> = rule.conditions.iter().map(arg_compare).collect();
        let step = || format!("adding the rule for syscall {}", rule.syscall);
        if conditions.is_empty() {
            ctx.add_rule(scmp_action(rule.action), rule.nr)
                .map_err(lib_err(step()))?;
        } else {
            ctx.add_rule_conditional(scmp_action(rule.action), rule.nr, &conditions)
                .map_err(lib_err(step()))?;
        }
    }
    let enosys_stub = if enosys::needed(plan.default_action) {
        enosys::stub(&enosys::last_syscalls(&plan))
    } else {
        Vec::new()
    };
    Ok(Filter {
        ctx,
        skipped: plan.skipped,
        enosys_stub,
        flags: plan.flags,
        listener: plan.listener,
    })
}

fn set_flags(ctx: &mut ScmpFilterContext, flags: Flags) -> Result<(), SeccompError> {
    if flags.log {
        ctx.set_ctl_log(true)
            .map_err(lib_err("linux.seccomp.flags: SECCOMP_FILTER_FLAG_LOG"))?;
    }
    if flags.spec_allow {
        ctx.set_ctl_ssb(true).map_err(lib_err(
            "linux.seccomp.flags: SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        ))?;
    }
    if flags.tsync {
        // init is single-threaded, so TSYNC changes nothing; set it anyway so the flag is
        // honoured rather than dropped (runc treats it as always on).
        ctx.set_ctl_tsync(true)
            .map_err(lib_err("linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC"))?;
    }
    // WAIT_KILLABLE_RECV is not set here: it is only valid with a listener, and a filter
    // with a listener is installed by load.rs, which passes the kernel bit itself (libseccomp
    // 2.5 does not know it).
    Ok(())
}

fn scmp_action(action: Action) -> ScmpAction {
    match action {
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Errno(e) => ScmpAction::Errno(i32::from(e)),
        Action::Trace(v) => ScmpAction::Trace(v),
        Action::Log => ScmpAction::Log,
        Action::Allow => ScmpAction::Allow,
        Action::Notify => ScmpAction::Notify,
    }
}

fn arg_compare(c: &Condition) -> ScmpArgCompare {
    let op = match c.op {
        Op::Ne => ScmpCompareOp::NotEqual,
        Op::Lt => ScmpCompareOp::Less,
        Op::Le => ScmpCompareOp::LessOrEqual,
        Op::Eq => ScmpCompareOp::Equal,
        Op::Ge => ScmpCompareOp::GreaterEqual,
        Op::Gt => ScmpCompareOp::Greater,
        Op::MaskedEq { mask } => ScmpCompareOp::MaskedEqual(mask),
    };
    ScmpArgCompare::new(c.index, op, c.value)
}

#[cfg(test)]
mod tests;
