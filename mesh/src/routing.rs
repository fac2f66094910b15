//! Routing: destination-sequenced distance vector (DSDV).
//!
//! Why distance vector: each node only talks to its direct neighbours and keeps one entry per
//! destination, which fits meshes of up to ~100 nodes with partial connectivity and needs no
//! global view. Why *destination-sequenced*: plain distance vector counts to infinity after a
//! link breaks; here every destination stamps its own advertisements with an increasing even
//! sequence number, a node that loses a link marks the routes through it broken with the next
//! odd number, and a route is only replaced by a fresher sequence number (or, at the same
//! number, a shorter path). A break therefore propagates in one round of triggered updates,
//! and a stale path can never win over it. Split horizon with poisoned reverse keeps two
//! neighbours from bouncing a route between them.
//!
//! Why signed: a sequence number decides which route wins, so a node that could invent one
//! (`u64::MAX - 1`) for any destination would pull every route through itself. Each
//! destination signs its own (even) sequence numbers; entries travel with that signature and
//! every receiver checks it (see `node/adverts.rs`), so a relay can only repeat what a
//! destination said or declare a route broken (the odd number after a signed one) — which costs
//! at most one advertisement interval of reachability, never a hijack. Sequence numbers are the
//! destination's clock in ms × 2, so one far ahead of the clock is refused too.
use super::NodeId;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

/// Metric of an unreachable destination.
pub const INFINITY: u8 = u8::MAX;
/// Most entries an advertisement may carry (the mesh's scale ceiling is 100 nodes).
pub const MAX_ADVERT_ENTRIES: usize = 1024;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// A destination's signature over one of its sequence numbers. Kept as an array: a slice of
/// the advert it came in would keep that whole advert alive for as long as the route.
pub type Signature = [u8; SIGNATURE_LEN];

/// What a destination signs to vouch for one of its sequence numbers.
pub fn seq_message(destination: NodeId, seq: u64) -> Vec<u8> {
    let mut message = b"web4/route-seq/v1".to_vec();
    message.extend_from_slice(&destination.to_bytes());
    message.extend_from_slice(&(seq & !1).to_be_bytes());
    message
}

/// How a destination is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub next_hop: NodeId,
    /// Links to the destination; `INFINITY` when broken.
    pub metric: u8,
    /// The destination's sequence number this route is based on (odd = broken).
    pub seq: u64,
    /// The destination's signature over `seq` (its even part).
    pub signature: Signature,
    pub changed_at: Instant,
}

/// One line of an advertisement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvertEntry {
    pub destination: NodeId,
    pub metric: u8,
    pub seq: u64,
    /// The destination's signature over `seq` (its even part): see [`seq_message`].
    pub signature: Signature,
}

/// A node's routing table.
pub struct RoutingTable {
    me: NodeId,
    seq: u64,
    /// This node's signature over `seq` (set by the node after each bump).
    signature: Signature,
    neighbors: HashSet<NodeId>,
    routes: HashMap<NodeId, Route>,
}

impl RoutingTable {
    /// A table for `me`. Its own sequence number starts from the clock (`now_ms`), so a node
    /// that restarts still advertises fresher numbers than the broken routes it left behind.
    pub fn new(me: NodeId, now_ms: u64) -> Self {
        Self {
            me,
            seq: now_ms.saturating_mul(2),
            signature: [0; SIGNATURE_LEN],
            neighbors: HashSet::new(),
            routes: HashMap::new(),
        }
    }

    /// This node's current sequence number (what it signs).
    pub fn own_seq(&self) -> u64 {
        self.seq
    }

    /// Records this node's signature over its current sequence number.
    pub fn sign_own(&mut self, signature: Signature) {
        self.signature = signature;
    }

    /// This node's id.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// Advances this node's own sequence number (called before each periodic advertisement).
    pub fn bump_own_seq(&mut self, now_ms: u64) {
        self.seq = (self.seq + 2).max(now_ms.saturating_mul(2));
    }

    /// The directly connected peers.
    pub fn neighbors(&self) -> impl Iterator<Item = &NodeId> {
        self.neighbors.iter()
    }

    /// A link to `peer` came up. Routes arrive with its advertisements.
    pub fn neighbor_up(&mut self, peer: NodeId) -> bool {
        self.neighbors.insert(peer)
    }

