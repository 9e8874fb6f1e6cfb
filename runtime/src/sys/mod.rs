//! (being written)
pub mod bpf;
