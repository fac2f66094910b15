//! `/webhooks`: the account's webhook endpoints and the form that adds one (its signing secret
//! is shown once), and `/webhooks/:id`: one endpoint — its state, the deliveries with every
//! attempt (status, latency, the answer's first bytes), send one again, replay from a sequence
//! number, disable, re-enable with "deliver what it missed", rotate the secret, delete.
use super::clip;
use crate::{
    api::{
        CreateWebhook, DeleteWebhook, ReplayWebhookDelivery, ReplayWebhookSince, RotateWebhookSecret,
        SetWebhookEnabled, get_webhook, list_webhooks,
    },
    components::ErrorBanner,
    pages::common::{self, encode_query, field_error, form_errors, when},
    types::webhooks::{
        DeliveryStatus, WebhookCreated, WebhookDetailView, WebhookStatus, WebhookView, WebhooksView,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

fn failure(error: crate::error::PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found(
            "No such webhook",
            "It does not exist, or it is not yours.",
            "/webhooks",
            "Your webhooks",
        )
    })
}

fn status_badge(webhook: &WebhookView) -> AnyView {
    match (webhook.status, webhook.failing_since) {
        (WebhookStatus::Disabled, _) => view! { <span class="badge danger">"disabled"</span> }.into_any(),
        (WebhookStatus::Enabled, Some(_)) => view! { <span class="badge warn">"failing"</span> }.into_any(),
        (WebhookStatus::Enabled, None) => view! { <span class="badge ok">"enabled"</span> }.into_any(),
    }
}

// ---------------------------------------------------------------------------------------------
// /webhooks

