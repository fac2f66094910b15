//! The rules a service's registration follows: every field checked at once, defaults filled
//! in, and the upstream refused when the egress policy can never reach it.
use super::{
    error::ServicesError,
    limits::{MAX_BODY_BYTES, MAX_REPLICAS, MAX_TIMEOUT_MS, METHODS},
};
pub use crate::db::entities::services::Settings;
use crate::egress::EgressPolicy;
use app::types::{
    billing::Pricing,
    services::{HealthCheckSettings, HttpSettings, HttpSettingsInput, NewService, ServiceKind},
};
use std::collections::BTreeMap;

type Result<T, E = ServicesError> = std::result::Result<T, E>;

/// A service that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Valid {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub tags: Vec<String>,
    pub kind: ServiceKind,
    pub pricing: Pricing,
    pub replicas: u8,
    pub settings: Settings,
}

/// Whether `slug` follows the DNS-label rules: 1–63 of `a-z`, `0-9` and `-`, not starting or
/// ending with `-`.
pub fn is_slug(slug: &str, max: usize) -> bool {
    !slug.is_empty()
        && slug.len() <= max
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    errors: &mut BTreeMap<String, String>,
    field: &str,
    value: T,
    min: T,
    max: T,
    unit: &str,
) -> T {
    if value < min || value > max {
        errors.insert(field.into(), format!("Must be between {min} and {max}{unit}."));
    }
    value
}

/// Tags as given: trimmed, lowercased, deduplicated; each a slug of up to 32 characters, at
/// most 10 (problems under `tags` in `errors`).
pub fn validate_tags(given: &[String], errors: &mut BTreeMap<String, String>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in given.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
        if !is_slug(&tag, 32) {
            errors.insert(
                "tags".into(),
                format!("Tag {tag:?}: use up to 32 lowercase letters, digits and hyphens."),
            );
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 10 {
        errors.insert("tags".into(), "At most 10 tags.".into());
    }
    tags
}

/// Validates a registration, filling defaults; every invalid field is reported at once.
pub fn validate(input: NewService) -> Result<Valid> {
    let mut errors = BTreeMap::new();
    let slug = input.slug.trim().to_owned();
    if !is_slug(&slug, 63) {
        errors.insert(
            "slug".into(),
            "Use 1–63 lowercase letters, digits and hyphens, not starting or ending with a hyphen.".into(),
        );
    }
    let name = match input.name.trim() {
        "" => slug.clone(),
        name => name.to_owned(),
    };
    if name.chars().count() > 100 {
        errors.insert("name".into(), "Keep the name to 100 characters.".into());
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > 2000 {
        errors.insert("description".into(), "Keep the description to 2000 characters.".into());
    }
    let version = match input.version.trim() {
        "" => "1.0.0".to_owned(),
        v => v.to_owned(),
    };
    if version.len() > 32 || version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.insert("version".into(), "Use up to 32 characters without spaces, e.g. 1.2.0.".into());
    }
    let tags = validate_tags(&input.tags, &mut errors);
    let pricing = crate::billing::pricing::validate(
        input.price_per_call_micros,
        input.free_calls_per_month,
        input.tiers.clone(),
        &mut errors,
    );
    let replicas = range(&mut errors, "replicas", input.replicas.unwrap_or(2), 1, MAX_REPLICAS, "");
    let policy = input.policy.unwrap_or_default();
    range(&mut errors, "policy.retries", policy.retries, 0, 5, "");
    range(&mut errors, "policy.breaker_failures", policy.breaker_failures, 1, 100, "");
    range(&mut errors, "policy.breaker_cooldown_ms", policy.breaker_cooldown_ms, 100, 600_000, " ms");
    let (http, health_check) = match input.kind {
        ServiceKind::Http => match input.http {
            None => {
                errors.insert("http.upstream_url".into(), "An http service needs an upstream URL.".into());
                (None, None)
            }
            Some(http) => {
                let http = validate_http(http, &mut errors);
                let check = input.health_check.unwrap_or(HealthCheckSettings {
                    path: "/".into(),
                    interval_ms: 10_000,
                    timeout_ms: 2_000,
                });
                (Some(http), Some(validate_check(check, replicas.min(MAX_REPLICAS), &mut errors)))
            }
        },
        ServiceKind::Kv => {
            if input.http.is_some() {
                errors.insert("http.upstream_url".into(), "Only http services have an upstream.".into());
            }
            if input.health_check.is_some() {
                errors.insert("health_check.path".into(), "Only http services have a health check.".into());
            }
            (None, None)
        }
    };
    if !errors.is_empty() {
        return Err(ServicesError::Invalid(errors));
    }
    Ok(Valid {
        slug,
        name,
        description,
        version,
        tags,
        kind: input.kind,
        pricing,
        replicas,
        settings: Settings { http, health_check, policy },
    })
}

fn validate_http(input: HttpSettingsInput, errors: &mut BTreeMap<String, String>) -> HttpSettings {
    let upstream_url = input.upstream_url.trim().trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&upstream_url) {
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            errors.insert(
                "http.upstream_url".into(),
                "The upstream URL must start with http:// or https://.".into(),
            );
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            errors.insert("http.upstream_url".into(), "The upstream URL needs a host.".into());
        }
        Ok(url) if url.query().is_some() || url.fragment().is_some() => {
            errors.insert("http.upstream_url".into(), "The upstream URL takes no query or fragment.".into());
        }
        Ok(_) => {}
        Err(_) => {
            errors.insert(
                "http.upstream_url".into(),
                "Enter a full URL, e.g. https://api.example.com/v1.".into(),
            );
        }
    }
    let mut allowed_methods = Vec::new();
    match input.allowed_methods {
        None => allowed_methods = METHODS.iter().map(|m| (*m).to_owned()).collect(),
        Some(methods) => {
            for m in methods.iter().map(|m| m.trim().to_uppercase()).filter(|m| !m.is_empty()) {
                if !METHODS.contains(&m.as_str()) {
                    errors.insert(
                        "http.allowed_methods".into(),
                        format!("{m:?} is not one of {}.", METHODS.join(", ")),
                    );
                } else if !allowed_methods.contains(&m) {
                    allowed_methods.push(m);
                }
            }
            if allowed_methods.is_empty() && !errors.contains_key("http.allowed_methods") {
                allowed_methods = METHODS.iter().map(|m| (*m).to_owned()).collect();
            }
        }
    }
    let timeout_ms =
        range(errors, "http.timeout_ms", input.timeout_ms.unwrap_or(10_000), 100, MAX_TIMEOUT_MS, " ms");
    let max_body_bytes = range(
        errors,
        "http.max_body_bytes",
        input.max_body_bytes.unwrap_or(1 << 20),
        0,
        MAX_BODY_BYTES,
        " bytes",
    );
    HttpSettings { upstream_url, allowed_methods, timeout_ms, max_body_bytes }
}

