//! Progress of `run` on stderr, the stream of its per-result lines.
//!
//! Every result gets one plain line, `[done/total] STATUS runtime: id (ms) - reason`, on a
//! terminal and in a CI log alike. On a terminal a status line sits below them and redraws in
//! place: the counts so far, the scenarios running, the time spent and an ETA. Before a result
//! line is printed the status line is erased (`\r` + erase-line) and it is drawn again after,
//! so the result lines stay whole. On Ctrl-C it says so while the running scenarios are torn
//! down, and it is erased for good when the run ends (an interrupted one too) or unwinds.
//! Where the stream is not a terminal (or `--progress never`) the output is exactly the plain
//! lines, without a single escape code.
//!
//! stderr, not stdout: the result lines and the closing lines are already there, the status
//! line must share their stream to erase itself before each of them, and stdout stays free
//! for what commands print as data.

use super::terminal::Console;
use super::{ScenarioResult, Status};
use crate::expect::ellipsize;
use std::time::Duration;

/// `--progress`: `auto` draws the status line when stderr is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    #[default]
    Auto,
    Always,
    Never,
}

/// Results needed before the mean duration says anything about the rest.
const MIN_SAMPLES: usize = 3;
/// Width assumed by `--progress always` when the stream is not a terminal.
const FALLBACK_COLUMNS: usize = 80;
/// Columns left free after the status line. Ctrl-C makes the terminal echo `^C` at the
/// cursor, which sits at the end of the line: in the last two columns it would wrap to a new
/// row, and the next erase would clear that row and leave the old status line standing.
const SPARE_COLUMNS: usize = 3;
/// Return to column 0 and erase the line (VT100 EL0, which every terminal emulator has).
const ERASE: &str = "\r\x1b[K";

/// The order and words of the counts on the status line.
const COUNTED: [(Status, &str); 7] = [
    (Status::Pass, "pass"),
    (Status::Fail, "fail"),
    (Status::Error, "error"),
    (Status::Xpass, "xpass"),
    (Status::Xfail, "xfail"),
    (Status::Skip, "skip"),
    (Status::Unsupported, "unsupported"),
];

pub struct Progress<C: Console> {
    out: C,
    live: bool,
    total: usize,
    jobs: usize,
    done: usize,
    counts: [usize; COUNTED.len()],
    /// Sum of the finished scenarios' wall times.
    busy_ms: u64,
    last: String,
    /// The estimate made at the last result, and when (time since the start).
    eta: Option<(Duration, Duration)>,
    elapsed: Duration,
    interrupted: bool,
    /// A status line is on screen.
    shown: bool,
}

impl<C: Console> Progress<C> {
    /// `total` results are expected from `jobs` workers.
    pub fn new(out: C, mode: Mode, total: usize, jobs: usize) -> Progress<C> {
        let live = match mode {
            Mode::Auto => out.columns().is_some(),
            Mode::Always => true,
            Mode::Never => false,
        };
        Progress {
            out,
            live,
            total,
            jobs: jobs.max(1),
            done: 0,
            counts: [0; COUNTED.len()],
            busy_ms: 0,
            last: String::new(),
            eta: None,
            elapsed: Duration::ZERO,
            interrupted: false,
            shown: false,
        }
    }

    /// One finished scenario, `elapsed` after the start of the run.
    pub fn result(&mut self, r: &ScenarioResult, elapsed: Duration) {
        self.done += 1;
        if let Some(i) = COUNTED.iter().position(|(s, _)| *s == r.status) {
            self.counts[i] += 1;
        }
        self.busy_ms += r.duration_ms;
        self.last = format!("{} {}", r.runtime, r.id);
        self.elapsed = elapsed;
        self.eta = eta(self.done, self.total, self.jobs, self.busy_ms).map(|e| (elapsed, e));
        let line = format!(
            "[{}/{}] {:<11} {}: {} ({} ms){}\n",
            self.done,
            self.total,
            r.status.as_str(),
            r.runtime,
            r.id,
            r.duration_ms,
            r.reason
                .as_deref()
                .map(|x| format!(" - {}", first_line(x)))
                .unwrap_or_default()
        );
        let text = if self.live {
            format!("{ERASE}{line}{}", self.status_line())
        } else {
            line
        };
        self.emit(&text);
        self.shown = self.live;
    }

    /// Redraws the status line (the clock and the ETA move between results).
    pub fn tick(&mut self, elapsed: Duration) {
        if !self.live {
            return;
        }
        self.elapsed = elapsed;
        let text = format!("{ERASE}{}", self.status_line());
        self.emit(&text);
        self.shown = true;
    }

    /// Ctrl-C or SIGTERM: no more scenarios start, the running ones are torn down.
    pub fn interrupted(&mut self) {
        self.interrupted = true;
    }

