//! `oci-conform fuzz`: differential fuzzing of runtimes (generate configs from a grammar of
//! the runtime-spec, run each on every runtime with the probe, compare the normalized
//! observations, minimize and classify divergences, emit reproducing scenarios), and a
//! robustness fuzzer of oci-conform's own parsers (`--target loader`). docs/fuzz.md.

pub mod campaign;
pub mod compare;
pub mod emit;
pub mod execute;
pub mod grammar;
pub mod known;
pub mod loader;
pub mod minimize;
pub mod mutate;
pub mod rng;
