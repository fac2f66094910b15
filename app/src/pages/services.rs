//! The developer's services: the list, the registration form, and one service's page (how to
//! call it, its placements and their health, "try it", edit, activate/deactivate, delete).
//!
//! Every form that changes something is an `ActionForm`, so it works as a plain form post
//! before hydration too: the server answers with a redirect and a failure comes back in the
//! URL, where the page's `ServerAction` picks it up. "Try it" is the exception: its answer is
//! the whole point and a redirect would lose it, so it only runs in the hydrated app.
use super::common::{self, page_origin};
use crate::{
    AuthContext,
    api::{
        CreateService, DeleteService, InvokeService, RotateProxySecret, SetServiceActive, UpdateService,
        fetch_service, list_services,
    },
    components::ErrorBanner,
    error::PortalError,
    types::{
        Role,
        billing::{Currency, plain_units},
        services::{
            HealthStatus, Page, PlacementView, ServiceFieldErrors, ServiceForm, ServiceStatus, ServiceView,
            TryInvoke, TryInvokeResult,
        },
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::{use_navigate, use_params_map, use_query_map},
};

/// The form's field names (those of [`ServiceForm`]). A message the backend sends for any
/// other name has no input to sit next to, so it goes into the banner above the form.
const FORM_FIELDS: [&str; 20] = [
    "slug",
    "name",
    "description",
    "version",
    "tags",
    "kind",
    "price_per_call",
    "free_calls_per_month",
    "tiers",
    "replicas",
    "upstream_url",
    "allowed_methods",
    "timeout_ms",
    "max_body_bytes",
    "health_path",
    "health_interval_ms",
    "health_timeout_ms",
    "retries",
    "breaker_failures",
    "breaker_cooldown_ms",
];

/// The fields inside the collapsed "Advanced" section: an error in one opens it.
const POLICY_FIELDS: [&str; 3] = ["retries", "breaker_failures", "breaker_cooldown_ms"];

/// Methods offered by "try it" when the service accepts every method.
const ALL_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The slug rule of [`crate::types::services::NewService`], as an HTML `pattern` (a hint only:
/// the server validates again).
const SLUG_PATTERN: &str = "[a-z0-9]([a-z0-9\\-]{0,61}[a-z0-9])?";

/// What a failed page load shows: visitors go to log in, a missing service gets a real 404.
fn failure(error: PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found(
            "No such service",
            "It may have been deleted, or it belongs to another account.",
            "/services",
            "Back to your services",
        )
    })
}

/// `…` and the last 8 characters of a long id.
fn short(id: &str) -> String {
    match id.char_indices().rev().nth(7) {
        Some((at, _)) if id.len() > 14 => format!("…{}", &id[at..]),
        _ => id.to_owned(),
    }
}

/// "1 MiB", "64 KiB", or plain bytes.
fn human_bytes(bytes: u32) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// "2/2 healthy"; "none" for a service not placed anywhere.
fn placements_summary(placements: &[PlacementView]) -> String {
    if placements.is_empty() {
        return "none".into();
    }
    let healthy = placements.iter().filter(|p| p.health.is_healthy()).count();
    format!("{healthy}/{} healthy", placements.len())
}

