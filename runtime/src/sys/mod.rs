//! (being written)

pub mod mount;
