//! The "HTTP upstream" section: where calls go, and the health check run against it.
use super::Field;
use crate::types::services::ServiceFieldErrors;
use leptos::prelude::*;

/// Where calls are forwarded, which methods they may use, and their limits.
#[component]
pub(super) fn HttpSettingsFields(
    upstream_url: String,
    allowed_methods: String,
    timeout_ms: String,
    max_body_bytes: String,
    errors: Signal<ServiceFieldErrors>,
) -> impl IntoView {
    view! {
        <Field
            name="upstream_url"
            label="Upstream URL"
            value=upstream_url
            errors
            input_type="url"
            placeholder="https://api.example.com"
            hint="Calls are forwarded here, with their path appended."
        />
        <Field
            name="allowed_methods"
            label="Allowed methods"
            value=allowed_methods
            errors
            placeholder="every method"
            hint="e.g. GET, POST. Others answer 405."
        />
        <Field name="timeout_ms" label="Timeout (ms)" value=timeout_ms errors placeholder="10000" numeric=true />
        <Field
            name="max_body_bytes"
            label="Max body (bytes)"
            value=max_body_bytes
            errors
            placeholder="1048576"
            hint="Largest request body, up to 4 MiB."
            numeric=true
        />
    }
}

/// The health check each hosting node runs against the upstream.
#[component]
pub(super) fn HealthCheckFields(
    path: String,
    interval_ms: String,
    timeout_ms: String,
    errors: Signal<ServiceFieldErrors>,
) -> impl IntoView {
    view! {
        <Field
            name="health_path"
            label="Health check path"
            value=path
            errors
            placeholder="/"
            hint="Each hosting node calls it; a 2xx answer is passing."
        />
        <Field
            name="health_interval_ms"
            label="Health check interval (ms)"
            value=interval_ms
            errors
            placeholder="10000"
            numeric=true
        />
        <Field
            name="health_timeout_ms"
            label="Health check timeout (ms)"
            value=timeout_ms
            errors
            placeholder="2000"
            hint="At most the interval."
            numeric=true
        />
    }
}
