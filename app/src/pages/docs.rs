//! The API reference, rendered from the platform's own OpenAPI document (the server derives
//! the content from `/api/v1/openapi.json`): every endpoint with who may call it, its
//! parameters, an example body and a curl command with a Copy button. Public, like the
//! document itself. Nothing is fetched from outside the platform.
use super::common::{CopyState, copy_text, page_origin};
use crate::{
    api::get_api_docs,
    types::docs::{ApiDocsView, DocGroup, EndpointDoc},
};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/docs`.
#[component]
pub fn DocsPage() -> impl IntoView {
    let origin = page_origin();
    let docs = Resource::new(move || origin.clone(), get_api_docs);
    view! {
        <Title text="API reference — Web4" />
        <Suspense fallback=|| view! { <p class="muted">"Loading the reference…"</p> }>
            {move || Suspend::new(async move {
                match docs.await {
                    Ok(docs) => view! { <Reference docs /> }.into_any(),
                    Err(error) => {
                        view! { <div class="banner error" role="alert">{error.to_string()}</div> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Reference(docs: ApiDocsView) -> impl IntoView {
    let ApiDocsView { title, description, version, groups } = docs;
    let toc = groups
        .iter()
        .map(|g| {
            let anchor = format!("#{}", group_anchor(&g.name));
            view! { <li><a href=anchor>{g.name.clone()}</a></li> }
        })
        .collect_view();
    view! {
        <div class="docs">
            <aside class="docs-toc" aria-label="Sections">
                <ul>{toc}</ul>
                <p class="small">
                    <a href="/api/v1/openapi.json" rel="external" download="">"openapi.json"</a>
                </p>
            </aside>
            <div class="docs-main">
                <header class="page-head">
                    <h1>{title}</h1>
                    <p class="muted">{format!("Version {version} · OpenAPI document at /api/v1/openapi.json")}</p>
                </header>
                <p class="lead">{inline_code(description)}</p>
                <p>
                    "Create a key on the " <a href="/keys">"API keys"</a>
                    " page and put it in " <code>"WEB4_API_KEY"</code>
                    "; every curl below then runs as is (replace the "
                    <code>"<placeholders>"</code> ")."
                </p>
                {groups.into_iter().map(|group| view! { <Group group /> }).collect_view()}
            </div>
        </div>
    }
}

/// Text with `backticks` shown as inline code (the document's descriptions use them).
fn inline_code(text: String) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_owned();
            if i % 2 == 1 { view! { <code>{part}</code> }.into_any() } else { part.into_any() }
        })
        .collect_view()
}

fn group_anchor(name: &str) -> String {
    let slug: String =
        name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("group-{}", slug.trim_matches('-'))
}

#[component]
fn Group(group: DocGroup) -> impl IntoView {
    let DocGroup { name, description, endpoints } = group;
    let id = group_anchor(&name);
    view! {
        <section class="docs-group" id=id>
            <h2>{name}</h2>
            <p class="muted">{description}</p>
            {endpoints.into_iter().map(|endpoint| view! { <Endpoint endpoint /> }).collect_view()}
        </section>
    }
}

#[component]
fn Endpoint(endpoint: EndpointDoc) -> impl IntoView {
    let EndpointDoc {
        anchor,
        method,
        path,
        summary,
        description,
        auth,
        params,
        request_example,
        responses,
        curl,
    } = endpoint;
    let method_class = format!("method method-{}", method.to_lowercase());
    let article_id = anchor.clone();
    let params = (!params.is_empty()).then(|| {
        let rows = params
            .into_iter()
            .map(|p| {
                view! {
                    <tr>
                        <td><code>{p.name}</code></td>
                        <td>{p.location}</td>
                        <td>{if p.required { "yes" } else { "no" }}</td>
                        <td>{inline_code(p.description)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table compact">
                <thead><tr><th>"Parameter"</th><th>"In"</th><th>"Required"</th><th>"Meaning"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let example = request_example.map(|body| {
        view! {
            <p class="small muted">"Example body (required fields):"</p>
            <pre class="code-block"><code>{body}</code></pre>
        }
    });
    let responses = responses
        .into_iter()
        .map(|(status, text)| view! { <li><code>{status}</code>" " {inline_code(text)}</li> })
        .collect_view();
    view! {
        <article class="card endpoint" id=article_id data-testid="endpoint">
            <h3>
                <span class=method_class>{method.clone()}</span>
                " "
                <code class="endpoint-path">{path.clone()}</code>
            </h3>
            <p>{inline_code(summary)}</p>
            {(!description.is_empty()).then(|| view! { <p class="muted">{inline_code(description)}</p> })}
            <p class="small"><strong>"Who may call it: "</strong>{inline_code(auth)}</p>
            {params}
            {example}
            <ul class="responses small">{responses}</ul>
            <Curl curl anchor />
        </article>
    }
}

/// A curl command with a Copy button (the button needs the hydrated app; before that the
/// text is selectable).
#[component]
fn Curl(curl: String, anchor: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let state = RwSignal::new(CopyState::Idle);
    let id = format!("curl-{anchor}");
    let copy = {
        let (curl, id) = (curl.clone(), id.clone());
        move |_| {
            let id = id.clone();
            copy_text(&curl, move || select_element(&id), state)
        }
    };
    view! {
        <div class="curl">
            <pre class="code-block" id=id data-testid="curl"><code>{curl}</code></pre>
            <button type="button" class="button small" hidden=move || !hydrated.get() on:click=copy>
                {move || match state.get() {
                    CopyState::Copied => "Copied",
                    _ => "Copy",
                }}
            </button>
            <span class="help" role="status">
                {move || match state.get() {
                    CopyState::Selected => "Selected: press Ctrl+C (⌘C on a Mac) to copy.",
                    _ => "",
                }}
            </span>
        </div>
    }
}

/// Selects the text of the element with this id (hydrated app only).
fn select_element(id: &str) {
    #[cfg(not(feature = "ssr"))]
    {
        use leptos::web_sys::{
            js_sys::{Function, Reflect},
            wasm_bindgen::{JsCast, JsValue},
        };
        let Some(element) = document().get_element_by_id(id) else { return };
        let Some(selection) = Reflect::get(window().as_ref(), &JsValue::from_str("getSelection"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(window().as_ref()).ok())
        else {
            return;
        };
        if let Some(select_all) = Reflect::get(&selection, &JsValue::from_str("selectAllChildren"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = select_all.call1(&selection, element.as_ref());
        }
    }
    #[cfg(feature = "ssr")]
    let _ = id;
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::types::docs::ParamDoc;

    fn render(view: impl FnOnce() -> AnyView + 'static) -> String {
        let owner = Owner::new();
        owner.with(|| view().to_html())
    }

    #[test]
    fn an_endpoint_shows_auth_params_example_and_curl() {
        let endpoint = EndpointDoc {
            anchor: "post-api-v1-keys".into(),
            method: "POST".into(),
            path: "/api/v1/keys".into(),
            summary: "Creates a key".into(),
            description: String::new(),
            auth: "An API key with the `write` scope, or the portal session".into(),
            params: vec![ParamDoc {
                name: "cursor".into(),
                location: "query".into(),
                required: false,
                description: "next page".into(),
            }],
            request_example: Some("{\n  \"name\": \"string\"\n}".into()),
            responses: vec![("201".into(), "The secret, shown this once".into())],
            curl: "curl -X POST \"http://h/api/v1/keys\"".into(),
        };
        let html = render(move || view! { <Endpoint endpoint /> }.into_any());
        assert!(html.contains("method-post") && html.contains("/api/v1/keys"), "{html}");
        assert!(html.contains("<code>write</code> scope"), "{html}");
        assert!(html.contains("cursor") && html.contains("query"));
        assert!(html.contains("&quot;name&quot;") || html.contains("\"name\""));
        assert!(html.contains("curl -X POST"));
        assert!(html.contains("id=\"curl-post-api-v1-keys\""));
    }
}
