//! The envelope's tests: wire format, signatures, the replay guard and reply routes.
use super::*;
use crate::DropReason;
use libp2p::identity::Keypair;
use proptest::prelude::*;

const NOW: u64 = 1_800_000_000_000;

fn keys(n: usize) -> Vec<Keypair> {
    (0..n).map(|_| Keypair::generate_ed25519()).collect()
}

fn sample(keys: &[Keypair], payload: &'static [u8]) -> Envelope {
    let dest = NodeId::from(keys.last().unwrap());
    let mut e = Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 8, Bytes::from_static(payload), NOW);
    let digest = e.digest();
    for k in &keys[1..keys.len() - 1] {
        e.sign_hop(k, &digest);
    }
    e
}

/// Like [`sample`], with hop `i` stamped `NOW_US + i × 1000` (1 ms a link).
fn stamped(keys: &[Keypair], payload: &'static [u8]) -> Envelope {
    let dest = NodeId::from(keys.last().unwrap());
    let header = Header {
        id: [7; 16],
        kind: Kind::Data,
        origin: NodeId::from(&keys[0]),
        destination: dest,
        hop_limit: 8,
        created_at_ms: NOW,
    };
    let mut e = Envelope { header, payload: Bytes::from_static(payload), hops: Vec::new() };
    let digest = e.digest();
    for (i, k) in keys[..keys.len() - 1].iter().enumerate() {
        e.sign_hop_at(k, &digest, NOW * 1000 + i as u64 * 1000);
    }
    e
}

/// `e` written in the version 1 format (hops without times), as a node of that version sent it.
fn encode_v1(e: &Envelope) -> Bytes {
    use bytes::BufMut;
    let mut out = bytes::BytesMut::new();
    wire::encode_header(&e.header, &mut out);
    out[2] = 1;
    out.put_u32(e.payload.len() as u32);
    out.put_slice(&e.payload);
    out.put_u8(e.hops.len() as u8);
    for hop in &e.hops {
        wire::put_node(&mut out, &hop.node);
        out.put_slice(&hop.signature);
    }
    out.freeze()
}

fn verify(e: &Envelope) -> Result<[u8; 32], DropReason> {
    e.verify(NOW, Freshness::default(), &mut KeyCache::default())
}

#[test]
fn an_envelope_round_trips_through_its_wire_format() {
    let ks = keys(5);
    let e = sample(&ks, b"hello mesh");
    let decoded = Envelope::decode(e.encode()).unwrap();
    assert_eq!(decoded, e);
    assert_eq!(decoded.hops.len(), 4);
    assert!(verify(&decoded).is_ok());
    let route: Vec<_> = decoded.route().collect();
    assert_eq!(route, ks[..4].iter().map(NodeId::from).collect::<Vec<_>>());
}

#[test]
fn every_hop_s_time_round_trips_and_verifies() {
    let ks = keys(5);
    let e = stamped(&ks, b"timed");
    let bytes = e.encode();
    assert_eq!(bytes[2], 2, "written as version 2");
    let decoded = Envelope::decode(bytes).unwrap();
    assert_eq!(decoded, e);
    assert!(verify(&decoded).is_ok());
    let stamps: Vec<_> = decoded.stamps().collect();
    let expected: Vec<_> = ks[..4]
        .iter()
        .enumerate()
        .map(|(i, k)| HopStamp { node: NodeId::from(k), at_us: NOW * 1000 + i as u64 * 1000 })
        .collect();
    assert_eq!(stamps, expected);
}

#[test]
fn a_new_envelope_and_a_forwarded_hop_are_stamped_with_the_clock() {
    let ks = keys(3);
    let before = now_us();
    let e = sample(&ks, b"x");
    let after = now_us();
    for hop in &e.hops {
        assert!((before..=after).contains(&hop.at_us), "{} not in {before}..={after}", hop.at_us);
    }
    assert!(e.hops[0].at_us <= e.hops[1].at_us, "one clock: the relay signs after the origin");
}

#[test]
fn changing_any_hop_s_time_breaks_verification() {
    let ks = keys(5);
    let original = stamped(&ks, b"x");
    for i in 0..original.hops.len() {
        for changed in [original.hops[i].at_us + 1, original.hops[i].at_us - 1, 0, u64::MAX] {
            let mut e = original.clone();
            e.hops[i].at_us = changed;
            assert_eq!(verify(&e), Err(DropReason::BadSignature), "hop {i} restamped {changed}");
            // Also through the wire, as a relay would send it.
            assert_eq!(verify(&Envelope::decode(e.encode()).unwrap()), Err(DropReason::BadSignature));
        }
    }
}