    /// Erases the status line; the plain lines stay.
    pub fn finish(&mut self) {
        if self.shown {
            self.emit(ERASE);
            self.shown = false;
        }
    }

    /// The status line, cut to the terminal's width less [`SPARE_COLUMNS`].
    fn status_line(&self) -> String {
        let counts: Vec<String> = COUNTED
            .iter()
            .zip(self.counts)
            .filter(|((s, _), n)| *n > 0 || matches!(s, Status::Pass | Status::Fail))
            .map(|((_, word), n)| format!("{n} {word}"))
            .collect();
        let counts = counts.join(", ");
        let running = self.jobs.min(self.total - self.done.min(self.total));
        let when = if self.interrupted {
            format!("{}, interrupted: tearing down", clock(self.elapsed))
        } else {
            let eta = match self.eta {
                Some((at, e)) => clock(e.saturating_sub(self.elapsed.saturating_sub(at))),
                None => "--".into(),
            };
            format!("{}, ETA {eta}", clock(self.elapsed))
        };
        // Most useful first: a narrow terminal loses the last scenario's name, not the counts.
        let line = format!(
            "[{}/{}] {counts} | {when} | {running} running | {}",
            self.done, self.total, self.last
        );
        let width = self.out.columns().unwrap_or(FALLBACK_COLUMNS);
        line.chars()
            .take(width.saturating_sub(SPARE_COLUMNS))
            .collect()
    }

    fn emit(&mut self, text: &str) {
        let _ = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
    }
}

impl<C: Console> Drop for Progress<C> {
    /// A run that unwinds (a panicking worker) must not leave a half line on the terminal.
    fn drop(&mut self) {
        self.finish();
    }
}

/// The time left: the mean wall time of the finished scenarios, for each one not finished,
/// spread over the workers still busy. `None` until a few have finished.
pub fn eta(done: usize, total: usize, jobs: usize, busy_ms: u64) -> Option<Duration> {
    if done < MIN_SAMPLES {
        return None;
    }
    let left = total.saturating_sub(done) as u64;
    let lanes = (jobs as u64).min(left).max(1);
    Some(Duration::from_millis(busy_ms / done as u64 * left / lanes))
}

