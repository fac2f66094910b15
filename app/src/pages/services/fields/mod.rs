//! The fields of the service form, shared by registration and edit: [`ServiceFields`] lays
//! out one section per part of the service (what it is, its http upstream and health check,
//! placement and price, the advanced policy), each made of [`Field`]s.
mod basics;
mod policy;
mod pricing;
mod upstream;

use super::common;
use crate::{
    components::ErrorBanner,
    error::PortalError,
    types::services::{ServiceFieldErrors, ServiceForm},
};
use basics::{BasicsFields, DescriptionField};
use leptos::prelude::*;
use policy::PolicyFields;
use pricing::PricingFields;
use upstream::{HealthCheckFields, HttpSettingsFields};

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

/// The slug rule of [`crate::types::services::NewService`], as an HTML `pattern` (a hint only:
/// the server validates again).
const SLUG_PATTERN: &str = "[a-z0-9]([a-z0-9\\-]{0,61}[a-z0-9])?";

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
pub(super) fn ServiceFields(
    initial: ServiceForm,
    /// The last failure of the action the form posts to.
    #[prop(into)]
    error: Signal<Option<PortalError>>,
    editing: bool,
) -> impl IntoView {
    let (errors, banner) = common::form_errors(error, &FORM_FIELDS);
    // Without JavaScript every field is shown (the http ones say so); after hydration the
    // http fields hide while `kv` is selected. Hidden inputs are still posted.
    let kind = RwSignal::new(if initial.kind.is_empty() { "http".to_string() } else { initial.kind.clone() });
    let i = initial;
    view! {
        <ErrorBanner message=banner />
        <fieldset>
            <legend>"Service"</legend>
            <BasicsFields slug=i.slug name=i.name version=i.version tags=i.tags kind errors editing />
            <DescriptionField value=i.description errors />
        </fieldset>
        <fieldset class="kind-http" hidden=move || kind.get() == "kv">
            <legend>"HTTP upstream " <span class="muted small">"(http services only)"</span></legend>
            <div class="form-grid">
                <HttpSettingsFields
                    upstream_url=i.upstream_url
                    allowed_methods=i.allowed_methods
                    timeout_ms=i.timeout_ms
                    max_body_bytes=i.max_body_bytes
                    errors
                />
                <HealthCheckFields
                    path=i.health_path
                    interval_ms=i.health_interval_ms
                    timeout_ms=i.health_timeout_ms
                    errors
                />
            </div>
        </fieldset>
        <fieldset>
            <legend>"Placement and price"</legend>
            <PricingFields
                replicas=i.replicas
                price_per_call=i.price_per_call
                free_calls_per_month=i.free_calls_per_month
                tiers=i.tiers
                errors
            />
        </fieldset>
        <PolicyFields
            retries=i.retries
            breaker_failures=i.breaker_failures
            breaker_cooldown_ms=i.breaker_cooldown_ms
            errors
        />
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
