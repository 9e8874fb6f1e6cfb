//! `process.terminal` with `--console-socket` (runc's protocol, docs/terminals.md): the runtime
//! connects to a unix socket and sends the pty master with SCM_RIGHTS; the container's stdio
//! and /dev/console are the pty slave, sized by `process.consoleSize`.

mod support;

use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::json;
use support::{sh_bundle, Rt};

/// Accept one connection on `listener` and receive the fd it carries.
fn receive_master(listener: UnixListener) -> std::thread::JoinHandle<Option<OwnedFd>> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().ok()?;
        let mut buf = [0u8; 256];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .ok()?;
        for c in msg.cmsgs().ok()? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                // SAFETY: the kernel just installed this fd in our table for us alone.
                return fds.first().map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
        None
    })
}

/// Read the pty master until the slave side is gone (EIO), on a thread with a deadline.
fn drain(master: OwnedFd) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut all = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = f.read(&mut chunk) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&chunk[..n]);
        }
        let _ = tx.send(String::from_utf8_lossy(&all).into_owned());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("pty output did not end within 20 s")
}

#[test]
#[ignore = "needs root and busybox-static"]
fn console_socket_receives_the_pty_master() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("tty");
    let patch = json!({"process": {"terminal": true, "consoleSize": {"height": 30, "width": 100}}});
    let b = sh_bundle(
        &id,
        "tty; stty size; test -t 0 && test -t 1 && test -t 2 && echo all-tty; \
         stat -c %t:%T /dev/console $(tty)",
        patch,
    );
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("console.sock");
    let master = receive_master(UnixListener::bind(&sock).unwrap());
    let sock_arg = sock.to_str().unwrap();
    rt.run(&[
        "create",
        "--console-socket",
        sock_arg,
        "-b",
        b.path().to_str().unwrap(),
        &id,
    ])
    .ok();
    let master = master
        .join()
        .unwrap()
        .expect("no fd received over the console socket");
    rt.ok(&["start", &id]);
    let out = drain(master).replace("\r\n", "\n");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 5, "{out:?}");
    assert!(lines[0].starts_with("/dev/pts/"), "{out:?}");
    assert_eq!(lines[1], "30 100", "{out:?}");
    assert_eq!(lines[2], "all-tty", "{out:?}");
    assert_eq!(lines[3], lines[4], "/dev/console is the pty slave: {out:?}");
    support::wait_status(&rt, &id, "stopped");
    rt.ok(&["delete", &id]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn terminal_without_console_socket_fails_create_cleanly() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("ttynosock");
    let b = sh_bundle(&id, "true", json!({"process": {"terminal": true}}));
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.err.contains("console"), "{done:?}");
    assert!(!rt.state_dir_exists(&id));
    assert!(support::cgroup_leaked(&id).is_empty());
}
