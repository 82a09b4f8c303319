//! The results: a text table, `report.md`, `samples.csv` and `report.svg`.
//!
//! The SVG is written by hand (no plotting dependency): a bar per table row
//! with the ratio `smp_rt / tokio` on a log scale around 1.0, and the
//! cumulative distribution of the priority-latency samples of both runtimes
//! on a log time axis.
//!
//! Most figures are lower-is-better (time, bytes, latency); throughput
//! ([`Unit::RequestsPerSec`]) is higher-is-better. The two kinds go to
//! separate tables and separate chart panels, each saying which side of
//! 1.0 means smp_rt did better.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::runtimes::RuntimeKind;
use crate::stats;
use crate::sysinfo::SystemInfo;

/// The unit of a row's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A duration in nanoseconds, shown as ns, µs, ms or s.
    Nanos,
    /// Nanoseconds per task.
    NanosPerTask,
    /// Bytes per task.
    BytesPerTask,
    /// Requests per second; the only higher-is-better unit.
    RequestsPerSec,
    /// Bytes: the size of a type (`combinator_sizes`).
    Bytes,
}

impl Unit {
    /// The unit's name in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Nanos => "ns",
            Unit::NanosPerTask => "ns/task",
            Unit::BytesPerTask => "bytes/task",
            Unit::RequestsPerSec => "req/s",
            Unit::Bytes => "bytes",
        }
    }

    /// Whether a larger figure is the better one (throughput), rather than
    /// a smaller one (time, memory, latency).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::RequestsPerSec)
    }

    /// `value` in this unit, for people.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_bench::report::Unit;
    ///
    /// assert_eq!(Unit::Nanos.format(1_234_567.0), "1.23 ms");
    /// assert_eq!(Unit::BytesPerTask.format(412.4), "412 B/task");
    /// assert_eq!(Unit::RequestsPerSec.format(106_392.3), "106.4k req/s");
    /// ```
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Nanos => format_nanos(value),
            Unit::NanosPerTask => format!("{value:.0} ns/task"),
            Unit::BytesPerTask => format!("{value:.0} B/task"),
            Unit::RequestsPerSec => format_rate(value),
            Unit::Bytes => format!("{value:.0} B"),
        }
    }
}

fn format_rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2}M req/s", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1}k req/s", per_sec / 1e3)
    } else {
        format!("{per_sec:.0} req/s")
    }
}

fn format_nanos(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

/// One line of the table: a figure on both runtimes.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// What is measured, e.g. `"spawn_many_local"` or `"priority_latency p99"`.
    pub label: String,
    /// The figures' unit.
    pub unit: Unit,
    /// The figure on smp_rt, if it was measured.
    pub smp_rt: Option<f64>,
    /// The figure on tokio, if it was measured.
    pub tokio: Option<f64>,
}

impl Row {
    /// `smp_rt / tokio`, when both are there and tokio's is positive.
    pub fn ratio(&self) -> Option<f64> {
        match (self.smp_rt, self.tokio) {
            (Some(a), Some(b)) if b > 0.0 && a >= 0.0 => Some(a / b),
            _ => None,
        }
    }

    /// Whether smp_rt did better, or as well: a ratio at or below 1.0 for
    /// a lower-is-better figure, at or above 1.0 for throughput. `None`
    /// without a ratio.
    pub fn smp_rt_better(&self) -> Option<bool> {
        let ratio = self.ratio()?;
        Some(if self.unit.higher_is_better() {
            ratio >= 1.0
        } else {
            ratio <= 1.0
        })
    }
}

