//! How a portal answer is shaped by the request it answers: a plain HTML form post (before
//! hydration) is redirected, a call from the hydrated app is not.
use axum::http::{header, request::Parts};
use leptos::prelude::use_context;

/// True when the request is a plain HTML navigation or form post (it accepts `text/html`),
/// as opposed to a call from the hydrated app.
pub(super) fn is_plain_form() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// A form posted before hydration is a plain navigation: answer it with a 302 to `path`.
/// A hydrated form navigates on the client once the account has been refetched.
pub(super) fn redirect_plain_form(path: &str) {
    if is_plain_form() {
        leptos_axum::redirect(path);
    }
}
