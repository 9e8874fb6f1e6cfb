//! OOM notices for `ferrun events`, as runc's NotifyOOM delivers them (libcontainer
//! notify_linux.go and notify_v2_linux.go):
//!
//! - cgroup v1 (and hybrid hosts, whose memory controller is v1): an eventfd registered for
//!   memory.oom_control through cgroup.event_control. The kernel signals it on every OOM in
//!   the cgroup, and once more when the cgroup is removed; cgroup.event_control being gone
//!   tells that last case apart.
//! - cgroup v2: inotify on memory.events, whose `oom_kill` counter goes up with each process
//!   the OOM killer takes. runc sends a notice on every change of the file once the counter is
//!   non-zero; we send one per increase, so a later `max` or `high` event is not reported as a
//!   second OOM.
//!
//! The watcher holds descriptors only: dropping it (or the process ending) unregisters it.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::layout::Layout;
use super::stats::kv;
use crate::cgroups::Mode;
use crate::sys::event;

#[derive(Debug, thiserror::Error)]
pub enum OomError {
    #[error("the container's cgroup has no memory controller, so OOM notices cannot be watched")]
    NoMemoryController,
    #[error("cannot watch {path} for OOM notices: {source}")]
    Watch {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a wake-up of the watcher's descriptor meant.
#[derive(Debug, PartialEq, Eq)]
pub enum OomNews {
    /// This many OOM notices.
    Oom(u64),
    /// The cgroup was removed: no notice will come any more.
    CgroupGone,
    Nothing,
}

#[derive(Debug)]
pub enum OomWatch {
    V1 {
        eventfd: OwnedFd,
        /// Must stay open while registered: the registration names its descriptor.
        _oom_control: File,
        event_control: PathBuf,
    },
    V2 {
        inotify: OwnedFd,
        events: PathBuf,
        /// `oom_kill` when last looked at.
        seen: u64,
    },
}

fn watch_err(path: &Path) -> impl FnOnce(std::io::Error) -> OomError + '_ {
    move |source| OomError::Watch {
        path: path.to_path_buf(),
        source,
    }
}

fn errno_err(path: &Path) -> impl FnOnce(nix::errno::Errno) -> OomError + '_ {
    move |e| watch_err(path)(std::io::Error::from(e))
}

/// The `oom_kill` counter of a cgroup v2 memory.events file (0 when unreadable).
fn oom_kills(events: &Path) -> u64 {
    std::fs::read_to_string(events)
        .map(|t| kv(&t).get("oom_kill").copied().unwrap_or(0))
        .unwrap_or(0)
}

impl OomWatch {
    /// Start watching the memory cgroup of the container persisted as `layout`.
    pub fn start(layout: &Layout) -> Result<Self, OomError> {
        let dir = layout
            .dir_for("memory")
            .ok_or(OomError::NoMemoryController)?;
        match layout.mode {
            Mode::V1 | Mode::Hybrid => Self::start_v1(dir),
            Mode::V2 => Self::start_v2(dir),
        }
    }

    fn start_v1(dir: &Path) -> Result<Self, OomError> {
        let control = dir.join("memory.oom_control");
        let event_control = dir.join("cgroup.event_control");
        let oom_control = File::open(&control).map_err(watch_err(&control))?;
        let eventfd = event::eventfd().map_err(errno_err(&event_control))?;
        // "<event fd> <fd of the file to watch>", as cgroup-v1/memory.rst describes.
        use std::os::fd::AsRawFd;
        let line = format!("{} {}", eventfd.as_raw_fd(), oom_control.as_raw_fd());
        std::fs::write(&event_control, line).map_err(watch_err(&event_control))?;
        Ok(OomWatch::V1 {
            eventfd,
            _oom_control: oom_control,
            event_control,
        })
    }

    fn start_v2(dir: &Path) -> Result<Self, OomError> {
        let events = dir.join("memory.events");
        let inotify = event::inotify().map_err(errno_err(&events))?;
        event::inotify_watch_modify(inotify.as_fd(), &events).map_err(errno_err(&events))?;
        // Read after the watch is in place, so no increase can fall between the two.
        let seen = oom_kills(&events);
        Ok(OomWatch::V2 {
            inotify,
            events,
            seen,
        })
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            OomWatch::V1 { eventfd, .. } => eventfd.as_fd(),
            OomWatch::V2 { inotify, .. } => inotify.as_fd(),
        }
    }

    /// What happened since the last call; never blocks, so it also serves as a last look
    /// before `events` ends (an OOM kill of the init is reported before the stream stops).
    pub fn take(&mut self) -> OomNews {
        match self {
            OomWatch::V1 {
                eventfd,
                event_control,
                ..
            } => match event::eventfd_take(eventfd.as_fd()) {
                Ok(Some(_)) if !event_control.exists() => OomNews::CgroupGone,
                // One notice per wake-up, as runc sends one per read of the eventfd.
                Ok(Some(_)) => OomNews::Oom(1),
                Ok(None) => OomNews::Nothing,
                Err(_) => OomNews::CgroupGone,
            },
            OomWatch::V2 {
                inotify,
                events,
                seen,
            } => {
                let _ = event::inotify_drain(inotify.as_fd());
                if !events.exists() {
                    return OomNews::CgroupGone;
                }
                let now = oom_kills(events);
                let new = now.saturating_sub(*seen);
                *seen = now.max(*seen);
                if new > 0 {
                    OomNews::Oom(new)
                } else {
                    OomNews::Nothing
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_layout(dir: &Path) -> Layout {
        let map = serde_json::json!({ "": dir.to_str().expect("utf-8") }).to_string();
        Layout::decode(&map).expect("layout")
    }

    #[test]
    fn v2_reports_each_increase_of_oom_kill_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let events = tmp.path().join("memory.events");
        std::fs::write(&events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").expect("write");
        let mut w = OomWatch::start(&v2_layout(tmp.path())).expect("watch");
        // What happened before the watch started is history, not news.
        assert_eq!(w.take(), OomNews::Nothing);
        std::fs::write(&events, "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n").expect("write");
        let ready =
            event::wait(&[(w.fd(), true)], std::time::Duration::from_secs(1)).expect("poll");
        assert!(ready[0].readable);
        assert_eq!(w.take(), OomNews::Oom(2));
        std::fs::write(&events, "low 0\nhigh 0\nmax 10\noom 3\noom_kill 3\n").expect("write");
        assert_eq!(w.take(), OomNews::Nothing);
        std::fs::remove_file(&events).expect("rm");
        assert_eq!(w.take(), OomNews::CgroupGone);
    }

    #[test]
    fn v1_without_a_memory_hierarchy_is_an_error() {
        let map = serde_json::json!({ "pids": "/sys/fs/cgroup/pids/x" }).to_string();
        let layout = Layout::decode(&map).expect("layout");
        assert!(matches!(
            OomWatch::start(&layout),
            Err(OomError::NoMemoryController)
        ));
    }
}