    /// The link to `peer` went away: every route through it (and to it) becomes broken.
    /// Returns whether anything changed (then advertise at once).
    pub fn neighbor_down(&mut self, peer: NodeId, now: Instant) -> bool {
        let was = self.neighbors.remove(&peer);
        self.break_routes(|dest, route| route.next_hop == peer || *dest == peer, now) || was
    }

    /// Withdraws every route to or through `node` (it was blocked). Adverts from it are then
    /// ignored until [`RoutingTable::neighbor_up`] is called again.
    pub fn withdraw(&mut self, node: NodeId, now: Instant) -> bool {
        self.neighbor_down(node, now)
    }

    fn break_routes(&mut self, mut doomed: impl FnMut(&NodeId, &Route) -> bool, now: Instant) -> bool {
        let mut changed = false;
        for (dest, route) in self.routes.iter_mut() {
            if route.metric != INFINITY && doomed(dest, route) {
                route.metric = INFINITY;
                route.seq |= 1; // the next odd number: fresher than what we had, older than any new even one
                route.changed_at = now;
                changed = true;
            }
        }
        changed
    }

    /// Applies an advertisement from neighbour `from`; returns whether reachability changed
    /// (a route appeared, broke, or took another next hop or length) — what deserves an
    /// immediate advertisement. A fresher sequence number on an unchanged path is recorded
    /// but not reported: the periodic advertisement carries it on. Reporting those too made
    /// every node re-advertise its whole table to all neighbours on each of every other
    /// node's refreshes, a storm that kept a 100-node grid from converging.
    pub fn apply(&mut self, from: NodeId, entries: &[AdvertEntry], now: Instant) -> bool {
        if !self.neighbors.contains(&from) {
            return false;
        }
        let mut changed = false;
        for entry in entries {
            if entry.destination == self.me {
                continue;
            }
            let metric = if entry.metric == INFINITY {
                INFINITY
            } else {
                entry.metric.saturating_add(1).min(INFINITY - 1)
            };
            let accept = match self.routes.get(&entry.destination) {
                None => metric != INFINITY,
                Some(current) => {
                    entry.seq > current.seq
                        || (entry.seq == current.seq && metric < current.metric)
                        // The current next hop reporting a worse path at the same number.
                        || (entry.seq == current.seq && current.next_hop == from && metric != current.metric)
                }
            };
            if accept {
                let significant = self
                    .routes
                    .get(&entry.destination)
                    .is_none_or(|current| current.next_hop != from || current.metric != metric);
                let changed_at = if significant { now } else { self.routes[&entry.destination].changed_at };
                let route =
                    Route { next_hop: from, metric, seq: entry.seq, signature: entry.signature, changed_at };
                self.routes.insert(entry.destination, route);
                changed |= significant;
            }
        }
        changed
    }

    /// What to tell `neighbor`: this node itself, then every route — poisoned (infinite)
    /// where `neighbor` is its next hop, broken ones included so breaks propagate.
    pub fn advert_for(&self, neighbor: NodeId) -> Vec<AdvertEntry> {
        let mut entries = Vec::with_capacity(self.routes.len() + 1);
        entries.push(AdvertEntry {
            destination: self.me,
            metric: 0,
            seq: self.seq,
            signature: self.signature,
        });
        for (dest, route) in &self.routes {
            let metric = if route.next_hop == neighbor { INFINITY } else { route.metric };
            entries.push(AdvertEntry {
                destination: *dest,
                metric,
                seq: route.seq,
                signature: route.signature,
            });
        }
        entries
    }

    /// The neighbour to send an envelope for `destination` to, if it is reachable.
    pub fn next_hop(&self, destination: &NodeId) -> Option<NodeId> {
        if self.neighbors.contains(destination) {
            return Some(*destination);
        }
        self.routes.get(destination).filter(|r| r.metric != INFINITY).map(|r| r.next_hop)
    }

    /// Every destination with its route, broken ones included.
    pub fn routes(&self) -> impl Iterator<Item = (&NodeId, &Route)> {
        self.routes.iter()
    }

    /// Forgets routes broken for longer than `age` (their break has propagated by then).
    pub fn prune_broken(&mut self, now: Instant, age: std::time::Duration) {
        self.routes.retain(|_, r| r.metric != INFINITY || now.duration_since(r.changed_at) < age);
    }
}

