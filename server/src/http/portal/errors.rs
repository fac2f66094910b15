//! Domain failures as the portal tells them: made from their one classification (see
//! [`crate::error`]), with the status the Cloud API would answer.
use super::respond::is_plain_form;
use crate::error::{Classified, Classify, ErrorCode, Problem};
use app::error::PortalError;
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Logs an internal failure once and gives the person the opaque message.
pub(super) fn internal(err: anyhow::Error) -> PortalError {
    tracing::error!(error = ?err, "portal request failed");
    PortalError::Internal
}

/// A domain failure as the portal tells it, made from its one classification (see
/// [`crate::error`]); for a hydrated call the response also gets the classified status (server
/// functions answer every error with 500 otherwise, which would log a person's typo as a
/// server failure). A plain form post keeps its 302 back to the form, which carries the error
/// in the URL.
pub(super) fn portal_error(err: impl Classify) -> PortalError {
    let (status, error) = match err.classify() {
        Classified::Problem(problem) => told(problem),
        Classified::Internal(err) => return internal(err),
    };
    set_status(status, &error);
    error
}

/// A classified problem as the portal shows it, with the status the API answers it with.
pub(super) fn told(problem: Problem) -> (StatusCode, PortalError) {
    let status = problem.status();
    let error = match problem.code {
        ErrorCode::ValidationFailed => PortalError::Fields(
            problem
                .fields
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (form_field(&k).to_owned(), v))
                .collect(),
        ),
        ErrorCode::EmailTaken => PortalError::EmailTaken,
        ErrorCode::InvalidCredentials => PortalError::InvalidCredentials,
        ErrorCode::Unauthenticated => PortalError::Unauthenticated,
        ErrorCode::OperatorOnly => PortalError::Forbidden,
        ErrorCode::NotFound => PortalError::NotFound(problem.message),
        // A KV conflict's detail is the key's current revision, not a field to correct.
        ErrorCode::KvRevisionMismatch | ErrorCode::KvKeyExists => PortalError::Rejected(problem.message),
        _ => match (problem.retry_after_secs, problem.fields) {
            (Some(retry_after_secs), _) => {
                PortalError::Limited { message: problem.message, retry_after_secs }
            }
            // A conflict about one field (a taken slug) sits next to that field.
            (None, Some(fields)) => PortalError::Fields(fields),
            (None, None) => PortalError::Rejected(problem.message),
        },
    };
    (status, error)
}

/// Maps a validation error's field (as the API names it) to the portal form's input name.
pub(super) fn form_field(path: &str) -> &str {
    match path {
        "http.upstream_url" => "upstream_url",
        "price_per_call_micros" => "price_per_call",
        "http.allowed_methods" => "allowed_methods",
        "http.timeout_ms" => "timeout_ms",
        "http.max_body_bytes" => "max_body_bytes",
        "health_check.path" => "health_path",
        "health_check.interval_ms" => "health_interval_ms",
        "health_check.timeout_ms" => "health_timeout_ms",
        "policy.retries" => "retries",
        "policy.breaker_failures" => "breaker_failures",
        "policy.breaker_cooldown_ms" => "breaker_cooldown_ms",
        "expires_at" => "expires_in_days",
        "spending_cap_minor" => "spending_cap",
        other => other,
    }
}

/// Gives the response `status` — except for a plain form post, which must stay the 302 back
/// to its form (the error travels in that URL).
pub(super) fn set_status(status: StatusCode, error: &PortalError) {
    let plain_post =
        use_context::<Parts>().is_some_and(|p| p.method == axum::http::Method::POST) && is_plain_form();
    if plain_post {
        return;
    }
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(status);
        if let PortalError::Limited { retry_after_secs, .. } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
}

