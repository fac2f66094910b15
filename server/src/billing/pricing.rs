//! Invoice arithmetic, free of I/O: a service's calls in a period become lines (free calls,
//! then graduated tiers), each amount rounded half to even to a whole minor unit once, and
//! the platform fee per line. All integers; products are taken in `i128`.
use app::types::billing::{MICROS_PER_UNIT, PriceTier, Pricing};
use std::collections::BTreeMap;

/// Largest price per call accepted: one million currency units.
pub const MAX_PRICE_MICROS: i64 = 1_000_000 * MICROS_PER_UNIT;
/// Largest tier bound and free allowance.
pub const MAX_CALLS: i64 = 1_000_000_000_000;
/// Most tiers a service may have.
pub const MAX_TIERS: usize = 10;

/// One priced line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priced {
    pub description: String,
    pub quantity: i64,
    pub unit_price_micros: i64,
    pub amount_minor: i64,
    /// 1-based positions, among the calls priced together, of the first and last call here.
    pub first_call: i64,
    pub last_call: i64,
}

/// `numerator / denominator` rounded half to even (`denominator > 0`).
pub fn div_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 0 => quotient,
        std::cmp::Ordering::Equal => quotient + 1,
    }
}

/// `quantity` calls at `micros` each, in minor units of a currency with `exponent` digits.
pub fn amount(quantity: i64, micros: i64, exponent: u32) -> i64 {
    let numerator = i128::from(quantity) * i128::from(micros) * 10i128.pow(exponent);
    i64::try_from(div_half_even(numerator, i128::from(MICROS_PER_UNIT))).unwrap_or(i64::MAX)
}

