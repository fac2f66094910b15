//! The usage chart: calls per day and service as a stacked bar chart in inline SVG, drawn by
//! our own code. No chart library and no script: it renders on the server, reads the same
//! before and after hydration, and the table under it on the usage page carries the same
//! numbers for anyone who cannot see it.
//!
//! Geometry is `f64` (it is only drawing); the counts it draws stay integers.
use crate::types::{billing::UsageReport, ids::ServiceId};
use chrono::NaiveDate;
use leptos::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// One colour per service, cycled when there are more (Tableau 10's first eight: distinct
/// from one another, and readable on white).
pub const PALETTE: [&str; 8] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];

/// Longest range drawn: a usage report never covers more.
const MAX_DAYS: usize = 366;

// The drawing's coordinate system (the SVG scales to its container's width).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// Room for the y axis' labels.
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
/// Room for the x axis' labels.
const BOTTOM: f64 = 26.0;
/// The share of a day's slot its bar fills (the rest is the gap between bars).
const BAR_SHARE: f64 = 0.72;

/// One service in the chart: its colour, and its calls over the whole range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub service_id: ServiceId,
    pub slug: String,
    pub total: i64,
    pub colour: &'static str,
}

/// One day's bar: its calls per series (indexes into [`StackedUsage::series`], bottom first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayBar {
    pub day: NaiveDate,
    pub calls: Vec<(usize, i64)>,
    pub total: i64,
}

/// A usage report arranged for drawing: every day of its range (days without calls too),
/// and the services busiest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackedUsage {
    pub series: Vec<Series>,
    pub days: Vec<DayBar>,
}

impl StackedUsage {
    /// Arranges `report`. Services are keyed by id: two providers may use the same slug.
    pub fn from_report(report: &UsageReport) -> Self {
        let mut totals: BTreeMap<&ServiceId, (&str, i64)> = BTreeMap::new();
        for row in &report.days {
            totals.entry(&row.service_id).or_insert((&row.service_slug, 0)).1 += row.calls;
        }
        let mut series: Vec<Series> = totals
            .into_iter()
            .map(|(id, (slug, total))| Series {
                service_id: id.clone(),
                slug: slug.to_owned(),
                total,
                colour: PALETTE[0],
            })
            .collect();
        series.sort_by(|a, b| {
            b.total
                .cmp(&a.total)
                .then_with(|| a.slug.cmp(&b.slug))
                .then_with(|| a.service_id.cmp(&b.service_id))
        });
        for (i, s) in series.iter_mut().enumerate() {
            s.colour = PALETTE[i % PALETTE.len()];
        }
        let index: HashMap<&str, usize> =
            series.iter().enumerate().map(|(i, s)| (s.service_id.as_str(), i)).collect();
        let mut per_day: BTreeMap<NaiveDate, BTreeMap<usize, i64>> = BTreeMap::new();
        for row in &report.days {
            if let Some(&i) = index.get(row.service_id.as_str()) {
                *per_day.entry(row.day).or_default().entry(i).or_default() += row.calls;
            }
        }
        let days = days_of(report.from, report.to)
            .map(|day| {
                let calls: Vec<(usize, i64)> = per_day
                    .get(&day)
                    .map(|by| by.iter().filter(|(_, n)| **n > 0).map(|(i, n)| (*i, *n)).collect())
                    .unwrap_or_default();
                DayBar { day, total: calls.iter().map(|(_, n)| n).sum(), calls }
            })
            .collect();
        StackedUsage { series, days }
    }

    /// The day with the most calls (the latest of equals), if any day has one.
    pub fn busiest(&self) -> Option<&DayBar> {
        self.days.iter().filter(|d| d.total > 0).max_by_key(|d| (d.total, d.day))
    }