/// Per-field errors of a form that did not parse.
pub(super) fn form_error(fields: std::collections::BTreeMap<String, String>) -> PortalError {
    let error = PortalError::Fields(fields);
    set_status(StatusCode::UNPROCESSABLE_ENTITY, &error);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::AuthError,
        billing::BillingError,
        http::error::ApiError,
        keys::KeysError,
        memory::MemoryError,
        nodes::NodesError,
        services::{ServicesError, gateway::InvokeError},
    };

    /// One of every domain error the two front ends tell.
    fn every_domain_error() -> Vec<Classified> {
        let fields =
            || std::collections::BTreeMap::from([("http.upstream_url".to_owned(), "bad".to_owned())]);
        vec![
            AuthError::Invalid(app::types::FieldErrors { email: Some("bad".into()), password: None })
                .classify(),
            AuthError::EmailTaken.classify(),
            AuthError::InvalidCredentials.classify(),
            AuthError::Throttled { retry_after_secs: 90 }.classify(),
            AuthError::SignUpsThrottled { retry_after_secs: 3600 }.classify(),
            AuthError::Busy.classify(),
            AuthError::Unauthenticated.classify(),
            ServicesError::Invalid(fields()).classify(),
            ServicesError::NotFound.classify(),
            ServicesError::SlugTaken("echo".into()).classify(),
            ServicesError::Active.classify(),
            ServicesError::BadCursor.classify(),
            ServicesError::UnbilledUsage.classify(),
            ServicesError::LimitReached(3).classify(),
            KeysError::Invalid(fields()).classify(),
            KeysError::NotFound.classify(),
            KeysError::ScopeEscalation.classify(),
            KeysError::LimitReached(5).classify(),
            KeysError::BadCursor.classify(),
            BillingError::NotFound.classify(),
            BillingError::BadCursor.classify(),
            BillingError::BadRange("from is after to".into()).classify(),
            NodesError::Invalid { field: "note", message: "too long".into() }.classify(),
            NodesError::NotFound("node").classify(),
            NodesError::ChallengeInvalid.classify(),
            NodesError::TooManyChallenges.classify(),
            NodesError::BadSignature.classify(),
            NodesError::TokenInvalid.classify(),
            NodesError::TokenRevoked.classify(),
            NodesError::TokenExpired.classify(),
            NodesError::TokenUsed.classify(),
            NodesError::NodeBlocked.classify(),
            NodesError::StaleHeartbeat.classify(),
            InvokeError::NotFound.classify(),
            InvokeError::Inactive.classify(),
            InvokeError::NoHealthyPlacement.classify(),
            InvokeError::MethodNotAllowed { method: "PUT".into(), allowed: vec!["GET".into()] }.classify(),
            InvokeError::BodyTooLarge { limit: 10 }.classify(),
            InvokeError::CircuitOpen { retry_after_secs: 4 }.classify(),
            InvokeError::AccountBusy { limit: 2 }.classify(),
            InvokeError::Metering("disk full".into()).classify(),
            crate::events::EventsError::Invalid(fields()).classify(),
            crate::events::EventsError::TopicForbidden("not yours".into()).classify(),
            crate::events::EventsError::NotFound("consumer").classify(),
            crate::events::EventsError::ConsumerExists.classify(),
            crate::events::EventsError::ConsumerLimitReached(100).classify(),
            crate::events::EventsError::TooLarge("too big".into()).classify(),
            crate::webhooks::WebhooksError::Invalid(fields()).classify(),
            crate::webhooks::WebhooksError::TopicForbidden("not yours".into()).classify(),
            crate::webhooks::WebhooksError::NotFound("webhook endpoint").classify(),
            crate::webhooks::WebhooksError::LimitReached(20).classify(),
            MemoryError::Invalid(fields()).classify(),
            MemoryError::BucketNotFound.classify(),
            MemoryError::KeyNotFound.classify(),
            MemoryError::BucketExists("sessions".into()).classify(),
            MemoryError::KeyExists { current_revision: 3 }.classify(),
            MemoryError::RevisionMismatch { expected: 2, current_revision: 3 }.classify(),
            MemoryError::ValueTooLarge { size: 2_000_000, limit: 1_048_576 }.classify(),
            MemoryError::BucketLimitReached(100).classify(),
            MemoryError::KeyLimitReached(100_000).classify(),
            MemoryError::WatcherLimitReached(16).classify(),
            ServicesError::Memory(MemoryError::BucketLimitReached(100)).classify(),
            MemoryError::BadCursor.classify(),
        ]
    }

    #[test]
    fn the_api_and_the_portal_tell_every_domain_error_alike() {
        for (for_api, for_portal) in every_domain_error().into_iter().zip(every_domain_error()) {
            let Classified::Problem(problem) = for_portal else { panic!("no internal error in the list") };
            let (status, shown) = told(problem.clone());
            let api = ApiError::from(for_api);
            let body = api.body();
            assert_eq!(api.status(), status, "{body}");
            assert_eq!(api.code(), problem.code.as_str());
            let message = body["error"]["message"].as_str().unwrap();
            match shown {
                PortalError::Rejected(text) | PortalError::NotFound(text) => assert_eq!(text, message),
                PortalError::Limited { message: text, retry_after_secs } => {
                    assert_eq!(text, message);
                    assert_eq!(Some(retry_after_secs), problem.retry_after_secs);
                }
                PortalError::Fields(fields) => {
                    let api_fields = problem.fields.expect("fields");
                    assert_eq!(fields.len(), api_fields.len(), "{body}");
                }
                PortalError::EmailTaken | PortalError::InvalidCredentials | PortalError::Unauthenticated => {
                    assert_eq!(api.status().as_u16() / 100, 4)
                }
                other => panic!("{other:?} for {body}"),
            }
        }
    }

    #[test]
    fn form_errors_name_the_inputs_the_form_has() {
        let (_, shown) = told(Problem::invalid([("http.upstream_url".to_owned(), "bad".to_owned())].into()));
        assert_eq!(shown.field_error("upstream_url").as_deref(), Some("bad"));
        let (_, shown) = told(Problem::invalid([("expires_at".to_owned(), "past".to_owned())].into()));
        assert_eq!(shown.field_error("expires_in_days").as_deref(), Some("past"));
    }

    #[test]
    fn internal_errors_are_opaque_everywhere() {
        let api = ApiError::from(anyhow::anyhow!("secret detail"));
        assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!api.body().to_string().contains("secret detail"));
        assert_eq!(portal_error(anyhow::anyhow!("secret detail")), PortalError::Internal);
    }
}