/// One raw measurement, as a line of `samples.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The workload's name.
    pub workload: &'static str,
    /// What was measured, e.g. `"time"` or `"wake_to_run"`.
    pub metric: &'static str,
    /// On which runtime.
    pub runtime: RuntimeKind,
    /// The measured iteration, from 0 (warm-up runs are not recorded).
    pub iteration: usize,
    /// The value, in `unit`.
    pub value: f64,
    /// The value's unit.
    pub unit: Unit,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The machine.
    pub system: SystemInfo,
    /// Worker threads per runtime.
    pub workers: usize,
    /// How the workloads were repeated, in words.
    pub method: String,
    /// The table.
    pub rows: Vec<Row>,
    /// Every measurement.
    pub samples: Vec<Sample>,
    /// The pooled priority-latency samples per runtime, in nanoseconds.
    pub latency: Vec<(RuntimeKind, Vec<f64>)>,
    /// Anything else worth saying under the table.
    pub notes: Vec<String>,
}

/// Where [`Report::write`] put its files.
#[derive(Clone, Debug)]
pub struct Written {
    /// The chart.
    pub svg: PathBuf,
    /// The table in Markdown.
    pub markdown: PathBuf,
    /// The raw samples.
    pub csv: PathBuf,
}

const LOWER_IS_BETTER: &str = "lower-is-better: a ratio below 1.00 means smp_rt did better \
     (less time, fewer bytes, lower latency).";
const HIGHER_IS_BETTER: &str = "Throughput is higher-is-better: a ratio above 1.00 means smp_rt did better \
     (more requests per second).";

impl Report {
    /// The header lines: machine, workers, method.
    pub fn header(&self) -> Vec<String> {
        let mut lines = self.system.lines();
        lines.push(format!("Workers: {} per runtime", self.workers));
        lines.push(format!("Method: {}", self.method));
        lines
    }

    /// The rows with lower-is-better figures, then those with
    /// higher-is-better ones (throughput).
    fn sections(&self) -> (Vec<&Row>, Vec<&Row>) {
        self.rows
            .iter()
            .partition(|row| !row.unit.higher_is_better())
    }

    /// What the ratios of the first table mean.
    fn lower_note(&self) -> String {
        if self.sections().1.is_empty() {
            format!("Every figure is {LOWER_IS_BETTER}")
        } else {
            format!("Every figure in the first table is {LOWER_IS_BETTER}")
        }
    }

