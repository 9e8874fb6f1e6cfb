//! Pure translation of `linux.seccomp` into a [`Plan`]: the default action, extra
//! architectures, filter flags and one [`Rule`] per libseccomp rule to add. Nothing here
//! touches the kernel, so the translation is unit-tested on its own.
//!
//! It follows runc 1.1 (`libcontainer/seccomp/seccomp_linux.go` and `specconv`):
//! - `SCMP_ACT_KILL` is kill-thread; `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE` without `errnoRet`
//!   return EPERM; `defaultErrnoRet` applies to the default action.
//! - every name of a syscall entry becomes its own rule;
//! - a rule whose action equals the default action is skipped (libseccomp refuses it);
//! - a name libseccomp cannot resolve is skipped ("assume it is not supported by this
//!   kernel"), recorded in [`Plan::skipped`] so the caller can log it;
//! - conditions on distinct argument indexes are ANDed in one rule; as soon as two
//!   conditions share an index, each condition becomes its own rule (an OR), runc's
//!   "old behavior" kept for profiles that rely on it;
//! - `SCMP_CMP_MASKED_EQ` takes the mask from `value` and the datum from `valueTwo`.
//!
//! `SCMP_ACT_NOTIFY` rules hand the filter's listener fd to the seccomp agent at
//! `listenerPath` (see `listener.rs`). As in runc 1.1.5, notify rules without a listenerPath
//! are refused, and so are SCMP_ACT_NOTIFY as the default action and a notify rule on
//! `write`: the init writes the fd's number to its runtime with write(2) after the filter is
//! loaded, and a notified write would wait for an agent that has no fd yet. `listenerPath`
//! without notify rules is ignored, as runc ignores it: there is no listener fd to send.

use libseccomp::{ScmpArch, ScmpSyscall};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

use super::SeccompError;

/// Linux system calls take at most six arguments.
const MAX_ARGS: usize = 6;

/// A resolved seccomp action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    KillThread,
    KillProcess,
    Trap,
    Errno(u16),
    Trace(u16),
    Log,
    Allow,
    /// SCMP_ACT_NOTIFY: the seccomp agent decides (never the default action).
    Notify,
}

/// A comparison operator; `MaskedEq` carries its mask, the datum is in [`Condition::value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq { mask: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    pub index: u32,
    pub op: Op,
    pub value: u64,
}

/// One libseccomp rule: all its conditions must hold (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub syscall: String,
    pub nr: ScmpSyscall,
    pub action: Action,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// libseccomp does not know the name (newer than libseccomp, or not on this arch).
    UnknownSyscall,
    /// The action equals the default action: the rule would change nothing.
    SameAsDefault,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub syscall: String,
    pub reason: SkipReason,
}

/// Filter attributes from `linux.seccomp.flags`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub log: bool,
    pub spec_allow: bool,
    pub tsync: bool,
    pub wait_killable_recv: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub default_action: Action,
    pub architectures: Vec<ScmpArch>,
    pub flags: Flags,
    pub rules: Vec<Rule>,
    pub skipped: Vec<Skipped>,
    /// Some rule of the config is SCMP_ACT_NOTIFY: the filter is loaded with a listener
    /// (SECCOMP_FILTER_FLAG_NEW_LISTENER) whose fd goes to `listenerPath`. Decided on the
    /// config, as runc does, so even a notify rule whose syscall this libseccomp does not
    /// know asks for the listener.
    pub listener: bool,
}

/// Translate `cfg` into a [`Plan`].
pub fn plan(cfg: &LinuxSeccomp) -> Result<Plan, SeccompError> {
    if cfg.default_action() == LinuxSeccompAction::ScmpActNotify {
        return Err(SeccompError::NotifyDefault);
    }
    let default_action = action(
        cfg.default_action(),
        cfg.default_errno_ret(),
        "linux.seccomp.defaultAction",
    )?;
    let listener = check_listener(cfg)?;
    let architectures = cfg
        .architectures()
        .iter()
        .flatten()
        .map(|a| arch(*a))
        .collect();
    let flags = flags(cfg.flags().as_deref().unwrap_or(&[]));
    let mut plan = Plan {
        default_action,
        architectures,
        flags,
        rules: Vec::new(),
        skipped: Vec::new(),
        listener,
    };
    for (i, call) in cfg.syscalls().iter().flatten().enumerate() {
        add_syscall(&mut plan, call, i)?;
    }
    Ok(plan)
}

