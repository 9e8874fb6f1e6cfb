//! `state` and `list`: read-only views of the state store.

use std::io::Write;

use crate::cli::{ListArgs, ListFormat, PsArgs, PsFormat};
use crate::container::{OciState, StateStore};
use crate::error::Error;

fn out_err(e: std::io::Error) -> Error {
    Error::Io {
        what: "write to stdout".into(),
        source: e,
    }
}

/// runc prints the state indented by two spaces.
pub fn state(store: &StateStore, id: &str) -> Result<(), Error> {
    let state = store.peek(id)?;
    let mut st = state.oci_state(store.status(&state));
    // runc's `state` leaves owner empty (only `list` fills it in); scripts compare the two.
    st.owner.clear();
    let text = serde_json::to_string_pretty(&st).map_err(|e| out_err(e.into()))?;
    // Not println!, which panics when stdout is a closed pipe (`ferrun state | grep -q`).
    writeln!(std::io::stdout().lock(), "{text}").map_err(out_err)
}

pub fn list(store: &StateStore, a: &ListArgs) -> Result<(), Error> {
    let states: Vec<OciState> = store
        .list()?
        .iter()
        .map(|s| s.oci_state(store.status(s)))
        .collect();
    let mut out = std::io::stdout().lock();
    if a.quiet {
        for s in &states {
            writeln!(out, "{}", s.id).map_err(out_err)?;
        }
        return Ok(());
    }
    match a.format {
        // runc encodes a nil slice, which is `null` when there are no containers.
        ListFormat::Json if states.is_empty() => writeln!(out, "null").map_err(out_err),
        ListFormat::Json => {
            let text = serde_json::to_string(&states).map_err(|e| out_err(e.into()))?;
            writeln!(out, "{text}").map_err(out_err)
        }
        ListFormat::Table => out
            .write_all(render_table(&states).as_bytes())
            .map_err(out_err),
    }
}

/// `ps`: the pids in the container's cgroup, as JSON, or `ps(1)` output filtered to them.
pub fn ps(store: &StateStore, a: &PsArgs) -> Result<(), Error> {
    let state = store.peek(&a.id)?;
    let cg_err = |source| Error::Cgroup {
        id: a.id.clone(),
        source,
    };
    let pids = match &state.cgroup_path {
        Some(p) => crate::cgroups::manager_from_path(p)
            .map_err(cg_err)?
            .pids()
            .map_err(cg_err)?,
        // Rootless without a delegated cgroup: no list of the container's processes exists.
        // runc fails here too ("unable to get all container pids"); an empty table would lie.
        None => {
            return Err(Error::Usage(format!(
                "container {:?} has no cgroup (rootless without cgroup delegation): ps cannot list its processes",
                a.id
            )))
        }
    };
    let mut out = std::io::stdout().lock();
    if a.format == PsFormat::Json {
        let text = serde_json::to_string(&pids).map_err(|e| out_err(e.into()))?;
        return writeln!(out, "{text}").map_err(out_err);
    }
    let args = if a.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        a.ps_args.clone()
    };
    let listing = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| Error::Io {
            what: "run ps".into(),
            source: e,
        })?;
    let text = String::from_utf8_lossy(&listing.stdout);
    out.write_all(filter_ps(&text, &pids).as_bytes())
        .map_err(out_err)
}

/// Keep ps(1)'s header and the lines whose PID column is one of `pids`.
pub fn filter_ps(text: &str, pids: &[i32]) -> String {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return String::new();
    };
    let col = header.split_whitespace().position(|h| h == "PID");
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = col
            .and_then(|c| line.split_whitespace().nth(c))
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// runc's tabwriter layout: columns padded to the widest cell (at least 12) plus 3 spaces.
pub fn render_table(states: &[OciState]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
        .map(String::from)
        .to_vec()];
    for s in states {
        rows.push(vec![
            s.id.clone(),
            s.pid.to_string(),
            s.status.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            s.owner.clone(),
        ]);
    }
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
                .max(12 - 3)
                + 3
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == cols {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Status;

    #[test]
    fn ps_keeps_header_and_container_pids() {
        let text = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 1 other\n";
        assert_eq!(
            filter_ps(text, &[42]),
            "UID PID PPID CMD\nroot 42 1 sleep\n"
        );
    }

    #[test]
    fn table_has_runc_header_and_aligned_columns() {
        let s = OciState {
            oci_version: "1.2.0".into(),
            id: "c1".into(),
            pid: 42,
            status: Status::Running,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            owner: "root".into(),
            annotations: Default::default(),
        };
        let t = render_table(&[s]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("ID          PID         STATUS"),
            "{t}"
        );
        assert_eq!(lines[0].find("PID"), lines[1].find("42"));
        assert!(lines[1].ends_with("root"));
    }
}
