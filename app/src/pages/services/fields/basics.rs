//! The "Service" section: what the service is called, what kind it is, and what it does.
use super::{Field, SLUG_PATTERN};
use crate::{pages::common, types::services::ServiceFieldErrors};
use leptos::prelude::*;

/// What the service is: slug, name, version, tags and kind.
#[component]
pub(super) fn BasicsFields(
    slug: String,
    name: String,
    version: String,
    tags: String,
    /// The selected kind: the http fields hide while it is `kv`.
    kind: RwSignal<String>,
    errors: Signal<ServiceFieldErrors>,
    editing: bool,
) -> impl IntoView {
    let slug_hint = if editing {
        "Fixed once registered."
    } else {
        "Lowercase letters, digits and hyphens (1–63), unique among your services. Fixed once registered."
    };
    view! {
        <div class="form-grid">
            <Field
                name="slug"
                label="Slug"
                value=slug
                errors
                placeholder="weather-api"
                hint=slug_hint
                required=!editing
                readonly=editing
                pattern=SLUG_PATTERN
                maxlength="63"
            />
            <Field name="name" label="Name" value=name errors placeholder="defaults to the slug" />
            <Field name="version" label="Version" value=version errors placeholder="1.0.0" />
            <Field
                name="tags"
                label="Tags"
                value=tags
                errors
                placeholder="weather, europe"
                hint="Comma-separated, up to 10."
            />
            <KindField kind errors editing />
        </div>
    }
}

/// The kind: a choice when registering, read-only (but still posted) when editing.
#[component]
fn KindField(kind: RwSignal<String>, errors: Signal<ServiceFieldErrors>, editing: bool) -> impl IntoView {
    let kind_error = common::field_error(errors, "kind");
    view! {
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
    }
}

/// The description: a text area, with the server's message for it below.
#[component]
pub(super) fn DescriptionField(value: String, errors: Signal<ServiceFieldErrors>) -> impl IntoView {
    let description_error = common::field_error(errors, "description");
    view! {
        <div class="field">
            <label for="description">"Description"</label>
            <textarea
                id="description"
                name="form[description]"
                rows="2"
                aria-invalid=move || description_error.get().is_some().to_string()
                aria-describedby="description-help"
            >
                {value}
            </textarea>
            <p id="description-help" class="help" class:field-error=move || description_error.get().is_some()>
                {move || description_error.get()}
            </p>
        </div>
    }
}