#[test]
fn a_relay_cannot_restamp_an_earlier_hop_and_sign_over_it() {
    // The last relay changes the time of the hop before it and signs its own hop over the
    // result: its signature is valid, the earlier hop's is not.
    let ks = keys(4);
    let mut e = stamped(&ks, b"x");
    let last = e.hops.pop().unwrap();
    e.hops[1].at_us -= 500;
    let digest = e.digest();
    e.sign_hop_at(&ks[2], &digest, last.at_us);
    assert_eq!(verify(&e), Err(DropReason::BadSignature));
}

#[test]
fn a_version_1_envelope_is_refused_when_decoded() {
    let e = sample(&keys(4), b"from an older node");
    let v1 = encode_v1(&e);
    assert_eq!(Envelope::decode(v1.clone()), Err(DecodeError::UnsupportedVersion(1)));
    // The id can still be read to report the drop.
    assert_eq!(peek_id(&v1), Some(e.header.id));
    // Cut anywhere, it is refused all the same, without a panic.
    for len in 0..v1.len() {
        assert!(Envelope::decode(v1.slice(..len)).is_err());
    }
}

#[test]
fn a_tampered_payload_is_rejected() {
    let mut e = sample(&keys(3), b"pay 10");
    e.payload = Bytes::from_static(b"pay 99");
    assert_eq!(verify(&e), Err(DropReason::BadSignature));
}

#[test]
fn a_tampered_header_is_rejected() {
    let mut e = sample(&keys(3), b"x");
    e.header.hop_limit = 30;
    assert_eq!(verify(&e), Err(DropReason::BadSignature));
}

#[test]
fn a_tampered_hop_record_is_rejected() {
    let ks = keys(4);
    let mut dropped = sample(&ks, b"x");
    dropped.hops.remove(1);
    assert_eq!(verify(&dropped), Err(DropReason::BadSignature));

    let mut swapped = sample(&ks, b"x");
    swapped.hops.swap(1, 2);
    assert_eq!(verify(&swapped), Err(DropReason::BadSignature));

    let mut forged = sample(&ks, b"x");
    forged.hops[1].node = NodeId::from(&Keypair::generate_ed25519());
    assert_eq!(verify(&forged), Err(DropReason::BadSignature));

    let mut resigned = sample(&ks, b"x");
    resigned.hops[2].signature[0] ^= 1;
    assert_eq!(verify(&resigned), Err(DropReason::BadSignature));
}

#[test]
fn an_origin_that_did_not_sign_first_is_rejected() {
    let ks = keys(3);
    let mut e = sample(&ks, b"x");
    e.header.origin = NodeId::from(&ks[1]);
    assert_eq!(verify(&e), Err(DropReason::BadSignature));
}

#[test]
fn stale_and_future_envelopes_are_rejected() {
    let e = sample(&keys(3), b"x");
    let f = Freshness::default();
    let mut cache = KeyCache::default();
    assert_eq!(e.verify(NOW + 30_001, f, &mut cache), Err(DropReason::Expired));
    assert_eq!(e.verify(NOW - 5_001, f, &mut cache), Err(DropReason::Expired));
    assert!(e.verify(NOW + 30_000, f, &mut cache).is_ok());
}

#[test]
fn a_hop_record_longer_than_the_hop_limit_is_rejected() {
    let ks = keys(3);
    let dest = NodeId::from(&ks[2]);
    let mut e = Envelope::new(&ks[0], [1; 16], Kind::Data, dest, 1, Bytes::new(), NOW);
    let digest = e.digest();
    e.sign_hop(&ks[1], &digest);
    assert_eq!(verify(&e), Err(DropReason::HopLimit));
}

#[test]
fn a_replayed_envelope_is_rejected_until_it_would_have_expired() {
    let e = sample(&keys(3), b"x");
    let mut guard = ReplayGuard::new(Freshness::default(), 100);
    assert_eq!(guard.check(&e.header, NOW), Ok(()));
    assert_eq!(guard.check(&e.header, NOW + 1), Err(DropReason::Replay));
    assert_eq!(guard.check(&e.header, NOW + 30_000), Err(DropReason::Replay));
    // Past its window the envelope fails freshness; the guard may forget it.
    assert_eq!(guard.check(&e.header, NOW + 30_001), Ok(()));
}

