//! The operator's pages: mesh nodes with the topology picture, one node's detail (trust
//! history, drops by reason, links and routes, actions), and join tokens.
use crate::{
    api::{ActOnNode, CreateJoinTokenFn, RevokeJoinTokenFn, get_node, get_topology, list_join_tokens},
    error::PortalError,
    types::{
        ids::NodeId,
        nodes::{CreatedJoinToken, JoinTokenView, NodeDetail, NodeStatus, NodeView, TopologyView},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::use_params_map,
};

/// What a failed operator page shows: visitors go to log in; developers are told why not.
fn failure(error: PortalError) -> AnyView {
    match error {
        PortalError::Unauthenticated => view! { <Redirect path="/login" /> }.into_any(),
        PortalError::Forbidden => view! {
            <section class="empty">
                <p class="code">"403"</p>
                <h1>"Operators only"</h1>
                <p>"Nodes, join tokens and the mesh topology are managed by the platform's operator."</p>
                <A href="/dashboard" attr:class="button">"Back to your dashboard"</A>
            </section>
        }
        .into_any(),
        other => view! { <div class="banner error" role="alert">{other.to_string()}</div> }.into_any(),
    }
}

fn trust_class(trust: &str) -> &'static str {
    match trust {
        "trusted" => "trust-trusted",
        "probing" => "trust-probing",
        "blocked" => "trust-blocked",
        _ => "trust-unknown",
    }
}

fn ago(secs: Option<u64>) -> String {
    match secs {
        None => "never".into(),
        Some(s) if s < 60 => format!("{s}s ago"),
        Some(s) if s < 3600 => format!("{}m ago", s / 60),
        Some(s) => format!("{}h ago", s / 3600),
    }
}

fn short(id: &str) -> String {
    if id.len() > 14 { format!("…{}", &id[id.len() - 8..]) } else { id.to_owned() }
}

