//! The "Placement and price" section.
use super::Field;
use crate::types::services::ServiceFieldErrors;
use leptos::prelude::*;

/// How many nodes the service is placed on, and what a call costs.
#[component]
pub(super) fn PricingFields(
    replicas: String,
    price_per_call: String,
    free_calls_per_month: String,
    tiers: String,
    errors: Signal<ServiceFieldErrors>,
) -> impl IntoView {
    view! {
        <div class="form-grid">
            <Field
                name="replicas"
                label="Replicas"
                value=replicas
                errors
                placeholder="2"
                hint="Nodes the service is placed on, 1–5."
                numeric=true
            />
            <Field
                name="price_per_call"
                label="Price per call (USD)"
                value=price_per_call
                errors
                placeholder="0.0025"
                hint="Up to 6 decimals; empty or 0 for free."
            />
            <Field
                name="free_calls_per_month"
                label="Free calls per month"
                value=free_calls_per_month
                errors
                placeholder="0"
                hint="Per caller, each calendar month (UTC)."
                numeric=true
            />
            <Field
                name="tiers"
                label="Graduated tiers (instead of a flat price)"
                value=tiers
                errors
                placeholder="1000=0.002, 10000=0.0015, *=0.001"
                hint="Calls up to a bound at a price; * for the rest. Counted after the free calls."
            />
        </div>
    }
}
