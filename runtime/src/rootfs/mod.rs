//! PLACEHOLDER until the rootfs branch lands (same contract).
use oci_spec::runtime::Spec;
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RootfsError(pub String);
pub trait MountSys {}
pub struct RealMountSys;
impl MountSys for RealMountSys {}
pub fn real() -> RealMountSys {
    RealMountSys
}
pub struct RootfsContext<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    pub no_pivot: bool,
    pub cgroup_ns: bool,
    pub in_user_ns: bool,
}
pub fn prepare(_s: &dyn MountSys, _c: &RootfsContext) -> Result<(), RootfsError> {
    Ok(())
}
pub fn pivot(_s: &dyn MountSys, _c: &RootfsContext) -> Result<(), RootfsError> {
    Ok(())
}
pub fn bind_console(_s: &dyn MountSys, _p: &Path) -> Result<(), RootfsError> {
    Ok(())
}
pub fn finalize(_s: &dyn MountSys, _c: &RootfsContext) -> Result<(), RootfsError> {
    Ok(())
}
