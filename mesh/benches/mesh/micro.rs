//! 1. Envelope micro-benchmarks (criterion): signing, verifying and the wire format of
//!    envelopes, and route advertisements.
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};
use web4_mesh::{
    Keypair, NodeId,
    envelope::{Envelope, Freshness, KeyCache, Kind},
    routing::{self, AdvertEntry, RoutingTable},
};

/// A fixed clock for the micro-benchmarks (verification checks freshness against it).
const NOW: u64 = 1_800_000_000_000;
const PAYLOADS: [(&str, usize); 2] = [("64B", 64), ("16KiB", 16 * 1024)];

/// An envelope from `keys[0]` to `dest`, signed by the origin and then by `hops - 1` forwarders.
fn envelope_with_hops(keys: &[Keypair], dest: NodeId, hops: usize, payload: &Bytes) -> Envelope {
    let mut e = Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 16, payload.clone(), NOW);
    let digest = e.digest();
    for k in &keys[1..hops] {
        e.sign_hop(k, &digest);
    }
    e
}

/// Envelopes with 64 B and 16 KiB payloads: signing at the origin and at a hop, verifying, the
/// wire format, and what a forwarder does to each.
pub(crate) fn envelope_benches(c: &mut Criterion) {
    let keys: Vec<Keypair> = (0..5).map(|_| Keypair::generate_ed25519()).collect();
    let dest = NodeId::from(&keys[4]);
    let mut group = c.benchmark_group("envelope");
    group.sample_size(30).warm_up_time(Duration::from_millis(700)).measurement_time(Duration::from_secs(2));
    // One envelope per iteration: criterion's "thrpt" column is operations per second.
    group.throughput(Throughput::Elements(1));

    for (label, size) in PAYLOADS {
        let payload = Bytes::from(vec![0xA5; size]);

        // Origin: header + payload digest (SHA-256) and one Ed25519 signature.
        group.bench_with_input(BenchmarkId::new("sign_origin", label), &payload, |b, payload| {
            b.iter(|| Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 16, black_box(payload.clone()), NOW))
        });

        // A forwarder appending its hop to a 1-hop envelope, given the digest (a node has it
        // from verifying). Cost is independent of the payload by design.
        let one_hop = envelope_with_hops(&keys, dest, 1, &payload);
        let digest = one_hop.digest();
        group.bench_with_input(BenchmarkId::new("sign_hop", label), &one_hop, |b, e| {
            b.iter_batched_ref(
                || e.clone(),
                |e| e.sign_hop(&keys[1], black_box(&digest)),
                criterion::BatchSize::SmallInput,
            )
        });

        // Full verification: freshness, digest over the payload, every hop's signature.
        // The key cache is warm, as on a running node (decoding a key from its id is cached).
        for hops in [1, 4] {
            let e = envelope_with_hops(&keys, dest, hops, &payload);
            let mut cache = KeyCache::default();
            e.verify(NOW, Freshness::default(), &mut cache).expect("the envelope verifies");
            group.bench_with_input(BenchmarkId::new(format!("verify_{hops}hop"), label), &e, |b, e| {
                b.iter(|| black_box(e).verify(NOW, Freshness::default(), &mut cache).unwrap())
            });
        }

        // Wire format of a 4-hop envelope: encode to bytes and parse back (no verification).
        let four = envelope_with_hops(&keys, dest, 4, &payload);
        group.bench_with_input(BenchmarkId::new("encode_decode_4hop", label), &four, |b, e| {
            b.iter(|| Envelope::decode(black_box(e).encode()).unwrap())
        });

        // What a forwarder does to each envelope in CPU terms: decode, verify the 3-hop chain,
        // append its own hop, encode again.
        let three = envelope_with_hops(&keys, dest, 3, &payload).encode();
        let mut cache = KeyCache::default();
        group.bench_with_input(BenchmarkId::new("forwarder_pipeline_3hop", label), &three, |b, bytes| {
            b.iter(|| {
                let mut e = Envelope::decode(black_box(bytes.clone())).unwrap();
                let digest = e.verify(NOW, Freshness::default(), &mut cache).unwrap();
                e.sign_hop(&keys[3], &digest);
                e.encode()
            })
        });
    }

    // The one-off cost a cold key cache adds: decoding Ed25519 public keys from node ids.
    let e = envelope_with_hops(&keys, dest, 4, &Bytes::from(vec![0xA5; 64]));
    group.bench_function("verify_4hop_cold_key_cache/64B", |b| {
        b.iter(|| black_box(&e).verify(NOW, Freshness::default(), &mut KeyCache::default()).unwrap())
    });
    group.finish();
}

/// Route advertisements, decoded and applied as a receiving node does.
pub(crate) fn routing_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing");
    group.sample_size(30).warm_up_time(Duration::from_millis(700)).measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));
    // Route advertisements: a node sends its whole table (one entry per destination) to each
    // neighbour; the receiver decodes it (each entry's node id is parsed and its Ed25519 key
    // checked) and applies it to its routing table.
    for n in [25usize, 100] {
        let ids: Vec<NodeId> = (0..n).map(|_| NodeId::from(&Keypair::generate_ed25519())).collect();
        let entries: Vec<AdvertEntry> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| AdvertEntry {
                destination: *id,
                metric: (i % 18) as u8,
                seq: NOW * 2,
                signature: [7; 64],
            })
            .collect();
        let bytes = routing::encode_advert(&entries);
        group.bench_with_input(
            BenchmarkId::new("advert_decode", format!("{n}_entries")),
            &bytes,
            |b, bytes| b.iter(|| routing::decode_advert(black_box(bytes.clone())).unwrap()),
        );
        let me = NodeId::from(&Keypair::generate_ed25519());
        let neighbor = ids[0];
        let mut table = RoutingTable::new(me, NOW);
        table.neighbor_up(neighbor);
        let mut seq = NOW * 2;
        group.bench_with_input(
            BenchmarkId::new("advert_apply", format!("{n}_entries")),
            &entries,
            |b, entries| {
                b.iter_batched_ref(
                    || {
                        // Fresher sequence numbers every time, as in the running mesh.
                        seq += 2;
                        entries.iter().map(|e| AdvertEntry { seq, ..e.clone() }).collect::<Vec<_>>()
                    },
                    |fresh| table.apply(neighbor, fresh, Instant::now()),
                    criterion::BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}
