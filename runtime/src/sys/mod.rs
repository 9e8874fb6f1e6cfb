//! The only place with raw `libc` calls and `unsafe`. Each file is a narrow seam around a few
//! syscalls, so the code that decides *what* to do (and in which order) stays safe and testable.

pub mod bpf;
pub mod clone;
pub mod event;
pub mod exe;
pub mod fd;
pub mod idmap;
pub mod idmapped;
pub mod interrupt;
pub mod misc;
pub mod mount;
pub mod proc;
pub mod seccomp;
pub mod term;
