//! Mesh benchmarks (placeholder, replaced by the benchmark work).
fn main() {}
