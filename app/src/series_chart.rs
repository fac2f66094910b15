//! The observability charts: one or more series over a window's steps, as lines or as stacked
//! bars, in inline SVG drawn by our own code (like [`crate::chart`], no library and no
//! script: the same picture before and after hydration). Every chart is one image with a
//! sentence for its accessible name, and a legend under it with each series' numbers in text.
//!
//! The scaling and path math are plain functions ([`nice_top`], [`Frame`], [`line_path`],
//! [`stacks`]) so they are tested without rendering.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

// The drawing's coordinate system (the SVG scales to its container's width).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
/// Room for the y axis' labels.
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
/// Room for the x axis' labels.
const BOTTOM: f64 = 24.0;
/// The share of a step's slot its bar fills.
const BAR_SHARE: f64 = 0.8;
/// About how many labels the x axis gets.
const X_LABELS: usize = 6;

/// What a chart's numbers are, for its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Whole things: requests, drops.
    Count,
    /// A share, 0–100.
    Percent,
    /// Milliseconds.
    Millis,
}

impl Unit {
    /// `v` as a label: `1,234`, `2.5 %`, `7.3 ms`.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => crate::chart::thousands(v.round() as i64),
            Unit::Percent if v < 10.0 && v.fract() != 0.0 => format!("{v:.1} %"),
            Unit::Percent => format!("{v:.0} %"),
            Unit::Millis => millis(v),
        }
    }
}

/// A duration as the pages show it: one decimal below 10 ms, whole milliseconds up to ten
/// seconds, seconds beyond.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{} ms", crate::chart::thousands(ms.round() as i64))
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// How a chart draws its series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// One polyline per series (gaps where a value is missing).
    Lines,
    /// One bar per step, the series stacked in order (first at the bottom).
    StackedBars,
}

/// One series: its name, colour and a value per step (`None`: nothing measured then).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub colour: &'static str,
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(label: impl Into<String>, colour: &'static str, values: Vec<Option<f64>>) -> Self {
        Self { label: label.into(), colour, values }
    }

    /// The values it has, in order.
    fn known(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().flatten().copied()
    }

    /// Smallest and largest value, if it has any.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        self.known().fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
    }

    /// The sum of its values.
    pub fn total(&self) -> f64 {
        self.known().sum()
    }
}

/// A round top for the y axis at or above `max`: 1, 2 or 5 times a power of ten (1 for
/// nothing to show, so an empty chart still has an axis).
pub fn nice_top(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for multiple in [1.0, 2.0, 5.0, 10.0] {
        let top = multiple * magnitude;
        // A hair of tolerance: 0.3 must not become 0.5 because 3 × 0.1 is 0.30000000000000004.
        if top >= max * (1.0 - 1e-9) {
            return top;
        }
    }
    10.0 * magnitude
}

/// Where a chart's steps and values land in the drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// How many steps.
    pub steps: usize,
    /// The value at the top of the plot.
    pub top: f64,
}

impl Frame {
    pub fn new(steps: usize, max: f64) -> Self {
        Self { steps, top: nice_top(max) }
    }

    /// One step's share of the plot's width.
    pub fn slot(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.steps.max(1) as f64
    }

    /// The middle of step `i`.
    pub fn x(&self, i: usize) -> f64 {
        LEFT + self.slot() * (i as f64 + 0.5)
    }

    /// The height of value `v` (clamped to the plot).
    pub fn y(&self, v: f64) -> f64 {
        let share = (v / self.top).clamp(0.0, 1.0);
        self.baseline() - share * (HEIGHT - TOP - BOTTOM)
    }

    /// The y of zero.
    pub fn baseline(&self) -> f64 {
        HEIGHT - BOTTOM
    }
}

/// The y axis' gridlines: zero, the middle and the top; counts skip a middle that is not whole
/// (a "1" halfway up a chart whose top is 1 would be wrong).
pub fn ticks(frame: &Frame, unit: Unit) -> Vec<f64> {
    let middle = frame.top / 2.0;
    if unit == Unit::Count && middle.fract() != 0.0 {
        vec![0.0, frame.top]
    } else {
        vec![0.0, middle, frame.top]
    }
}

