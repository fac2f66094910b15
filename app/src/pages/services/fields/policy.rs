//! The collapsed "Advanced" section: retries and the circuit breaker.
use super::{Field, POLICY_FIELDS};
use crate::types::services::ServiceFieldErrors;
use leptos::prelude::*;

/// The collapsed "Advanced" section: retries and the circuit breaker.
#[component]
pub(super) fn PolicyFields(
    retries: String,
    breaker_failures: String,
    breaker_cooldown_ms: String,
    errors: Signal<ServiceFieldErrors>,
) -> impl IntoView {
    // The section opens by itself when one of its fields has an error: at render for an error
    // that came back in the URL, and when a later submission fails.
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
    view! {
        <details class="advanced" node_ref=advanced open=advanced_open>
            <summary>"Advanced: retries and circuit breaker"</summary>
            <div class="form-grid">
                <Field
                    name="retries"
                    label="Retries"
                    value=retries
                    errors
                    placeholder="1"
                    hint="Further attempts on another placement for idempotent methods, 0–5."
                    numeric=true
                />
                <Field
                    name="breaker_failures"
                    label="Breaker failures"
                    value=breaker_failures
                    errors
                    placeholder="5"
                    hint="Consecutive failures that open a placement's breaker, 1–100."
                    numeric=true
                />
                <Field
                    name="breaker_cooldown_ms"
                    label="Breaker cooldown (ms)"
                    value=breaker_cooldown_ms
                    errors
                    placeholder="10000"
                    hint="How long an open breaker refuses calls before one probe."
                    numeric=true
                />
            </div>
        </details>
    }
}