#[test]
fn a_full_replay_guard_refuses_instead_of_forgetting() {
    let mut guard = ReplayGuard::new(Freshness::default(), 2);
    let ks = keys(2);
    let mut e = sample(&ks, b"x");
    for i in 0..2u8 {
        e.header.id = [i; 16];
        assert_eq!(guard.check(&e.header, NOW), Ok(()));
    }
    e.header.id = [9; 16];
    assert_eq!(guard.check(&e.header, NOW), Err(DropReason::Backpressure));
    assert_eq!(guard.len(), 2);
}

#[test]
fn a_reply_carries_its_route_ahead_of_the_answer_and_the_id_can_be_peeked() {
    let ks = keys(3);
    let route: Vec<HopStamp> = ks
        .iter()
        .zip([10, 2_000, u64::MAX])
        .map(|(k, at_us)| HopStamp { node: NodeId::from(k), at_us })
        .collect();
    let payload = with_route(&route, b"answer");
    let (got, answer) = split_route(payload.clone()).unwrap();
    assert_eq!(got, route);
    assert_eq!(&answer[..], b"answer");
    assert!(split_route(Bytes::from_static(&[2, 1])).is_err());
    // A route cut inside a node's time is refused, not read as a shorter one.
    let first_time_ends = 1 + 1 + route[0].node.to_bytes().len() + 8;
    for len in 1..first_time_ends {
        assert!(split_route(payload.slice(..len)).is_err(), "cut at {len}");
    }
    assert_eq!(split_route(with_route(&[], b"a")).unwrap(), (vec![], Bytes::from_static(b"a")));
    let e = sample(&ks, b"x");
    assert_eq!(peek_id(&e.encode()), Some(e.header.id));
    assert_eq!(peek_id(b"short"), None);
}

#[test]
fn one_origin_cannot_use_up_the_guard_for_the_others() {
    let mut guard = ReplayGuard::new(Freshness::default(), 2);
    let ks = keys(3);
    let mut flood = sample(&ks, b"x");
    for i in 0..2u8 {
        flood.header.id = [i; 16];
        assert_eq!(guard.check(&flood.header, NOW), Ok(()));
    }
    flood.header.id = [9; 16];
    assert_eq!(guard.check(&flood.header, NOW), Err(DropReason::Backpressure));
    let mut honest = sample(&ks, b"y");
    honest.header.origin = NodeId::from(&ks[1]);
    assert_eq!(guard.check(&honest.header, NOW), Ok(()), "another origin has its own budget");
    // Once the flood's ids expire, its budget is back.
    assert_eq!(guard.check(&flood.header, NOW + 30_001), Ok(()));
}

#[test]
fn decoding_reports_what_is_wrong() {
    let bytes = sample(&keys(3), b"x").encode();
    assert_eq!(Envelope::decode(Bytes::from_static(b"XX")), Err(DecodeError::BadMagic));
    assert_eq!(Envelope::decode(bytes.slice(..bytes.len() - 1)), Err(DecodeError::Truncated));
    let mut v = bytes.to_vec();
    v[2] = 9;
    assert_eq!(Envelope::decode(v.into()), Err(DecodeError::UnsupportedVersion(9)));
    let mut v = bytes.to_vec();
    v.push(0);
    assert_eq!(Envelope::decode(v.into()), Err(DecodeError::TrailingBytes(1)));
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::decode(Bytes::from(bytes));
    }

    #[test]
    fn decoding_a_mangled_envelope_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = sample(&keys(3), b"payload").encode().to_vec();
        for (at, value) in flips {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        let _ = Envelope::decode(Bytes::from(bytes));
    }

    #[test]
    fn changing_any_byte_is_caught_by_decoding_or_verification(at in any::<usize>(), delta in 1u8..=255) {
        let original = sample(&keys(4), b"the payload");
        let mut bytes = original.encode().to_vec();
        let i = at % bytes.len();
        bytes[i] = bytes[i].wrapping_add(delta);
        match Envelope::decode(Bytes::from(bytes)) {
            Err(_) => {}
            Ok(e) => prop_assert!(verify(&e).is_err(), "byte {} changed and still verified", i),
        }
    }
}