/// Encodes an advertisement as an envelope payload: count u16, then per entry the
/// destination (len u8, id), metric u8, sequence number u64 and the destination's signature
/// (64 bytes).
pub fn encode_advert(entries: &[AdvertEntry]) -> Bytes {
    let count = entries.len().min(MAX_ADVERT_ENTRIES);
    let mut out = BytesMut::with_capacity(2 + count * (48 + SIGNATURE_LEN));
    out.put_u16(count as u16);
    for e in &entries[..count] {
        let id = e.destination.to_bytes();
        out.put_u8(id.len() as u8);
        out.put_slice(&id);
        out.put_u8(e.metric);
        out.put_u64(e.seq);
        out.put_slice(&e.signature);
    }
    out.freeze()
}

/// Decodes [`encode_advert`]'s output; `None` for anything malformed. Never panics.
pub fn decode_advert(mut bytes: Bytes) -> Option<Vec<AdvertEntry>> {
    if bytes.remaining() < 2 {
        return None;
    }
    let count = bytes.get_u16();
    if usize::from(count) > MAX_ADVERT_ENTRIES {
        return None;
    }
    let mut entries = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        if !bytes.has_remaining() {
            return None;
        }
        let len = usize::from(bytes.get_u8());
        if bytes.remaining() < len + 9 + SIGNATURE_LEN {
            return None;
        }
        let destination = NodeId::from_bytes(&bytes.split_to(len))?;
        let metric = bytes.get_u8();
        let seq = bytes.get_u64();
        let mut signature = [0; SIGNATURE_LEN];
        bytes.copy_to_slice(&mut signature);
        entries.push(AdvertEntry { destination, metric, seq, signature });
    }
    bytes.is_empty().then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::identity::Keypair;

    /// Nodes joined by links, exchanging adverts until nothing changes: a synchronous model of
    /// what the mesh does over the network.
    struct Sim {
        tables: Vec<RoutingTable>,
        ids: Vec<NodeId>,
    }

    impl Sim {
        fn new(n: usize) -> Self {
            let ids: Vec<NodeId> = (0..n).map(|_| NodeId::from(&Keypair::generate_ed25519())).collect();
            let tables = ids.iter().map(|id| RoutingTable::new(*id, 1_000)).collect();
            Sim { tables, ids }
        }

        fn link(&mut self, a: usize, b: usize) {
            let (ia, ib) = (self.ids[a], self.ids[b]);
            self.tables[a].neighbor_up(ib);
            self.tables[b].neighbor_up(ia);
        }

        fn unlink(&mut self, a: usize, b: usize) {
            let (ia, ib) = (self.ids[a], self.ids[b]);
            self.tables[a].neighbor_down(ib, Instant::now());
            self.tables[b].neighbor_down(ia, Instant::now());
        }

        /// Rounds of every node advertising to every neighbour, until a round changes nothing.
        fn converge(&mut self) -> usize {
            for round in 1..=100 {
                let mut changed = false;
                for i in 0..self.tables.len() {
                    let neighbors: Vec<NodeId> = self.tables[i].neighbors().copied().collect();
                    for n in neighbors {
                        let advert = self.tables[i].advert_for(n);
                        let j = self.ids.iter().position(|id| *id == n).unwrap();
                        changed |= self.tables[j].apply(self.ids[i], &advert, Instant::now());
                    }
                }
                if !changed {
                    return round;
                }
            }
            panic!("routes did not converge in 100 rounds");
        }

        fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
            let mut path = vec![from];
            let mut at = from;
            while at != to {
                let next = self.tables[at].next_hop(&self.ids[to])?;
                at = self.ids.iter().position(|id| *id == next).unwrap();
                if path.contains(&at) {
                    panic!("routing loop {path:?} -> {at}");
                }
                path.push(at);
            }
            Some(path)
        }
    }

    fn line(n: usize) -> Sim {
        let mut sim = Sim::new(n);
        for i in 0..n - 1 {
            sim.link(i, i + 1);
        }
        sim.converge();
        sim
    }

    #[test]
    fn a_line_learns_multi_hop_routes() {
        let sim = line(5);
        assert_eq!(sim.path(0, 4), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(sim.path(4, 0), Some(vec![4, 3, 2, 1, 0]));
        let route = sim.tables[0].routes().find(|(d, _)| **d == sim.ids[4]).unwrap().1;
        assert_eq!(route.metric, 4);
    }

    #[test]
    fn a_broken_link_withdraws_the_routes_behind_it() {
        let mut sim = line(5);
        sim.unlink(2, 3);
        sim.converge();
        assert_eq!(sim.path(0, 4), None);
        assert_eq!(sim.path(0, 2), Some(vec![0, 1, 2]));
        assert_eq!(sim.path(4, 3), Some(vec![4, 3]));
    }

    #[test]
    fn routes_move_to_the_remaining_path_when_a_link_breaks() {
        // A ring of 6: 0-1-2-3-4-5-0. The short way from 0 to 2 is via 1.
        let mut sim = Sim::new(6);
        for i in 0..6 {
            sim.link(i, (i + 1) % 6);
        }
        sim.converge();
        assert_eq!(sim.path(0, 2), Some(vec![0, 1, 2]));

        sim.unlink(1, 2);
        for t in &mut sim.tables {
            t.bump_own_seq(2_000);
        }
        sim.converge();
        assert_eq!(sim.path(0, 2), Some(vec![0, 5, 4, 3, 2]));
    }

    #[test]
    fn a_withdrawn_node_is_unreachable_until_it_comes_back_with_fresh_numbers() {
        let mut sim = line(3);
        let blocked = sim.ids[2];
        sim.tables[1].withdraw(blocked, Instant::now());
        sim.converge();
        assert_eq!(sim.path(0, 2), None);

        sim.tables[1].neighbor_up(blocked);
        sim.tables[2].bump_own_seq(5_000);
        sim.converge();
        assert_eq!(sim.path(0, 2), Some(vec![0, 1, 2]));
    }

    #[test]
    fn a_fresher_sequence_number_alone_is_not_a_reachability_change() {
        let mut sim = line(3);
        let advert = {
            sim.tables[2].bump_own_seq(9_000);
            sim.tables[2].advert_for(sim.ids[1])
        };
        let changed = sim.tables[1].apply(sim.ids[2], &advert, Instant::now());
        assert!(!changed, "same path, newer number: nothing to announce at once");
        let route = sim.tables[1].routes().find(|(d, _)| **d == sim.ids[2]).unwrap().1;
        assert_eq!(route.seq, 18_000, "but the newer number is kept");
    }

    #[test]
    fn adverts_from_strangers_are_ignored() {
        let mut sim = line(2);
        let stranger = NodeId::from(&Keypair::generate_ed25519());
        let entries =
            [AdvertEntry { destination: stranger, metric: 0, seq: 10, signature: [0; SIGNATURE_LEN] }];
        assert!(!sim.tables[0].apply(stranger, &entries, Instant::now()));
        assert_eq!(sim.tables[0].next_hop(&stranger), None);
    }

    #[test]
    fn poisoned_reverse_advertises_infinity_back_to_the_next_hop() {
        let sim = line(3);
        let to_next_hop = sim.tables[0].advert_for(sim.ids[1]);
        let via_1 = to_next_hop.iter().find(|e| e.destination == sim.ids[2]).unwrap();
        assert_eq!(via_1.metric, INFINITY);
    }

    fn advert_entry(sim: &Sim) -> AdvertEntry {
        AdvertEntry { destination: sim.ids[0], metric: 1, seq: 2, signature: [1; SIGNATURE_LEN] }
    }

    #[test]
    fn adverts_round_trip_and_garbage_is_refused() {
        let sim = line(3);
        let mut advert = sim.tables[1].advert_for(sim.ids[0]);
        for (i, e) in advert.iter_mut().enumerate() {
            e.signature = [i as u8; SIGNATURE_LEN];
        }
        assert_eq!(decode_advert(encode_advert(&advert)), Some(advert));
        let too_many = vec![advert_entry(&sim); MAX_ADVERT_ENTRIES + 1];
        let mut bytes = BytesMut::from(&encode_advert(&too_many)[..]);
        bytes[..2].copy_from_slice(&((MAX_ADVERT_ENTRIES + 1) as u16).to_be_bytes());
        assert_eq!(decode_advert(bytes.freeze()), None, "more entries than the cap");
        assert_eq!(decode_advert(Bytes::from_static(&[0, 5, 1])), None);
        assert_eq!(decode_advert(Bytes::from_static(&[])), None);
    }

    #[test]
    fn pruning_forgets_only_old_broken_routes() {
        let mut sim = line(3);
        let later = Instant::now() + std::time::Duration::from_secs(120);
        sim.tables[0].neighbor_down(sim.ids[1], Instant::now());
        sim.tables[0].prune_broken(later, std::time::Duration::from_secs(60));
        assert_eq!(sim.tables[0].routes().count(), 0);
    }
}