/// `/nodes`
#[component]
pub fn NodesPage() -> impl IntoView {
    let topology = Resource::new(|| (), |_| get_topology());
    view! {
        <Title text="Nodes" />
        <header class="page-header split">
            <div>
                <h1>"Mesh nodes"</h1>
                <p class="muted">"Every node, its liveness and trust, and the links between them."</p>
            </div>
            <div class="actions">
                <a href="/nodes" class="button">"Refresh"</a>
                <A href="/observability/drops" attr:class="button">"Mesh drops"</A>
                <A href="/join-tokens" attr:class="button primary">"Add a node"</A>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading the mesh…"</p> }>
            {move || Suspend::new(async move {
                match topology.await {
                    Ok(topology) => view! { <Nodes topology /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Nodes(topology: TopologyView) -> impl IntoView {
    let empty = topology.nodes.is_empty();
    let rows = topology.nodes.clone();
    view! {
        <article class="card">
            <h2>"Topology"</h2>
            <TopologyPicture topology />
        </article>
        <article class="card">
            <h2>"Nodes"</h2>
            <Show when=move || !empty fallback=|| view! {
                <p class="empty-state">"No nodes yet."</p>
                <p class="muted">"Start the platform with --nodes 3 (the default) or mint a join token to add a hosted node."</p>
            }>
                <div class="table-scroll">
                <table class="table" data-testid="nodes-table">
                    <thead>
                        <tr>
                            <th>"Name"</th><th>"Kind"</th><th>"State"</th><th>"Trust"</th><th>"Status"</th>
                            <th>"Last heartbeat"</th><th>"Address"</th><th>"Labels"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.clone().into_iter().map(|n| view! { <NodeRow node=n /> }).collect_view()}
                    </tbody>
                </table>
                </div>
            </Show>
        </article>
    }
}

#[component]
fn NodeRow(node: NodeView) -> impl IntoView {
    let labels = node.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    view! {
        <tr>
            <td><A href=format!("/nodes/{}", node.id)>{node.name.clone()}</A><br /><code class="muted small">{short(node.id.as_str())}</code></td>
            <td>{node.kind.as_str()}</td>
            <td><span class=format!("badge state-{}", node.state.as_str())>{node.state.as_str()}</span></td>
            <td><span class=format!("badge {}", trust_class(&node.trust))>{node.trust.clone()}</span></td>
            <td>{node.status.as_str()}</td>
            <td>{ago(node.last_heartbeat_secs_ago)}</td>
            <td><code class="small">{node.address.clone()}</code></td>
            <td>{labels}</td>
        </tr>
    }
}

/// An SVG of the mesh: nodes on a circle, coloured by trust, outlined by liveness; a line per
/// live link.
#[component]
fn TopologyPicture(topology: TopologyView) -> impl IntoView {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    let n = topology.nodes.len().max(1) as f64;
    let radius = if topology.nodes.len() <= 1 { 0.0 } else { 130.0 };
    let positions: Vec<(NodeId, f64, f64)> = topology
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let angle = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
            (node.id.clone(), W / 2.0 + radius * angle.cos(), H / 2.0 + radius * angle.sin())
        })
        .collect();
    let at = |id: &NodeId| positions.iter().find(|(p, _, _)| p == id).map(|(_, x, y)| (*x, *y));
    let links = topology
        .links
        .iter()
        .filter_map(|(a, b)| Some((at(a)?, at(b)?)))
        .map(|((x1, y1), (x2, y2))| view! { <line x1=x1 y1=y1 x2=x2 y2=y2 class="link" /> })
        .collect_view();
    let nodes = topology
        .nodes
        .iter()
        .zip(&positions)
        .map(|(node, (_, x, y))| {
            let class = format!("node {} state-{}", trust_class(&node.trust), node.state.as_str());
            let title =
                format!("{} — {}, {}, {}", node.name, node.state.as_str(), node.trust, node.status.as_str());
            view! {
                <g class=class data-node=node.name.clone()>
                    <title>{title}</title>
                    <circle cx=*x cy=*y r="20" />
                    <text x=*x y=y + 38.0 text-anchor="middle">{node.name.clone()}</text>
                </g>
            }
        })
        .collect_view();
    let summary = format!("{} nodes, {} live links", topology.nodes.len(), topology.links.len());
    view! {
        <svg class="topology" viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary.clone() data-testid="topology">
            <g>{links}</g>
            <g>{nodes}</g>
        </svg>
        <p class="legend muted">
            {summary} " · fill: "
            <span class="dot trust-trusted"></span>"trusted "
            <span class="dot trust-probing"></span>"probing "
            <span class="dot trust-unknown"></span>"unknown "
            <span class="dot trust-blocked"></span>"blocked · a dashed outline is degraded or offline"
        </p>
    }
}

/// `/nodes/:id`
#[component]
pub fn NodeDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || NodeId::new(params.read().get("id").unwrap_or_default());
    let act = ServerAction::<ActOnNode>::new();
    let detail = Resource::new(move || (id(), act.version().get()), |(id, _)| get_node(id));
    view! {
        <Title text="Node" />
        <p><A href="/nodes">"← All nodes"</A></p>
        {move || act.value().get().and_then(Result::err).map(|e| view! { <div class="banner error" role="alert">{e.to_string()}</div> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading the node…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <NodeDetailView detail act /> }.into_any(),
                    Err(PortalError::NotFound(_)) => view! {
                        <section class="empty"><h1>"No such node"</h1><p>"It may have been removed."</p></section>
                    }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NodeDetailView(detail: NodeDetail, act: ServerAction<ActOnNode>) -> impl IntoView {
    let node = detail.node;
    let id = node.id.clone();
    let pending = act.pending();
    let button = move |action: &'static str, label: &'static str, class: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=act attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=action />
                <button type="submit" class=format!("button small {class}") disabled=pending>{label}</button>
            </ActionForm>
        }
    };
    let status = node.status;
    let drops = node.stats.drops.clone();
    let peers = node.stats.peers.clone();
    let routes = node.stats.routes.clone();
    let remove_id = node.id.clone();
    view! {
        <header class="page-header split">
            <div>
                <h1>{node.name.clone()}</h1>
                <p class="muted"><code>{node.id.clone()}</code></p>
            </div>
            <div class="actions">
                <A href=format!("/nodes/{}/metrics", node.id) attr:class="button" attr:data-testid="node-metrics-link">"Metrics"</A>
            </div>
        </header>
        <div class="grid">
            <article class="card">
                <h2>"Node"</h2>
                <dl class="facts">
                    <dt>"State"</dt><dd><span class=format!("badge state-{}", node.state.as_str())>{node.state.as_str()}</span></dd>
                    <dt>"Trust"</dt><dd><span class=format!("badge {}", trust_class(&node.trust)) data-testid="node-trust">{node.trust.clone()}</span></dd>
                    <dt>"Status"</dt><dd data-testid="node-status">{node.status.as_str()}</dd>
                    <dt>"Kind"</dt><dd>{node.kind.as_str()}</dd>
                    <dt>"Address"</dt><dd><code>{node.address.clone()}</code></dd>
                    <dt>"Last heartbeat"</dt><dd>{ago(node.last_heartbeat_secs_ago)}</dd>
                    <dt>"Version"</dt><dd>{node.version.clone()}</dd>
                    <dt>"Envelopes"</dt>
                    <dd>{format!("{} sent, {} delivered here, {} forwarded", node.stats.originated, node.stats.delivered, node.stats.forwarded)}</dd>
                </dl>
            </article>
            <article class="card">
                <h2>"Actions"</h2>
                <div class="actions">
                    {match status {
                        NodeStatus::Active => button("drain", "Drain", "").into_any(),
                        NodeStatus::Draining => button("undrain", "Stop draining", "").into_any(),
                        NodeStatus::Blocked => ().into_any(),
                    }}
                    {if status == NodeStatus::Blocked { button("unblock", "Unblock", "") } else { button("block", "Block", "danger") }}
                </div>
                <ActionForm action=act attr:class="remove-form">
                    <input type="hidden" name="id" value=remove_id />
                    <input type="hidden" name="action" value="remove" />
                    <label class="check"><input type="checkbox" required /> " Remove this node from the mesh (it can rejoin only with a new token)"</label>
                    <button type="submit" class="button small danger" disabled=pending>"Remove"</button>
                </ActionForm>
                <p class="muted small">"Draining keeps traffic flowing but new service placements avoid the node. Blocking disconnects it from every node within a second."</p>
            </article>
        </div>
        <div class="grid">
            <article class="card">
                <h2>"Trust history"</h2>
                <table class="table" data-testid="trust-history">
                    <thead><tr><th>"When"</th><th>"From"</th><th>"To"</th><th>"Reason"</th></tr></thead>
                    <tbody>
                        {detail.trust_history.into_iter().map(|e| view! {
                            <tr>
                                <td>{e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                <td>{e.from}</td><td>{e.to}</td><td>{e.reason.replace('_', " ")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </article>
            <article class="card">
                <h2>"Dropped envelopes"</h2>
                <table class="table" data-testid="drops">
                    <thead><tr><th>"Reason"</th><th class="num">"Count"</th></tr></thead>
                    <tbody>
                        {drops.into_iter().map(|(reason, count)| view! {
                            <tr class:zero=count == 0><td>{reason.replace('_', " ")}</td><td class="num">{count}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </article>
        </div>
        <div class="grid">
            <article class="card">
                <h2>"Peers"</h2>
                <table class="table">
                    <thead><tr><th>"Peer"</th><th>"Link"</th><th>"Trust"</th><th class="num">"RTT"</th></tr></thead>
                    <tbody>
                        {peers.into_iter().map(|p| view! {
                            <tr>
                                <td><A href=format!("/nodes/{}", p.id)><code>{short(p.id.as_str())}</code></A></td>
                                <td>{if p.connected { "up" } else { "down" }}</td>
                                <td>{p.trust}</td>
                                <td class="num">{p.rtt_ms.map(|r| if r == 0 { "<1 ms".to_string() } else { format!("{r} ms") }).unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </article>
            <article class="card">
                <h2>"Routes"</h2>
                <table class="table">
                    <thead><tr><th>"To"</th><th>"Via"</th><th class="num">"Hops"</th></tr></thead>
                    <tbody>
                        {routes.into_iter().map(|r| view! {
                            <tr>
                                <td><code>{short(&r.destination)}</code></td>
                                <td><code>{short(&r.next_hop)}</code></td>
                                <td class="num">{r.hops.map(|h| h.to_string()).unwrap_or_else(|| "withdrawn".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </article>
        </div>
    }
}

/// `/join-tokens`
#[component]
pub fn JoinTokensPage() -> impl IntoView {
    let mint = ServerAction::<CreateJoinTokenFn>::new();
    let revoke = ServerAction::<RevokeJoinTokenFn>::new();
    let page = Resource::new(move || (mint.version().get(), revoke.version().get()), |_| list_join_tokens());
    let minted = move || mint.value().get().and_then(Result::ok);
    let mint_error = move || mint.value().get().and_then(Result::err).map(|e| e.to_string());
    let mint_pending = mint.pending();
    view! {
        <Title text="Join tokens" />
        <header class="page-header">
            <h1>"Join tokens"</h1>
            <p class="muted">"A hosted node joins the mesh with a token: it proves its key by signing a challenge, and the token says it may."</p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => failure(error),
                    Ok(page) => {
                        let control_plane = page.control_plane.clone();
                        let shown = minted().or(page.just_created.clone());
                        view! {
                            {shown.map(|created| view! { <SecretOnce created control_plane=control_plane.clone() /> })}
                            <article class="card">
                                <h2>"Create a token"</h2>
                                <ActionForm action=mint attr:class="stack">
                                    {mint_error().map(|m| view! { <div class="banner error" role="alert">{m}</div> })}
                                    <label for="note">"Note"</label>
                                    <input id="note" name="note" type="text" placeholder="e.g. rack 4, eu-west" maxlength="200" />
                                    <label for="expires">"Expires in (hours)"</label>
                                    <input id="expires" name="expires_in_hours" type="text" inputmode="numeric" placeholder="empty: never" />
                                    <label class="check"><input type="checkbox" name="reusable" value="on" /> " Reusable (otherwise it admits one node)"</label>
                                    <button type="submit" class="button primary" disabled=mint_pending>
                                        {move || if mint_pending.get() { "Creating…" } else { "Create token" }}
                                    </button>
                                </ActionForm>
                            </article>
                            <article class="card">
                                <h2>"Tokens"</h2>
                                <TokenTable tokens=page.tokens revoke />
                            </article>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn SecretOnce(created: CreatedJoinToken, control_plane: String) -> impl IntoView {
    let command = format!("server node --control-plane {control_plane} --token {}", created.secret);
    view! {
        <article class="card secret-once" role="status">
            <h2>"Token created — copy it now"</h2>
            <p>"This is the only time the secret is shown; only its hash is stored."</p>
            <code class="secret" data-testid="join-token-secret">{created.secret.clone()}</code>
            <p>"Start a node on another machine with:"</p>
            <pre class="secret">{command}</pre>
        </article>
    }
}

#[component]
fn TokenTable(tokens: Vec<JoinTokenView>, revoke: ServerAction<RevokeJoinTokenFn>) -> impl IntoView {
    let pending = revoke.pending();
    if tokens.is_empty() {
        return view! { <p class="empty-state">"No tokens yet. Create one above to add a hosted node."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll">
        <table class="table" data-testid="tokens-table">
            <thead>
                <tr><th>"Token"</th><th>"Note"</th><th>"Kind"</th><th>"State"</th><th class="num">"Uses"</th><th>"Expires"</th><th></th></tr>
            </thead>
            <tbody>
                {tokens.into_iter().map(|t| {
                    let active = t.state == "active";
                    let id = t.id.clone();
                    view! {
                        <tr>
                            <td><code>{format!("{}…", t.prefix)}</code></td>
                            <td>{t.note.clone()}</td>
                            <td>{if t.reusable { "reusable" } else { "one-time" }}</td>
                            <td><span class=format!("badge token-{}", t.state)>{t.state.clone()}</span></td>
                            <td class="num">{t.uses}</td>
                            <td>{t.expires_at.map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "never".into())}</td>
                            <td>
                                {active.then(|| view! {
                                    // No confirmation tick: revoking only stops future joins (mint
                                    // another to undo it); blocking the nodes is the opt-in.
                                    <ActionForm action=revoke attr:class="revoke-form">
                                        <input type="hidden" name="id" value=id />
                                        <label class="check small"><input type="checkbox" name="block_nodes" value="on" /> " Also block the nodes that joined with it"</label>
                                        <button type="submit" class="button small danger" disabled=pending>"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}