/// Whether the config has notify rules, refusing what runc 1.1.5 refuses with them: a
/// missing or empty listenerPath (runc: "listenerPath is not set") and a notify rule on write
/// (runc: "SCMP_ACT_NOTIFY cannot be used for the write syscall").
fn check_listener(cfg: &LinuxSeccomp) -> Result<bool, SeccompError> {
    let mut listener = false;
    for (i, call) in cfg.syscalls().iter().flatten().enumerate() {
        if call.action() != LinuxSeccompAction::ScmpActNotify {
            continue;
        }
        listener = true;
        if let Some(k) = call.names().iter().position(|n| n == "write") {
            return Err(SeccompError::NotifyWrite {
                field: format!("linux.seccomp.syscalls[{i}].names[{k}]"),
            });
        }
    }
    if listener
        && cfg
            .listener_path()
            .as_ref()
            .is_none_or(|p| p.as_os_str().is_empty())
    {
        return Err(SeccompError::NoListenerPath);
    }
    if cfg
        .flags()
        .iter()
        .flatten()
        .any(|f| *f == LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv)
        && !listener
    {
        return Err(SeccompError::WaitKillableWithoutNotify);
    }
    Ok(listener)
}

fn add_syscall(plan: &mut Plan, call: &LinuxSyscall, i: usize) -> Result<(), SeccompError> {
    let field = format!("linux.seccomp.syscalls[{i}]");
    let act = action(call.action(), call.errno_ret(), &format!("{field}.action"))?;
    let args = call.args().as_deref().unwrap_or(&[]);
    let conditions = args
        .iter()
        .enumerate()
        .map(|(j, arg)| condition(arg, &format!("{field}.args[{j}]")))
        .collect::<Result<Vec<_>, _>>()?;
    // runc: when two conditions test the same argument, add one rule per condition.
    let groups: Vec<Vec<Condition>> = if shares_an_index(&conditions) {
        conditions.iter().map(|c| vec![*c]).collect()
    } else {
        vec![conditions]
    };
    for (k, name) in call.names().iter().enumerate() {
        if name.is_empty() {
            return Err(SeccompError::EmptySyscallName {
                field: format!("{field}.names[{k}]"),
            });
        }
        let skip = |reason| Skipped {
            syscall: name.clone(),
            reason,
        };
        if act == plan.default_action {
            plan.skipped.push(skip(SkipReason::SameAsDefault));
            continue;
        }
        let Ok(nr) = ScmpSyscall::from_name(name) else {
            plan.skipped.push(skip(SkipReason::UnknownSyscall));
            continue;
        };
        for conditions in &groups {
            plan.rules.push(Rule {
                syscall: name.clone(),
                nr,
                action: act,
                conditions: conditions.clone(),
            });
        }
    }
    Ok(())
}

fn shares_an_index(conditions: &[Condition]) -> bool {
    let mut seen = [false; MAX_ARGS];
    conditions.iter().any(|c| {
        let slot = &mut seen[c.index as usize];
        std::mem::replace(slot, true)
    })
}

/// Map a spec action (plus its errnoRet) to an [`Action`], like runc's `getAction`.
pub fn action(
    act: LinuxSeccompAction,
    errno_ret: Option<u32>,
    field: &str,
) -> Result<Action, SeccompError> {
    let ret = || -> Result<u16, SeccompError> {
        match errno_ret {
            None => Ok(libc::EPERM as u16),
            Some(v) => u16::try_from(v).map_err(|_| SeccompError::ErrnoRetOutOfRange {
                field: field.to_string(),
                value: v,
            }),
        }
    };
    // config-linux.md#seccomp: errnoRet is "the errno return code to use" for actions that
    // return one; on any other action it means nothing, and silently dropping it would hide
    // a profile mistake.
    let takes_errno = matches!(
        act,
        LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace
    );
    if errno_ret.is_some() && !takes_errno {
        return Err(SeccompError::ErrnoRetWithoutErrno {
            field: field.to_string(),
        });
    }
    Ok(match act {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            Action::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => Action::KillProcess,
        LinuxSeccompAction::ScmpActTrap => Action::Trap,
        LinuxSeccompAction::ScmpActErrno => Action::Errno(ret()?),
        LinuxSeccompAction::ScmpActTrace => Action::Trace(ret()?),
        LinuxSeccompAction::ScmpActLog => Action::Log,
        LinuxSeccompAction::ScmpActAllow => Action::Allow,
        LinuxSeccompAction::ScmpActNotify => Action::Notify,
    })
}

fn condition(arg: &LinuxSeccompArg, field: &str) -> Result<Condition, SeccompError> {
    let index = arg.index();
    if index >= MAX_ARGS {
        return Err(SeccompError::ArgIndexOutOfRange {
            field: field.to_string(),
            index,
        });
    }
    let (op, value) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (Op::Ne, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (Op::Lt, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (Op::Le, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (Op::Eq, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (Op::Ge, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (Op::Gt, arg.value()),
        // libseccomp's SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, datum); runc passes
        // (value, valueTwo) in that order.
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            Op::MaskedEq { mask: arg.value() },
            arg.value_two().unwrap_or(0),
        ),
    };
    Ok(Condition {
        index: index as u32,
        op,
        value,
    })
}

fn flags(list: &[LinuxSeccompFilterFlag]) -> Flags {
    let mut flags = Flags::default();
    for flag in list {
        match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => flags.log = true,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => flags.spec_allow = true,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => flags.tsync = true,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                flags.wait_killable_recv = true
            }
        }
    }
    flags
}

/// The spec's architecture names map one to one onto libseccomp's.
pub fn arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}
