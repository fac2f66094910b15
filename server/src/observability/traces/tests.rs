//! The store's bound, visibility, filters, and the timeline it builds.
use super::*;
use crate::observability::record::HostTimes;
use crate::observability::trace_context::TraceContext;

fn node() -> MeshNodeId {
    MeshNodeId::from(&crate::mesh::Keypair::generate_ed25519())
}

struct Call {
    trace: TraceContext,
    service: ServiceId,
    owner: AccountId,
    payer: AccountId,
    status: u16,
    error_code: Option<&'static str>,
    duration: Duration,
    route: Vec<MeshNodeId>,
    attempts: Vec<AttemptRecord>,
}

impl Call {
    fn new(owner: &str, payer: &str) -> Self {
        Call {
            trace: TraceContext::start(),
            service: ServiceId::new("svc-1"),
            owner: AccountId::new(owner),
            payer: AccountId::new(payer),
            status: 200,
            error_code: None,
            duration: Duration::from_millis(10),
            route: Vec::new(),
            attempts: Vec::new(),
        }
    }

    fn record(&self, store: &TraceStore) {
        store.record(&InvokeRecord {
            invoke_id: uuid::Uuid::now_v7(),
            trace: self.trace,
            service: &self.service,
            service_name: "echo",
            owner: &self.owner,
            payer: &self.payer,
            entry: self.route.first().copied(),
            method: "GET",
            path: "/a?secret=1",
            started_at: chrono::Utc::now(),
            duration: self.duration,
            status: self.status,
            error_code: self.error_code,
            route: &self.route,
            attempts: &self.attempts,
        });
    }
}

fn viewer(account: &AccountId) -> Viewer<'_> {
    Viewer { account, operator: false }
}

#[test]
fn the_store_keeps_only_the_newest_traces_up_to_its_capacity() {
    let store = TraceStore::new(TraceSettings { capacity: 5, ..TraceSettings::default() });
    let calls: Vec<Call> = (0..8).map(|_| Call::new("owner", "owner")).collect();
    for call in &calls {
        call.record(&store);
    }

    let owner = AccountId::new("owner");
    let listed = store.list(viewer(&owner), &TraceQuery::default());

    let newest: Vec<String> = calls[3..].iter().rev().map(|c| c.trace.trace_id_hex()).collect();
    assert_eq!(listed.iter().map(|t| t.trace_id.clone()).collect::<Vec<_>>(), newest);
    assert!(store.get(viewer(&owner), &calls[0].trace.trace_id_hex()).is_none(), "the oldest went");
}

#[test]
fn a_switched_off_store_records_nothing() {
    let store = TraceStore::new(TraceSettings { enabled: false, ..TraceSettings::default() });
    Call::new("owner", "owner").record(&store);
    assert!(!store.enabled());
    assert!(
        store
            .list(Viewer { account: &AccountId::new("op"), operator: true }, &TraceQuery::default())
            .is_empty()
    );
}

#[test]
fn expired_traces_are_neither_listed_nor_found() {
    let store = TraceStore::new(TraceSettings { retention: Duration::ZERO, ..TraceSettings::default() });
    let call = Call::new("owner", "owner");
    call.record(&store);
    std::thread::sleep(Duration::from_millis(2));
    let owner = AccountId::new("owner");
    assert!(store.list(viewer(&owner), &TraceQuery::default()).is_empty());
    assert!(store.get(viewer(&owner), &call.trace.trace_id_hex()).is_none());
}

#[test]
fn owners_payers_and_the_operator_see_a_trace_and_nobody_else_does() {
    let store = TraceStore::default();
    let call = Call::new("provider", "consumer");
    call.record(&store);
    let id = call.trace.trace_id_hex();
    for (account, operator, sees) in
        [("provider", false, true), ("consumer", false, true), ("stranger", false, false), ("op", true, true)]
    {
        let account = AccountId::new(account);
        let who = Viewer { account: &account, operator };
        assert_eq!(store.get(who, &id).is_some(), sees, "{account:?}");
        assert_eq!(store.list(who, &TraceQuery::default()).len(), usize::from(sees), "{account:?}");
    }
}

