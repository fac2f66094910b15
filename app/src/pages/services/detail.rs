//! `/services/:id`: one service's page: how to call it, its settings, placements and their
//! health, its proxy secret, and (from the other modules) "try it", edit and delete.
use super::{
    HealthBadge, StatusBadges,
    edit::{DangerZone, EditService},
    failure, human_bytes, short,
    try_it::TryIt,
};
use crate::{
    AuthContext,
    api::{DeleteService, InvokeService, RotateProxySecret, SetServiceActive, UpdateService, get_service},
    pages::common::{configured_invoke_origin, invoke_origin},
    types::{
        Role,
        billing::Currency,
        ids::ServiceId,
        services::{PlacementView, ServiceStatus, ServiceView},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};

/// How often the open service page reads the service's health again.
const HEALTH_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The health shown: the latest poll's answer when it is about this service, else the page's.
fn current<T>(
    live: &Option<ServiceView>,
    service: &ServiceId,
    pick: impl Fn(&ServiceView) -> T,
) -> Option<T> {
    live.as_ref().filter(|l| &l.id == service).map(pick)
}

/// The actions of the service page. Created once by the page (not inside its Suspense, which
/// re-renders), so an error that came back in the URL of a plain form post reaches them.
#[derive(Clone, Copy)]
struct ServiceActions {
    update: ServerAction<UpdateService>,
    toggle: ServerAction<SetServiceActive>,
    delete: ServerAction<DeleteService>,
    invoke: ServerAction<InvokeService>,
    rotate: ServerAction<RotateProxySecret>,
}

impl ServiceActions {
    fn new() -> Self {
        Self {
            update: ServerAction::new(),
            toggle: ServerAction::new(),
            delete: ServerAction::new(),
            invoke: ServerAction::new(),
            rotate: ServerAction::new(),
        }
    }
}

/// `/services/:id`
#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || ServiceId::new(params.read().get("id").unwrap_or_default());
    let actions = ServiceActions::new();
    let ServiceActions { update, toggle, delete, .. } = actions;

    // Reload the service only after a change went through: reloading re-renders the edit form,
    // and a failed edit must keep what was typed. A change also clears the other actions'
    // outcomes, which now describe an older state.
    let reload = RwSignal::new(0u32);
    Effect::new(move || {
        if matches!(update.value().get(), Some(Ok(_))) {
            toggle.value().set(None);
            delete.value().set(None);
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move || {
        if matches!(toggle.value().get(), Some(Ok(_))) {
            update.value().set(None);
            delete.value().set(None);
            reload.update(|n| *n += 1);
        }
    });
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/services", Default::default());
        }
    });

    let service = Resource::new(move || (id(), reload.get()), |(id, _)| get_service(id));
    // Health changes without a reload: while the page is open, the hydrated app reads the
    // service again every few seconds and the health badges and placements follow. Kept apart
    // from `service` so the forms (and what is typed in them) are not re-rendered.
    let live = RwSignal::new(None::<ServiceView>);
    Effect::new(move || {
        // A reload (or another service) starts from its own fresh answer.
        reload.track();
        params.track();
        live.set(None);
    });
    Effect::new(move || {
        let busy = StoredValue::new(false);
        let poll = move || {
            if busy.get_value() {
                return;
            }
            busy.set_value(true);
            let id = ServiceId::new(params.with_untracked(|p| p.get("id").unwrap_or_default()));
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = get_service(id).await {
                    live.set(Some(fresh));
                }
                busy.set_value(false);
            });
        };
        let interval = set_interval_with_handle(poll, HEALTH_REFRESH).ok();
        on_cleanup(move || {
            if let Some(interval) = interval {
                interval.clear();
            }
        });
    });
    view! {
        <Title text="Service" />
        <p><A href="/services">"← All services"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the service…"</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Ok(service) => view! { <ServiceDetail service actions live /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// The service page's content: header with status and activate/deactivate, then its cards.
#[component]
fn ServiceDetail(
    service: ServiceView,
    actions: ServiceActions,
    /// The service as the last health poll read it (see [`ServiceDetailPage`]).
    #[prop(optional)]
    live: Option<RwSignal<Option<ServiceView>>>,
) -> impl IntoView {
    let live = live.unwrap_or_else(|| RwSignal::new(None));
    let operator = expect_context::<AuthContext>()
        .account
        .with_untracked(|a| a.as_ref().is_some_and(|a| a.role == Role::Operator));
    let status = service.status;
    let active = status == ServiceStatus::Active;
    let toggle = actions.toggle;
    let toggle_error = move || toggle.value().get().and_then(Result::err).map(|e| e.to_string());
    let toggle_pending = toggle.pending();
    let tags = service.tags.clone();
    let description = service.description.clone();
    let id = service.id.clone();
    let (initial_health, initial_available) = (service.health, service.available);
    // Memos: the badges and the table re-render (and are announced) only when they change.
    let state = {
        let id = id.clone();
        Memo::new(move |_| {
            live.with(|l| current(l, &id, |s| (s.health, s.available)))
                .unwrap_or((initial_health, initial_available))
        })
    };
    let badges = {
        move || {
            let (health, available) = state.get();
            view! {
                <StatusBadges status available />
                <span data-testid="service-health"><HealthBadge health /></span>
            }
        }
    };
    let placements = {
        let id = id.clone();
        let initial = service.placements.clone();
        let shown = Memo::new(move |_| {
            live.with(|l| current(l, &id, |s| s.placements.clone())).unwrap_or_else(|| initial.clone())
        });
        move || view! { <Placements placements=shown.get() operator /> }
    };
    view! {
        <Title text=service.name.clone() />
        <header class="page-header split">
            <div>
                <h1>{service.name.clone()}</h1>
                <p class="muted">
                    <code>{service.slug.clone()}</code>
                    {format!(" · {} · version {}", service.kind.as_str(), service.version)}
                </p>
                <p class="badges" aria-live="polite">
                    {badges}
                    {tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}
                </p>
            </div>
            <div class="actions">
                <A href=format!("/services/{id}/metrics") attr:class="button" attr:data-testid="service-metrics-link">"Metrics"</A>
                <A href=format!("/traces?service={id}") attr:class="button">"Traces"</A>
                <ActionForm action=toggle attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="active" value=if active { "false" } else { "true" } />
                    <button type="submit" class="button" disabled=toggle_pending>
                        {if active { "Deactivate" } else { "Activate" }}
                    </button>
                </ActionForm>
            </div>
        </header>
        {move || toggle_error().map(|m| view! {
            <div class="banner error" role="alert" data-testid="status-error">{m}</div>
        })}
        {(!description.is_empty()).then(|| view! { <p class="description">{description}</p> })}
        {(!active).then(|| view! {
            <p class="banner note">
                "Inactive: the service is not placed on any node and calls answer 503. "
                "Activate it to place it again."
            </p>
        })}
        <div class="grid">
            <Invoke service=service.clone() />
            <Settings service=service.clone() />
        </div>
        {(service.kind == crate::types::services::ServiceKind::Kv).then(|| view! {
            <article class="card" data-testid="kv-bucket-link">
                <h2>"Its bucket"</h2>
                <p class="muted">
                    "A kv service serves your bucket named like its slug; calls read and write "
                    "its keys through the mesh."
                </p>
                <A href=format!("/kv/{}", service.slug) attr:class="button">"Browse its keys"</A>
            </article>
        })}
        <article class="card">
            <h2>"Placements"</h2>
            {placements}
        </article>
        {service.http.is_some().then(|| view! { <ProxySecret service=service.clone() rotate=actions.rotate /> })}
        <TryIt service=service.clone() invoke=actions.invoke />
        <EditService service=service.clone() update=actions.update />
        <DangerZone service delete=actions.delete />
    }
}

/// The proxy secret: what it is for, and a rotation that shows the new one once.
#[component]
fn ProxySecret(service: ServiceView, rotate: ServerAction<RotateProxySecret>) -> impl IntoView {
    let pending = rotate.pending();
    // Shown once: from this page's rotation, or (after a plain form post) from the reload.
    let flashed = service.proxy_secret.clone();
    let shown = move || match rotate.value().get() {
        Some(Ok(rotated)) => Some(Ok(rotated.proxy_secret)),
        Some(Err(error)) => Some(Err(error.to_string())),
        None => flashed.clone().map(Ok),
    };
    view! {
        <article class="card" data-testid="proxy-secret">
            <h2>"Proxy secret"</h2>
            <p class="muted">
                "Every call and health check the platform sends to your upstream carries the header "
                <code>"x-web4-proxy-secret"</code>
                ". Check it in your upstream to refuse calls that did not come through the platform. "
                "The secret is shown once; rotating replaces it at once (the old one stops being sent)."
            </p>
            {move || shown().map(|shown| match shown {
                Ok(secret) => view! {
                    <div class="banner ok" role="status">
                        <label for="proxy-secret-value">
                            <strong>"Your new proxy secret — copy it now, it is not shown again:"</strong>
                        </label>
                        <div class="secret-row">
                            <input
                                id="proxy-secret-value"
                                class="secret"
                                type="text"
                                readonly
                                value=secret
                                spellcheck="false"
                                autocomplete="off"
                                data-testid="proxy-secret-value"
                            />
                        </div>
                    </div>
                }.into_any(),
                Err(message) => view! { <div class="banner error" role="alert">{message}</div> }.into_any(),
            })}
            <ActionForm action=rotate attr:class="inline">
                <input type="hidden" name="id" value=service.id.clone() />
                <button type="submit" class="button" disabled=pending>
                    {move || if pending.get() { "Rotating…" } else { "Rotate and show the secret" }}
                </button>
            </ActionForm>
        </article>
    }
}

/// "Call it": the invoke path, and a curl example against this portal's origin.
#[component]
fn Invoke(service: ServiceView) -> impl IntoView {
    let method = service
        .http
        .as_ref()
        .and_then(|h| h.allowed_methods.first().cloned())
        .unwrap_or_else(|| "GET".into());
    let curl = format!(
        "curl -X {method} -H \"Authorization: Bearer $WEB4_KEY\" {}{}",
        invoke_origin(),
        service.invoke_path
    );
    // On a separate invoke host the path alone would be misleading: show the whole URL.
    let shown = format!("{}{}", configured_invoke_origin().unwrap_or_default(), service.invoke_path);
    view! {
        <article class="card">
            <h2>"Call it"</h2>
            <p class="muted">"Every call goes through the mesh to a healthy placement; append your path after the service. Calls take an API key with the invoke scope (see API keys)."</p>
            <code class="copyable" data-testid="invoke-path">{shown}</code>
            <p class="muted small">"For example:"</p>
            <pre class="copyable" data-testid="invoke-curl">{curl}</pre>
        </article>
    }
}

/// The service's settings as registered, read-only.
#[component]
fn Settings(service: ServiceView) -> impl IntoView {
    let http = service.http.clone().map(|h| {
        let methods =
            if h.allowed_methods.is_empty() { "every method".into() } else { h.allowed_methods.join(", ") };
        view! {
            <dt>"Upstream URL"</dt><dd><code>{h.upstream_url}</code></dd>
            <dt>"Methods"</dt><dd>{methods}</dd>
            <dt>"Timeout"</dt><dd>{format!("{} ms", h.timeout_ms)}</dd>
            <dt>"Max body"</dt><dd>{human_bytes(h.max_body_bytes)}</dd>
        }
    });
    let check = service.health_check.clone().map(|c| {
        view! {
            <dt>"Health check"</dt>
            <dd>{format!("GET {} every {} ms, timeout {} ms", c.path, c.interval_ms, c.timeout_ms)}</dd>
        }
    });
    let policy = &service.policy;
    let policy = format!(
        "{} {}; a placement's breaker opens after {} failures for {} ms",
        policy.retries,
        if policy.retries == 1 { "retry" } else { "retries" },
        policy.breaker_failures,
        policy.breaker_cooldown_ms
    );
    view! {
        <article class="card">
            <h2>"Settings"</h2>
            <dl class="facts">
                {http}
                {check}
                <dt>"Replicas"</dt><dd>{service.replicas}</dd>
                <dt>"Price"</dt><dd>{service.pricing.describe(&Currency::usd())}</dd>
                <dt>"Policy"</dt><dd>{policy}</dd>
                <dt>"Registered"</dt><dd>{service.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                <dt>"Id"</dt><dd><code>{service.id.clone()}</code></dd>
            </dl>
        </article>
    }
}

/// The nodes the service is placed on and their health; node links for the operator only.
#[component]
fn Placements(placements: Vec<PlacementView>, operator: bool) -> impl IntoView {
    if placements.is_empty() {
        return view! {
            <p class="muted" data-testid="placements">"Not placed on any node (inactive, or waiting for a node that can take it)."</p>
        }
        .into_any();
    }
    view! {
        <table class="table" data-testid="placements">
            <thead>
                <tr><th>"Node"</th><th>"Node state"</th><th>"Health"</th><th>"Last check"</th><th>"Checked"</th></tr>
            </thead>
            <tbody>
                {placements.into_iter().map(|p| {
                    let name = if p.node_name.is_empty() { short(p.node_id.as_str()) } else { p.node_name.clone() };
                    // Node pages are the operator's; a developer sees the name only.
                    let node = if operator {
                        view! { <A href=format!("/nodes/{}", p.node_id)>{name}</A> }.into_any()
                    } else {
                        name.into_any()
                    };
                    let checked = p
                        .checked_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                        .unwrap_or_else(|| "not yet".into());
                    view! {
                        <tr>
                            <td>{node}</td>
                            <td><span class=format!("badge state-{}", p.node_state)>{p.node_state.clone()}</span></td>
                            <td><HealthBadge health=p.health /></td>
                            <td>{p.output.clone()}</td>
                            <td>{checked}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::pages::services::fixtures::{render_page, sample_service};

    #[test]
    fn service_page_shows_placements_invoke_path_and_actions() {
        let html = render_page(|| {
            let actions = ServiceActions::new();
            view! { <ServiceDetail service=sample_service() actions /> }
        });
        for expected in [
            "data-testid=\"placements\"",
            "data-testid=\"try-it\"",
            "<span class=\"badge health-passing\">passing</span>",
            "<span class=\"badge health-critical\">critical</span>",
            "/api/v1/invoke/svc_1/",
            "curl -X GET ",
            "name=\"active\" value=\"false\"",
            "Deactivate",
            "I understand this deletes ",
            "<option value=\"POST\">POST</option>",
            "1 MiB",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        // A developer sees node names, not links to the operator's node pages.
        assert!(!html.contains("href=\"/nodes/"));
    }
}
