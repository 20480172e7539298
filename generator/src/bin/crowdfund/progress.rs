//! Progress of long commands, on stderr: a bar with done/total, rate and time left when stderr
//! is a terminal (indicatif); otherwise a plain line every few seconds and one at the end, so
//! a log of a long run says how far it got.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The progress of one long piece of work, counted in `unit`s.
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: u64,
    done: u64,
    start: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts counting; `total` 0 when not known yet.
    pub fn new(label: &'static str, unit: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let template =
                format!("{label}: {{bar:30}} {{pos}}/{{len}} {unit} ({{percent}}%), {{per_sec}}, {{eta}} left");
            bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar
        });
        let now = Instant::now();
        Progress { label, unit, total, done: 0, start: now, last_line: now, bar }
    }

    /// Sets the total (when it is learnt, or changes).
    pub fn set_total(&mut self, total: u64) {
        self.total = total;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// Counts `n` more done.
    pub fn inc(&mut self, n: u64) {
        self.set(self.done + n);
    }

    /// Sets how many are done.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if self.last_line.elapsed() >= PLAIN_EVERY => {
                self.last_line = Instant::now();
                eprintln!("{}", line(self.label, self.unit, self.done, self.total, self.start.elapsed()));
            }
            None => {}
        }
    }

    /// How many are done.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Ends the bar (or prints the last plain line); returns the time the work took.
    pub fn finish(self) -> Duration {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!("{}", line(self.label, self.unit, self.done, self.total, self.start.elapsed())),
        }
        self.start.elapsed()
    }
}

/// A plain progress line: `import: 3000/10000 projects (30%), 1500 projects/s, about 5 s left`.
pub fn line(label: &str, unit: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { done as f64 / seconds } else { 0.0 };
    let mut text = format!("{label}: {done}");
    match (done * 100).checked_div(total) {
        Some(percent) => text += &format!("/{total} {unit} ({percent}%)"),
        None => text += &format!(" {unit}"),
    }
    text += &format!(", {rate:.0} {unit}/s");
    if total > done && rate > 0.0 {
        text += &format!(", about {:.0} s left", (total - done) as f64 / rate);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_says_done_total_rate_and_time_left() {
        let l = line("import", "projects", 3000, 10000, Duration::from_secs(2));
        assert_eq!(l, "import: 3000/10000 projects (30%), 1500 projects/s, about 5 s left");
    }

    #[test]
    fn a_plain_line_without_a_total_or_a_rate_says_what_it_knows() {
        assert_eq!(line("export", "projects", 0, 0, Duration::ZERO), "export: 0 projects, 0 projects/s");
        let finished = line("verify", "pages", 20, 20, Duration::from_secs(4));
        assert_eq!(finished, "verify: 20/20 pages (100%), 5 pages/s");
    }
}