#[test]
fn filters_pick_by_service_status_class_and_duration_and_the_path_loses_its_query() {
    let store = TraceStore::default();
    let mut slow_error = Call::new("a", "a");
    (slow_error.status, slow_error.error_code, slow_error.duration) =
        (504, Some("upstream_timeout"), Duration::from_millis(900));
    let mut teapot = Call::new("a", "a");
    teapot.status = 418;
    let mut other = Call::new("a", "a");
    other.service = ServiceId::new("svc-2");
    for call in [&slow_error, &teapot, &other, &Call::new("a", "a")] {
        call.record(&store);
    }
    let a = AccountId::new("a");
    let ids = |query: TraceQuery| -> Vec<String> {
        store.list(viewer(&a), &query).into_iter().map(|t| t.trace_id).collect()
    };

    assert_eq!(
        ids(TraceQuery { status: TraceStatus::Error, ..TraceQuery::default() }),
        [slow_error.trace.trace_id_hex()]
    );
    assert_eq!(
        ids(TraceQuery { status: TraceStatus::ClientError, ..TraceQuery::default() }),
        [teapot.trace.trace_id_hex()]
    );
    assert_eq!(ids(TraceQuery { status: TraceStatus::Ok, ..TraceQuery::default() }).len(), 2);
    assert_eq!(
        ids(TraceQuery { min_ms: Some(500), ..TraceQuery::default() }),
        [slow_error.trace.trace_id_hex()]
    );
    assert_eq!(
        ids(TraceQuery { service: Some(ServiceId::new("svc-2")), ..TraceQuery::default() }),
        [other.trace.trace_id_hex()]
    );
    assert_eq!(ids(TraceQuery { limit: Some(1), ..TraceQuery::default() }).len(), 1);
    assert!(store.list(viewer(&a), &TraceQuery::default()).iter().all(|t| t.path == "/a"));
}

#[test]
fn the_timeline_shows_the_route_the_host_and_the_upstream_within_the_call() {
    let store = TraceStore::default();
    let (entry, middle, host) = (node(), node(), node());
    let ms = Duration::from_millis;
    let mut call = Call::new("a", "a");
    call.duration = ms(100);
    call.route = vec![entry, middle, host];
    let failed = AttemptRecord {
        node: middle,
        span: [1; 8],
        offset: ms(5),
        duration: ms(10),
        error: Some("mesh_dropped: no_route".into()),
        route: Vec::new(),
        hops: Vec::new(),
        host: None,
    };
    let answered = AttemptRecord {
        node: host,
        span: [1; 8],
        offset: ms(20),
        duration: ms(70),
        error: None,
        route: call.route.clone(),
        hops: Vec::new(),
        host: Some(HostTimes { held: ms(50), upstream: Some((ms(5), ms(40), 200)) }),
    };
    call.attempts = vec![failed, answered];
    call.record(&store);

    let view = store.get(viewer(&AccountId::new("a")), &call.trace.trace_id_hex()).unwrap();

    let kinds: Vec<SpanKind> = view.spans.iter().map(|s| s.kind).collect();
    use SpanKind::*;
    assert_eq!(kinds, [Gateway, Attempt, Attempt, Hop, Hop, Host, Upstream, Reply]);
    let hops: Vec<_> = view.spans.iter().filter(|s| s.kind == Hop).map(|s| s.node.clone().unwrap()).collect();
    assert_eq!(hops, [node_id(&middle), node_id(&host)]);
    assert_eq!(view.spans[1].error.as_deref(), Some("mesh_dropped: no_route"));
    let host_span = &view.spans[5];
    // The way there and back took 20 ms in all: 10 ms each, 5 ms per link.
    assert_eq!((host_span.start_ms, host_span.duration_ms), (30.0, 50.0));
    assert_eq!((view.spans[6].start_ms, view.spans[6].duration_ms), (35.0, 40.0));
    assert_eq!((view.spans[7].start_ms, view.spans[7].duration_ms), (80.0, 10.0));
    for pair in view.spans.windows(2) {
        assert!(pair[0].start_ms <= pair[1].start_ms);
    }
    assert!(view.spans.iter().all(|s| s.start_ms + s.duration_ms <= 100.0));
}

