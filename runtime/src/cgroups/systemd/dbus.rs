//! The real bus: zbus's async API on its async-io backend, every step raced against a timer
//! so nothing waits on a slow or hung bus forever.
//!
//! Bounds: connecting and authenticating [`CONNECT_TIMEOUT`]; each method call and each wait
//! for a job [`CALL_TIMEOUT`] (runc bounds its start and stop jobs with 30 s too).
//!
//! Threads: zbus runs an executor thread per connection and async-io a reactor thread, so the
//! connection is made only after the container's init is cloned (on the first call, in
//! `add_task`); nothing in ferrun forks or clones after that point except through
//! `std::process::Command` (hooks), which is made for multi-threaded processes. Every bus step
//! runs with all signals blocked on the calling thread, so those threads (started from it, or
//! from each other) start with every signal blocked too: signals keep going to ferrun's main
//! thread, where its handlers and signalfd expect them. A signal that arrives during a step is
//! delivered when the step ends (at most one timeout later).

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use futures_lite::StreamExt;
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};
use zbus::zvariant::{Array, OwnedObjectPath, OwnedValue, Value as ZValue};

use super::bus::{BusError, Connector, SystemdBus};
use super::props::{Property, Value};
use crate::cgroups::error::CgroupError;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
/// Where dbus-daemon listens for the system bus (godbus's default, which runc uses, is the
/// /var/run symlink to it).
const SYSTEM_BUS_SOCKET: &str = "/run/dbus/system_bus_socket";

/// Blocks every signal on this thread until dropped (see the module doc).
struct SignalsBlocked(Option<SigSet>);

impl SignalsBlocked {
    fn new() -> Self {
        let mut old = SigSet::empty();
        let ok = pthread_sigmask(
            SigmaskHow::SIG_SETMASK,
            Some(&SigSet::all()),
            Some(&mut old),
        );
        SignalsBlocked(ok.ok().map(|()| old))
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(old), None);
        }
    }
}

/// Run `fut` to completion on this thread, or give up after `limit`.
fn bounded<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    let _blocked = SignalsBlocked::new();
    async_io::block_on(futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(limit).await;
        None
    }))
}

fn bus_error(e: zbus::Error) -> BusError {
    match e {
        zbus::Error::MethodError(name, message, _) => BusError::Method {
            name: name.to_string(),
            message: message.unwrap_or_default(),
        },
        other => BusError::Transport(other.to_string()),
    }
}

/// The uid the bus knows us by: ours, mapped out of a user namespace we may run in (rootless
/// podman runs the runtime as uid 0 of its own namespace; the user bus wants the real uid).
pub fn host_uid(uid_map: &str, euid: u32) -> u32 {
    for line in uid_map.lines() {
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if let [inside, outside, len] = f[..] {
            let e = u64::from(euid);
            if (inside..inside.saturating_add(len)).contains(&e) {
                return u32::try_from(outside + (e - inside)).unwrap_or(euid);
            }
        }
    }
    euid
}

/// Connects to the system bus, or to the user's bus for a rootless container.
pub struct ZbusConnector {
    user: bool,
    host_uid: u32,
}

impl ZbusConnector {
    pub fn new(user: bool) -> Self {
        let euid = nix::unistd::geteuid().as_raw();
        let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
        ZbusConnector {
            user,
            host_uid: host_uid(&map, euid),
        }
    }

    /// The cgroup of the systemd instance that owns our units.
    pub fn manager_cgroup(&self) -> String {
        if self.user {
            super::user_manager_cgroup(self.host_uid)
        } else {
            "/".to_string()
        }
    }

    /// The bus address: the environment's, else systemd's conventional socket.
    fn address(&self) -> String {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if !self.user {
            return env("DBUS_SYSTEM_BUS_ADDRESS")
                .unwrap_or_else(|| format!("unix:path={SYSTEM_BUS_SOCKET}"));
        }
        env("DBUS_SESSION_BUS_ADDRESS").unwrap_or_else(|| {
            let dir =
                env("XDG_RUNTIME_DIR").unwrap_or_else(|| format!("/run/user/{}", self.host_uid));
            format!("unix:path={dir}/bus")
        })
    }
}

