//! The portal's service form (every field a string) read into the registry's typed input;
//! numbers that do not parse are reported under the form's own input names.
use app::types::{
    billing::PriceTier,
    services::{
        HealthCheckSettings, HttpSettingsInput, NewService, PolicySettings, ServiceForm, ServiceKind,
        ServiceUpdate,
    },
};
use std::collections::BTreeMap;

/// Parses the form's tiers (`1000=0.002, 10000=0.0015, *=0.001`); `None` when empty.
pub fn parse_tiers(text: &str) -> std::result::Result<Option<Vec<PriceTier>>, String> {
    let items: Vec<&str> = text.split([',', '\n', ';']).map(str::trim).filter(|t| !t.is_empty()).collect();
    if items.is_empty() {
        return Ok(None);
    }
    items
        .into_iter()
        .map(|item| {
            let (bound, price) = item.split_once('=').ok_or_else(|| {
                format!("{item:?}: write each tier as calls=price, e.g. 1000=0.002 or *=0.001.")
            })?;
            let up_to = match bound.trim() {
                "*" => None,
                n => Some(
                    n.replace('_', "")
                        .parse::<i64>()
                        .map_err(|_| format!("{n:?} is not a number of calls."))?,
                ),
            };
            let price_per_call_micros = app::types::billing::parse_price(price)?;
            Ok(PriceTier { up_to, price_per_call_micros })
        })
        .collect::<std::result::Result<Vec<_>, String>>()
        .map(Some)
}

/// Reads the portal's form (every field a string) into a registration; numbers that do not
/// parse are reported under their form field names.
pub fn new_service(form: &ServiceForm) -> std::result::Result<NewService, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    fn number<T: std::str::FromStr>(
        errors: &mut BTreeMap<String, String>,
        field: &str,
        value: &str,
    ) -> Option<T> {
        let value = value.trim().replace('_', "");
        if value.is_empty() {
            return None;
        }
        match value.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.insert(field.into(), "Enter a whole number.".into());
                None
            }
        }
    }
    let kind = match form.kind.trim() {
        "" | "http" => ServiceKind::Http,
        "kv" => ServiceKind::Kv,
        _ => {
            errors.insert("kind".into(), "Choose http or kv.".into());
            ServiceKind::Http
        }
    };
    let list = |s: &str| -> Vec<String> {
        s.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
    };
    let (price_per_call_micros, tiers) = match parse_tiers(&form.tiers) {
        Ok(None) => match app::types::billing::parse_price(&form.price_per_call) {
            Ok(price) => (Some(price), None),
            Err(message) => {
                errors.insert("price_per_call".into(), message);
                (None, None)
            }
        },
        Ok(Some(tiers)) => {
            if !form.price_per_call.trim().is_empty() {
                errors.insert(
                    "price_per_call".into(),
                    "Leave the flat price empty when you give tiers.".into(),
                );
            }
            (None, Some(tiers))
        }
        Err(message) => {
            errors.insert("tiers".into(), message);
            (None, None)
        }
    };
    let free_calls_per_month = number::<i64>(&mut errors, "free_calls_per_month", &form.free_calls_per_month);
    let replicas = number::<u8>(&mut errors, "replicas", &form.replicas);
    let timeout_ms = number(&mut errors, "timeout_ms", &form.timeout_ms);
    let max_body_bytes = number(&mut errors, "max_body_bytes", &form.max_body_bytes);
    let interval = number(&mut errors, "health_interval_ms", &form.health_interval_ms);
    let check_timeout = number(&mut errors, "health_timeout_ms", &form.health_timeout_ms);
    let retries = number(&mut errors, "retries", &form.retries);
    let breaker_failures = number(&mut errors, "breaker_failures", &form.breaker_failures);
    let breaker_cooldown = number(&mut errors, "breaker_cooldown_ms", &form.breaker_cooldown_ms);
    let is_http = kind == ServiceKind::Http;
    let defaults = PolicySettings::default();
    let new = NewService {
        slug: form.slug.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        version: form.version.clone(),
        tags: list(&form.tags),
        kind,
        price_per_call_micros,
        free_calls_per_month,
        tiers,
        replicas,
        http: is_http.then(|| HttpSettingsInput {
            upstream_url: form.upstream_url.clone(),
            allowed_methods: Some(list(&form.allowed_methods)),
            timeout_ms,
            max_body_bytes,
        }),
        health_check: is_http.then(|| HealthCheckSettings {
            path: form.health_path.clone(),
            interval_ms: interval.unwrap_or(10_000),
            timeout_ms: check_timeout.unwrap_or(2_000),
        }),
        policy: Some(PolicySettings {
            retries: retries.unwrap_or(defaults.retries),
            breaker_failures: breaker_failures.unwrap_or(defaults.breaker_failures),
            breaker_cooldown_ms: breaker_cooldown.unwrap_or(defaults.breaker_cooldown_ms),
        }),
    };
    if errors.is_empty() { Ok(new) } else { Err(errors) }
}

/// The update a submitted edit form means (every field present; slug and kind ignored).
pub fn service_update(form: &ServiceForm) -> std::result::Result<ServiceUpdate, BTreeMap<String, String>> {
    let new = new_service(form)?;
    Ok(ServiceUpdate {
        name: Some(new.name),
        description: Some(new.description),
        version: Some(new.version),
        tags: Some(new.tags),
        price_per_call_micros: new.price_per_call_micros,
        free_calls_per_month: Some(new.free_calls_per_month.unwrap_or(0)),
        tiers: new.tiers,
        replicas: new.replicas,
        http: new.http,
        health_check: new.health_check,
        policy: new.policy,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reports_numbers_that_do_not_parse_under_their_names() {
        let form = ServiceForm {
            slug: "x".into(),
            replicas: "two".into(),
            timeout_ms: "1s".into(),
            ..Default::default()
        };
        let errors = new_service(&form).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["replicas", "timeout_ms"]);
    }
}