    /// The table as aligned plain text, header included.
    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str("smp_rt vs tokio\n");
        for line in self.header() {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
        let (lower, higher) = self.sections();
        text_table(&mut out, "workload", &lower);
        let _ = writeln!(out, "\n{}", self.lower_note());
        if !higher.is_empty() {
            out.push('\n');
            text_table(&mut out, "throughput", &higher);
            let _ = writeln!(out, "\n{HIGHER_IS_BETTER}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        out
    }

    /// The table as Markdown, header included.
    pub fn markdown(&self) -> String {
        let mut out = String::from("# smp_rt vs tokio\n\n");
        for line in self.header() {
            let _ = writeln!(out, "- {}", md_escape(&line));
        }
        let (lower, higher) = self.sections();
        markdown_table(&mut out, "workload", &lower);
        let _ = writeln!(out, "\n{}", self.lower_note());
        if !higher.is_empty() {
            markdown_table(&mut out, "throughput", &higher);
            let _ = writeln!(out, "\n{HIGHER_IS_BETTER}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{}", md_escape(note));
        }
        out
    }

    /// Every sample as CSV: `workload,metric,runtime,iteration,value,unit`.
    pub fn csv(&self) -> String {
        let mut out = String::from("workload,metric,runtime,iteration,value,unit\n");
        for s in &self.samples {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                s.workload,
                s.metric,
                s.runtime.name(),
                s.iteration,
                s.value,
                s.unit.name()
            );
        }
        out
    }

    /// The chart.
    pub fn svg(&self) -> String {
        svg(&self.header(), &self.rows, &self.latency)
    }

    /// Writes `report.svg`, `report.md` and `samples.csv` into `dir`,
    /// creating it if needed.
    ///
    /// # Errors
    ///
    /// When the directory or a file cannot be written.
    pub fn write(&self, dir: &Path) -> io::Result<Written> {
        fs::create_dir_all(dir)?;
        let written = Written {
            svg: dir.join("report.svg"),
            markdown: dir.join("report.md"),
            csv: dir.join("samples.csv"),
        };
        fs::write(&written.svg, self.svg())?;
        fs::write(&written.markdown, self.markdown())?;
        fs::write(&written.csv, self.csv())?;
        Ok(written)
    }
}

/// Appends `rows` as an aligned plain-text table whose first column is
/// headed `first`.
fn text_table(out: &mut String, first: &str, rows: &[&Row]) {
    let cells: Vec<[String; 4]> = rows.iter().map(|row| cells(row)).collect();
    let head = [
        first.to_owned(),
        "smp_rt".to_owned(),
        "tokio".to_owned(),
        "smp_rt/tokio".to_owned(),
    ];
    let mut widths = head.clone().map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    for row in std::iter::once(&head).chain(&cells) {
        let _ = write!(out, "{:<w$}", row[0], w = widths[0]);
        for (cell, w) in row.iter().zip(widths).skip(1) {
            let pad = w - cell.chars().count();
            let _ = write!(out, "  {}{cell}", " ".repeat(pad));
        }
        out.push('\n');
    }
}

/// Appends `rows` as a Markdown table whose first column is headed `first`.
fn markdown_table(out: &mut String, first: &str, rows: &[&Row]) {
    let _ = write!(
        out,
        "\n| {first} | smp_rt | tokio | smp_rt / tokio |\n|---|--:|--:|--:|\n"
    );
    for row in rows {
        let [label, a, b, r] = cells(row);
        let _ = writeln!(out, "| {} | {a} | {b} | {r} |", md_escape(&label));
    }
}

fn cells(row: &Row) -> [String; 4] {
    let figure = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| row.unit.format(v));
    [
        row.label.clone(),
        figure(row.smp_rt),
        figure(row.tokio),
        row.ratio()
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
    ]
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `10^k` nanoseconds as a tick label: `1 ns`, `10 µs`, `100 ms`, ...
fn power_of_ten_nanos(k: i32) -> String {
    let (unit, base) = match k {
        ..3 => ("ns", 0),
        3..6 => ("µs", 3),
        6..9 => ("ms", 6),
        _ => ("s", 9),
    };
    format!(
        "{} {unit}",
        10u64.pow((k.clamp(base, base + 12) - base) as u32)
    )
}

/// Splits `line` at spaces into lines of at most `width` characters (a
/// longer word gets a line of its own).
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// Escapes `s` for SVG text and attribute values.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

const WIDTH: f64 = 960.0;
const LEFT: f64 = 250.0;
const RIGHT: f64 = 60.0;
const BAR_ROW: f64 = 26.0;
const SMP_COLOR: &str = "#1f77b4";
const TOKIO_COLOR: &str = "#ff7f0e";
const BETTER_COLOR: &str = "#2a9d59";
const WORSE_COLOR: &str = "#d1495b";

/// Renders the chart: a header, the ratio bars (lower-is-better rows, then
/// throughput rows in a panel of their own), and the latency CDF when there
/// are latency samples.
pub fn svg(header: &[String], rows: &[Row], latency: &[(RuntimeKind, Vec<f64>)]) -> String {
    let mut body = String::new();
    let mut y = 34.0;
    let _ = writeln!(
        body,
        r#"<text x="20" y="{y}" font-size="20" font-weight="bold">smp_rt vs tokio</text>"#
    );
    y += 8.0;
    for line in header.iter().flat_map(|line| wrap(line, 140)) {
        y += 17.0;
        let _ = writeln!(
            body,
            r##"<text x="20" y="{y}" font-size="12" fill="#444">{}</text>"##,
            xml_escape(&line)
        );
    }
    y += 34.0;
    let (lower, higher): (Vec<&Row>, Vec<&Row>) =
        rows.iter().partition(|row| !row.unit.higher_is_better());
    if !lower.is_empty() || higher.is_empty() {
        y = ratio_panel(
            &mut body,
            y,
            &lower,
            "Ratio smp_rt / tokio (log scale; left of 1.0: smp_rt better)",
        );
    }
    if !higher.is_empty() {
        if !lower.is_empty() {
            y += 30.0;
        }
        y = ratio_panel(
            &mut body,
            y,
            &higher,
            "Throughput, ratio smp_rt / tokio (log scale; right of 1.0: smp_rt better)",
        );
    }
    if latency.iter().any(|(_, v)| !v.is_empty()) {
        y = latency_panel(&mut body, y + 30.0, latency);
    }
    let height = y + 30.0;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// The bars of `rows` under the heading `title`, from `top`; returns the y
/// below the panel.
fn ratio_panel(out: &mut String, top: f64, rows: &[&Row], title: &str) -> f64 {
    let _ = writeln!(
        out,
        r#"<text x="20" y="{top}" font-size="15" font-weight="bold">{}</text>"#,
        xml_escape(title)
    );
    let plot_top = top + 16.0;
    let plot_bottom = plot_top + BAR_ROW * rows.len().max(1) as f64;
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    // The scale spans ±`span` powers of two around 1.0.
    let extreme = rows
        .iter()
        .filter_map(|row| row.ratio())
        .filter(|r| *r > 0.0)
        .map(|r| r.log2().abs())
        .fold(0.0f64, f64::max);
    let span = extreme.ceil().clamp(1.0, 6.0);
    let x_of = |ratio: f64| {
        let l = ratio.log2().clamp(-span, span);
        x0 + (l + span) / (2.0 * span) * (x1 - x0)
    };
    for k in -(span as i32)..=(span as i32) {
        let x = x_of(2f64.powi(k));
        let label = if k >= 0 {
            format!("{}", 1u64 << k)
        } else {
            format!("1/{}", 1u64 << -k)
        };
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{plot_top}" x2="{x:.1}" y2="{plot_bottom}" stroke="#ddd"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text x="{x:.1}" y="{}" font-size="11" text-anchor="middle" fill="#444">{label}</text>"##,
            plot_bottom + 14.0
        );
    }
    let one = x_of(1.0);
    for (i, row) in rows.iter().enumerate() {
        let yb = plot_top + BAR_ROW * i as f64;
        let mid = yb + BAR_ROW / 2.0 + 4.0;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{mid}" font-size="12" text-anchor="end">{}</text>"#,
            x0 - 8.0,
            xml_escape(&row.label)
        );
        let Some(ratio) = row.ratio().filter(|r| *r > 0.0) else {
            let _ = writeln!(
                out,
                r##"<text x="{one:.1}" y="{mid}" font-size="11" fill="#888" text-anchor="middle">n/a</text>"##
            );
            continue;
        };
        let x = x_of(ratio);
        let (left, width) = if x < one {
            (x, one - x)
        } else {
            (one, x - one)
        };
        let color = if row.smp_rt_better() == Some(true) {
            BETTER_COLOR
        } else {
            WORSE_COLOR
        };
        let _ = writeln!(
            out,
            r#"<rect x="{left:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {ratio:.3}</title></rect>"#,
            yb + 4.0,
            width.max(1.0),
            BAR_ROW - 8.0,
            xml_escape(&row.label)
        );
        let (tx, anchor) = if x < one {
            (left - 4.0, "end")
        } else {
            (left + width + 4.0, "start")
        };
        let _ = writeln!(
            out,
            r#"<text x="{tx:.1}" y="{mid}" font-size="11" text-anchor="{anchor}">{ratio:.2}</text>"#
        );
    }
    let _ = writeln!(
        out,
        r#"<line x1="{one:.1}" y1="{}" x2="{one:.1}" y2="{plot_bottom}" stroke="black" stroke-width="1.5"/>"#,
        plot_top - 4.0
    );
    plot_bottom + 20.0
}

