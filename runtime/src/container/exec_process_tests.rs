use super::*;
use std::path::PathBuf;

fn spec() -> Spec {
    serde_json::from_value(serde_json::json!({"ociVersion":"1.2.0","process":{
        "user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/","env":["PATH=/bin","A=1"],
        "noNewPrivileges": true,
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "capabilities": {"bounding": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}}))
    .unwrap()
}

fn caps_of(p: &Process) -> LinuxCapabilities {
    p.capabilities().clone().unwrap()
}

#[test]
fn command_line_overrides_the_container_process() {
    let req = ExecRequest {
        args: vec!["id".into()],
        env: vec!["A=2".into(), "B=3".into()],
        user: Some("1000:100".into()),
        cwd: Some("/tmp".into()),
        caps: vec!["CAP_NET_ADMIN".into()],
        apparmor: Some("vmt-exec".into()),
        process_label: Some("l".into()),
        ..Default::default()
    };
    let p = build_process(&spec(), &req).unwrap();
    assert_eq!(p.apparmor_profile().as_deref(), Some("vmt-exec"));
    assert_eq!(p.selinux_label().as_deref(), Some("l"));
    assert_eq!(p.args().as_deref().unwrap(), ["id"]);
    // Appended; the init keeps the last value of A.
    assert_eq!(
        p.env().as_deref().unwrap(),
        ["PATH=/bin", "A=1", "A=2", "B=3"]
    );
    assert_eq!((p.user().uid(), p.user().gid()), (1000, 100));
    assert_eq!(p.cwd(), Path::new("/tmp"));
    let caps = caps_of(&p);
    for set in [caps.bounding(), caps.effective(), caps.permitted()] {
        assert!(set.as_ref().unwrap().contains(&Capability::NetAdmin));
    }
    // Never inheritable (CVE-2022-29162); not ambient without an inheritable set.
    assert!(caps.inheritable().is_none());
    assert!(caps.ambient().is_none());
}

#[test]
fn cap_goes_into_ambient_when_the_config_has_an_inheritable_set() {
    let spec: Spec = serde_json::from_value(serde_json::json!({"ociVersion":"1.2.0","process":{
        "user":{"uid":1000,"gid":1000},"args":["sh"],"cwd":"/",
        "capabilities": {"inheritable": ["CAP_CHOWN", "CAP_SYSLOG"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"], "ambient": ["CAP_CHOWN"]}}}))
    .unwrap();
    let req = ExecRequest {
        args: vec!["id".into()],
        caps: vec!["CAP_SYSLOG".into()],
        ..Default::default()
    };
    let caps = caps_of(&build_process(&spec, &req).unwrap());
    let ambient = caps.ambient().clone().unwrap();
    assert_eq!(ambient.len(), 2);
    assert!(ambient.contains(&Capability::Syslog) && ambient.contains(&Capability::Chown));
    assert!(caps
        .permitted()
        .as_ref()
        .unwrap()
        .contains(&Capability::Syslog));
    assert!(!caps
        .inheritable()
        .as_ref()
        .unwrap()
        .contains(&Capability::Kill));
}

#[test]
fn ids_that_read_as_unchanged_are_refused() {
    let mut req = ExecRequest {
        args: vec!["id".into()],
        user: Some("4294967295:4294967295".into()),
        ..Default::default()
    };
    assert_eq!(
        build_process(&spec(), &req).unwrap_err().to_string(),
        "--user uid 4294967295: uids and gids must be in range 0-2147483647"
    );
    req.user = Some("0:2147483648".into());
    assert!(build_process(&spec(), &req)
        .unwrap_err()
        .to_string()
        .starts_with("--user gid 2147483648"));
    req.user = None;
    req.additional_gids = vec![4294967295];
    assert!(build_process(&spec(), &req)
        .unwrap_err()
        .to_string()
        .starts_with("--additional-gids 4294967295"));
}

#[test]
fn bad_user_and_cap_and_missing_command_are_errors() {
    let mut req = ExecRequest::default();
    assert!(matches!(
        build_process(&spec(), &req),
        Err(ExecError::Usage(_))
    ));
    req.args = vec!["id".into()];
    req.user = Some("bob".into());
    assert!(build_process(&spec(), &req).is_err());
    req.user = None;
    req.env = vec!["A=1".into(), "NOEQUALS".into()];
    assert_eq!(
        build_process(&spec(), &req).unwrap_err().to_string(),
        r#"--env: invalid environment variable: "NOEQUALS""#
    );
    req.env.clear();
    req.cwd = Some("tmp".into());
    assert_eq!(
        build_process(&spec(), &req).unwrap_err().to_string(),
        "--cwd tmp: must be an absolute path"
    );
    req.cwd = None;
    req.caps = vec!["CAP_NOPE".into()];
    assert!(build_process(&spec(), &req)
        .unwrap_err()
        .to_string()
        .contains("CAP_NOPE"));
}

/// A process file in a temporary directory that removes itself.
struct ProcessFile {
    dir: PathBuf,
    path: PathBuf,
}

impl ProcessFile {
    fn new(json: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ferrun-exec-p-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("process.json");
        std::fs::write(&path, json).unwrap();
        ProcessFile { dir, path }
    }

    fn build(&self) -> Result<Process, ExecError> {
        let req = ExecRequest {
            process_file: Some(self.path.clone()),
            // Flags do not change a process file (runc).
            args: vec!["ignored".into()],
            tty: true,
            user: Some("7".into()),
            ..Default::default()
        };
        build_process(&spec(), &req)
    }
}

impl Drop for ProcessFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn process_file_takes_runcs_defaults_for_what_it_leaves_out() {
    let f = ProcessFile::new(r#"{"args": ["/bin/id"], "cwd": "/"}"#);
    let p = f.build().unwrap();
    assert_eq!(p.args().as_deref().unwrap(), ["/bin/id"]);
    assert_eq!((p.user().uid(), p.user().gid()), (0, 0));
    assert_eq!(p.terminal(), None);
    assert_eq!(p.env(), &None);
    // Go's zero values, as runc reads the file: no rlimits, noNewPrivileges false...
    assert_eq!(p.rlimits(), &None);
    assert_eq!(p.no_new_privileges(), None);
    // ... but the capabilities of config.json's process.
    assert_eq!(
        p.capabilities(),
        spec().process().as_ref().unwrap().capabilities()
    );
    // Given capabilities, even empty ones, are taken as they are.
    let f = ProcessFile::new(r#"{"args": ["id"], "cwd": "/", "capabilities": {}}"#);
    let caps = f.build().unwrap().capabilities().clone().unwrap();
    assert!(caps.bounding().is_none() && caps.permitted().is_none());
}

#[test]
fn process_file_needs_args_and_an_absolute_cwd() {
    let msg = |json: &str| {
        let f = ProcessFile::new(json);
        let e = f.build().unwrap_err().to_string();
        let prefix = format!("--process {}: ", f.path.display());
        e.strip_prefix(&prefix).unwrap_or(&e).to_string()
    };
    assert_eq!(msg(r#"{"args": ["id"]}"#), "cwd must not be empty");
    assert_eq!(
        msg(r#"{"args": ["id"], "cwd": ""}"#),
        "cwd must not be empty"
    );
    assert_eq!(
        msg(r#"{"args": ["id"], "cwd": "tmp"}"#),
        r#"cwd "tmp" must be an absolute path"#
    );
    assert_eq!(msg(r#"{"cwd": "/"}"#), "args must not be empty");
    assert_eq!(msg(r#"{"args": [], "cwd": "/"}"#), "args must not be empty");
    assert_eq!(
        msg(r#"["id"]"#),
        "expected a JSON object (a runtime-spec process)"
    );
    assert!(msg(r#"{"args": ["id"], "cwd": "/", "env": ["X"]}"#).contains("invalid environment"));
}
