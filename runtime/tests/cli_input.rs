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
