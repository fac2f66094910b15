//! When a failed delivery is tried again: the retry schedule (one wait per retry, in order;
//! after the last the delivery is `failed`), each wait spread by ±[`JITTER_PERCENT`] so that
//! endpoints failing together do not retry in lockstep.
use rand::Rng;
use std::time::Duration;

/// How far each wait may move either way, in percent.
pub const JITTER_PERCENT: u64 = 20;

/// The default waits: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h (about ten and a half
/// hours of retries, nine attempts in all).
pub fn default_schedule() -> Vec<Duration> {
    [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600].map(Duration::from_secs).to_vec()
}

/// The wait after failed attempt number `attempt` (1 for the first), jittered; `None` when the
/// schedule is exhausted.
pub fn wait_after(schedule: &[Duration], attempt: u32, rng: &mut impl Rng) -> Option<Duration> {
    let base = *schedule.get(usize::try_from(attempt).ok()?.checked_sub(1)?)?;
    let ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let spread = ms.saturating_mul(JITTER_PERCENT) / 100;
    let low = ms.saturating_sub(spread);
    Some(Duration::from_millis(rng.gen_range(low..=ms.saturating_add(spread))))
}

/// Parses a schedule written as comma-separated durations: `500ms`, `5s`, `2m`, `1h`.
pub fn parse_schedule(text: &str) -> anyhow::Result<Vec<Duration>> {
    let waits = text
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            let (digits, unit) = w.split_at(w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len()));
            let n: u64 = digits.parse().map_err(|_| anyhow::anyhow!("{w:?} is not a duration like 5s"))?;
            Ok(match unit {
                "ms" => Duration::from_millis(n),
                "s" | "" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                "h" => Duration::from_secs(n * 3600),
                _ => anyhow::bail!("{w:?}: the units are ms, s, m and h"),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!waits.is_empty() && waits.len() <= 20, "a retry schedule has 1 to 20 waits");
    Ok(waits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wait_follows_the_schedule_within_the_jitter_and_then_it_stops() {
        let schedule = default_schedule();
        let mut rng = rand::thread_rng();
        let mut seen_spread = false;
        for (i, base) in schedule.iter().enumerate() {
            let attempt = u32::try_from(i + 1).unwrap();
            let base_ms = base.as_millis() as u64;
            let first = wait_after(&schedule, attempt, &mut rng).unwrap();
            for _ in 0..200 {
                let wait = wait_after(&schedule, attempt, &mut rng).unwrap().as_millis() as u64;
                assert!(wait >= base_ms * 80 / 100 && wait <= base_ms * 120 / 100, "{attempt}: {wait}");
                seen_spread |= wait != first.as_millis() as u64;
            }
        }
        assert!(seen_spread, "waits are jittered, not fixed");
        assert_eq!(wait_after(&schedule, 0, &mut rng), None);
        assert_eq!(
            wait_after(&schedule, schedule.len() as u32 + 1, &mut rng),
            None,
            "then the delivery fails"
        );
        // Each wait of the default is longer than the one before (exponential-ish growth).
        assert!(schedule.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(schedule[0], Duration::from_secs(5));
    }

    #[test]
    fn schedules_parse_from_durations_with_units() {
        let parsed = parse_schedule("500ms, 5s,2m,1h").unwrap();
        let expected = [
            Duration::from_millis(500),
            Duration::from_secs(5),
            Duration::from_secs(120),
            Duration::from_secs(3600),
        ];
        assert_eq!(parsed, expected);
        assert!(parse_schedule("").is_err());
        assert!(parse_schedule("5x").is_err());
        assert!(parse_schedule("s").is_err());
    }
}
