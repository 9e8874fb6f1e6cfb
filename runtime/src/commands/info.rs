//! `--version`, `spec`, `features`: commands that touch no container.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use crate::cli::SpecArgs;
use crate::container::state::OCI_VERSION;
use crate::error::Error;

pub fn version() {
    let seccomp = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "unknown".into());
    out(&version_text(&seccomp));
}

/// runc's `--version` layout, line for line: tools read the `spec:` line, and runc's
/// version.bats checks the first three lines' shapes.
fn version_text(seccomp: &str) -> String {
    format!(
        "ferrun version {}\ncommit: {}\nspec: {OCI_VERSION}\nlibseccomp: {seccomp}\n",
        env!("CARGO_PKG_VERSION"),
        env!("FERRUN_COMMIT"),
    )
}

/// Write to stdout; a reader that went away (`ferrun features | head`) is not an error, and
/// `print!` would panic on it.
fn out(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// `h [COMMAND]`: the help of ferrun or of one command, as `help` prints it.
pub fn help(topic: Option<&str>) -> Result<i32, Error> {
    let mut cmd = crate::cli::command();
    let text = match topic {
        None => cmd.render_help(),
        Some(name) => match cmd.find_subcommand_mut(name) {
            Some(sub) => sub.render_help(),
            None => return Err(Error::UnknownCommand(name.to_string())),
        },
    };
    out(&text.to_string());
    Ok(0)
}

/// Write a default config.json; like runc, refuse to overwrite an existing one.
pub fn spec(a: &SpecArgs) -> Result<(), Error> {
    let path = a.bundle.join("config.json");
    let io = |source| Error::Io {
        what: format!("write {}", path.display()),
        source,
    };
    let text = serde_json::to_string_pretty(&crate::specgen::default_spec(a.rootless))
        .map_err(|e| io(e.into()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Usage(format!("File {} exists. Remove it first", path.display()))
            } else {
                io(e)
            }
        })?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.write_all(b"\n").map_err(io)
}

pub fn features() -> Result<(), Error> {
    let text =
        serde_json::to_string_pretty(&crate::features::features()).map_err(|e| Error::Io {
            what: "features".into(),
            source: e.into(),
        })?;
    out(&format!("{text}\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn h_knows_the_commands_and_no_others() {
        assert_eq!(super::help(Some("kill")).unwrap(), 0);
        let e = super::help(Some("foo")).unwrap_err();
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn version_lines_follow_runc_layout() {
        let text = super::version_text("2.5.4");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[0],
            format!("ferrun version {}", env!("CARGO_PKG_VERSION"))
        );
        assert!(lines[1].starts_with("commit: "), "{text}");
        assert!(lines[1].len() > "commit: ".len(), "{text}");
        assert_eq!(lines[2], "spec: 1.2.0");
        assert_eq!(lines[3], "libseccomp: 2.5.4");
    }
}