    /// What the chart shows, in one sentence (its accessible name).
    pub fn summary(&self) -> String {
        let (Some(first), Some(last)) = (self.days.first(), self.days.last()) else {
            return "Calls per day: no days".into();
        };
        let total: i64 = self.series.iter().map(|s| s.total).sum();
        let range = format!("Calls per day and service, {} to {}", first.day, last.day);
        match self.busiest() {
            None => format!("{range}: no calls."),
            Some(busiest) => format!(
                "{range}: {} to {} {}; busiest day {} with {}.",
                calls_text(total),
                self.series.len(),
                if self.series.len() == 1 { "service" } else { "services" },
                busiest.day,
                calls_text(busiest.total),
            ),
        }
    }
}

/// Every day `from..=to` (at most a year's worth).
pub fn days_of(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to).take(MAX_DAYS)
}

/// The y axis' gridline values: 0 up to a round top at or above `max`, 3 to 5 values in
/// steps of 1, 2 or 5 times a power of ten (never below 1: calls are whole).
pub fn nice_ticks(max: i64) -> Vec<i64> {
    let max = u64::try_from(max).unwrap_or(0).max(1);
    let mut magnitude: u64 = 1;
    loop {
        for multiple in [1, 2, 5] {
            let step = magnitude.saturating_mul(multiple);
            let intervals = max.div_ceil(step);
            if intervals <= 4 {
                // At least two intervals: a chart of 0 and 1 alone says little.
                let intervals = intervals.max(2);
                return (0..=intervals)
                    .map(|i| i64::try_from(i.saturating_mul(step)).unwrap_or(i64::MAX))
                    .collect();
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// Every how many days the x axis has a label: at most about eight labels.
pub fn label_every(days: usize) -> usize {
    days.div_ceil(8).max(1)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 call`, `12 calls`, `1,500 calls`.
pub fn calls_text(n: i64) -> String {
    if n == 1 { "1 call".into() } else { format!("{} calls", thousands(n)) }
}

/// A coordinate as the SVG gets it: one decimal is plenty, and keeps the page small.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// The stacked bar chart of a usage report, with its legend (slug and total per service).
#[component]
pub fn UsageChart(report: UsageReport) -> impl IntoView {
    let chart = StackedUsage::from_report(&report);
    let ticks = nice_ticks(chart.days.iter().map(|d| d.total).max().unwrap_or(0));
    let top = ticks.last().copied().unwrap_or(1).max(1) as f64;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let baseline = TOP + plot_height;
    let y_of = move |calls: i64| baseline - calls as f64 / top * plot_height;
    let slot = plot_width / chart.days.len().max(1) as f64;
    let bar_width = (slot * BAR_SHARE).max(1.0);
    let every = label_every(chart.days.len());
    let last = chart.days.len().saturating_sub(1);

    let grid = ticks
        .iter()
        .map(|&tick| {
            let y = at(y_of(tick));
            view! {
                <g class="tick">
                    <line class="gridline" x1=at(LEFT) x2=at(WIDTH - RIGHT) y1=y.clone() y2=y.clone() />
                    <text class="y-label" x=at(LEFT - 6.0) y=y text-anchor="end" dominant-baseline="middle">
                        {thousands(tick)}
                    </text>
                </g>
            }
        })
        .collect_view();

    let bars = chart
        .days
        .iter()
        .enumerate()
        .map(|(i, bar)| {
            let slot_x = LEFT + slot * i as f64;
            let x = at(slot_x + (slot - bar_width) / 2.0);
            let mut stacked = 0;
            let segments = bar
                .calls
                .iter()
                .map(|&(s, calls)| {
                    let series = &chart.series[s];
                    let bottom = y_of(stacked);
                    stacked += calls;
                    let top = y_of(stacked);
                    let title = format!("{} · {}: {}", bar.day, series.slug, calls_text(calls));
                    view! {
                        <rect
                            class="segment"
                            x=x.clone()
                            y=at(top)
                            width=at(bar_width)
                            height=at(bottom - top)
                            fill=series.colour
                            data-service=series.slug.clone()
                        >
                            <title>{title}</title>
                        </rect>
                    }
                })
                .collect_view();
            // The newest day always has its label; the others every few days back from it.
            let label = (last - i).is_multiple_of(every).then(|| {
                view! {
                    <text class="x-label" x=at(slot_x + slot / 2.0) y=at(HEIGHT - 8.0) text-anchor="middle">
                        {bar.day.format("%b %-d").to_string()}
                    </text>
                }
            });
            let day_title = match bar.total {
                0 => format!("{} · no calls", bar.day),
                n => format!("{} · {}", bar.day, calls_text(n)),
            };
            view! {
                <g class="day" data-day=bar.day.to_string() data-calls=bar.total.to_string()>
                    <title>{day_title}</title>
                    // The whole slot answers hover, so an empty day has its tooltip too.
                    <rect
                        class="day-slot"
                        x=at(slot_x)
                        y=at(TOP)
                        width=at(slot)
                        height=at(plot_height)
                        fill="transparent"
                    />
                    {segments}
                    {label}
                </g>
            }
        })
        .collect_view();

    let legend = chart
        .series
        .iter()
        .map(|s| {
            view! {
                <li data-service=s.slug.clone() title=s.service_id.clone()>
                    <span class="swatch" style=format!("background:{}", s.colour)></span>
                    <code>{s.slug.clone()}</code>
                    <span class="muted">{calls_text(s.total)}</span>
                </li>
            }
        })
        .collect_view();

    view! {
        <svg
            class="usage-chart"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-label=chart.summary()
            data-testid="usage-chart"
        >
            <g class="grid">{grid}</g>
            <g class="bars">{bars}</g>
            <line class="axis" x1=at(LEFT) x2=at(WIDTH - RIGHT) y1=at(baseline) y2=at(baseline) />
        </svg>
        <ul class="chart-legend" data-testid="usage-legend" aria-label="Services">
            {legend}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::billing::UsageDay;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn row(d: u32, id: &str, slug: &str, calls: i64) -> UsageDay {
        UsageDay {
            day: day(d),
            service_id: id.into(),
            service_slug: slug.into(),
            calls,
            bytes_in: calls * 10,
            bytes_out: calls * 100,
        }
    }

    /// 2026-11-16 to 2026-11-22: echo on two days, weather on one, nothing on the others.
    fn week() -> UsageReport {
        UsageReport {
            from: day(16),
            to: day(22),
            days: vec![row(18, "s2", "weather", 3), row(20, "s1", "echo", 9), row(22, "s1", "echo", 12)],
            total_calls: 24,
        }
    }

    #[test]
    fn ticks_are_round_and_three_to_five() {
        assert_eq!(nice_ticks(0), [0, 1, 2]);
        assert_eq!(nice_ticks(1), [0, 1, 2]);
        assert_eq!(nice_ticks(3), [0, 1, 2, 3]);
        assert_eq!(nice_ticks(4), [0, 1, 2, 3, 4]);
        assert_eq!(nice_ticks(5), [0, 2, 4, 6]);
        assert_eq!(nice_ticks(12), [0, 5, 10, 15]);
        assert_eq!(nice_ticks(100), [0, 50, 100]);
        assert_eq!(nice_ticks(1_234), [0, 500, 1_000, 1_500]);
        for max in 0..5_000 {
            let ticks = nice_ticks(max);
            assert!((3..=5).contains(&ticks.len()), "{max}: {ticks:?}");
            assert!(ticks.last().copied().unwrap_or(0) >= max, "{max}: {ticks:?}");
        }
    }

    #[test]
    fn every_day_of_the_range_gets_a_bar_and_services_keep_their_colour() {
        let chart = StackedUsage::from_report(&week());
        assert_eq!(chart.days.len(), 7);
        assert_eq!(chart.days.iter().filter(|d| d.total == 0).count(), 4);
        // Busiest service first, with the first colour.
        assert_eq!(chart.series[0].slug, "echo");
        assert_eq!(chart.series[0].total, 21);
        assert_eq!(chart.series[0].colour, PALETTE[0]);
        assert_eq!(chart.series[1].colour, PALETTE[1]);
        assert_eq!(chart.days[6].calls, [(0, 12)]);
        assert_eq!(chart.busiest().map(|d| d.day), Some(day(22)));
        assert_eq!(
            chart.summary(),
            "Calls per day and service, 2026-11-16 to 2026-11-22: 24 calls to 2 services; busiest day 2026-11-22 with 12 calls."
        );
    }

    #[test]
    fn colours_cycle_past_the_palette() {
        let report = UsageReport {
            from: day(1),
            to: day(1),
            days: (0..10).map(|i| row(1, &format!("s{i}"), &format!("svc-{i}"), 100 - i)).collect(),
            total_calls: 0,
        };
        let chart = StackedUsage::from_report(&report);
        assert_eq!(chart.series[8].colour, PALETTE[0]);
        assert_eq!(chart.series[9].colour, PALETTE[1]);
    }

    #[test]
    fn labels_and_counts_read_well() {
        assert_eq!(label_every(7), 1);
        assert_eq!(label_every(30), 4);
        assert_eq!(label_every(90), 12);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(calls_text(1), "1 call");
        assert_eq!(calls_text(1_500), "1,500 calls");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        fn render(report: UsageReport) -> String {
            Owner::new().with(|| view! { <UsageChart report /> }.to_html())
        }

        #[test]
        fn chart_has_a_bar_slot_per_day_a_legend_and_tooltips() {
            let html = render(week());
            // Accessible as one image with a summary.
            assert!(html.contains("role=\"img\""), "{html}");
            assert!(
                html.contains("aria-label=\"Calls per day and service, 2026-11-16 to 2026-11-22: 24 calls")
            );
            // Every day, the empty ones too.
            assert_eq!(html.matches("data-day=\"").count(), 7, "{html}");
            for d in 16..=22 {
                assert!(html.contains(&format!("data-day=\"2026-11-{d}\"")), "no day {d}: {html}");
            }
            assert!(html.contains("<title>2026-11-17 · no calls</title>"), "{html}");
            // One segment per day and service with calls, each with its tooltip.
            assert_eq!(html.matches("class=\"segment\"").count(), 3, "{html}");
            assert!(html.contains("<title>2026-11-22 · echo: 12 calls</title>"), "{html}");
            assert!(html.contains("<title>2026-11-18 · weather: 3 calls</title>"), "{html}");
            assert!(html.contains(&format!("fill=\"{}\" data-service=\"echo\"", PALETTE[0])), "{html}");
            // The y axis: 0, 5, 10, 15.
            assert_eq!(html.matches("class=\"gridline\"").count(), 4, "{html}");
            assert!(html.contains(">15</text>"), "{html}");
            // Seven days: a label each.
            assert_eq!(html.matches("class=\"x-label\"").count(), 7, "{html}");
            assert!(html.contains(">Nov 22</text>"), "{html}");
            // The legend: slug and total.
            assert!(html.contains("data-testid=\"usage-legend\""));
            assert!(html.contains("<code>echo</code><span class=\"muted\">21 calls</span>"), "{html}");
            assert!(html.contains("<code>weather</code><span class=\"muted\">3 calls</span>"), "{html}");
        }

        #[test]
        fn a_long_range_labels_every_few_days() {
            let report = UsageReport {
                from: NaiveDate::from_ymd_opt(2026, 8, 25).unwrap_or_default(),
                to: day(22),
                days: vec![row(22, "s1", "echo", 1)],
                total_calls: 1,
            };
            let html = render(report);
            assert_eq!(html.matches("data-day=\"").count(), 90, "{html}");
            assert_eq!(html.matches("class=\"x-label\"").count(), 8, "{html}");
            assert!(html.contains("<title>2026-11-22 · echo: 1 call</title>"), "{html}");
        }
    }
}