/// A coordinate as the SVG gets it: one decimal is plenty.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// The `d` of a series' polyline: a move to each run's first point, a line to the others; a
/// lone point (its neighbours missing) is a dot (a zero-length line with round caps).
pub fn line_path(values: &[Option<f64>], frame: &Frame) -> String {
    let mut d = String::new();
    let mut run = 0;
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let cmd = if run == 0 { 'M' } else { 'L' };
                if !d.is_empty() {
                    d.push(' ');
                }
                d.push_str(&format!("{cmd}{} {}", at(frame.x(i)), at(frame.y(*v))));
                run += 1;
                let next_missing = values.get(i + 1).is_none_or(Option::is_none);
                if run == 1 && next_missing {
                    d.push_str(" h0");
                }
            }
            None => run = 0,
        }
    }
    d
}

/// The stacked bars of one step: per series with a value above zero, its `(index, bottom,
/// top)` in values (not pixels), the first series at the bottom.
pub fn stacks(series: &[Series], step: usize) -> Vec<(usize, f64, f64)> {
    let mut bottom = 0.0;
    series
        .iter()
        .enumerate()
        .filter_map(|(s, series)| {
            let v = series.values.get(step).copied().flatten().filter(|v| *v > 0.0)?;
            let segment = (s, bottom, bottom + v);
            bottom += v;
            Some(segment)
        })
        .collect()
}

/// The largest value the chart must fit: a step's stack for bars, a single value for lines.
pub fn chart_max(series: &[Series], style: Style) -> f64 {
    let steps = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    match style {
        Style::Lines => series.iter().flat_map(Series::known).fold(0.0, f64::max),
        Style::StackedBars => (0..steps)
            .map(|i| stacks(series, i).last().map(|(_, _, top)| *top).unwrap_or(0.0))
            .fold(0.0, f64::max),
    }
}

/// Nothing to draw: for lines every value missing (a known 0, such as an error rate of 0 %
/// over calls that all succeeded, is drawn); for bars every value missing or zero.
pub fn is_empty(series: &[Series], style: Style) -> bool {
    match style {
        Style::Lines => series.iter().flat_map(Series::known).next().is_none(),
        Style::StackedBars => series.iter().flat_map(Series::known).all(|v| v == 0.0),
    }
}

/// The steps of a line with no neighbour on either side: drawn as a dot of their own, since
/// a line through one point has no length.
pub fn lone_points(values: &[Option<f64>]) -> Vec<usize> {
    let known = |i: Option<usize>| i.and_then(|i| values.get(i)).is_some_and(Option::is_some);
    (0..values.len())
        .filter(|&i| values[i].is_some() && !known(i.checked_sub(1)) && !known(Some(i + 1)))
        .collect()
}

/// The steps that get an x label: about [`X_LABELS`], the newest always.
pub fn x_label_steps(steps: usize) -> Vec<usize> {
    if steps == 0 {
        return vec![];
    }
    let every = steps.div_ceil(X_LABELS).max(1);
    let last = steps - 1;
    let mut labelled: Vec<usize> = (0..=last).rev().step_by(every).collect();
    labelled.reverse();
    labelled
}

/// How a step's time reads on the x axis: the hour for a day or less, the date beyond.
fn x_label(at: DateTime<Utc>, span_secs: i64) -> String {
    if span_secs > 86_400 { at.format("%b %-d").to_string() } else { at.format("%H:%M").to_string() }
}

/// The chart's accessible name: what it shows, over when, and each series' range.
pub fn summary(
    title: &str,
    steps: &[DateTime<Utc>],
    series: &[Series],
    style: Style,
    unit: Unit,
    empty: &str,
) -> String {
    let when = match (steps.first(), steps.last()) {
        (Some(first), Some(last)) => {
            format!(", {} to {} UTC", first.format("%Y-%m-%d %H:%M"), last.format("%Y-%m-%d %H:%M"))
        }
        _ => String::new(),
    };
    if is_empty(series, style) {
        return format!("{title}{when}: {empty}.");
    }
    let ranges: Vec<String> = series
        .iter()
        .map(|s| match s.min_max() {
            Some((lo, hi)) => format!("{} from {} to {}", s.label, unit.format(lo), unit.format(hi)),
            None => format!("{}: none", s.label),
        })
        .collect();
    format!("{title}{when}: {}.", ranges.join("; "))
}