#[test]
fn hop_stamps_place_the_hops_when_the_mesh_gave_them() {
    let store = TraceStore::default();
    let (entry, host) = (node(), node());
    let ms = Duration::from_millis;
    let mut call = Call::new("a", "a");
    call.route = vec![entry, host];
    call.attempts = vec![AttemptRecord {
        node: host,
        span: [1; 8],
        offset: ms(1),
        duration: ms(9),
        error: None,
        route: call.route.clone(),
        hops: vec![(entry, ms(1)), (host, ms(3))],
        host: Some(HostTimes { held: ms(4), upstream: Some((ms(1), ms(2), 201)) }),
    }];
    call.record(&store);

    let view = store.get(viewer(&AccountId::new("a")), &call.trace.trace_id_hex()).unwrap();

    let hop = view.spans.iter().find(|s| s.kind == SpanKind::Hop).unwrap();
    assert_eq!((hop.start_ms, hop.duration_ms), (1.0, 2.0));
    let host_span = view.spans.iter().find(|s| s.kind == SpanKind::Host).unwrap();
    assert_eq!(host_span.start_ms, 3.0);
    assert_eq!(view.spans.iter().find(|s| s.kind == SpanKind::Upstream).unwrap().name, "upstream 201");
}

#[test]
fn the_mesh_stamps_are_placed_by_their_distance_from_the_answers_arrival() {
    use crate::mesh::node::{Answer, HopStamp, Receipt};
    let (entry, host) = (node(), node());
    let answer = Answer {
        receipt: Receipt { id: [0; 16], route: vec![entry, host] },
        payload: bytes::Bytes::new(),
        hops: vec![HopStamp { node: entry, at_us: 1_000_000 }, HopStamp { node: host, at_us: 1_000_400 }],
        reply_hops: vec![HopStamp { node: host, at_us: 1_000_900 }],
        received_at_us: 1_001_000,
    };
    let mut attempt = AttemptRecord::new(host, [7; 8], Duration::from_micros(50));

    // The answer arrived 1 050 µs after the call began: the request left 1 000 µs before that.
    attempt.stamped(&answer, Duration::from_micros(1_050));

    assert_eq!(attempt.route, [entry, host]);
    assert_eq!(attempt.hops, [(entry, Duration::from_micros(50)), (host, Duration::from_micros(450))]);
    let held = Duration::from_micros(500);
    assert_eq!(attempt.host, Some(HostTimes { held, upstream: None }), "the host's own stamps");
    attempt.answered(200, 450, 10, 400);
    let upstream = Some((Duration::from_micros(10), Duration::from_micros(400), 200));
    assert_eq!(attempt.host, Some(HostTimes { held: Duration::from_micros(450), upstream }));
}

#[test]
fn a_host_that_failed_shows_its_error_and_no_upstream() {
    let store = TraceStore::default();
    let (entry, host) = (node(), node());
    let ms = Duration::from_millis;
    let mut call = Call::new("a", "a");
    (call.status, call.error_code, call.duration) = (504, Some("upstream_timeout"), ms(30));
    call.attempts = vec![AttemptRecord {
        node: host,
        span: [1; 8],
        offset: ms(1),
        duration: ms(28),
        error: Some("upstream_timeout".into()),
        route: vec![entry, host],
        hops: vec![(entry, ms(1)), (host, ms(2))],
        host: Some(HostTimes { held: ms(25), upstream: None }),
    }];
    call.record(&store);

    let view = store.get(viewer(&AccountId::new("a")), &call.trace.trace_id_hex()).unwrap();

    let host_span = view.spans.iter().find(|s| s.kind == SpanKind::Host).unwrap();
    assert_eq!(host_span.error.as_deref(), Some("upstream_timeout"));
    assert!(view.spans.iter().all(|s| s.kind != SpanKind::Upstream));
    assert_eq!(view.spans[0].error.as_deref(), Some("upstream_timeout"), "the gateway's");
}
