//! Helpers every page shares: error states, times, query encoding, the page's origin for
//! curl examples, and copying to the clipboard.
use crate::error::PortalError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

/// What a failed page load shows: visitors go to log in, a missing thing gets `not_found`
/// (a real 404), anything else a banner.
pub fn failure(error: PortalError, not_found: impl FnOnce() -> AnyView) -> AnyView {
    match error {
        PortalError::Unauthenticated => view! { <Redirect path="/login" /> }.into_any(),
        PortalError::NotFound(_) => not_found(),
        other => view! { <div class="banner error" role="alert">{other.to_string()}</div> }.into_any(),
    }
}

/// A 404 state (status set on the server): a heading, a line, and a way back.
pub fn not_found(
    title: &'static str,
    text: &'static str,
    back: &'static str,
    back_label: &'static str,
) -> AnyView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="empty">
            <p class="code">"404"</p>
            <h1>{title}</h1>
            <p>{text}</p>
            <A href=back attr:class="button">{back_label}</A>
        </section>
    }
    .into_any()
}

/// The foot of a paged list: "No more …" on a last page reached by paging, a link back to the
/// first page, and the next page's link (`base?cursor=…`).
#[component]
pub fn Pager(
    base: &'static str,
    /// Plural of what is listed, e.g. `keys`.
    what: &'static str,
    /// Whether this page was reached by paging (a cursor in the URL).
    paged: bool,
    /// This page is past the end: paged, and empty.
    none_left: bool,
    next_cursor: Option<String>,
) -> impl IntoView {
    view! {
        {none_left.then(|| view! { <p class="muted">{format!("No more {what}.")}</p> })}
        <div class="pager">
            {paged.then(|| view! { <A href=base>"First page"</A> })}
            {next_cursor.map(|c| view! {
                <A href=format!("{base}?cursor={}", encode_query(&c)) attr:rel="next">"Next page"</A>
            })}
        </div>
    }
}

/// A form's errors from its action's last failure: per field (for the inputs), and a banner
/// message that also carries messages for fields the form has no input for.
pub fn form_errors(
    error: Signal<Option<PortalError>>,
    fields: &'static [&'static str],
) -> (Signal<crate::types::services::ServiceFieldErrors>, Signal<Option<String>>) {
    let errors = Signal::derive(move || match error.get() {
        Some(PortalError::Fields(fields)) => fields,
        _ => Default::default(),
    });
    let banner = Signal::derive(move || {
        error.get().map(|e| {
            let mut message = e.to_string();
            if let PortalError::Fields(all) = &e {
                for (field, text) in all.iter().filter(|(f, _)| !fields.contains(&f.as_str())) {
                    message.push_str(&format!(" {field}: {text}"));
                }
            }
            message
        })
    });
    (errors, banner)
}

/// One field's message from [`form_errors`].
pub fn field_error(
    errors: Signal<crate::types::services::ServiceFieldErrors>,
    name: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.get(name).cloned()))
}

/// A time as the pages show it.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Percent-encodes a query value (cursors are opaque to the portal).
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The origin to show in the curl example. On the server it comes from the request's `Host`
/// (and a proxy's `X-Forwarded-Proto`, which is only displayed, never trusted for anything).
pub fn page_origin() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                let host = parts.headers.get(http::header::HOST)?.to_str().ok()?.to_owned();
                let scheme = parts
                    .headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .filter(|s| *s == "https")
                    .unwrap_or("http");
                Some(format!("{scheme}://{host}"))
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().origin().unwrap_or_default()
    }
}

/// The name of the `<meta>` the shell writes the invoke origin into.
pub const INVOKE_ORIGIN_META: &str = "web4-invoke-origin";

/// The operator's `invoke_origin`, when services are called on a host of their own.
pub fn configured_invoke_origin() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::types::InvokeOrigin>().map(|o| o.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let selector = format!("meta[name=\"{INVOKE_ORIGIN_META}\"]");
        document().query_selector(&selector).ok().flatten().and_then(|meta| meta.get_attribute("content"))
    }
}

/// The origin to call services on in a curl example: the operator's `invoke_origin` when set,
/// else this portal's.
pub fn invoke_origin() -> String {
    configured_invoke_origin().unwrap_or_else(page_origin)
}

/// How the Copy button's last click went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyState {
    Idle,
    Copied,
    /// Neither clipboard route worked: the text is selected for Ctrl+C.
    Selected,
}

/// Copies `text` to the clipboard and reports the outcome in `state` (hydrated app only).
///
/// The asynchronous Clipboard API exists only in secure contexts (https, localhost), and a
/// self-hosted portal is often reached over plain http: there `execCommand("copy")` on the
/// selected input still works in current browsers. Both are reached through `Reflect`
/// because `app` builds `web-sys` without its `Navigator` and `Clipboard` features.
pub fn copy_text(text: &str, select: impl Fn() + 'static, state: RwSignal<CopyState>) {
    use leptos::web_sys::{
        js_sys::{Function, Reflect},
        wasm_bindgen::{JsCast, JsValue, closure::Closure},
    };
    let method = |target: &JsValue, name: &str| {
        Reflect::get(target, &JsValue::from_str(name)).ok()?.dyn_into::<Function>().ok()
    };
    // Selected first: whatever happens next, the text is ready for Ctrl+C.
    select();
    let fallback = move || {
        let document = document();
        let copied = method(document.as_ref(), "execCommand")
            .and_then(|exec| exec.call1(document.as_ref(), &JsValue::from_str("copy")).ok())
            .and_then(|answer| answer.as_bool())
            .unwrap_or(false);
        state.set(if copied { CopyState::Copied } else { CopyState::Selected });
    };
    let promise = Reflect::get(window().as_ref(), &JsValue::from_str("navigator"))
        .ok()
        .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("clipboard")).ok())
        .filter(JsValue::is_object)
        .and_then(|clipboard| {
            method(&clipboard, "writeText")?.call1(&clipboard, &JsValue::from_str(text)).ok()
        })
        .filter(JsValue::is_object);
    let Some((promise, then)) = promise.and_then(|p| method(&p, "then").map(|then| (p, then))) else {
        return fallback();
    };
    // Exactly one of the two runs; the other stays a tiny function on the JS heap.
    let copied = Closure::once_into_js(move |_: JsValue| state.set(CopyState::Copied));
    let refused = Closure::once_into_js(move |_: JsValue| fallback());
    if then.call2(&promise, &copied, &refused).is_err() {
        fallback();
    }
}
