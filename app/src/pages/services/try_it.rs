//! "Try it" on the service page: one call through the mesh, sent from the hydrated app only
//! (its answer is the point, and the redirect of a plain form post would lose it).
use super::short;
use crate::{
    api::InvokeService,
    types::services::{ServiceView, TryInvoke, TryInvokeResult},
};
use leptos::prelude::*;

/// Methods offered by "try it" when the service accepts every method.
const ALL_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

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

/// "Try it": one call through the mesh, as the logged-in account.
#[component]
pub(super) fn TryIt(service: ServiceView, invoke: ServerAction<InvokeService>) -> impl IntoView {
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

/// What came back from a call: status, latency, route, headers and body.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