/// The latency CDF, from `top`; returns the y below the panel.
fn latency_panel(out: &mut String, top: f64, latency: &[(RuntimeKind, Vec<f64>)]) -> f64 {
    let _ = writeln!(
        out,
        r#"<text x="20" y="{top}" font-size="15" font-weight="bold">priority_latency: wake-to-run time, cumulative distribution (log time axis)</text>"#
    );
    let plot_top = top + 30.0;
    let plot_bottom = plot_top + 260.0;
    let (x0, x1) = (LEFT - 150.0, WIDTH - RIGHT);
    let all = latency.iter().flat_map(|(_, v)| v.iter().copied());
    let min = all
        .clone()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let max = all.fold(0.0f64, f64::max);
    let (min, max) = if min.is_finite() && max > 0.0 {
        (min, max)
    } else {
        (1.0, 10.0)
    };
    let lo = min.log10().floor();
    let hi = max.log10().ceil().max(lo + 1.0);
    let x_of = |ns: f64| x0 + (ns.max(1.0).log10().clamp(lo, hi) - lo) / (hi - lo) * (x1 - x0);
    let y_of = |frac: f64| plot_bottom - frac * (plot_bottom - plot_top);

    for p in [0.0, 0.25, 0.5, 0.75, 0.9, 1.0] {
        let y = y_of(p);
        let _ = writeln!(
            out,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#444">{}%</text>"##,
            x0 - 6.0,
            y + 4.0,
            p * 100.0
        );
    }
    for (p, label) in [(0.5, "p50"), (0.99, "p99")] {
        let y = y_of(p);
        let _ = writeln!(
            out,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#999" stroke-dasharray="4 3"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{:.1}" font-size="11" fill="#444">{label}</text>"##,
            x1 + 6.0,
            y + 4.0
        );
    }
    for k in (lo as i32)..=(hi as i32) {
        let x = x_of(10f64.powi(k));
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{plot_top}" x2="{x:.1}" y2="{plot_bottom}" stroke="#ddd"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text x="{x:.1}" y="{}" font-size="11" text-anchor="middle" fill="#444">{}</text>"##,
            plot_bottom + 14.0,
            xml_escape(&power_of_ten_nanos(k))
        );
    }
    let _ = writeln!(
        out,
        r#"<rect x="{x0}" y="{plot_top}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        x1 - x0,
        plot_bottom - plot_top
    );

    for (i, (kind, values)) in latency.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let color = match kind {
            RuntimeKind::SmpRt => SMP_COLOR,
            RuntimeKind::Tokio => TOKIO_COLOR,
        };
        let sorted = stats::sorted(values);
        let n = sorted.len() as f64;
        let mut points = format!("{:.1},{:.1}", x_of(sorted[0]), y_of(0.0));
        for (j, v) in sorted.iter().enumerate() {
            let x = x_of(*v);
            let _ = write!(
                points,
                " {x:.1},{:.1} {x:.1},{:.1}",
                y_of(j as f64 / n),
                y_of((j + 1) as f64 / n)
            );
        }
        let _ = writeln!(
            out,
            r#"<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>"#
        );
        let summary = stats::Summary::of(values);
        let legend = match summary {
            Some(s) => format!(
                "{}: p50 {}, p99 {}, max {} ({} samples)",
                kind.name(),
                format_nanos(s.p50),
                format_nanos(s.p99),
                format_nanos(s.max),
                s.count
            ),
            None => kind.name().to_owned(),
        };
        let ly = plot_bottom - 60.0 + 18.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/>"#,
            x1 - 340.0,
            x1 - 315.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="11">{}</text>"#,
            x1 - 310.0,
            ly + 4.0,
            xml_escape(&legend)
        );
    }
    plot_bottom + 20.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `doc` is well-formed as far as SVG output goes: every
    /// tag closed in order, attributes quoted, no stray `<` or `&`.
    fn assert_well_formed(doc: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = doc;
        let mut roots = 0;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open]);
            let close = rest[open..].find('>').expect("unterminated tag") + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            assert!(!tag.contains('<'), "'<' inside tag {tag:?}");
            if tag.starts_with('?') {
                assert!(tag.ends_with('?'));
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name.trim()), "mismatched </{name}>");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let inner = tag.trim_end_matches('/');
            let name = inner.split_whitespace().next().expect("empty tag");
            check_attributes(&inner[name.len()..]);
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        }
        check_text(rest);
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert_eq!(roots, 1, "one root element");
    }

    fn check_text(text: &str) {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "bad entity {entity:?}"
            );
        }
    }

    fn check_attributes(mut attrs: &str) {
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                return;
            }
            let eq = attrs.find('=').expect("attribute without value");
            assert!(!attrs[..eq].contains(char::is_whitespace), "{attrs:?}");
            let value = &attrs[eq + 1..];
            assert!(value.starts_with('"'), "unquoted attribute: {attrs:?}");
            let end = value[1..].find('"').expect("unterminated attribute") + 1;
            check_text(&value[1..end]);
            attrs = &value[end + 1..];
        }
    }

    fn sample_report() -> Report {
        Report {
            system: SystemInfo {
                cpu: "Test <CPU> & \"friends\"".to_owned(),
                cores: 2,
                os: "linux aarch64".to_owned(),
                rustc: Some("rustc 1.95.0".to_owned()),
                date: "2026-01-01".to_owned(),
            },
            workers: 2,
            method: "3 iterations after 1 warm-up, interleaved".to_owned(),
            rows: vec![
                Row {
                    label: "spawn_many_local".to_owned(),
                    unit: Unit::Nanos,
                    smp_rt: Some(1.0e6),
                    tokio: Some(2.0e6),
                },
                Row {
                    label: "parked_tasks memory".to_owned(),
                    unit: Unit::BytesPerTask,
                    smp_rt: Some(300.0),
                    tokio: Some(100.0),
                },
                Row {
                    label: "ping_pong".to_owned(),
                    unit: Unit::Nanos,
                    smp_rt: None,
                    tokio: Some(5.0),
                },
            ],
            samples: vec![Sample {
                workload: "spawn_many_local",
                metric: "time",
                runtime: RuntimeKind::SmpRt,
                iteration: 0,
                value: 1.0e6,
                unit: Unit::Nanos,
            }],
            latency: vec![
                (RuntimeKind::SmpRt, vec![1_500.0, 900.0, 40_000.0]),
                (RuntimeKind::Tokio, vec![120_000.0, 3_000_000.0]),
            ],
            notes: vec!["a <note> & more".to_owned()],
        }
    }

    #[test]
    fn svg_is_well_formed() {
        let report = sample_report();
        let svg = report.svg();
        assert_well_formed(&svg);
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("Test &lt;CPU&gt; &amp; &quot;friends&quot;"));
        assert!(svg.contains(">0.50<") && svg.contains(">3.00<"));

        let empty = svg_for_rows(&[]);
        assert_well_formed(&empty);
        assert!(!empty.contains("<polyline"));
    }

    fn svg_for_rows(rows: &[Row]) -> String {
        svg(&["header".to_owned()], rows, &[])
    }

    #[test]
    fn extreme_ratios_stay_on_the_chart() {
        let rows = [Row {
            label: "x".to_owned(),
            unit: Unit::Nanos,
            smp_rt: Some(1e9),
            tokio: Some(1.0),
        }];
        let svg = svg_for_rows(&rows);
        assert_well_formed(&svg);
        let attr = |tag: &str, name: &str| -> Option<f64> {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            tag[start..].split('"').next()?.parse().ok()
        };
        let mut bars = 0;
        for tag in svg.split("<rect").skip(1) {
            if let (Some(x), Some(w)) = (attr(tag, "x"), attr(tag, "width")) {
                assert!(x >= 0.0 && x + w <= WIDTH, "{tag}");
                bars += 1;
            }
        }
        assert_eq!(bars, 1);
    }

    #[test]
    fn table_markdown_and_csv() {
        let report = sample_report();
        let text = report.text();
        assert!(text.contains("spawn_many_local"));
        assert!(text.contains("1.00 ms") && text.contains("2.00 ms") && text.contains("0.50"));
        assert!(text.contains("300 B/task") && text.contains("3.00"));
        assert!(text.contains("n/a"));
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("B/task")).collect();
        assert_eq!(lines.len(), 1);

        let md = report.markdown();
        assert!(md.contains("| spawn_many_local | 1.00 ms | 2.00 ms | 0.50 |"));

        let csv = report.csv();
        assert_eq!(
            csv,
            "workload,metric,runtime,iteration,value,unit\nspawn_many_local,time,smp_rt,0,1000000,ns\n"
        );
    }

    #[test]
    fn throughput_has_its_own_table_and_panel() {
        let mut report = sample_report();
        report.rows.push(Row {
            label: "http_wrk req/s".to_owned(),
            unit: Unit::RequestsPerSec,
            smp_rt: Some(120_000.0),
            tokio: Some(100_000.0),
        });
        let row = report.rows.last().unwrap();
        assert_eq!(row.smp_rt_better(), Some(true));
        assert_eq!(report.rows[1].smp_rt_better(), Some(false));
        assert_eq!(report.rows[2].smp_rt_better(), None);

        let text = report.text();
        let throughput = text.find("\nthroughput ").expect("a throughput table");
        assert!(text.find("spawn_many_local").unwrap() < throughput);
        let after = &text[throughput..];
        assert!(after.contains("120.0k req/s") && after.contains("100.0k req/s"));
        assert!(after.contains("1.20"));
        assert!(text.contains("first table is lower-is-better"));
        assert!(text.contains("ratio above 1.00 means smp_rt did better"));

        let md = report.markdown();
        assert!(md.contains("| throughput | smp_rt | tokio | smp_rt / tokio |"));
        assert!(md.contains("| http_wrk req/s | 120.0k req/s | 100.0k req/s | 1.20 |"));

        let svg = report.svg();
        assert_well_formed(&svg);
        assert!(svg.contains("right of 1.0: smp_rt better"));
        let bar = svg
            .split("<rect")
            .find(|tag| tag.contains("<title>http_wrk req/s"))
            .expect("a throughput bar");
        assert!(bar.contains(BETTER_COLOR), "{bar}");

        let plain = sample_report();
        assert!(!plain.text().contains("throughput"));
        assert!(plain.text().contains("Every figure is lower-is-better"));
    }

    #[test]
    fn wrapping_and_ticks() {
        assert_eq!(wrap("a bb ccc dd", 6), ["a bb", "ccc dd"]);
        assert_eq!(wrap("abcdefgh ij", 4), ["abcdefgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(power_of_ten_nanos(0), "1 ns");
        assert_eq!(power_of_ten_nanos(4), "10 µs");
        assert_eq!(power_of_ten_nanos(8), "100 ms");
        assert_eq!(power_of_ten_nanos(10), "10 s");
    }

    #[test]
    fn sizes_are_bytes_and_lower_is_better() {
        let row = Row {
            label: "combinator_sizes select!(3)".to_owned(),
            unit: Unit::Bytes,
            smp_rt: Some(96.0),
            tokio: Some(48.0),
        };
        assert_eq!(Unit::Bytes.format(96.0), "96 B");
        assert_eq!(Unit::Bytes.name(), "bytes");
        assert_eq!(row.ratio(), Some(2.0));
        assert_eq!(row.smp_rt_better(), Some(false));
        let mut report = sample_report();
        report.rows.push(row);
        assert!(
            report
                .markdown()
                .contains("| combinator_sizes select!(3) | 96 B | 48 B | 2.00 |")
        );
        assert!(!report.text().contains("throughput"));
    }

    #[test]
    fn nanos_formatting() {
        assert_eq!(format_nanos(12.0), "12.0 ns");
        assert_eq!(format_nanos(1_500.0), "1.50 µs");
        assert_eq!(format_nanos(250_000.0), "250 µs");
        assert_eq!(format_nanos(3.2e9), "3.20 s");
    }
}