/// `/webhooks`: the account's endpoints, and the form that adds one.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let webhooks = Resource::new(move || create.version().get(), |_| list_webhooks());
    // The endpoint just created, with its secret: by the hydrated form, or after a plain post
    // from the session (shown once, never in the URL).
    let minted = Memo::new(move |last: Option<&Option<WebhookCreated>>| match create.value().get() {
        Some(Ok(created)) => Some(created),
        _ => last.cloned().flatten(),
    });
    view! {
        <Title text="Webhooks" />
        <header class="page-header">
            <h1>"Webhooks"</h1>
            <p class="muted">
                "Your events, POSTed to your URL as they happen, signed after the Standard Webhooks "
                "specification (" <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", "
                <code>"webhook-signature"</code> "): verify them with any Standard Webhooks library. "
                "Failed deliveries are retried with backoff; an endpoint failing for days is disabled "
                "and can be re-enabled with what it missed."
            </p>
        </header>
        {move || match minted.get() {
            Some(created) => view! { <CreatedSecret created /> }.into_any(),
            None => view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        webhooks.await.ok().and_then(|v| v.created).map(|created| view! { <CreatedSecret created /> })
                    })}
                </Suspense>
            }
            .into_any(),
        }}
        <NewWebhookForm create />
        <Suspense fallback=|| view! { <p class="muted">"Loading your webhooks…"</p> }>
            {move || Suspend::new(async move {
                match webhooks.await {
                    Ok(WebhooksView { endpoints, .. }) => view! { <WebhookList endpoints /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// A signing secret just made: shown this once.
#[component]
fn CreatedSecret(created: WebhookCreated) -> impl IntoView {
    let href = format!("/webhooks/{}", created.webhook.id);
    view! {
        <article class="card secret-once" role="status" data-testid="webhook-secret">
            <h2>"Signing secret — copy it now"</h2>
            <p><strong>"This is the only time the secret is shown."</strong>
                " Your receiver verifies every delivery with it. Lost it? Rotate it on the endpoint's page."</p>
            <label for="webhook-secret-value">"Secret of " <code>{created.webhook.url.clone()}</code></label>
            <div class="secret-row">
                <input id="webhook-secret-value" class="secret" type="text" readonly value=created.secret
                    spellcheck="false" autocomplete="off" data-testid="webhook-secret-value" />
            </div>
            <p><A href=href>"Open the endpoint"</A></p>
        </article>
    }
}

#[component]
fn NewWebhookForm(create: ServerAction<CreateWebhook>) -> impl IntoView {
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let (errors, banner) = form_errors(error, &["url", "filters", "description"]);
    let (url_error, filters_error) = (field_error(errors, "url"), field_error(errors, "filters"));
    view! {
        <article class="card">
            <h2>"New endpoint"</h2>
            <ActionForm action=create attr:class="service-form" attr:data-testid="new-webhook">
                <ErrorBanner message=banner />
                <div class="form-grid">
                    <div class="field">
                        <label for="webhook-url">"URL"</label>
                        <input id="webhook-url" name="url" type="url" required placeholder="https://example.com/hooks/web4" />
                        <p class="help" class:field-error=move || url_error.get().is_some()>
                            {move || url_error.get().unwrap_or_else(|| "Where deliveries are POSTed. Internal addresses are refused.".into())}
                        </p>
                    </div>
                    <div class="field">
                        <label for="webhook-filters">"Topics"</label>
                        <input id="webhook-filters" name="filters" type="text" required placeholder="platform.> , acct.*.orders" />
                        <p class="help" class:field-error=move || filters_error.get().is_some()>
                            {move || filters_error.get().unwrap_or_else(|| "Topic filters, comma-separated: '*' one segment, '>' the rest.".into())}
                        </p>
                    </div>
                    <div class="field">
                        <label for="webhook-description">"Description"</label>
                        <input id="webhook-description" name="description" type="text" maxlength="256" placeholder="optional" />
                    </div>
                </div>
                <button type="submit" class="button primary">"Add endpoint"</button>
            </ActionForm>
        </article>
    }
}

#[component]
fn WebhookList(endpoints: Vec<WebhookView>) -> impl IntoView {
    if endpoints.is_empty() {
        return view! {
            <article class="card"><p class="empty-state">"You have no webhook endpoints yet."</p></article>
        }
        .into_any();
    }
    view! {
        <article class="card">
            <div class="table-scroll">
            <table class="table" data-testid="webhooks-table">
                <thead><tr><th>"URL"</th><th>"Topics"</th><th>"State"</th><th>"Last success"</th></tr></thead>
                <tbody>
                    {endpoints.into_iter().map(|w| {
                        let badge = status_badge(&w);
                        view! {
                            <tr>
                                <td class="wrap"><A href=format!("/webhooks/{}", w.id)>{w.url.clone()}</A></td>
                                <td><code>{w.filters.join(", ")}</code></td>
                                <td>{badge}</td>
                                <td>{w.last_success_at.map(when).unwrap_or_else(|| "never".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </article>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// /webhooks/:id

/// The actions of an endpoint's page.
#[derive(Clone, Copy)]
struct Actions {
    enable: ServerAction<SetWebhookEnabled>,
    rotate: ServerAction<RotateWebhookSecret>,
    replay: ServerAction<ReplayWebhookSince>,
    again: ServerAction<ReplayWebhookDelivery>,
    delete: ServerAction<DeleteWebhook>,
}

/// `/webhooks/:id`: one endpoint, its deliveries and attempts, and what can be done with it.
#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let status = move || query.read().get("status").filter(|s| !s.is_empty());
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let actions = Actions {
        enable: ServerAction::new(),
        rotate: ServerAction::new(),
        replay: ServerAction::new(),
        again: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let detail = Resource::new(
        move || {
            (
                id(),
                status(),
                cursor(),
                actions.enable.version().get(),
                actions.rotate.version().get(),
                actions.replay.version().get(),
                actions.again.version().get(),
            )
        },
        |(id, status, cursor, ..)| get_webhook(id.into(), status, cursor),
    );
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(())) = actions.delete.value().get() {
            navigate("/webhooks", Default::default());
        }
    });
    view! {
        <Title text="Webhook" />
        <Suspense fallback=|| view! { <p class="muted">"Loading the endpoint…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Detail detail actions /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(detail: WebhookDetailView, actions: Actions) -> impl IntoView {
    let WebhookDetailView { webhook, deliveries, next_cursor, status, rotated } = detail;
    let id = webhook.id.to_string();
    // One copy per form: each form's children own what they show.
    let [for_enable, for_replay, for_rotate, for_delete] = [(); 4].map(|()| id.clone());
    let badge = status_badge(&webhook);
    let enabled = webhook.status == WebhookStatus::Enabled;
    let errors = Signal::derive(move || {
        [
            actions.enable.value().get().and_then(Result::err),
            actions.rotate.value().get().and_then(Result::err),
            actions.replay.value().get().and_then(Result::err),
            actions.again.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    });
    let replayed = move || match actions.replay.value().get() {
        Some(Ok(replayed)) => Some(format!("{} deliveries queued again.", replayed.deliveries)),
        _ => None,
    };
    let secret = Memo::new(move |last: Option<&Option<String>>| match actions.rotate.value().get() {
        Some(Ok(created)) => Some(created.secret),
        _ => last.cloned().flatten(),
    });
    let flashed = rotated.map(|r| r.secret);
    let filter_link = |label: &'static str, value: Option<DeliveryStatus>, id: &str| {
        let href = match value {
            Some(s) => format!("/webhooks/{id}?status={}", s.as_str()),
            None => format!("/webhooks/{id}"),
        };
        let current = value == status;
        view! { <A href=href attr:aria-current=current.then_some("true")>{label}</A> }
    };
    let next = next_cursor.map(|c| {
        let mut href = format!("/webhooks/{id}?cursor={}", encode_query(&c));
        if let Some(s) = status {
            href.push_str(&format!("&status={}", s.as_str()));
        }
        href
    });
    view! {
        <header class="page-header">
            <p class="muted"><A href="/webhooks">"Webhooks"</A> " /"</p>
            <h1 class="wrap">{webhook.url.clone()}</h1>
            <p data-testid="webhook-state">{badge} " "
                {webhook.disabled_reason.clone().map(|r| view! { <span class="muted">{r}</span> })}
            </p>
        </header>
        <ErrorBanner message=errors />
        {move || replayed().map(|m| view! { <div class="banner ok" role="status">{m}</div> })}
        {move || secret.get().or(flashed.clone()).map(|s| view! {
            <div class="banner ok" role="status" data-testid="rotated-secret">
                <strong>"Your new signing secret — copy it now, it is not shown again: "</strong>
                <code>{s}</code>
            </div>
        })}
        <div class="grid">
            <article class="card">
                <h2>"Endpoint"</h2>
                <dl class="facts">
                    <dt>"Topics"</dt><dd><code>{webhook.filters.join(", ")}</code></dd>
                    <dt>"Description"</dt><dd>{if webhook.description.is_empty() { "—".to_owned() } else { webhook.description.clone() }}</dd>
                    <dt>"Last success"</dt><dd>{webhook.last_success_at.map(when).unwrap_or_else(|| "never".into())}</dd>
                    <dt>"Failing since"</dt><dd>{webhook.failing_since.map(when).unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Checked up to"</dt><dd>{format!("message #{}", webhook.cursor)}</dd>
                    <dt>"Created"</dt><dd>{when(webhook.created_at)}</dd>
                </dl>
            </article>
            <article class="card">
                <h2>"Actions"</h2>
                <ActionForm action=actions.enable attr:class="revoke-form" attr:data-testid="webhook-enable">
                    <input type="hidden" name="id" value=for_enable />
                    <input type="hidden" name="enabled" value=if enabled { "false" } else { "true" } />
                    {(!enabled).then(|| view! {
                        <label class="check small"><input type="checkbox" name="replay_missed" value="true" checked />
                            " Deliver what it missed while disabled"</label>
                    })}
                    <button type="submit" class="button">{if enabled { "Disable" } else { "Re-enable" }}</button>
                </ActionForm>
                <ActionForm action=actions.replay attr:class="inline-form" attr:data-testid="webhook-replay">
                    <input type="hidden" name="id" value=for_replay />
                    <label for="replay-since">"Deliver again after #"</label>
                    <input id="replay-since" name="since_seq" type="text" inputmode="numeric" required placeholder="sequence number" />
                    <button type="submit" class="button">"Replay"</button>
                </ActionForm>
                <ActionForm action=actions.rotate attr:class="inline-form">
                    <input type="hidden" name="id" value=for_rotate />
                    <button type="submit" class="button">"Rotate the signing secret"</button>
                </ActionForm>
                <ActionForm action=actions.delete attr:class="revoke-form">
                    <input type="hidden" name="id" value=for_delete />
                    <label class="check small"><input type="checkbox" required />" Delete this endpoint and its delivery log"</label>
                    <button type="submit" class="button danger">"Delete"</button>
                </ActionForm>
            </article>
        </div>
        <article class="card">
            <h2>"Deliveries"</h2>
            <p class="pager">
                {filter_link("All", None, &id)} " · "
                {filter_link("Pending", Some(DeliveryStatus::Pending), &id)} " · "
                {filter_link("Succeeded", Some(DeliveryStatus::Succeeded), &id)} " · "
                {filter_link("Failed", Some(DeliveryStatus::Failed), &id)}
            </p>
            {if deliveries.is_empty() {
                view! { <p class="muted" data-testid="no-deliveries">"No deliveries yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                    <table class="table" data-testid="deliveries-table">
                        <thead><tr><th>"#"</th><th>"Topic"</th><th>"State"</th><th>"Attempts"</th><th>"Last answer"</th><th></th></tr></thead>
                        <tbody>
                            {deliveries.into_iter().map(|(d, attempts)| {
                                let last = attempts.last().map(|a| {
                                    let what = match (a.status_code, &a.error) {
                                        (Some(code), _) => format!("HTTP {code}"),
                                        (None, Some(error)) => error.clone(),
                                        (None, None) => "—".into(),
                                    };
                                    format!("{what} in {} ms · {}", a.latency_ms, clip(&a.response_snippet, 60))
                                }).unwrap_or_else(|| "not tried yet".into());
                                let log = attempts.iter().map(|a| format!(
                                    "{} {} {} ms",
                                    when(a.attempted_at),
                                    a.status_code.map(|c| format!("HTTP {c}")).or_else(|| a.error.clone()).unwrap_or_default(),
                                    a.latency_ms,
                                )).collect::<Vec<_>>().join("\n");
                                view! {
                                    <tr>
                                        <td class="num">{d.seq}</td>
                                        <td><code>{d.topic.clone()}</code></td>
                                        <td>{d.status.as_str()}
                                            {d.next_attempt_at.map(|at| view! { <span class="muted small">{format!(" next {}", when(at))}</span> })}
                                        </td>
                                        <td class="num" title=log>{d.attempts}</td>
                                        <td class="wrap">{last}</td>
                                        <td>
                                            <ActionForm action=actions.again attr:class="inline-form">
                                                <input type="hidden" name="id" value=d.webhook_id.to_string() />
                                                <input type="hidden" name="delivery" value=d.id.to_string() />
                                                <button type="submit" class="button">"Send again"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            {next.map(|href| view! { <div class="pager"><A href=href attr:rel="next">"Older deliveries"</A></div> })}
        </article>
    }
}