/// The shortest health-check interval per replica of a service.
pub const MIN_INTERVAL_PER_REPLICA_MS: u32 = 250;

fn validate_check(
    check: HealthCheckSettings,
    replicas: u8,
    errors: &mut BTreeMap<String, String>,
) -> HealthCheckSettings {
    let path = match check.path.trim() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    if !path.starts_with('/') || path.len() > 256 || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.insert("health_check.path".into(), "Use a path starting with /, e.g. /healthz.".into());
    }
    // Every replica's node checks the upstream: the shortest interval grows with them, so an
    // upstream gets at most four checks a second from one service (a stranger's service must
    // not make the platform a traffic reflector).
    let shortest = (MIN_INTERVAL_PER_REPLICA_MS * u32::from(replicas)).max(500);
    if check.interval_ms < shortest && check.interval_ms >= 500 {
        errors.insert(
            "health_check.interval_ms".into(),
            format!(
                "With {replicas} replicas, check at most every {shortest} ms (each replica's node checks)."
            ),
        );
    }
    let interval_ms = range(errors, "health_check.interval_ms", check.interval_ms, 500, 3_600_000, " ms");
    let timeout_ms = range(errors, "health_check.timeout_ms", check.timeout_ms, 100, MAX_TIMEOUT_MS, " ms");
    if timeout_ms > interval_ms && !errors.contains_key("health_check.timeout_ms") {
        errors.insert("health_check.timeout_ms".into(), "The timeout must not exceed the interval.".into());
    }
    HealthCheckSettings { path, interval_ms, timeout_ms }
}

/// Refuses an upstream the egress policy can never let a call reach (a written-out address it
/// refuses, a user name or password in the URL); names are checked when called.
pub fn reachable(egress: &EgressPolicy, settings: &Settings) -> Result<()> {
    match settings.http.as_ref().map(|h| egress.check_url(&h.upstream_url)) {
        Some(Err(refusal)) => Err(ServicesError::Invalid(BTreeMap::from([(
            "http.upstream_url".to_owned(),
            refusal.to_string(),
        )]))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_dns_label_rules() {
        for ok in ["a", "weather", "geo-ip-2", "0day", &"a".repeat(63)] {
            assert!(is_slug(ok, 63), "{ok}");
        }
        for bad in ["", "-a", "a-", "Weather", "geo_ip", "a.b", "ä", "a b", &"a".repeat(64)] {
            assert!(!is_slug(bad, 63), "{bad}");
        }
    }

    fn http(url: &str) -> NewService {
        NewService {
            slug: "weather".into(),
            http: Some(HttpSettingsInput { upstream_url: url.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_filled_in() {
        let v = validate(http("http://127.0.0.1:9000/v1/")).unwrap();
        assert_eq!(v.name, "weather");
        assert_eq!(v.version, "1.0.0");
        assert_eq!(v.replicas, 2);
        let h = v.settings.http.unwrap();
        assert_eq!(h.upstream_url, "http://127.0.0.1:9000/v1");
        assert_eq!(h.allowed_methods.len(), METHODS.len());
        assert_eq!(v.settings.health_check.unwrap().path, "/");
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let mut input = http("ftp://example.com");
        input.slug = "Bad Slug".into();
        input.replicas = Some(9);
        input.price_per_call_micros = Some(-1);
        input.health_check =
            Some(HealthCheckSettings { path: "health".into(), interval_ms: 100, timeout_ms: 50 });
        let Err(ServicesError::Invalid(errors)) = validate(input) else { panic!("accepted") };
        for field in [
            "slug",
            "replicas",
            "price_per_call_micros",
            "http.upstream_url",
            "health_check.path",
            "health_check.interval_ms",
        ] {
            assert!(errors.contains_key(field), "{field} missing from {errors:?}");
        }
    }

    #[test]
    fn kv_services_take_no_upstream() {
        let mut input = http("http://x");
        input.kind = ServiceKind::Kv;
        assert!(
            matches!(validate(input), Err(ServicesError::Invalid(e)) if e.contains_key("http.upstream_url"))
        );
        let kv = NewService { slug: "cache".into(), kind: ServiceKind::Kv, ..Default::default() };
        assert!(validate(kv).unwrap().settings.http.is_none());
    }
}
