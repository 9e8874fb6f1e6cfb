//! Mutation testing of the scenario pack (`oci-conform mutate`): mutant runtimes wrap a
//! reference runtime and each break exactly one promise (catalog/, by a config edit in edit/ or
//! change/, or a lie in shim/); a campaign (campaign/) runs the pack against each and counts the
//! mutants some scenario kills (score/), meeting the scenarios of the touched areas first
//! (plan/). A surviving mutant that breaks a MUST is an assertion the pack is missing.

pub mod campaign;
pub mod catalog;
pub mod change;
pub mod edit;
pub mod plan;
pub mod score;
pub mod shim;
