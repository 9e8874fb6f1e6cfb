//! `state` and `list`: read-only views of the state store.

use std::io::Write;

use crate::cli::{ListArgs, ListFormat};
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
    let st = store.peek(id)?.oci_state();
    let text = serde_json::to_string_pretty(&st).map_err(|e| out_err(e.into()))?;
    println!("{text}");
    Ok(())
}

pub fn list(store: &StateStore, a: &ListArgs) -> Result<(), Error> {
    let states: Vec<OciState> = store.list()?.iter().map(|s| s.oci_state()).collect();
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