impl Connector for ZbusConnector {
    fn connect(&self) -> Result<Box<dyn SystemdBus>, CgroupError> {
        let address = self.address();
        let shown = address
            .strip_prefix("unix:path=")
            .unwrap_or(&address)
            .to_string();
        let err = |reason: String| CgroupError::SystemdBus {
            bus: if self.user { "user" } else { "system" },
            address: shown.clone(),
            reason,
        };
        let connect = async {
            let conn = zbus::connection::Builder::address(address.as_str())?
                .user_id(self.host_uid)
                .build()
                .await?;
            // Subscribed before any job exists, so no JobRemoved can be missed.
            let rule = zbus::MatchRule::builder()
                .msg_type(zbus::message::Type::Signal)
                .sender(SYSTEMD)?
                .interface(MANAGER)?
                .member("JobRemoved")?
                .build();
            let jobs = zbus::MessageStream::for_match_rule(rule, &conn, None).await?;
            // systemd sends its job signals only while some client is subscribed; the
            // subscription ends with our connection.
            conn.call_method(Some(SYSTEMD), SYSTEMD_PATH, Some(MANAGER), "Subscribe", &())
                .await?;
            Ok::<_, zbus::Error>((conn, jobs))
        };
        let (conn, jobs) = bounded(CONNECT_TIMEOUT, connect)
            .ok_or_else(|| {
                err(format!(
                    "no answer within {} s (is dbus-daemon running?)",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| err(e.to_string()))?;
        Ok(Box::new(ZbusSystemd {
            conn,
            jobs: RefCell::new(jobs),
        }))
    }
}

struct ZbusSystemd {
    conn: zbus::Connection,
    jobs: RefCell<zbus::MessageStream>,
}

fn to_zvalue(v: &Value) -> ZValue<'static> {
    match v {
        Value::Bool(b) => ZValue::from(*b),
        Value::U64(n) => ZValue::from(*n),
        Value::Str(s) => ZValue::from(s.clone()),
        Value::U32s(v) => ZValue::Array(Array::from(v.clone())),
        Value::Bytes(v) => ZValue::Array(Array::from(v.clone())),
        Value::Pairs(v) => ZValue::Array(Array::from(v.clone())),
        Value::Strs(v) => ZValue::Array(Array::from(v.clone())),
    }
}

fn encode(props: &[Property]) -> Vec<(&'static str, ZValue<'static>)> {
    props
        .iter()
        .map(|p| (p.name, to_zvalue(&p.value)))
        .collect()
}

impl ZbusSystemd {
    fn call<B, R>(&self, path: &str, iface: &str, method: &str, body: &B) -> Result<R, BusError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
    {
        let call = async {
            let reply = self
                .conn
                .call_method(Some(SYSTEMD), path, Some(iface), method, body)
                .await?;
            reply.body().deserialize::<R>()
        };
        bounded(CALL_TIMEOUT, call)
            .ok_or(BusError::Timeout(CALL_TIMEOUT))?
            .map_err(bus_error)
    }

    fn property(&self, path: &str, iface: &str, name: &str) -> Result<OwnedValue, BusError> {
        self.call(path, PROPERTIES, "Get", &(iface, name))
    }
}

impl SystemdBus for ZbusSystemd {
    fn version(&self) -> Result<u32, BusError> {
        let v = self.property(SYSTEMD_PATH, MANAGER, "Version")?;
        let s = String::try_from(v).map_err(|e| BusError::Transport(e.to_string()))?;
        Ok(parse_version(&s))
    }

    fn start_transient_unit(&self, unit: &str, props: &[Property]) -> Result<String, BusError> {
        let aux: Vec<(&str, Vec<(&str, ZValue)>)> = Vec::new();
        let job: OwnedObjectPath = self.call(
            SYSTEMD_PATH,
            MANAGER,
            "StartTransientUnit",
            &(unit, "replace", encode(props), aux),
        )?;
        Ok(job.to_string())
    }

    fn stop_unit(&self, unit: &str) -> Result<String, BusError> {
        let job: OwnedObjectPath =
            self.call(SYSTEMD_PATH, MANAGER, "StopUnit", &(unit, "replace"))?;
        Ok(job.to_string())
    }

    fn wait_job(&self, job: &str) -> Result<String, BusError> {
        let mut jobs = self.jobs.borrow_mut();
        let wait = async {
            while let Some(msg) = jobs.next().await {
                let msg = msg.map_err(bus_error)?;
                let body = msg.body();
                let Ok((_id, path, _unit, result)) =
                    body.deserialize::<(u32, OwnedObjectPath, String, String)>()
                else {
                    continue;
                };
                if path.as_str() == job {
                    return Ok(result);
                }
            }
            Err(BusError::Transport("the bus connection closed".into()))
        };
        bounded(CALL_TIMEOUT, wait).ok_or(BusError::Timeout(CALL_TIMEOUT))?
    }

    fn reset_failed_unit(&self, unit: &str) -> Result<(), BusError> {
        self.call(SYSTEMD_PATH, MANAGER, "ResetFailedUnit", &(unit,))
    }

    fn set_unit_properties(&self, unit: &str, props: &[Property]) -> Result<(), BusError> {
        self.call(
            SYSTEMD_PATH,
            MANAGER,
            "SetUnitProperties",
            &(unit, true, encode(props)),
        )
    }

    fn control_group(&self, unit: &str) -> Result<String, BusError> {
        let path: OwnedObjectPath = self.call(SYSTEMD_PATH, MANAGER, "GetUnit", &(unit,))?;
        let iface = if unit.ends_with(".slice") {
            "org.freedesktop.systemd1.Slice"
        } else {
            "org.freedesktop.systemd1.Scope"
        };
        let v = self.property(path.as_str(), iface, "ControlGroup")?;
        String::try_from(v).map_err(|e| BusError::Transport(e.to_string()))
    }
}

/// runc `systemdVersionAtoi`: the leading number of "v245.4-1.fc32", "252", "\"249\"".
pub fn parse_version(s: &str) -> u32 {
    let s = s.trim_start_matches(['"', 'v']);
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::debian("252.30-1~deb12u2", 252)]
    #[case::fedora("v245.4-1.fc32", 245)]
    #[case::quoted("\"249\"", 249)]
    #[case::garbage("x", 0)]
    fn parses_versions_like_runc(#[case] s: &str, #[case] want: u32) {
        assert_eq!(parse_version(s), want);
    }

    #[rstest]
    #[case::initial_ns("         0          0 4294967295\n", 1000, 1000)]
    #[case::rootless_podman(
        "         0       1000          1\n         1     100000      65536\n",
        0,
        1000
    )]
    #[case::unmapped("         0       1000          1\n", 5, 5)]
    fn finds_the_host_uid(#[case] map: &str, #[case] euid: u32, #[case] want: u32) {
        assert_eq!(host_uid(map, euid), want);
    }

    #[test]
    fn encodes_properties_in_systemds_types() {
        use zbus::zvariant::Type;
        let props = [
            Property {
                name: "Delegate",
                value: Value::Bool(true),
            },
            Property {
                name: "MemoryMax",
                value: Value::U64(1),
            },
            Property {
                name: "Slice",
                value: Value::Str("a.slice".into()),
            },
            Property {
                name: "PIDs",
                value: Value::U32s(vec![1]),
            },
            Property {
                name: "AllowedCPUs",
                value: Value::Bytes(vec![3]),
            },
            Property {
                name: "DeviceAllow",
                value: Value::Pairs(vec![("char-*".into(), "m".into())]),
            },
            Property {
                name: "Wants",
                value: Value::Strs(vec!["a.slice".into()]),
            },
        ];
        let sigs: Vec<String> = encode(&props)
            .iter()
            .map(|(_, v)| v.value_signature().to_string())
            .collect();
        assert_eq!(sigs, ["b", "t", "s", "au", "ay", "a(ss)", "as"]);
        assert_eq!(
            <Vec<(&str, ZValue)> as Type>::SIGNATURE.to_string(),
            "a(sv)"
        );
    }
}