/// `42s`, `3m05s`, `1h02m`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The first line of a reason, cut to 160 bytes: one result, one line.
fn first_line(s: &str) -> String {
    ellipsize(s.lines().next().unwrap_or(""), 160)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Write;
    use std::rc::Rc;

    /// A console that records the bytes; `cols: None` is a pipe.
    #[derive(Clone)]
    struct Fake {
        bytes: Rc<RefCell<Vec<u8>>>,
        cols: Option<usize>,
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Console for Fake {
        fn columns(&self) -> Option<usize> {
            self.cols
        }
    }

    fn fake(cols: Option<usize>) -> Fake {
        Fake {
            bytes: Rc::default(),
            cols,
        }
    }

    fn text(f: &Fake) -> String {
        String::from_utf8(f.bytes.borrow().clone()).unwrap()
    }

    /// What a terminal shows for `s`: `\n` ends a row, `\r\x1b[K` empties the current one.
    fn screen(s: &str) -> Vec<String> {
        let mut rows = vec![String::new()];
        for (i, chunk) in s.split(ERASE).enumerate() {
            if i > 0 {
                rows.last_mut().unwrap().clear();
            }
            let mut lines = chunk.split('\n');
            rows.last_mut().unwrap().push_str(lines.next().unwrap());
            rows.extend(lines.map(str::to_string));
        }
        rows
    }

    fn res(id: &str, st: Status, ms: u64, reason: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            reason: reason.map(str::to_string),
            duration_ms: ms,
            ..crate::report::fixture::result("runc", id, st)
        }
    }

    fn feed<C: Console>(p: &mut Progress<C>) {
        let secs = Duration::from_secs;
        p.result(&res("a.one", Status::Pass, 1000, None), secs(1));
        p.result(
            &res("a.two", Status::Fail, 2000, Some("exit 1\nmore")),
            secs(2),
        );
        p.result(&res("b.three", Status::Skip, 0, Some("no BFQ")), secs(3));
    }

    const PLAIN: &str = "[1/5] PASS        runc: a.one (1000 ms)\n\
                         [2/5] FAIL        runc: a.two (2000 ms) - exit 1\n\
                         [3/5] SKIP        runc: b.three (0 ms) - no BFQ\n";

    #[test]
    fn not_a_terminal_gets_exactly_the_plain_lines() {
        for (cols, mode) in [(None, Mode::Auto), (Some(100), Mode::Never)] {
            let f = fake(cols);
            let mut p = Progress::new(f.clone(), mode, 5, 2);
            feed(&mut p);
            p.tick(Duration::from_secs(9));
            p.interrupted();
            p.finish();
            drop(p);
            assert_eq!(text(&f), PLAIN, "{cols:?} {mode:?}");
        }
    }

    #[test]
    fn a_terminal_gets_the_same_lines_and_a_status_line_erased_at_the_end() {
        let f = fake(Some(200));
        let mut p = Progress::new(f.clone(), Mode::Auto, 5, 2);
        p.result(
            &res("a.one", Status::Pass, 1000, None),
            Duration::from_secs(1),
        );
        let first = text(&f);
        assert_eq!(
            screen(&first),
            [
                "[1/5] PASS        runc: a.one (1000 ms)",
                "[1/5] 1 pass, 0 fail | 1s, ETA -- | 2 running | runc a.one"
            ]
        );
        assert!(first.starts_with(ERASE), "{first:?}");
        p.result(
            &res("a.two", Status::Fail, 2000, Some("exit 1\nmore")),
            Duration::from_secs(2),
        );
        p.result(
            &res("b.three", Status::Skip, 0, Some("no BFQ")),
            Duration::from_secs(3),
        );
        let rows = screen(&text(&f));
        // Mean 1 s over 3 results, 2 left on 2 workers: 1 s.
        assert_eq!(
            rows.last().unwrap(),
            "[3/5] 1 pass, 1 fail, 1 skip | 3s, ETA 1s | 2 running | runc b.three"
        );
        p.finish();
        let all = text(&f);
        assert!(all.ends_with(ERASE), "{all:?}");
        assert_eq!(screen(&all).join("\n"), PLAIN, "only the plain lines stay");
    }

    #[test]
    fn the_status_line_is_cut_to_the_terminal_width() {
        let f = fake(Some(44));
        let mut p = Progress::new(f.clone(), Mode::Auto, 5, 2);
        feed(&mut p);
        let rows = screen(&text(&f));
        assert_eq!(
            rows.last().unwrap(),
            "[3/5] 1 pass, 1 fail, 1 skip | 3s, ETA 1s"
        );
        assert_eq!(rows.last().unwrap().chars().count(), 41);
        // The result lines themselves are never cut.
        assert!(rows.contains(&"[2/5] FAIL        runc: a.two (2000 ms) - exit 1".to_string()));
    }

    #[test]
    fn always_draws_on_a_pipe_at_eighty_columns() {
        let f = fake(None);
        let mut p = Progress::new(f.clone(), Mode::Always, 5, 1);
        feed(&mut p);
        let out = text(&f);
        assert!(out.contains("\x1b[K"), "{out:?}");
        let last = screen(&out).pop().unwrap();
        assert!(
            last.contains("ETA 2s"),
            "mean 1 s, 2 left, one worker: {last}"
        );
    }

    #[test]
    fn ticks_move_the_clock_and_count_the_eta_down() {
        let f = fake(Some(200));
        let mut p = Progress::new(f.clone(), Mode::Auto, 30, 2);
        feed(&mut p);
        // Mean 1 s, 27 left on 2 workers: 13.5 s from t=3 s.
        p.tick(Duration::from_secs(8));
        let row = screen(&text(&f)).pop().unwrap();
        assert!(row.contains("| 8s, ETA 8s |"), "{row}");
        p.tick(Duration::from_secs(60));
        let row = screen(&text(&f)).pop().unwrap();
        assert!(row.contains("| 1m00s, ETA 0s |"), "{row}");
        p.interrupted();
        p.tick(Duration::from_secs(61));
        let row = screen(&text(&f)).pop().unwrap();
        assert!(
            row.contains("| 1m01s, interrupted: tearing down |"),
            "{row}"
        );
    }

    #[test]
    fn dropping_it_erases_the_status_line() {
        let f = fake(Some(120));
        {
            let mut p = Progress::new(f.clone(), Mode::Auto, 5, 2);
            feed(&mut p);
        }
        assert!(text(&f).ends_with(ERASE));
        assert_eq!(screen(&text(&f)).join("\n"), PLAIN);
    }

    #[test]
    fn eta_needs_samples_and_spreads_over_the_workers() {
        assert_eq!(eta(2, 10, 2, 2000), None);
        assert_eq!(eta(3, 10, 1, 3000), Some(Duration::from_secs(7)));
        assert_eq!(eta(4, 10, 2, 4000), Some(Duration::from_secs(3)));
        // The last one runs on one worker whatever --jobs says.
        assert_eq!(eta(9, 10, 4, 9000), Some(Duration::from_secs(1)));
        assert_eq!(eta(10, 10, 2, 10_000), Some(Duration::ZERO));
    }

    #[test]
    fn clock_reads_like_a_person_writes_it() {
        assert_eq!(clock(Duration::from_secs(42)), "42s");
        assert_eq!(clock(Duration::from_secs(185)), "3m05s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h02m");
    }
}
