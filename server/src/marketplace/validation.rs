//! The rules listings and plans follow: every field checked at once, problems keyed by JSON
//! path.
use super::MarketplaceError;
use crate::{billing::pricing, services::validate_tags};
use app::types::{
    billing::Pricing,
    marketplace::{Endpoint, NewPlan, QuotaKind, Visibility},
};
use std::collections::BTreeMap;

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;
type Errors = BTreeMap<String, String>;

/// Most plans a listing offers.
pub const MAX_PLANS: usize = 4;
/// Largest OpenAPI document a listing carries (bytes).
const MAX_OPENAPI_BYTES: usize = 256 * 1024;
/// Most endpoints shown from it.
const MAX_ENDPOINTS: usize = 200;
/// Largest monthly quota.
const MAX_QUOTA: i64 = 1_000_000_000_000;

/// A listing's text fields, checked.
pub struct ListingText {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub tags: Vec<String>,
    pub publisher: String,
}

fn chars(value: &str, field: &str, min: usize, max: usize, errors: &mut Errors) -> String {
    let value = value.trim();
    let n = value.chars().count();
    if n < min || n > max {
        let message = if min == 0 {
            format!("Use at most {max} characters.")
        } else {
            format!("Use {min} to {max} characters.")
        };
        errors.insert(field.into(), message);
    } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.insert(field.into(), "Remove the control characters.".into());
    }
    value.to_owned()
}

/// Checks a listing's title, summary, description, tags and publisher.
pub fn text(
    title: &str,
    summary: &str,
    description: &str,
    tags: &[String],
    publisher: &str,
    errors: &mut Errors,
) -> ListingText {
    let title = chars(title, "title", 3, 80, errors);
    let summary = chars(summary, "summary", 1, 160, errors);
    if summary.contains('\n') {
        errors.insert("summary".into(), "Keep the summary to one line.".into());
    }
    let description = chars(description, "description", 0, 20_000, errors);
    let tags = validate_tags(tags, errors);
    let publisher = chars(publisher, "publisher", 1, 60, errors);
    ListingText { title, summary, description, tags, publisher }
}

/// The operations of an OpenAPI 3 document (JSON), for the listing page; problems under
/// `openapi`.
pub fn endpoints(document: &str, errors: &mut Errors) -> Vec<Endpoint> {
    if document.len() > MAX_OPENAPI_BYTES {
        errors.insert(
            "openapi".into(),
            format!("The document is larger than {} KiB.", MAX_OPENAPI_BYTES / 1024),
        );
        return Vec::new();
    }
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else {
        errors.insert("openapi".into(), "Give an OpenAPI 3 document as JSON.".into());
        return Vec::new();
    };
    let version_ok = doc.get("openapi").and_then(|v| v.as_str()).is_some_and(|v| v.starts_with("3."));
    let Some(paths) = doc.get("paths").and_then(|p| p.as_object()).filter(|_| version_ok) else {
        errors.insert("openapi".into(), "Give an OpenAPI 3 document: `openapi: 3.x` and `paths`.".into());
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete", "options", "head", "patch"] {
            let Some(operation) = item.get(method) else { continue };
            let summary = operation
                .get("summary")
                .or_else(|| operation.get("description"))
                .and_then(|s| s.as_str())
                .unwrap_or("");
            out.push(Endpoint {
                method: method.to_ascii_uppercase(),
                path: path.chars().take(300).collect(),
                summary: summary.chars().take(300).collect(),
            });
        }
    }
    if out.len() > MAX_ENDPOINTS {
        errors.insert("openapi".into(), format!("At most {MAX_ENDPOINTS} operations."));
    }
    out
}

/// A plan, checked.
pub struct ValidPlan {
    pub name: String,
    pub pricing: Pricing,
    pub quota_per_month: Option<i64>,
    pub quota_kind: QuotaKind,
    pub visibility: Visibility,
    pub rate_per_minute: Option<u32>,
}

/// Checks a plan; problems under `plans[i].…` when `prefix` is given.
pub fn plan(input: NewPlan, prefix: &str) -> Result<ValidPlan> {
    let mut errors = Errors::new();
    let name = chars(&input.name, "name", 1, 40, &mut errors);
    let pricing =
        pricing::validate(input.price_per_call_micros, input.free_calls_per_month, input.tiers, &mut errors);
    if let Some(quota) = input.quota_per_month
        && !(1..=MAX_QUOTA).contains(&quota)
    {
        errors.insert("quota_per_month".into(), format!("Must be between 1 and {MAX_QUOTA}."));
    }
    if input.rate_per_minute.is_some_and(|r| !(1..=1_000_000).contains(&r)) {
        errors.insert("rate_per_minute".into(), "Must be between 1 and 1,000,000.".into());
    }
    if input.quota_per_month.is_none() && input.quota_kind.is_some() {
        errors.insert("quota_kind".into(), "Set quota_per_month to choose what happens past it.".into());
    }
    if errors.is_empty() {
        Ok(ValidPlan {
            name,
            pricing,
            quota_per_month: input.quota_per_month,
            quota_kind: input.quota_kind.unwrap_or(QuotaKind::Hard),
            visibility: input.visibility.unwrap_or(Visibility::Public),
            rate_per_minute: input.rate_per_minute,
        })
    } else {
        Err(MarketplaceError::Invalid(errors.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_paths_of_an_openapi_3_document() {
        let mut errors = Errors::new();
        let doc = r#"{"openapi":"3.1.0","paths":{"/forecast":{"get":{"summary":"The forecast"},"post":{}}}}"#;
        let found = endpoints(doc, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            Endpoint { method: "GET".into(), path: "/forecast".into(), summary: "The forecast".into() }
        );
        for bad in ["not json", r#"{"swagger":"2.0","paths":{}}"#, r#"{"openapi":"3.0.0"}"#] {
            let mut errors = Errors::new();
            endpoints(bad, &mut errors);
            assert!(errors.contains_key("openapi"), "{bad}");
        }
    }

    #[test]
    fn a_plan_reports_every_problem_under_its_path() {
        let err = plan(
            NewPlan {
                name: String::new(),
                price_per_call_micros: Some(-1),
                quota_per_month: Some(0),
                ..NewPlan::default()
            },
            "plans[1].",
        )
        .err()
        .unwrap();
        let MarketplaceError::Invalid(fields) = err else { panic!("{err:?}") };
        assert!(fields.contains_key("plans[1].name"));
        assert!(fields.contains_key("plans[1].price_per_call_micros"));
        assert!(fields.contains_key("plans[1].quota_per_month"));
    }
}