/// The platform's fee on `amount` at `bps` basis points.
pub fn fee(amount: i64, bps: u32) -> i64 {
    i64::try_from(div_half_even(i128::from(amount) * i128::from(bps), 10_000)).unwrap_or(i64::MAX)
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The calls `already + 1 ..= already + calls` of a period falling in each price band, in
/// order: `f(band, first, last, micros)` with positions within the period; band 0 is the free
/// calls, band `i` the `i`-th tier.
fn bands(pricing: &Pricing, already: i64, calls: i64, mut f: impl FnMut(usize, i64, i64, i64)) {
    let (start, end) = (already, already.saturating_add(calls));
    let mut segment = |band: usize, lo: i64, hi: i64, micros: i64| {
        let (lo, hi) = (lo.max(start + 1), hi.min(end));
        if lo <= hi {
            f(band, lo, hi, micros);
        }
    };
    let free = pricing.free_calls_per_month.max(0);
    segment(0, 1, free, 0);
    let mut lower = 0i64;
    for (i, tier) in pricing.tiers.iter().enumerate() {
        let upper = tier.up_to.map_or(i64::MAX, |u| free.saturating_add(u));
        segment(i + 1, free.saturating_add(lower) + 1, upper, tier.price_per_call_micros);
        match tier.up_to {
            Some(up_to) => lower = up_to,
            None => break,
        }
    }
}

/// Prices calls number `already + 1 ..= already + calls` of a period (`already`: the calls
/// of this service and payer in the same period that earlier invoices billed).
pub fn price(pricing: &Pricing, already: i64, calls: i64, exponent: u32) -> Vec<Priced> {
    let mut out = Vec::new();
    let single = pricing.tiers.len() == 1;
    bands(pricing, already, calls, |band, lo, hi, micros| {
        let description = match band.checked_sub(1).map(|i| (i, &pricing.tiers[i])) {
            None => "Free calls".to_owned(),
            Some(_) if single => "Calls".to_owned(),
            Some((i, tier)) => {
                let lower = if i == 0 { 0 } else { pricing.tiers[i - 1].up_to.unwrap_or(0) };
                match tier.up_to {
                    Some(up_to) => format!("Calls {}–{}", thousands(lower + 1), thousands(up_to)),
                    None => format!("Calls above {}", thousands(lower)),
                }
            }
        };
        let quantity = hi - lo + 1;
        out.push(Priced {
            description,
            quantity,
            unit_price_micros: micros,
            amount_minor: amount(quantity, micros, exponent),
            first_call: lo - already,
            last_call: hi - already,
        });
    });
    out
}

/// What [`price`]'s lines add up to, without building them (the invoke path checks spending
/// caps with it on every call).
pub fn total_minor(pricing: &Pricing, already: i64, calls: i64, exponent: u32) -> i64 {
    let mut total = 0;
    bands(pricing, already, calls, |_, lo, hi, micros| total += amount(hi - lo + 1, micros, exponent));
    total
}

/// Builds a service's pricing from what a registration sends, naming every problem in
/// `errors` (keys are JSON paths).
pub fn validate(
    price_per_call_micros: Option<i64>,
    free_calls_per_month: Option<i64>,
    tiers: Option<Vec<PriceTier>>,
    errors: &mut BTreeMap<String, String>,
) -> Pricing {
    let free = free_calls_per_month.unwrap_or(0);
    if !(0..=MAX_CALLS).contains(&free) {
        errors.insert(
            "free_calls_per_month".into(),
            format!("Must be between 0 and {}.", thousands(MAX_CALLS)),
        );
    }
    let price_ok = |p: i64| (0..=MAX_PRICE_MICROS).contains(&p);
    let tiers = match (price_per_call_micros, tiers) {
        (Some(_), Some(_)) => {
            errors.insert("tiers".into(), "Give either price_per_call_micros or tiers, not both.".into());
            Vec::new()
        }
        (price, None) => {
            let price = price.unwrap_or(0);
            if !price_ok(price) {
                errors.insert(
                    "price_per_call_micros".into(),
                    format!("Must be between 0 and {MAX_PRICE_MICROS} micros (one million currency units)."),
                );
            }
            vec![PriceTier { up_to: None, price_per_call_micros: price }]
        }
        (None, Some(tiers)) => {
            let mut problem = None;
            if tiers.is_empty() || tiers.len() > MAX_TIERS {
                problem = Some(format!("Give 1 to {MAX_TIERS} tiers."));
            }
            let mut previous = 0;
            for (i, tier) in tiers.iter().enumerate() {
                let last = i + 1 == tiers.len();
                if !price_ok(tier.price_per_call_micros) {
                    problem = Some(format!(
                        "Tier {}: the price must be between 0 and {MAX_PRICE_MICROS} micros.",
                        i + 1
                    ));
                }
                match tier.up_to {
                    None if !last => {
                        problem = Some(format!("Tier {}: only the last tier may be unbounded.", i + 1))
                    }
                    Some(_) if last => {
                        problem = Some("The last tier must be unbounded (up_to: null).".into())
                    }
                    Some(up_to) if up_to <= previous || up_to > MAX_CALLS => {
                        problem = Some(format!(
                            "Tier {}: up_to must be above {previous} and rise tier by tier.",
                            i + 1
                        ));
                    }
                    Some(up_to) => previous = up_to,
                    None => {}
                }
            }
            if let Some(problem) = problem {
                errors.insert("tiers".into(), problem);
            }
            tiers
        }
    };
    Pricing { free_calls_per_month: free, tiers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tiered() -> Pricing {
        Pricing {
            free_calls_per_month: 100,
            tiers: vec![
                PriceTier { up_to: Some(1000), price_per_call_micros: 2_000 },
                PriceTier { up_to: Some(10_000), price_per_call_micros: 1_500 },
                PriceTier { up_to: None, price_per_call_micros: 1_000 },
            ],
        }
    }

    #[test]
    fn half_to_even_rounding() {
        assert_eq!(div_half_even(5, 10), 0);
        assert_eq!(div_half_even(15, 10), 2);
        assert_eq!(div_half_even(25, 10), 2);
        assert_eq!(div_half_even(26, 10), 3);
        assert_eq!(div_half_even(-15, 10), -2);
        // 3 calls at $0.0025 = $0.0075 → 1 cent (0.75 rounds up); 2 calls = $0.005 → 0 (half to even).
        assert_eq!(amount(3, 2_500, 2), 1);
        assert_eq!(amount(2, 2_500, 2), 0);
        assert_eq!(amount(6, 2_500, 2), 2);
        assert_eq!(fee(1_000, 2_000), 200);
        assert_eq!(fee(5, 1_000), 0, "0.5 rounds to even");
        assert_eq!(fee(15, 1_000), 2, "1.5 rounds to even");
    }

    #[test]
    fn free_calls_then_graduated_tiers() {
        let lines = price(&tiered(), 0, 12_100, 2);
        let summary: Vec<(&str, i64, i64, i64)> = lines
            .iter()
            .map(|l| (l.description.as_str(), l.quantity, l.unit_price_micros, l.amount_minor))
            .collect();
        assert_eq!(
            summary,
            [
                ("Free calls", 100, 0, 0),
                ("Calls 1–1,000", 1_000, 2_000, 200),
                ("Calls 1,001–10,000", 9_000, 1_500, 1_350),
                ("Calls above 10,000", 2_000, 1_000, 200),
            ]
        );
        assert_eq!((lines[1].first_call, lines[1].last_call), (101, 1_100));
    }

    #[test]
    fn a_later_invoice_in_the_same_month_continues_where_the_first_stopped() {
        let lines = price(&tiered(), 1_050, 100, 2);
        let summary: Vec<(i64, i64)> = lines.iter().map(|l| (l.quantity, l.unit_price_micros)).collect();
        assert_eq!(summary, [(50, 2_000), (50, 1_500)]);
        assert_eq!((lines[0].first_call, lines[1].last_call), (1, 100));
    }

    #[test]
    fn validation_names_the_problem() {
        let mut errors = BTreeMap::new();
        let bad = vec![
            PriceTier { up_to: Some(10), price_per_call_micros: 1 },
            PriceTier { up_to: Some(5), price_per_call_micros: 1 },
            PriceTier { up_to: None, price_per_call_micros: 1 },
        ];
        validate(None, Some(-1), Some(bad), &mut errors);
        assert!(errors.contains_key("tiers") && errors.contains_key("free_calls_per_month"), "{errors:?}");
        let mut errors = BTreeMap::new();
        validate(Some(1), None, Some(tiered().tiers), &mut errors);
        assert!(errors["tiers"].contains("not both"));
        let mut errors = BTreeMap::new();
        let flat = validate(Some(2_500), None, None, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(flat.tiers, [PriceTier { up_to: None, price_per_call_micros: 2_500 }]);
    }

    fn pricing_strategy() -> impl Strategy<Value = Pricing> {
        (0i64..500, prop::collection::vec((1i64..400, 0i64..5_000_000), 0..4), 0i64..5_000_000).prop_map(
            |(free, bounded, last)| {
                let mut up_to = 0;
                let mut tiers: Vec<PriceTier> = bounded
                    .into_iter()
                    .map(|(width, price)| {
                        up_to += width;
                        PriceTier { up_to: Some(up_to), price_per_call_micros: price }
                    })
                    .collect();
                tiers.push(PriceTier { up_to: None, price_per_call_micros: last });
                Pricing { free_calls_per_month: free, tiers }
            },
        )
    }

    fn exact_minor(quantity: i64, micros: i64, exponent: u32) -> f64 {
        quantity as f64 * micros as f64 * 10f64.powi(exponent as i32) / MICROS_PER_UNIT as f64
    }

    proptest! {
        #[test]
        fn lines_cover_every_call_once_in_order(pricing in pricing_strategy(), already in 0i64..3_000, calls in 0i64..3_000) {
            let lines = price(&pricing, already, calls, 2);
            prop_assert_eq!(lines.iter().map(|l| l.quantity).sum::<i64>(), calls);
            let mut next = 1;
            for line in &lines {
                prop_assert_eq!(line.first_call, next);
                prop_assert_eq!(line.last_call - line.first_call + 1, line.quantity);
                next = line.last_call + 1;
            }
            let free_left = (pricing.free_calls_per_month - already).clamp(0, calls);
            let free: i64 = lines.iter().filter(|l| l.description == "Free calls").map(|l| l.quantity).sum();
            prop_assert_eq!(free, free_left);
        }

        #[test]
        fn the_total_is_what_the_lines_add_up_to(pricing in pricing_strategy(), already in 0i64..3_000, calls in 0i64..3_000, exponent in 0u32..4) {
            let lines: i64 = price(&pricing, already, calls, exponent).iter().map(|l| l.amount_minor).sum();
            prop_assert_eq!(total_minor(&pricing, already, calls, exponent), lines);
        }

        #[test]
        fn each_line_is_within_half_a_minor_unit(quantity in 0i64..10_000_000, micros in 0i64..MAX_PRICE_MICROS, exponent in 0u32..4) {
            let got = amount(quantity, micros, exponent) as f64;
            let exact = exact_minor(quantity, micros, exponent);
            prop_assert!((got - exact).abs() <= 0.5 + exact * 1e-12, "{} vs {}", got, exact);
        }

        #[test]
        fn splitting_a_month_keeps_the_quantities_per_tier(pricing in pricing_strategy(), a in 0i64..2_000, b in 0i64..2_000) {
            let per_price = |lines: Vec<Priced>| {
                let mut m = BTreeMap::new();
                for l in lines { *m.entry((l.description, l.unit_price_micros)).or_insert(0) += l.quantity; }
                m
            };
            let whole = per_price(price(&pricing, 0, a + b, 2));
            let mut split = per_price(price(&pricing, 0, a, 2));
            for (k, q) in per_price(price(&pricing, a, b, 2)) { *split.entry(k).or_insert(0) += q; }
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn more_calls_never_cost_less(pricing in pricing_strategy(), calls in 0i64..3_000) {
            let total = |n| price(&pricing, 0, n, 2).iter().map(|l| l.amount_minor).sum::<i64>();
            // Per-line rounding can move a total by under one minor unit per line.
            prop_assert!(total(calls + 1) + 1 >= total(calls));
        }

        #[test]
        fn fee_plus_net_is_the_amount(amount in 0i64..i64::MAX / 10_000, bps in 0u32..=10_000) {
            let f = fee(amount, bps);
            prop_assert!(f >= 0 && f <= amount);
            prop_assert!((f as f64 - amount as f64 * bps as f64 / 10_000.0).abs() <= 0.5 + amount as f64 * 1e-12);
        }
    }
}
