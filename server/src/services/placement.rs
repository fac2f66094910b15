//! Where a service's replicas go: rendezvous (highest-random-weight) hashing over the eligible
//! nodes. Every node gets a score `SHA-256(service id | node id)`; a service lives on the
//! `replicas` highest-scoring eligible nodes. The choice depends only on the ids, so it is the
//! same after a restart and on every process that computes it; when a node leaves, only the
//! replicas it held move (each to the next node in that service's order), and the others stay.
use sha2::{Digest, Sha256};

/// A node's score for a service.
pub fn score(service: &str, node: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(service.as_bytes());
    h.update([0]);
    h.update(node.as_bytes());
    h.finalize().into()
}

/// The `replicas` nodes (of `eligible`) a service belongs on, best first.
pub fn choose<'a, N: AsRef<str> + Ord + ?Sized>(
    service: &str,
    eligible: impl IntoIterator<Item = &'a N>,
    replicas: usize,
) -> Vec<&'a N> {
    let mut scored: Vec<([u8; 32], &N)> =
        eligible.into_iter().map(|n| (score(service, n.as_ref()), n)).collect();
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(replicas).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node-{i}")).collect()
    }

    #[test]
    fn the_choice_is_deterministic_and_independent_of_order() {
        let all = nodes(7);
        let a = choose("svc-1", all.iter().map(String::as_str), 3);
        let b = choose("svc-1", all.iter().rev().map(String::as_str), 3);
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn fewer_nodes_than_replicas_places_on_all() {
        let all = nodes(2);
        assert_eq!(choose("svc", all.iter().map(String::as_str), 5).len(), 2);
        assert!(choose("svc", std::iter::empty::<&str>(), 2).is_empty());
    }

    #[test]
    fn services_spread_over_the_nodes() {
        let all = nodes(5);
        let mut counts = std::collections::HashMap::new();
        for s in 0..1000 {
            let first = choose(&format!("svc-{s}"), all.iter().map(String::as_str), 1)[0];
            *counts.entry(first).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 5);
        assert!(counts.values().all(|&c| c > 120), "{counts:?}");
    }

    proptest! {
        /// Removing a node moves only the replicas it held; adding one back restores the
        /// original choice.
        #[test]
        fn removing_a_node_moves_only_its_replicas(svc in "[a-z0-9]{1,12}", n in 2usize..12, k in 1usize..5, gone in 0usize..12) {
            let all = nodes(n);
            let gone = &all[gone % n];
            let before = choose(&svc, all.iter().map(String::as_str), k);
            let after = choose(&svc, all.iter().filter(|x| *x != gone).map(String::as_str), k);
            for kept in before.iter().filter(|x| **x != gone.as_str()) {
                prop_assert!(after.contains(kept));
            }
            prop_assert_eq!(after.len(), k.min(n - 1));
            prop_assert!(!after.contains(&gone.as_str()));
        }
    }
}