/// A chart of `series` over `steps`, with its legend (per series: min, max and, for counts,
/// the total). With nothing to draw it keeps its axes and says `empty` in the middle.
#[component]
pub fn Chart(
    /// What it shows ("Requests per minute"): its heading's words and the start of its
    /// accessible name.
    #[prop(into)]
    title: String,
    /// The steps' starts, oldest first.
    steps: Vec<DateTime<Utc>>,
    series: Vec<Series>,
    style: Style,
    unit: Unit,
    /// What an empty chart says ("No calls in this window").
    #[prop(into)]
    empty: String,
    /// For the end-to-end tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    let n = steps.len().max(series.iter().map(|s| s.values.len()).max().unwrap_or(0));
    let frame = Frame::new(n, chart_max(&series, style));
    let nothing = is_empty(&series, style);
    let label = summary(&title, &steps, &series, style, unit, &empty);
    let span_secs = match (steps.first(), steps.last()) {
        (Some(a), Some(b)) => (*b - *a).num_seconds(),
        _ => 0,
    };

    let grid = ticks(&frame, unit)
        .into_iter()
        .map(|tick| {
            let y = at(frame.y(tick));
            view! {
                <line class="gridline" x1=at(LEFT) x2=at(WIDTH - RIGHT) y1=y.clone() y2=y.clone() />
                <text class="y-label" x=at(LEFT - 6.0) y=y text-anchor="end" dominant-baseline="middle">
                    {unit.format(tick)}
                </text>
            }
        })
        .collect_view();

    let x_labels = x_label_steps(n)
        .into_iter()
        .filter_map(|i| {
            let t = steps.get(i)?;
            // The newest label ends at the plot's edge rather than overflowing it.
            let (x, anchor) =
                if i + 1 == n && n > 1 { (WIDTH - RIGHT, "end") } else { (frame.x(i), "middle") };
            Some(view! {
                <text class="x-label" x=at(x) y=at(HEIGHT - 6.0) text-anchor=anchor>
                    {x_label(*t, span_secs)}
                </text>
            })
        })
        .collect_view();

    let marks = if nothing {
        view! {
            <text class="chart-empty" x=at((LEFT + WIDTH - RIGHT) / 2.0) y=at((TOP + frame.baseline()) / 2.0)
                text-anchor="middle" dominant-baseline="middle">
                {empty.clone()}
            </text>
        }
        .into_any()
    } else {
        match style {
            Style::Lines => series
                .iter()
                .map(|s| {
                    let dots = lone_points(&s.values)
                        .into_iter()
                        .filter_map(|i| s.values[i].map(|v| (frame.x(i), frame.y(v))))
                        .map(|(x, y)| view! { <circle class="series-dot" cx=at(x) cy=at(y) r="3" fill=s.colour /> })
                        .collect_view();
                    view! {
                        <path class="series-line" d=line_path(&s.values, &frame) stroke=s.colour
                            fill="none" data-series=s.label.clone() />
                        {dots}
                    }
                })
                .collect_view()
                .into_any(),
            Style::StackedBars => {
                let width = at((frame.slot() * BAR_SHARE).max(1.0));
                (0..n)
                    .flat_map(|i| stacks(&series, i).into_iter().map(move |seg| (i, seg)))
                    .map(|(i, (s, bottom, top))| {
                        let (y_top, y_bottom) = (frame.y(top), frame.y(bottom));
                        let when = steps.get(i).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                        let tip = format!(
                            "{} · {}: {}",
                            when.unwrap_or_default(),
                            series[s].label,
                            unit.format(top - bottom)
                        );
                        view! {
                            <rect class="segment" x=at(frame.x(i) - frame.slot() * BAR_SHARE / 2.0) y=at(y_top)
                                width=width.clone() height=at((y_bottom - y_top).max(0.5)) fill=series[s].colour
                                data-series=series[s].label.clone()>
                                <title>{tip}</title>
                            </rect>
                        }
                    })
                    .collect_view()
                    .into_any()
            }
        }
    };

    let legend = series
        .iter()
        .map(|s| {
            let numbers = match (s.min_max(), unit) {
                (None, _) => "none".to_string(),
                (Some(_), Unit::Count) => format!("{} in all", unit.format(s.total())),
                (Some((lo, hi)), _) => format!("min {} · max {}", unit.format(lo), unit.format(hi)),
            };
            let swatch = format!("background:{}", s.colour);
            view! {
                <li data-series=s.label.clone()>
                    <span class="swatch" style=swatch></span>
                    {s.label.clone()}
                    <span class="muted">{numbers}</span>
                </li>
            }
        })
        .collect_view();

    view! {
        <figure class="series-chart" data-testid=testid>
            <figcaption>{title}</figcaption>
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label
                class:empty=nothing preserveAspectRatio="xMidYMid meet">
                <g class="grid">{grid}</g>
                <g class="marks">{marks}</g>
                <line class="axis" x1=at(LEFT) x2=at(WIDTH - RIGHT) y1=at(frame.baseline()) y2=at(frame.baseline()) />
                <g class="x-labels">{x_labels}</g>
            </svg>
            <ul class="chart-legend">{legend}</ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_is_round_and_covers_the_largest_value() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(f64::NAN), 1.0);
        assert_eq!(nice_top(1.0), 1.0);
        assert_eq!(nice_top(3.0), 5.0);
        assert_eq!(nice_top(12.0), 20.0);
        assert_eq!(nice_top(100.0), 100.0);
        assert_eq!(nice_top(101.0), 200.0);
        assert_eq!(nice_top(0.3), 0.5);
        assert_eq!(nice_top(0.07), 0.1);
        for max in [0.013, 0.9, 7.5, 42.0, 999.0, 12_345.6] {
            let top = nice_top(max);
            assert!(top >= max && top <= max * 5.0, "{max}: {top}");
        }
    }

    #[test]
    fn values_land_in_the_plot() {
        let frame = Frame::new(4, 10.0);
        assert_eq!(frame.top, 10.0);
        assert_eq!(frame.slot(), (WIDTH - LEFT - RIGHT) / 4.0);
        assert_eq!(frame.x(0), LEFT + frame.slot() / 2.0);
        assert_eq!(frame.x(3), WIDTH - RIGHT - frame.slot() / 2.0);
        assert_eq!(frame.y(0.0), HEIGHT - BOTTOM);
        assert_eq!(frame.y(10.0), TOP);
        assert_eq!(frame.y(5.0), (TOP + HEIGHT - BOTTOM) / 2.0);
        // Clamped: nothing is drawn outside the plot.
        assert_eq!(frame.y(50.0), TOP);
        assert_eq!(frame.y(-1.0), HEIGHT - BOTTOM);
    }

    #[test]
    fn a_line_breaks_where_values_are_missing_and_a_lone_point_is_a_dot() {
        let frame = Frame::new(5, 10.0);
        let d = line_path(&[Some(0.0), Some(10.0), None, Some(5.0), None], &frame);
        let (x0, x1, x3) = (at(frame.x(0)), at(frame.x(1)), at(frame.x(3)));
        assert_eq!(d, format!("M{x0} 176.0 L{x1} 10.0 M{x3} 93.0 h0"));
        assert_eq!(line_path(&[None, None], &frame), "");
    }

    #[test]
    fn bars_stack_in_series_order_and_skip_zeros() {
        let series = vec![
            Series::new("ok", "green", vec![Some(3.0), Some(0.0), None]),
            Series::new("errors", "red", vec![Some(2.0), Some(4.0), Some(1.0)]),
        ];
        assert_eq!(stacks(&series, 0), [(0, 0.0, 3.0), (1, 3.0, 5.0)]);
        assert_eq!(stacks(&series, 1), [(1, 0.0, 4.0)]);
        assert_eq!(stacks(&series, 2), [(1, 0.0, 1.0)]);
        assert_eq!(chart_max(&series, Style::StackedBars), 5.0);
        assert_eq!(chart_max(&series, Style::Lines), 4.0);
        assert!(!is_empty(&series, Style::Lines));
        assert!(is_empty(&[Series::new("ok", "green", vec![Some(0.0), None])], Style::StackedBars));
        assert!(
            !is_empty(&[Series::new("rate", "red", vec![Some(0.0), None])], Style::Lines),
            "a known 0 % is drawn"
        );
        assert!(is_empty(&[Series::new("p50", "blue", vec![None, None])], Style::Lines));
        assert_eq!(lone_points(&[Some(1.0), None, Some(2.0), Some(3.0), None, Some(4.0)]), vec![0, 5]);
        assert_eq!(lone_points(&[None, Some(1.0)]), vec![1]);
    }

    #[test]
    fn about_six_x_labels_the_newest_always() {
        assert_eq!(x_label_steps(0), Vec::<usize>::new());
        assert_eq!(x_label_steps(3), [0, 1, 2]);
        assert_eq!(x_label_steps(60), [9, 19, 29, 39, 49, 59]);
        assert_eq!(x_label_steps(288).last(), Some(&287));
        assert!(x_label_steps(288).len() <= X_LABELS + 1);
    }

    #[test]
    fn count_gridlines_are_whole() {
        assert_eq!(ticks(&Frame::new(3, 1.0), Unit::Count), [0.0, 1.0]);
        assert_eq!(ticks(&Frame::new(3, 4.0), Unit::Count), [0.0, 5.0]);
        assert_eq!(ticks(&Frame::new(3, 20.0), Unit::Count), [0.0, 10.0, 20.0]);
        assert_eq!(ticks(&Frame::new(3, 0.7), Unit::Millis), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(millis(0.42), "0.4 ms");
        assert_eq!(millis(9.96), "10.0 ms");
        assert_eq!(millis(12.4), "12 ms");
        assert_eq!(millis(2_345.0), "2,345 ms");
        assert_eq!(millis(12_500.0), "12.5 s");
        assert_eq!(Unit::Percent.format(2.5), "2.5 %");
        assert_eq!(Unit::Percent.format(50.0), "50 %");
        assert_eq!(Unit::Count.format(1_234.0), "1,234");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;
        use chrono::TimeZone;

        fn steps(n: usize) -> Vec<DateTime<Utc>> {
            let start = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().unwrap_or_default();
            (0..n).map(|i| start + chrono::Duration::minutes(i as i64)).collect()
        }

        fn render(series: Vec<Series>, style: Style) -> String {
            Owner::new().with(|| {
                view! {
                    <Chart title="Requests" steps=steps(3) series style unit=Unit::Count
                        empty="No calls in this window" testid="requests-chart" />
                }
                .to_html()
            })
        }

        #[test]
        fn a_chart_draws_its_series_and_says_what_it_shows() {
            let html = render(
                vec![
                    Series::new("ok", "green", vec![Some(3.0), Some(0.0), Some(1.0)]),
                    Series::new("errors", "red", vec![Some(1.0), Some(0.0), Some(0.0)]),
                ],
                Style::StackedBars,
            );
            assert!(html.contains("role=\"img\""), "{html}");
            assert!(
                html.contains(
                    "aria-label=\"Requests, 2026-11-27 12:00 to 2026-11-27 12:02 UTC: ok from 0 to 3; errors from 0 to 1.\""
                ),
                "{html}"
            );
            assert_eq!(html.matches("class=\"segment\"").count(), 3, "{html}");
            assert!(html.contains("<title>2026-11-27 12:00 UTC · errors: 1</title>"), "{html}");
            assert!(html.contains("4 in all"), "{html}");
            assert!(!html.contains("chart-empty"), "{html}");
            assert!(html.contains(">12:02</text>"), "{html}");
        }

        #[test]
        fn an_empty_chart_keeps_its_axes_and_says_so() {
            let html = render(vec![Series::new("p50", "blue", vec![None, None, None])], Style::Lines);
            assert!(html.contains("No calls in this window</text>"), "{html}");
            assert!(html.contains("aria-label=\"Requests, 2026-11-27 12:00 to 2026-11-27 12:02 UTC: No calls in this window.\""), "{html}");
            assert!(!html.contains("series-line"), "{html}");
            // A count's top of 1: no gridline at one half.
            assert_eq!(html.matches("class=\"gridline\"").count(), 2, "{html}");
        }
    }
}
