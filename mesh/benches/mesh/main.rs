//! Mesh benchmarks (results and how to read them: `BENCHMARKS.md`).
//!
//! ```sh
//! cargo bench -p web4-mesh --bench mesh                # everything, ~2.5 minutes on 2 cores
//! cargo bench -p web4-mesh --bench mesh -- envelope    # only the envelope micro-benchmarks
//! cargo bench -p web4-mesh --bench mesh -- forwarding  # or: routing, convergence
//! MESH_BENCH_GRIDS=10 MESH_BENCH_TIMEOUT=180 cargo bench -p web4-mesh --bench mesh -- convergence
//! ```
//!
//! 1. `envelope/*`, `routing/*`: criterion benchmarks of signing, verifying, the wire format
//!    and route advertisements (decode + apply).
//! 2. `convergence`: 25, 49 and 100 in-process nodes on a grid (loopback TCP, default node
//!    settings): time until every node has a route to every other, memory per node, and time
//!    to converge again after the middle node stops. Each grid runs in a fresh child process
//!    (this binary again, with `MESH_BENCH_GRID_CHILD` set), so its memory baseline is clean.
//! 3. `forwarding`: messages per second, send latency and CPU per message over 1 hop (A→B)
//!    and 3 hops (A→B→C→D) on loopback, measured in alternating rounds so the ratio is fair.
//!
//! Sections 2 and 3 are hand-written measurements that print tables; they run live nodes, so
//! they only run under `cargo bench` (with `--bench`), like criterion's measurements;
//! `cargo test --benches` runs each criterion benchmark once, as a smoke test. Nothing here
//! asserts on timings: a mesh that does not converge in time is reported, not failed.
//!
//! One file per section (`micro.rs`, `convergence.rs`, `forwarding.rs`), with the helpers of
//! the live sections in `live.rs`; this one parses the command line and runs them.
mod convergence;
mod forwarding;
mod live;
mod micro;

use criterion::Criterion;
use std::time::Duration;

/// The name filter given on the command line (criterion's positional argument), if any.
fn filter() -> Option<String> {
    const WITH_VALUE: [&str; 17] = [
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--profile-time",
        "--color",
        "--output-format",
        "--plotting-backend",
        "--format",
        "-s",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut skip = false;
    for arg in &args {
        if skip {
            skip = false;
        } else if WITH_VALUE.contains(&arg.as_str()) || arg == "-b" || arg == "-c" {
            skip = true;
        } else if !arg.starts_with('-') {
            return Some(arg.clone());
        }
    }
    None
}

/// Set (to the grid's side) in the child process that runs one convergence measurement.
const GRID_CHILD: &str = "MESH_BENCH_GRID_CHILD";

fn main() {
    if let Some(side) = std::env::var(GRID_CHILD).ok().and_then(|v| v.parse::<usize>().ok()) {
        let timeout = std::env::var("MESH_BENCH_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
        let result = runtime.block_on(convergence::convergence(side, Duration::from_secs(timeout)));
        runtime.shutdown_timeout(Duration::from_secs(2));
        if let Err(e) = result {
            println!("convergence FAILED: {e}");
            std::process::exit(1);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    micro::envelope_benches(&mut criterion);
    micro::routing_benches(&mut criterion);
    criterion.final_summary();

    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    if !benchmarking {
        println!("mesh: live sections (convergence, forwarding) run only under `cargo bench`");
        return;
    }
    let filter = filter();
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    println!(
        "\nlive sections: one process, tokio multi-thread runtime with {} worker threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut failed = false;
    if wanted("convergence") {
        // Smaller grids first, for contrast with the 100-node ceiling; each grid in a fresh
        // process, so its memory baseline and CPU are its own. MESH_BENCH_GRIDS="10" (grid
        // sides, comma-separated) runs other sizes; MESH_BENCH_TIMEOUT (seconds, default 30)
        // bounds each phase.
        let grids = std::env::var("MESH_BENCH_GRIDS").unwrap_or_else(|_| "5,7,10".into());
        for side in grids.split(',').filter_map(|s| s.trim().parse::<usize>().ok()).filter(|s| *s >= 2) {
            let status = std::env::current_exe().and_then(|exe| {
                std::process::Command::new(exe).arg("--bench").env(GRID_CHILD, side.to_string()).status()
            });
            if !status.as_ref().is_ok_and(|s| s.success()) {
                println!("convergence FAILED for a {side}x{side} grid: {status:?}");
                failed = true;
            }
        }
    }
    if wanted("forwarding")
        && let Err(e) = runtime.block_on(forwarding::forwarding())
    {
        println!("forwarding FAILED: {e}");
        failed = true;
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    if failed {
        std::process::exit(1);
    }
}
