//! `checkpoint` and `restore` steps: runc's flags from the step's fields (runc-checkpoint(8),
//! runc-restore(8)), and what a detached restore teaches the runner (the restored init).

use super::context::{error, ScenarioRun, StepError};
use super::steps::with_console;
use crate::driver::Evidence;
use crate::scenario::step::{CgroupsMode, Checkpoint, Restore};

/// Where the images go when a step does not say: the scenario's own empty directory.
const DEFAULT_IMAGES: &str = "{{images}}";

/// `--flag VALUE` for each set option, `--flag` for each true switch, in runc's order.
struct Flags<'a> {
    run: &'a ScenarioRun<'a>,
    out: Vec<String>,
}

impl Flags<'_> {
    fn value(&mut self, flag: &str, v: Option<&str>) -> Result<(), StepError> {
        if let Some(v) = v {
            let v = self.run.vars.render(v).map_err(|e| error(e.to_string()))?;
            self.out.extend([flag.to_string(), v]);
        }
        Ok(())
    }

    fn switch(&mut self, flag: &str, on: bool) {
        if on {
            self.out.push(flag.to_string());
        }
    }

    fn mode(&mut self, m: Option<CgroupsMode>) {
        if let Some(m) = m {
            self.out
                .extend(["--manage-cgroups-mode".into(), m.as_str().into()]);
        }
    }

    fn args(mut self, args: &[String]) -> Result<Vec<String>, StepError> {
        let extra = self
            .run
            .vars
            .render_all(args)
            .map_err(|e| error(e.to_string()))?;
        self.out.extend(extra);
        Ok(self.out)
    }
}

pub fn checkpoint_argv(
    run: &ScenarioRun,
    c: &Checkpoint,
    target: &str,
) -> Result<Vec<String>, StepError> {
    let mut f = Flags {
        run,
        out: Vec::new(),
    };
    f.value(
        "--image-path",
        Some(c.image_path.as_deref().unwrap_or(DEFAULT_IMAGES)),
    )?;
    f.value("--work-path", c.work_path.as_deref())?;
    f.value("--parent-path", c.parent_path.as_deref())?;
    f.switch("--leave-running", c.leave_running);
    f.switch("--tcp-established", c.tcp_established);
    f.switch("--ext-unix-sk", c.ext_unix_sk);
    f.switch("--shell-job", c.shell_job);
    f.switch("--file-locks", c.file_locks);
    f.switch("--pre-dump", c.pre_dump);
    f.switch("--auto-dedup", c.auto_dedup);
    f.mode(c.manage_cgroups_mode);
    f.value("--empty-ns", c.empty_ns.as_deref())?;
    let flags = f.args(&c.args)?;
    Ok(run.argv_for(target).with_flags("checkpoint", &flags))
}

pub fn restore_argv(
    run: &ScenarioRun,
    r: &Restore,
    target: &str,
) -> Result<Vec<String>, StepError> {
    let bundle = run.bundle.display().to_string();
    let mut f = Flags {
        run,
        out: Vec::new(),
    };
    f.value("--bundle", Some(r.bundle.as_deref().unwrap_or(&bundle)))?;
    f.value(
        "--image-path",
        Some(r.image_path.as_deref().unwrap_or(DEFAULT_IMAGES)),
    )?;
    f.value("--work-path", r.work_path.as_deref())?;
    if r.detach {
        // A stale pid from the create before the checkpoint must not pass for the new init.
        let pid_file = run.init_pid_file();
        let _ = std::fs::remove_file(&pid_file);
        f.out.push("--detach".into());
        f.out
            .extend(["--pid-file".into(), pid_file.display().to_string()]);
        f.out = with_console(run, std::mem::take(&mut f.out));
    }
    f.switch("--tcp-established", r.tcp_established);
    f.switch("--ext-unix-sk", r.ext_unix_sk);
    f.switch("--shell-job", r.shell_job);
    f.switch("--file-locks", r.file_locks);
    f.switch("--no-pivot", r.no_pivot);
    f.mode(r.manage_cgroups_mode);
    f.value("--empty-ns", r.empty_ns.as_deref())?;
    let flags = f.args(&r.args)?;
    Ok(run.argv_for(target).with_flags("restore", &flags))
}

/// After a successful restore: a detached one wrote the new init's pid, which `container_exit`
/// and `inspect_*` follow from now on; a foreground one returned the container's exit, like a
/// foreground `run`.
pub fn after_restore(run: &mut ScenarioRun, r: &Restore, target: &str, ev: &Evidence) {
    if !r.detach {
        run.foreground_exit = Some(ev.clone());
        return;
    }
    if ev.status != Some(0) {
        return;
    }
    if let Some(pid) = run.read_init_pid_file() {
        run.adopt_init(target, pid);
    } else {
        // Without a pid file the next step that needs the pid asks `state`.
        run.init_pid = None;
        run.init_id = target.to_string();
    }
}
