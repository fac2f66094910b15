//! What the demo found, as one document: printed for people (sections and aligned tables) or,
//! with `--json`, for scripts and the test suite. The check that matters is here too: the
//! consumer is billed for exactly the calls that succeeded.
use super::calls::{CallStats, Percentiles};
use crate::cli::table::{render, short_id};
use app::types::{
    billing::{EarningsView, InvoiceView},
    nodes::NodeView,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The demo's outcome.
#[derive(Debug, Serialize)]
pub struct Report {
    pub platform_url: String,
    pub upstream_url: String,
    pub nodes: usize,
    pub service: ServiceSummary,
    pub calls: CallSummary,
    pub latency_ms: Option<Percentiles>,
    /// The route most calls took, entry node first, hosting node last.
    pub route: Vec<Hop>,
    /// Every route taken (node ids, comma-separated) with its number of calls.
    pub routes: BTreeMap<String, u64>,
    pub bill: BillSummary,
    pub earnings: EarningsSummary,
    /// The consumer's bill counts exactly the calls that succeeded.
    pub billed_calls_match: bool,
}

#[derive(Debug, Serialize)]
pub struct ServiceSummary {
    pub id: String,
    pub slug: String,
    pub listing_id: String,
    pub listing_title: String,
    pub plan: String,
    /// e.g. `$0.002 per call`.
    pub price: String,
    /// Names of the nodes it was placed on.
    pub placed_on: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CallSummary {
    pub requested: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub throttled_and_retried: u64,
    pub failures: BTreeMap<String, u64>,
    pub elapsed_ms: u64,
}

impl From<&CallStats> for CallSummary {
    fn from(stats: &CallStats) -> Self {
        Self {
            requested: stats.requested,
            succeeded: stats.succeeded,
            failed: stats.failed,
            throttled_and_retried: stats.throttled,
            failures: stats.failures.clone(),
            elapsed_ms: u64::try_from(stats.elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// One node on a call's route.
#[derive(Debug, Serialize)]
pub struct Hop {
    pub node_id: String,
    pub node_name: Option<String>,
    /// `entry`, `relay`, `host`, or `entry+host` when one node did both.
    pub role: &'static str,
}

#[derive(Debug, Serialize)]
pub struct BillSummary {
    pub total_calls: i64,
    pub total_minor: i64,
    pub total: String,
    /// `(description, quantity, amount)` per line.
    pub lines: Vec<(String, i64, String)>,
}

impl From<&InvoiceView> for BillSummary {
    fn from(bill: &InvoiceView) -> Self {
        let lines = bill
            .lines
            .iter()
            .map(|l| (l.description.clone(), l.quantity, bill.currency.format_minor(l.amount_minor)))
            .collect();
        Self {
            total_calls: bill.total_calls,
            total_minor: bill.total_minor,
            total: bill.currency.format_minor(bill.total_minor),
            lines,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EarningsSummary {
    pub calls: i64,
    pub billed: String,
    pub fee: String,
    pub net: String,
    pub fee_percent: f64,
}

impl From<&EarningsView> for EarningsSummary {
    fn from(earnings: &EarningsView) -> Self {
        let money = |minor| earnings.currency.format_minor(minor);
        Self {
            calls: earnings.lines.iter().map(|l| l.calls).sum(),
            billed: money(earnings.billed_minor),
            fee: money(earnings.fee_minor),
            net: money(earnings.net_minor),
            fee_percent: f64::from(earnings.fee_bps) / 100.0,
        }
    }
}

/// The hops of `route` (the `x-web4-route` header: node ids, comma-separated, entry first),
/// named from the node list.
pub fn hops(route: &str, nodes: &[NodeView]) -> Vec<Hop> {
    let ids: Vec<&str> = route.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let last = ids.len().saturating_sub(1);
    ids.iter()
        .enumerate()
        .map(|(i, id)| Hop {
            node_id: (*id).to_owned(),
            node_name: nodes.iter().find(|n| n.id.as_str() == *id).map(|n| n.name.clone()),
            role: match (i == 0, i == last) {
                (true, true) => "entry+host",
                (true, false) => "entry",
                (false, true) => "host",
                (false, false) => "relay",
            },
        })
        .collect()
}

impl Report {
    /// The human output.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let s = &self.service;
        out.push_str(&format!("Platform   {} ({} embedded nodes)\n", self.platform_url, self.nodes));
        out.push_str(&format!("Upstream   {} (allowed by egress 127.0.0.0/8)\n", self.upstream_url));
        out.push_str(&format!("Service    {} ({}), placed on {}\n", s.slug, s.id, s.placed_on.join(", ")));
        out.push_str(&format!("Listing    {:?}, plan {:?} at {}\n\n", s.listing_title, s.plan, s.price));

        let c = &self.calls;
        let rate = if c.elapsed_ms > 0 { c.succeeded as f64 * 1000.0 / c.elapsed_ms as f64 } else { 0.0 };
        out.push_str(&format!(
            "Calls      {} made, {} succeeded, {} failed in {:.1} s ({rate:.0}/s; {} answers of 429 waited out)\n",
            c.requested,
            c.succeeded,
            c.failed,
            c.elapsed_ms as f64 / 1000.0,
            c.throttled_and_retried
        ));
        for (reason, n) in &c.failures {
            out.push_str(&format!("           {n} × {reason}\n"));
        }
        if let Some(p) = &self.latency_ms {
            out.push_str(&format!(
                "Latency    p50 {:.1} ms   p95 {:.1} ms   p99 {:.1} ms (as the consumer measured)\n",
                p.p50_ms, p.p95_ms, p.p99_ms
            ));
        }
        out.push('\n');
        out.push_str("Route of a call (x-web4-route):\n");
        let rows: Vec<Vec<String>> = self
            .route
            .iter()
            .map(|h| vec![h.role.to_owned(), h.node_name.clone().unwrap_or_default(), short_id(&h.node_id)])
            .collect();
        out.push_str(&indent(&render(&["ROLE", "NODE", "ID"], &rows)));
        let routes: Vec<Vec<String>> = self
            .routes
            .iter()
            .map(|(route, n)| {
                let path = route.split(',').map(short_id).collect::<Vec<_>>().join(" → ");
                vec![n.to_string(), path]
            })
            .collect();
        out.push_str("Routes taken:\n");
        out.push_str(&indent(&render(&["CALLS", "ENTRY → … → HOST"], &routes)));
        out.push('\n');

        let b = &self.bill;
        out.push_str(&format!("Consumer's bill (open month): {} calls, {}\n", b.total_calls, b.total));
        let lines: Vec<Vec<String>> =
            b.lines.iter().map(|(d, q, a)| vec![d.clone(), q.to_string(), a.clone()]).collect();
        out.push_str(&indent(&render(&["LINE", "CALLS", "AMOUNT"], &lines)));
        let e = &self.earnings;
        out.push_str(&format!(
            "Provider's earnings: {} calls, billed {}, platform fee {} ({}%), net {}\n\n",
            e.calls, e.billed, e.fee, e.fee_percent, e.net
        ));
        if self.billed_calls_match {
            out.push_str(&format!("OK: the bill counts exactly the {} calls that succeeded.\n", c.succeeded));
        } else {
            out.push_str(&format!(
                "MISMATCH: {} calls succeeded but the bill counts {}.\n",
                c.succeeded, b.total_calls
            ));
        }
        out
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_marks_its_entry_relays_and_host() {
        let roles: Vec<_> = hops("a,b,c", &[]).iter().map(|h| h.role).collect();
        assert_eq!(roles, ["entry", "relay", "host"]);
        assert_eq!(hops("a", &[])[0].role, "entry+host");
        assert!(hops("", &[]).is_empty());
    }
}
