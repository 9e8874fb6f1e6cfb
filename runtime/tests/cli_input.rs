//! Command-line input checked before anything else happens: no root, no container needed.

mod support;

use support::{run_watched, Rt};

fn ferrun(args: &[&str]) -> support::Done {
    let rt = Rt::ferrun();
    run_watched(rt.cmd().args(args), support::WATCHDOG)
}

/// runc refuses every command when its `--log` file cannot be opened ("open
/// /nonexistent/dir/log: no such file or directory", exit 1); ferrun once ran on and lost
/// the messages.
#[test]
fn a_log_file_that_cannot_be_opened_fails_the_command() {
    let done = ferrun(&["--log", "/nonexistent/dir/log", "list"]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.err.contains("/nonexistent/dir/log") && done.err.contains("No such file"),
        "{}",
        done.err
    );
    assert_eq!(done.out, "");
}

/// A `--log` that can be opened is created (as runc does) and the command runs.
#[test]
fn a_log_file_that_can_be_opened_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.json");
    let done = ferrun(&["--log", log.to_str().unwrap(), "list", "-q"]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(log.exists());
}

/// `events --interval` takes Go durations as runc does; one too long to represent once
/// panicked (exit 134). runc: "invalid value ... for flag -interval", exit 1.
#[test]
fn events_interval_out_of_range_is_a_clear_error() {
    for (interval, want) in [
        (
            "99999999999999999999s",
            "is longer than the longest allowed",
        ),
        ("5x", "unknown unit \"x\""),
        ("5", "missing unit"),
    ] {
        let done = ferrun(&["events", "--interval", interval, "nosuchcontainer"]);
        assert_eq!(done.code, Some(1), "--interval {interval}: {done:?}");
        assert!(
            done.err.contains(want),
            "--interval {interval}: {}",
            done.err
        );
    }
}

/// A valid interval gets past parsing to the container lookup; as in runc, whether it is
/// positive is asked only of an existing container.
#[test]
fn events_accepts_go_durations() {
    for interval in ["1m30s", "1.5h", "100ms", "0s"] {
        let done = ferrun(&["events", "--interval", interval, "nosuchcontainer"]);
        assert_eq!(done.code, Some(1), "--interval {interval}: {done:?}");
        assert!(done.err.contains("does not exist"), "{}", done.err);
    }
}