/// The nodes a call crossed, entry first: names where known, else short ids.
fn route_text(result: &TryInvokeResult) -> String {
    if result.route.is_empty() {
        return "—".into();
    }
    result
        .route
        .iter()
        .enumerate()
        .map(|(i, id)| {
            result.route_names.get(i).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| short(id))
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

#[component]
fn HealthBadge(health: HealthStatus) -> impl IntoView {
    view! { <span class=format!("badge health-{}", health.as_str())>{health.as_str()}</span> }
}

#[component]
fn StatusBadges(status: ServiceStatus, available: bool) -> impl IntoView {
    view! {
        <span class=format!("badge status-{}", status.as_str()) data-testid="service-status">
            {status.as_str()}
        </span>
        {(!available).then(|| view! {
            <span
                class="badge unavailable"
                title="No placement has been healthy for a while: calls fail until one recovers."
            >
                "unavailable"
            </span>
        })}
    }
}

// ---------------------------------------------------------------------------------------------
// /services

/// `/services`: the account's services, newest first, a page at a time.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let services = Resource::new(cursor, list_services);
    view! {
        <Title text="Services" />
        <header class="page-header split">
            <div>
                <h1>"Services"</h1>
                <p class="muted">"Your APIs on the mesh: where they run, whether they are healthy, and how to call them."</p>
            </div>
            <div class="actions">
                <A href="/services/new" attr:class="button primary">"New service"</A>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading your services…"</p> }>
            {move || {
                let paged = cursor().is_some();
                Suspend::new(async move {
                    match services.await {
                        Ok(page) => view! { <ServiceList page paged /> }.into_any(),
                        Err(error) => failure(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn ServiceList(page: Page<ServiceView>, paged: bool) -> impl IntoView {
    if page.items.is_empty() && !paged {
        return view! {
            <article class="card">
                <p class="empty-state">"You have no services yet."</p>
                <p class="muted">
                    "A service is an HTTP API you own (or a key-value bucket) that the platform places on "
                    "mesh nodes, health-checks, and gives one address to call. Calls travel through the "
                    "mesh to a healthy placement, with retries and a circuit breaker in the way of failures."
                </p>
                <A href="/services/new" attr:class="button primary">"Register a service"</A>
            </article>
        }
        .into_any();
    }
    // A page past the last one (a stale cursor) says so instead of showing an empty table.
    let none_left = page.items.is_empty();
    view! {
        <article class="card">
            <table class="table" data-testid="services-table">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Slug"</th><th>"Kind"</th><th>"Version"</th><th>"Health"</th>
                        <th>"Placements"</th><th>"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|s| view! { <ServiceRow service=s /> }).collect_view()}
                </tbody>
            </table>
            <common::Pager base="/services" what="services" paged none_left next_cursor=page.next_cursor />
        </article>
    }
    .into_any()
}

#[component]
fn ServiceRow(service: ServiceView) -> impl IntoView {
    let summary = placements_summary(&service.placements);
    view! {
        <tr>
            <td><A href=format!("/services/{}", service.id)>{service.name.clone()}</A></td>
            <td><code>{service.slug.clone()}</code></td>
            <td>{service.kind.as_str()}</td>
            <td>{service.version.clone()}</td>
            <td><HealthBadge health=service.health /></td>
            <td>{summary}</td>
            <td class="badges"><StatusBadges status=service.status available=service.available /></td>
        </tr>
    }
}

// ---------------------------------------------------------------------------------------------
// /services/new

/// `/services/new`: registers a service, then shows its page.
#[component]
pub fn NewServicePage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let create = ServerAction::<CreateService>::new();
    // After hydration the app navigates; a plain form post gets the server's redirect instead.
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(created)) = create.value().get() {
            navigate(&format!("/services/{}", created.id), Default::default());
        }
    });
    let error =
        Signal::derive(move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())));
    let pending = create.pending();
    view! {
        <Title text="Register a service" />
        <Show
            when=move || auth.account.with(Option::is_some)
            fallback=|| view! { <Redirect path="/login" /> }
        >
            <p><A href="/services">"← All services"</A></p>
            <header class="page-header">
                <h1>"Register a service"</h1>
                <p class="muted">
                    "The platform places it on mesh nodes, checks its health there, and routes calls to a healthy placement. "
                    "Empty fields take the defaults shown."
                </p>
            </header>
            <article class="card">
                <ActionForm action=create attr:class="service-form">
                    <ServiceFields initial=ServiceForm::default() error editing=false />
                    <button type="submit" class="button primary" disabled=pending>
                        {move || if pending.get() { "Registering…" } else { "Register service" }}
                    </button>
                </ActionForm>
            </article>
        </Show>
    }
}

/// One text input of the service form, with its label and its inline message (the server's
/// error for the field, or else a hint).
#[component]
fn Field(
    /// The [`ServiceForm`] field; also the input's id.
    name: &'static str,
    label: &'static str,
    #[prop(into)] value: String,
    errors: Signal<ServiceFieldErrors>,
    /// The default the server applies when the field is left empty.
    #[prop(optional)]
    placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    /// Whole numbers: a numeric keyboard on phones, the server still parses.
    #[prop(optional)]
    numeric: bool,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] pattern: Option<&'static str>,
    #[prop(optional)] maxlength: Option<&'static str>,
    #[prop(default = "text")] input_type: &'static str,
) -> impl IntoView {
    let error = common::field_error(errors, name);
    let help = format!("{name}-help");
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input
                id=name
                name=format!("form[{name}]")
                type=input_type
                value=value
                placeholder=(!placeholder.is_empty()).then_some(placeholder)
                inputmode=numeric.then_some("numeric")
                required=required
                readonly=readonly
                pattern=pattern
                maxlength=maxlength
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=help.clone()
            />
            <p id=help class="help" class:field-error=move || error.get().is_some()>
                {move || error.get().unwrap_or_else(|| hint.to_string())}
            </p>
        </div>
    }
}

/// The fields of the registration and edit forms. `editing` makes the slug and kind read-only
/// (they are fixed once registered, but still sent: the form's type has every field).
#[component]
fn ServiceFields(
    initial: ServiceForm,
    /// The last failure of the action the form posts to.
    #[prop(into)]
    error: Signal<Option<PortalError>>,
    editing: bool,
) -> impl IntoView {
    let (errors, banner) = common::form_errors(error, &FORM_FIELDS);
    let description_error = common::field_error(errors, "description");
    let kind_error = common::field_error(errors, "kind");

    // Without JavaScript every field is shown (the http ones say so); after hydration the
    // http fields hide while `kv` is selected. Hidden inputs are still posted.
    let kind = RwSignal::new(if initial.kind.is_empty() { "http".to_string() } else { initial.kind.clone() });

    // The advanced section opens by itself when one of its fields has an error: at render for
    // an error that came back in the URL, and when a later submission fails.
    let policy_error = move || errors.with(|e| POLICY_FIELDS.iter().any(|field| e.contains_key(*field)));
    let advanced = NodeRef::<leptos::html::Details>::new();
    Effect::new(move || {
        if policy_error()
            && let Some(details) = advanced.get()
        {
            details.set_open(true);
        }
    });
    let advanced_open = errors.with_untracked(|e| POLICY_FIELDS.iter().any(|field| e.contains_key(*field)));

    let slug_hint = if editing {
        "Fixed once registered."
    } else {
        "Lowercase letters, digits and hyphens (1–63), unique among your services. Fixed once registered."
    };
    let i = initial;
    view! {
        <ErrorBanner message=banner />
        <fieldset>
            <legend>"Service"</legend>
            <div class="form-grid">
                <Field
                    name="slug"
                    label="Slug"
                    value=i.slug
                    errors
                    placeholder="weather-api"
                    hint=slug_hint
                    required=!editing
                    readonly=editing
                    pattern=SLUG_PATTERN
                    maxlength="63"
                />
                <Field name="name" label="Name" value=i.name errors placeholder="defaults to the slug" />
                <Field name="version" label="Version" value=i.version errors placeholder="1.0.0" />
                <Field
                    name="tags"
                    label="Tags"
                    value=i.tags
                    errors
                    placeholder="weather, europe"
                    hint="Comma-separated, up to 10."
                />
                <div class="field">
                    <label for="kind">"Kind"</label>
                    {if editing {
                        view! {
                            <input
                                id="kind"
                                name="form[kind]"
                                type="text"
                                value=kind.get_untracked()
                                readonly
                                aria-describedby="kind-help"
                            />
                        }
                        .into_any()
                    } else {
                        let selected = kind.get_untracked();
                        view! {
                            <select
                                id="kind"
                                name="form[kind]"
                                aria-describedby="kind-help"
                                aria-invalid=move || kind_error.get().is_some().to_string()
                                on:change=move |ev| kind.set(event_target_value(&ev))
                            >
                                <option value="http" selected=selected == "http">"http: an upstream API you own"</option>
                                <option value="kv" selected=selected == "kv">"kv: a key-value bucket"</option>
                            </select>
                        }
                        .into_any()
                    }}
                    <p id="kind-help" class="help" class:field-error=move || kind_error.get().is_some()>
                        {move || kind_error.get().unwrap_or_else(|| {
                            if editing { "Fixed once registered.".into() } else { String::new() }
                        })}
                    </p>
                </div>
            </div>
            <div class="field">
                <label for="description">"Description"</label>
                <textarea
                    id="description"
                    name="form[description]"
                    rows="2"
                    aria-invalid=move || description_error.get().is_some().to_string()
                    aria-describedby="description-help"
                >
                    {i.description}
                </textarea>
                <p id="description-help" class="help" class:field-error=move || description_error.get().is_some()>
                    {move || description_error.get()}
                </p>
            </div>
        </fieldset>
        <fieldset class="kind-http" hidden=move || kind.get() == "kv">
            <legend>"HTTP upstream " <span class="muted small">"(http services only)"</span></legend>
            <div class="form-grid">
                <Field
                    name="upstream_url"
                    label="Upstream URL"
                    value=i.upstream_url
                    errors
                    input_type="url"
                    placeholder="https://api.example.com"
                    hint="Calls are forwarded here, with their path appended."
                />
                <Field
                    name="allowed_methods"
                    label="Allowed methods"
                    value=i.allowed_methods
                    errors
                    placeholder="every method"
                    hint="e.g. GET, POST. Others answer 405."
                />
                <Field name="timeout_ms" label="Timeout (ms)" value=i.timeout_ms errors placeholder="10000" numeric=true />
                <Field
                    name="max_body_bytes"
                    label="Max body (bytes)"
                    value=i.max_body_bytes
                    errors
                    placeholder="1048576"
                    hint="Largest request body, up to 4 MiB."
                    numeric=true
                />
                <Field
                    name="health_path"
                    label="Health check path"
                    value=i.health_path
                    errors
                    placeholder="/"
                    hint="Each hosting node calls it; a 2xx answer is passing."
                />
                <Field
                    name="health_interval_ms"
                    label="Health check interval (ms)"
                    value=i.health_interval_ms
                    errors
                    placeholder="10000"
                    numeric=true
                />
                <Field
                    name="health_timeout_ms"
                    label="Health check timeout (ms)"
                    value=i.health_timeout_ms
                    errors
                    placeholder="2000"
                    hint="At most the interval."
                    numeric=true
                />
            </div>
        </fieldset>
        <fieldset>
            <legend>"Placement and price"</legend>
            <div class="form-grid">
                <Field
                    name="replicas"
                    label="Replicas"
                    value=i.replicas
                    errors
                    placeholder="2"
                    hint="Nodes the service is placed on, 1–5."
                    numeric=true
                />
                <Field
                    name="price_per_call"
                    label="Price per call (USD)"
                    value=i.price_per_call
                    errors
                    placeholder="0.0025"
                    hint="Up to 6 decimals; empty or 0 for free."
                />
                <Field
                    name="free_calls_per_month"
                    label="Free calls per month"
                    value=i.free_calls_per_month
                    errors
                    placeholder="0"
                    hint="Per caller, each calendar month (UTC)."
                    numeric=true
                />
                <Field
                    name="tiers"
                    label="Graduated tiers (instead of a flat price)"
                    value=i.tiers
                    errors
                    placeholder="1000=0.002, 10000=0.0015, *=0.001"
                    hint="Calls up to a bound at a price; * for the rest. Counted after the free calls."
                />
            </div>
        </fieldset>
        <details class="advanced" node_ref=advanced open=advanced_open>
            <summary>"Advanced: retries and circuit breaker"</summary>
            <div class="form-grid">
                <Field
                    name="retries"
                    label="Retries"
                    value=i.retries
                    errors
                    placeholder="1"
                    hint="Further attempts on another placement for idempotent methods, 0–5."
                    numeric=true
                />
                <Field
                    name="breaker_failures"
                    label="Breaker failures"
                    value=i.breaker_failures
                    errors
                    placeholder="5"
                    hint="Consecutive failures that open a placement's breaker, 1–100."
                    numeric=true
                />
                <Field
                    name="breaker_cooldown_ms"
                    label="Breaker cooldown (ms)"
                    value=i.breaker_cooldown_ms
                    errors
                    placeholder="10000"
                    hint="How long an open breaker refuses calls before one probe."
                    numeric=true
                />
            </div>
        </details>
    }
}

/// The edit form's starting values: the service as registered.
fn form_of(service: &ServiceView) -> ServiceForm {
    let http = service.http.as_ref();
    let check = service.health_check.as_ref();
    ServiceForm {
        slug: service.slug.clone(),
        name: service.name.clone(),
        description: service.description.clone(),
        version: service.version.clone(),
        tags: service.tags.join(", "),
        kind: service.kind.as_str().to_owned(),
        price_per_call: service.pricing.flat_price().map(plain_units).unwrap_or_default(),
        free_calls_per_month: service.pricing.free_calls_per_month.to_string(),
        tiers: service.pricing.tiers_text(),
        replicas: service.replicas.to_string(),
        upstream_url: http.map(|h| h.upstream_url.clone()).unwrap_or_default(),
        allowed_methods: http.map(|h| h.allowed_methods.join(", ")).unwrap_or_default(),
        timeout_ms: http.map(|h| h.timeout_ms.to_string()).unwrap_or_default(),
        max_body_bytes: http.map(|h| h.max_body_bytes.to_string()).unwrap_or_default(),
        health_path: check.map(|c| c.path.clone()).unwrap_or_default(),
        health_interval_ms: check.map(|c| c.interval_ms.to_string()).unwrap_or_default(),
        health_timeout_ms: check.map(|c| c.timeout_ms.to_string()).unwrap_or_default(),
        retries: service.policy.retries.to_string(),
        breaker_failures: service.policy.breaker_failures.to_string(),
        breaker_cooldown_ms: service.policy.breaker_cooldown_ms.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// /services/:id

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

/// `/services/:id`
#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = ServiceActions {
        update: ServerAction::new(),
        toggle: ServerAction::new(),
        delete: ServerAction::new(),
        invoke: ServerAction::new(),
        rotate: ServerAction::new(),
    };
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

    let service = Resource::new(move || (id(), reload.get()), |(id, _)| fetch_service(id));
    view! {
        <Title text="Service" />
        <p><A href="/services">"← All services"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the service…"</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Ok(service) => view! { <ServiceDetail service actions /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ServiceDetail(service: ServiceView, actions: ServiceActions) -> impl IntoView {
    let operator = expect_context::<AuthContext>()
        .account
        .with_untracked(|a| a.as_ref().is_some_and(|a| a.role == Role::Admin));
    let active = service.status == ServiceStatus::Active;
    let toggle = actions.toggle;
    let toggle_error = move || toggle.value().get().and_then(Result::err).map(|e| e.to_string());
    let toggle_pending = toggle.pending();
    let tags = service.tags.clone();
    let description = service.description.clone();
    let placements = service.placements.clone();
    let id = service.id.clone();
    view! {
        <Title text=service.name.clone() />
        <header class="page-header split">
            <div>
                <h1>{service.name.clone()}</h1>
                <p class="muted">
                    <code>{service.slug.clone()}</code>
                    {format!(" · {} · version {}", service.kind.as_str(), service.version)}
                </p>
                <p class="badges">
                    <StatusBadges status=service.status available=service.available />
                    <span data-testid="service-health"><HealthBadge health=service.health /></span>
                    {tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}
                </p>
            </div>
            <div class="actions">
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
        <article class="card">
            <h2>"Placements"</h2>
            <Placements placements operator />
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

#[component]
fn Invoke(service: ServiceView) -> impl IntoView {
    let method = service
        .http
        .as_ref()
        .and_then(|h| h.allowed_methods.first().cloned())
        .unwrap_or_else(|| "GET".into());
    let curl = format!(
        "curl -X {method} -H \"Authorization: Bearer $WEB4_KEY\" {}{}",
        page_origin(),
        service.invoke_path
    );
    view! {
        <article class="card">
            <h2>"Call it"</h2>
            <p class="muted">"Every call goes through the mesh to a healthy placement; append your path after the service. Calls take an API key with the invoke scope (see API keys)."</p>
            <code class="copyable" data-testid="invoke-path">{service.invoke_path.clone()}</code>
            <p class="muted small">"For example:"</p>
            <pre class="copyable" data-testid="invoke-curl">{curl}</pre>
        </article>
    }
}

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
                    let name = if p.node_name.is_empty() { short(&p.node_id) } else { p.node_name.clone() };
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

/// "Try it": one call through the mesh, as the logged-in account.
#[component]
fn TryIt(service: ServiceView, invoke: ServerAction<InvokeService>) -> impl IntoView {
    let methods: Vec<String> = service
        .http
        .as_ref()
        .map(|h| h.allowed_methods.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| ALL_METHODS.map(String::from).to_vec());
    let method = RwSignal::new(methods.first().cloned().unwrap_or_else(|| "GET".into()));
    let path = RwSignal::new("/".to_string());
    let content_type = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let pending = invoke.pending();
    let service_id = service.id.clone();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        invoke.dispatch(InvokeService {
            call: TryInvoke {
                service_id: service_id.clone(),
                method: method.get_untracked(),
                path: Some(path.get_untracked()).filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into()),
                body: body.get_untracked(),
                content_type: content_type.get_untracked(),
            },
        });
    };
    view! {
        <article class="card" data-testid="try-it">
            <h2>"Try it"</h2>
            // No <noscript> note: with scripting on, browsers parse its content as text, which
            // hydration would then trip over.
            <p class="muted">"Sends one request through the mesh, exactly as a caller would, and shows what came back."</p>
            // No `action`: before hydration, "Send" only reloads the page (a post would run
            // the call and then lose its answer in the redirect).
            <form class="try-form" on:submit=send>
                <div class="try-line">
                    <div class="field">
                        <label for="try-method">"Method"</label>
                        <select id="try-method" prop:value=move || method.get() on:change=move |ev| method.set(event_target_value(&ev))>
                            {methods.into_iter().map(|m| {
                                let selected = m == method.get_untracked();
                                view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field grow">
                        <label for="try-path">"Path"</label>
                        <input id="try-path" type="text" value="/" bind:value=path placeholder="/" />
                    </div>
                    <div class="field">
                        <label for="try-content-type">"Content type"</label>
                        <input id="try-content-type" type="text" bind:value=content_type placeholder="application/json" />
                    </div>
                </div>
                <div class="field">
                    <label for="try-request-body">"Body"</label>
                    <textarea id="try-request-body" rows="3" bind:value=body placeholder="empty"></textarea>
                </div>
                <button type="submit" class="button primary" disabled=pending>
                    {move || if pending.get() { "Sending…" } else { "Send" }}
                </button>
            </form>
            {move || invoke.value().get().map(|outcome| match outcome {
                Ok(result) => view! { <TryResult result /> }.into_any(),
                Err(e) => view! { <div class="banner error" role="alert" data-testid="try-error">{e.to_string()}</div> }.into_any(),
            })}
        </article>
    }
}

#[component]
fn TryResult(result: TryInvokeResult) -> impl IntoView {
    let route = route_text(&result);
    let class = match result.status {
        200..=299 => "badge http-ok",
        300..=499 => "badge http-warn",
        _ => "badge http-error",
    };
    view! {
        <div class="try-result">
            <dl class="facts">
                <dt>"Status"</dt><dd><span class=class data-testid="try-status">{result.status}</span></dd>
                <dt>"Latency"</dt><dd data-testid="try-latency">{format!("{} ms", result.latency_ms)}</dd>
                <dt>"Route"</dt><dd data-testid="try-route">{route}</dd>
                {result.invoke_id.map(|id| view! { <dt>"Invoke id"</dt><dd><code>{id}</code></dd> })}
            </dl>
            <h3>"Response headers"</h3>
            <table class="table headers" data-testid="try-headers">
                <tbody>
                    {result.headers.into_iter().map(|(name, value)| view! {
                        <tr><td><code>{name}</code></td><td><code>{value}</code></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Body" {result.body_truncated.then(|| view! { <span class="muted small">" (truncated)"</span> })}</h3>
            <pre class="response-body" data-testid="try-body">{result.body}</pre>
        </div>
    }
}

#[component]
fn EditService(service: ServiceView, update: ServerAction<UpdateService>) -> impl IntoView {
    let error =
        Signal::derive(move || update.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())));
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let pending = update.pending();
    // Open when the last save failed (also after a plain form post came back with an error).
    let open = error.with_untracked(Option::is_some);
    view! {
        <Show when=saved>
            <p class="banner ok" role="status">"Saved."</p>
        </Show>
        <details class="card edit" open=open>
            <summary><h2>"Edit settings"</h2></summary>
            <ActionForm action=update attr:class="service-form">
                <input type="hidden" name="id" value=service.id.clone() />
                <ServiceFields initial=form_of(&service) error editing=true />
                <button type="submit" class="button primary" disabled=pending>
                    {move || if pending.get() { "Saving…" } else { "Save changes" }}
                </button>
            </ActionForm>
        </details>
    }
}

#[component]
fn DangerZone(service: ServiceView, delete: ServerAction<DeleteService>) -> impl IntoView {
    let error = move || delete.value().get().and_then(Result::err).map(|e| e.to_string());
    let pending = delete.pending();
    let active = service.status == ServiceStatus::Active;
    view! {
        <article class="card danger-zone">
            <h2>"Delete"</h2>
            <p class="muted">
                {if active { "Deactivate the service first. " } else { "" }}
                "Deleting removes the service and its settings for good; its invoke address stops working."
            </p>
            {move || error().map(|m| view! { <div class="banner error" role="alert" data-testid="delete-error">{m}</div> })}
            <ActionForm action=delete attr:class="remove-form">
                <input type="hidden" name="id" value=service.id.clone() />
                <label class="check">
                    <input type="checkbox" required />
                    " I understand this deletes "
                    <code>{service.slug.clone()}</code>
                </label>
                <button type="submit" class="button small danger" disabled=pending>"Delete service"</button>
            </ActionForm>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_name_every_service_form_field() {
        // Exhaustive on purpose: a field added to `ServiceForm` fails to compile here until
        // it is added to `FORM_FIELDS` and to the form (the form post must carry every field).
        let ServiceForm {
            slug: _,
            name: _,
            description: _,
            version: _,
            tags: _,
            kind: _,
            price_per_call: _,
            free_calls_per_month: _,
            tiers: _,
            replicas: _,
            upstream_url: _,
            allowed_methods: _,
            timeout_ms: _,
            max_body_bytes: _,
            health_path: _,
            health_interval_ms: _,
            health_timeout_ms: _,
            retries: _,
            breaker_failures: _,
            breaker_cooldown_ms: _,
        } = ServiceForm::default();
        let mut unique = FORM_FIELDS.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), FORM_FIELDS.len());
        assert!(POLICY_FIELDS.iter().all(|f| FORM_FIELDS.contains(f)));
    }

    #[test]
    fn route_shows_names_and_falls_back_to_short_ids() {
        let result = TryInvokeResult {
            route: vec!["a".into(), "12D3KooWabcdefghijklmnop".into(), "c".into()],
            route_names: vec!["embedded-1".into(), String::new()],
            ..Default::default()
        };
        assert_eq!(route_text(&result), "embedded-1 → …ijklmnop → c");
        assert_eq!(route_text(&TryInvokeResult::default()), "—");
    }

    #[test]
    fn cursors_are_percent_encoded() {
        assert_eq!(crate::pages::common::encode_query("abc-_.~09"), "abc-_.~09");
        assert_eq!(crate::pages::common::encode_query("a+b/c=&"), "a%2Bb%2Fc%3D%26");
    }

    #[test]
    fn sizes_and_summaries_read_well() {
        assert_eq!(human_bytes(1_048_576), "1 MiB");
        assert_eq!(human_bytes(65_536), "64 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
        assert_eq!(placements_summary(&[]), "none");
        assert_eq!(short("short-id"), "short-id");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        fn render_fields(error: Option<PortalError>, editing: bool) -> String {
            let owner = Owner::new();
            owner.with(|| {
                let initial =
                    ServiceForm { kind: "http".into(), slug: "weather".into(), ..Default::default() };
                view! { <ServiceFields initial error=Signal::stored(error) editing /> }.to_html()
            })
        }

        fn sample_service() -> ServiceView {
            use crate::types::services::{HealthCheckSettings, HttpSettings, PolicySettings, ServiceKind};
            let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
            let placement = |name: &str, health| PlacementView {
                node_id: format!("12D3KooW{name}xxxxxxxxxxxx"),
                node_name: name.into(),
                node_state: "online".into(),
                health,
                output: "HTTP 200 in 3 ms".into(),
                checked_at: Some(at),
                placed_at: at,
            };
            ServiceView {
                id: "svc_1".into(),
                owner_id: "acc_1".into(),
                slug: "weather".into(),
                name: "Weather".into(),
                description: "Forecasts.".into(),
                version: "1.2.0".into(),
                tags: vec!["europe".into()],
                kind: ServiceKind::Http,
                pricing: crate::types::billing::Pricing {
                    free_calls_per_month: 0,
                    tiers: vec![crate::types::billing::PriceTier {
                        up_to: None,
                        price_per_call_micros: 2500,
                    }],
                },
                replicas: 2,
                status: ServiceStatus::Active,
                available: true,
                health: HealthStatus::Passing,
                http: Some(HttpSettings {
                    upstream_url: "http://127.0.0.1:9000".into(),
                    allowed_methods: vec!["GET".into(), "POST".into()],
                    timeout_ms: 10_000,
                    max_body_bytes: 1 << 20,
                }),
                health_check: Some(HealthCheckSettings {
                    path: "/health".into(),
                    interval_ms: 1000,
                    timeout_ms: 500,
                }),
                policy: PolicySettings::default(),
                placements: vec![
                    placement("embedded-1", HealthStatus::Passing),
                    placement("embedded-2", HealthStatus::Critical),
                ],
                invoke_path: "/api/v1/invoke/svc_1/".into(),
                proxy_secret: None,
                created_at: at,
                updated_at: at,
            }
        }

        /// Renders `view` as the server would inside the app (router and session context).
        fn render_page<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            let owner = Owner::new();
            owner.with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/services/svc_1"));
                provide_context(AuthContext {
                    sign_up: ServerAction::new(),
                    log_in: ServerAction::new(),
                    log_out: ServerAction::new(),
                    account: RwSignal::new(None),
                });
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        #[test]
        fn service_page_shows_placements_invoke_path_and_actions() {
            let html = render_page(|| {
                let actions = ServiceActions {
                    update: ServerAction::new(),
                    toggle: ServerAction::new(),
                    delete: ServerAction::new(),
                    invoke: ServerAction::new(),
                    rotate: ServerAction::new(),
                };
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

        #[test]
        fn service_list_counts_healthy_placements() {
            let html = render_page(|| {
                let page = Page { items: vec![sample_service()], next_cursor: Some("c/2".into()) };
                view! { <ServiceList page paged=false /> }
            });
            assert!(html.contains("data-testid=\"services-table\""));
            assert!(html.contains("1/2 healthy"));
            assert!(html.contains("href=\"/services/svc_1\""));
            assert!(html.contains("href=\"/services?cursor=c%2F2\""), "{html}");
        }

        #[test]
        fn registration_form_posts_every_field_and_hints_the_slug_rule() {
            let html = render_fields(None, false);
            for field in FORM_FIELDS {
                assert!(html.contains(&format!("name=\"form[{field}]\"")), "no input for {field}: {html}");
            }
            assert!(html.contains(&format!("pattern=\"{SLUG_PATTERN}\"")));
            assert!(html.contains("required"));
            assert!(!html.contains("readonly"));
            assert!(!html.contains("aria-invalid=\"true\""));
            assert!(!html.contains("<details open"));
        }

        #[test]
        fn edit_form_posts_slug_and_kind_read_only() {
            let html = render_fields(None, true);
            assert!(html.contains("name=\"form[kind]\""));
            assert!(!html.contains("<select"));
            assert_eq!(html.matches("readonly").count(), 2, "{html}");
        }

        #[test]
        fn field_errors_sit_next_to_their_fields() {
            let fields = ServiceFieldErrors::from([
                ("slug".to_string(), "Use lowercase letters.".to_string()),
                ("retries".to_string(), "At most 5.".to_string()),
                ("http".to_string(), "Settings missing.".to_string()),
            ]);
            let html = render_fields(Some(PortalError::Fields(fields)), false);
            assert!(html.contains("Use lowercase letters."));
            assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2, "{html}");
            // A message for a field the form does not have goes into the banner.
            assert!(html.contains("Please correct the highlighted fields. http: Settings missing."));
            // The advanced section opens to show its error.
            assert!(html.contains("<details open class=\"advanced\""), "{html}");
        }
    }
}
