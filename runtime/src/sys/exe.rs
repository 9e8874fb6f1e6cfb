//! Protect the runtime binary from the container (CVE-2019-5736).
//!
//! The attack: a container whose entrypoint is `#!/proc/self/exe` makes the kernel execute the
//! *runtime's* binary inside the container; a container process then opens
//! `/proc/<pid>/exe` and rewrites the host's runtime binary once it is no longer busy.
//!
//! runc answered by copying itself into a sealed memfd on every start (milliseconds and
//! megabytes each time). We do what crun does in spirit, cheaper: before any container
//! process exists, re-execute ourselves once from a *detached, read-only bind mount* of our
//! own binary (`open_tree(OPEN_TREE_CLONE)` + `mount_setattr(MOUNT_ATTR_RDONLY)` +
//! `execveat`). Afterwards `/proc/self/exe` lives on a read-only mount that no namespace can
//! reach, so writing through it fails with EROFS. Cost: one execve, no copy. Where the new
//! mount API is unavailable (old kernel, no CAP_SYS_ADMIN) we fall back to the sealed memfd.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;

/// Set on the re-executed process so the memfd fallback is not repeated in a loop.
const SEALED_ENV: &str = "_FERRUN_SEALED_EXE";

/// True when our own executable cannot be written through `/proc/self/exe`.
pub fn exe_is_protected() -> bool {
    match nix::sys::statvfs::statvfs("/proc/self/exe") {
        Ok(st) => st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        Err(_) => false,
    }
}

/// Re-execute the current command line from a protected copy of our binary, unless already
/// protected. Returns only when no re-exec happened (already protected) or on error.
pub fn ensure_protected_exe() -> Result<(), Errno> {
    if exe_is_protected() || std::env::var_os(SEALED_ENV).is_some() {
        std::env::remove_var(SEALED_ENV);
        return Ok(());
    }
    let (argv, mut envp) = current_argv_envp();
    let fd = match readonly_clone_of_exe() {
        Ok(fd) => fd,
        Err(_) => {
            envp.push(CString::new(format!("{SEALED_ENV}=1")).map_err(|_| Errno::EINVAL)?);
            sealed_memfd_copy()?
        }
    };
    exec_fd(&fd, &argv, &envp)
}

fn current_argv_envp() -> (Vec<CString>, Vec<CString>) {
    let argv = std::env::args_os()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let envp = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    (argv, envp)
}

fn readonly_clone_of_exe() -> Result<OwnedFd, Errno> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let path = c"/proc/self/exe";
    // SAFETY: open_tree returns a new fd or -1; the path is a valid C string.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fd was just returned to us and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: attr is a valid mount_attr of the size we pass.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(fd)
}

fn sealed_memfd_copy() -> Result<OwnedFd, Errno> {
    let memfd = nix::sys::memfd::memfd_create(
        c"ferrun",
        nix::sys::memfd::MFdFlags::MFD_CLOEXEC | nix::sys::memfd::MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let mut src = std::fs::File::open("/proc/self/exe").map_err(|_| Errno::last())?;
    let mut dst = std::fs::File::from(memfd);
    let mut buf = Vec::new();
    src.read_to_end(&mut buf).map_err(|_| Errno::EIO)?;
    std::io::Write::write_all(&mut dst, &buf).map_err(|_| Errno::EIO)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our own memfd.
    if unsafe { libc::fcntl(dst.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(Errno::last());
    }
    Ok(OwnedFd::from(dst))
}

fn exec_fd(fd: &OwnedFd, argv: &[CString], envp: &[CString]) -> Result<(), Errno> {
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut envp_p: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_p.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv_p.as_ptr(),
            envp_p.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(Errno::last())
}
