//! The Cloud API's OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types' `ToSchema` derives, served at `/api/v1/openapi.json`.
use super::{
    accounts, billing, events, health, keys, marketplace, memory, nodes, observability, services, traces,
    webhooks,
};
use axum::{Json, Router, extract::State, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("w4k_…")
                    .description(Some(
                        "An API key from the portal's API keys page or `POST /api/v1/keys`. Scopes: `read` for \
                         GET/HEAD, `write` for other methods, `invoke` for /api/v1/invoke/….",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::SESSION_COOKIE,
                "The portal's session (log in through /api/v1/auth/login); holds every scope.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Web4 Platform Cloud API",
        description = "Register services, call them through the mesh, manage API keys, read usage, invoices and \
                       earnings. JSON in and out; every error is `{\"error\": {\"code\", \"message\", \"details\"?}}`; \
                       lists are cursor-paginated (`limit` ≤ 100, pass `next_cursor` back as `cursor`); every \
                       response carries `x-request-id`. Authenticated requests are rate limited per key and per \
                       account (429 with `Retry-After` and `RateLimit-*` headers). POSTs accept `Idempotency-Key` \
                       (responses kept 24 h; the same key with another body answers 422). Money: amounts in minor \
                       units of USD (cents), per-call prices in micros (millionths of a dollar).",
    ),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    paths(
        accounts::sign_up, accounts::log_in, accounts::log_out, accounts::me,
        services::list_services, services::create_service, services::get_service, services::update_service, services::delete_service, services::discover_service,
        services::rotate_proxy_secret,
        services::invoke_service,
        keys::list_api_keys, keys::create_api_key, keys::get_api_key, keys::revoke_api_key,
        billing::get_usage, billing::preview_invoice, billing::finalize_invoices, billing::list_invoices, billing::get_invoice, billing::export_invoice_json,
        billing::export_invoice_csv, billing::list_line_events, billing::get_earnings,
        marketplace::browse_listings, marketplace::create_listing, marketplace::list_my_listings, marketplace::get_listing,
        marketplace::update_listing, marketplace::publish_listing, marketplace::deprecate_listing, marketplace::unpublish_listing,
        marketplace::create_plan, marketplace::get_invited_plan, marketplace::list_subscribers, marketplace::list_subscriptions, marketplace::subscribe,
        marketplace::get_subscription, marketplace::subscription_activity, marketplace::update_subscription, marketplace::cancel_subscription, marketplace::act_on_subscription,
        marketplace::list_reviews, marketplace::review_listing, marketplace::reply_to_review,
        events::publish, events::replay, events::republish, events::create_consumer, events::list_consumers,
        events::get_consumer, events::delete_consumer, events::fetch, events::settle,
        webhooks::list_webhooks, webhooks::create_webhook, webhooks::get_webhook, webhooks::update_webhook, webhooks::delete_webhook,
        webhooks::rotate_webhook_secret, webhooks::enable_webhook, webhooks::disable_webhook, webhooks::list_deliveries,
        webhooks::list_attempts, webhooks::replay_delivery, webhooks::replay_webhook,
        memory::create_bucket, memory::list_buckets, memory::get_bucket, memory::delete_bucket, memory::list_keys,
        memory::get_key, memory::put_key, memory::delete_key, memory::purge_key, memory::touch_key, memory::key_history, memory::watch_bucket,
        nodes::list_nodes, nodes::get_node, nodes::act_on_node, nodes::delete_node, nodes::get_topology,
        nodes::list_join_tokens, nodes::create_join_token, nodes::revoke_join_token, nodes::create_challenge, nodes::join, nodes::heartbeat,
        observability::service_metrics, observability::node_metrics, observability::mesh_drops,
        health::healthz, health::readyz,
        traces::list_traces, traces::get_trace,
    ),
    components(schemas(
        app::types::marketplace::Sort, app::types::marketplace::SubscriberAction,
        app::types::observability::TraceStatus,
    )),
    tags(
        (name = "Accounts", description = "Sign up, log in, the current account"),
        (name = "Services", description = "The service registry, scoped to your account"),
        (name = "Invoke", description = "Calling services through the mesh (metered)"),
        (name = "API keys", description = "Bearer keys: shown once, stored as hashes, revocable at once"),
        (name = "Billing", description = "Usage, the draft invoice, invoices, exports, earnings"),
        (name = "Marketplace", description = "Listings, plans and subscriptions: browse (public), publish, subscribe"),
        (name = "Events", description = "The event log: publish on your topics, replay, durable consumers, dead letters"),
        (name = "Webhooks", description = "Signed webhooks (Standard Webhooks): endpoints receive your events by POST, retried with backoff; deliveries, attempts, replay"),
        (name = "Memory", description = "KV buckets per account: revisions, compare-and-swap, history (≤ 64), TTL with touch. Keys 1–1024 bytes of `A-Z a-z 0-9 _ . = / -` (percent-encode `/` in paths), values base64 ≤ 1 MiB, ≤ 100 buckets and ≤ 100 000 live keys per account"),
        (name = "Mesh (operator)", description = "Nodes, topology and join tokens (operator only)"),
        (name = "Mesh (nodes)", description = "What hosted nodes call: join and heartbeats"),
        (name = "Traces", description = "Recent invokes' traces (W3C Trace Context): the gateway, attempts, mesh hops, the hosting node and the upstream. Yours are the calls to your services and the calls you made; kept in memory for an hour"),
        (name = "Health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as this platform serves it: with `invoke_origin` set, the invoke operation
/// names that origin as its server.
pub fn served(invoke_origin: Option<&crate::config::InvokeOrigin>) -> utoipa::openapi::OpenApi {
    let mut doc = document();
    if let Some(origin) = invoke_origin {
        for (path, item) in doc.paths.paths.iter_mut() {
            if path.starts_with("/api/v1/invoke/") {
                let server = utoipa::openapi::server::Server::new(origin.as_str());
                item.servers = Some(vec![server]);
            }
        }
    }
    doc
}

/// `GET /openapi.json` under `/api/v1` (public: it describes, it does not grant).
pub fn router() -> Router<crate::state::AppState> {
    Router::new().route(
        "/openapi.json",
        get(|State(state): State<crate::state::AppState>| async move {
            Json(served(state.config.invoke_origin.as_ref()))
        }),
    )
}

/// The reference page's content: every operation grouped by tag, with a generated example
/// body and a curl command against `origin` (e.g. `http://127.0.0.1:3000`), or the invoke
/// origin for invokes when one is set.
pub fn docs_view(
    origin: &str,
    invoke_origin: Option<&crate::config::InvokeOrigin>,
) -> app::types::docs::ApiDocsView {
    use app::types::docs::{ApiDocsView, DocGroup};
    let doc = served(invoke_origin);
    let schemas = doc.components.as_ref().map(|c| serde_json::to_value(&c.schemas).unwrap_or_default());
    let schemas = schemas.unwrap_or_default();
    let mut groups: Vec<DocGroup> = doc
        .tags
        .iter()
        .flatten()
        .map(|t| DocGroup {
            name: t.name.clone(),
            description: t.description.clone().unwrap_or_default(),
            endpoints: Vec::new(),
        })
        .collect();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, op) in operations {
            let Some(op) = op else { continue };
            // The invoke path lists every method; one example (POST) is enough.
            if path.contains("/invoke/") && method != "post" {
                continue;
            }
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_else(|| "Other".into());
            let origin = item.servers.as_ref().and_then(|s| s.first()).map_or(origin, |s| s.url.as_str());
            let endpoint = endpoint_doc(origin, path, method, op, &tag, &schemas);
            match groups.iter_mut().find(|g| g.name == tag) {
                Some(group) => group.endpoints.push(endpoint),
                None => {
                    groups.push(DocGroup { name: tag, description: String::new(), endpoints: vec![endpoint] })
                }
            }
        }
    }
    groups.retain(|g| !g.endpoints.is_empty());
    ApiDocsView {
        title: doc.info.title.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        version: doc.info.version.clone(),
        groups,
    }
}

/// One operation of the document as the reference page shows it.
fn endpoint_doc(
    origin: &str,
    path: &str,
    method: &str,
    op: &utoipa::openapi::path::Operation,
    tag: &str,
    schemas: &serde_json::Value,
) -> app::types::docs::EndpointDoc {
    use app::types::docs::{EndpointDoc, ParamDoc};
    use utoipa::openapi::{RefOr, Required, path::ParameterIn};
    let upper = method.to_uppercase();
    // An operation whose every security requirement is empty needs no credentials.
    let public = op.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty())))
    });
    let params = op
        .parameters
        .iter()
        .flatten()
        .map(|p| ParamDoc {
            name: p.name.clone(),
            location: match p.parameter_in {
                ParameterIn::Query => "query",
                ParameterIn::Path => "path",
                ParameterIn::Header => "header",
                ParameterIn::Cookie => "cookie",
            }
            .to_owned(),
            required: matches!(p.required, Required::True),
            description: p.description.clone().unwrap_or_default(),
        })
        .collect();
    let body_schema = op
        .request_body
        .as_ref()
        .and_then(|b| b.content.get("application/json"))
        .and_then(|c| c.schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok());
    let request_example = body_schema
        .map(|schema| serde_json::to_string_pretty(&example(&schema, schemas, 0)).unwrap_or_default());
    let responses = op
        .responses
        .responses
        .iter()
        .map(|(status, r)| {
            let description = match r {
                RefOr::T(response) => response.description.clone(),
                RefOr::Ref(_) => String::new(),
            };
            (status.clone(), description)
        })
        .collect();
    EndpointDoc {
        anchor: format!("{method}-{}", path.trim_matches('/').replace(['/', '{', '}', '.'], "-")),
        auth: auth_of(path, &upper, tag, public),
        curl: curl_of(origin, path, &upper, public, request_example.as_deref()),
        method: upper,
        path: path.to_owned(),
        summary: op.summary.clone().unwrap_or_default(),
        description: op.description.clone().unwrap_or_default(),
        params,
        request_example,
        responses,
    }
}

/// Who may call the operation, in words.
fn auth_of(path: &str, method: &str, tag: &str, public: bool) -> String {
    let operator = tag.contains("operator") || path.ends_with("/billing/finalize");
    let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap_or(axum::http::Method::GET);
    let scope = super::caller::required_scope(&method, path);
    if public {
        "None (public)".to_owned()
    } else if operator {
        format!(
            "The operator: their portal session or one of their API keys with the `{}` scope",
            scope.as_str()
        )
    } else {
        format!("An API key with the `{}` scope, or the portal session", scope.as_str())
    }
}

/// A curl command that makes the call.
fn curl_of(origin: &str, path: &str, method: &str, public: bool, body: Option<&str>) -> String {
    let url_path = path.replace('{', "<").replace('}', ">");
    let mut curl = match method {
        "GET" => format!("curl \"{origin}{url_path}\""),
        m => format!("curl -X {m} \"{origin}{url_path}\""),
    };
    if !public {
        curl.push_str(" \\\n  -H \"Authorization: Bearer $WEB4_API_KEY\"");
    }
    if path.contains("/invoke/") {
        curl.push_str(" \\\n  -H \"Idempotency-Key: order-42\" \\\n  -d 'hello'");
    } else if let Some(body) = body {
        let compact =
            serde_json::from_str::<serde_json::Value>(body).map(|v| v.to_string()).unwrap_or_default();
        curl.push_str(&format!(" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{compact}'"));
    }
    curl
}

/// An example value for a JSON schema: required properties only, placeholders by type.
fn example(schema: &serde_json::Value, schemas: &serde_json::Value, depth: usize) -> serde_json::Value {
    use serde_json::{Value, json};
    if depth > 6 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return example(&schemas[name], schemas, depth + 1);
    }
    if let Some(first) = schema["oneOf"]
        .as_array()
        .or(schema["anyOf"].as_array())
        .and_then(|v| v.iter().find(|s| s["type"] != "null"))
    {
        return example(first, schemas, depth + 1);
    }
    if let Some(all) = schema["allOf"].as_array().and_then(|v| v.first()) {
        return example(all, schemas, depth + 1);
    }
    if let Some(values) = schema["enum"].as_array().and_then(|v| v.first()) {
        return values.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(types) => types.iter().find(|t| *t != "null").and_then(Value::as_str).unwrap_or("null"),
        Value::String(t) => t.as_str(),
        _ if schema["properties"].is_object() => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let required: Vec<&str> =
                schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let mut out = serde_json::Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                if required.contains(&name.as_str()) {
                    out.insert(name.clone(), example(property, schemas, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => json!([example(&schema["items"], schemas, depth + 1)]),
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2026-11-22T12:00:00Z"),
            Some("date") => json!("2026-11-01"),
            _ => json!("string"),
        },
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Client generators name methods after operationIds: two operations with one id make
    /// one of them unreachable.
    #[test]
    fn every_operation_has_its_own_operation_id() {
        let doc = document();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in &doc.paths.paths {
            let operations =
                [&item.get, &item.post, &item.put, &item.patch, &item.delete, &item.head, &item.options];
            for op in operations.into_iter().flatten() {
                let id = op.operation_id.clone().expect("every operation has an id");
                if let Some(other) = seen.insert(id.clone(), path.clone())
                    && other != *path
                {
                    panic!("{id} names operations of {other} and {path}");
                }
            }
        }
        assert!(seen.contains_key("list_services") && seen.contains_key("list_api_keys"), "{seen:?}");
    }

    #[test]
    fn the_reference_has_a_curl_for_every_operation() {
        let docs = docs_view("http://127.0.0.1:3000", None);
        let endpoints: Vec<_> = docs.groups.iter().flat_map(|g| &g.endpoints).collect();
        assert!(endpoints.len() >= 30, "{}", endpoints.len());
        for e in &endpoints {
            assert!(e.curl.starts_with("curl "), "{}", e.curl);
            assert!(
                e.curl.contains(&format!(
                    "http://127.0.0.1:3000{}",
                    e.path.replace('{', "<").replace('}', ">")
                ))
            );
        }
        let create = endpoints.iter().find(|e| e.method == "POST" && e.path == "/api/v1/keys").unwrap();
        let body: serde_json::Value =
            serde_json::from_str(create.request_example.as_deref().unwrap()).unwrap();
        assert!(body["name"].is_string() && body["scopes"].is_array(), "{body}");
        assert!(create.auth.contains("`write`"));
        let signup = endpoints.iter().find(|e| e.path == "/api/v1/auth/signup").unwrap();
        assert_eq!(signup.auth, "None (public)");
        assert!(!signup.curl.contains("Authorization"));
    }

    #[test]
    fn with_an_invoke_origin_the_invoke_operation_names_it_and_nothing_else_does() {
        let origin = crate::config::InvokeOrigin::parse("https://invoke.example.com").unwrap();
        let doc = serde_json::to_value(served(Some(&origin))).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let servers = &item["servers"];
            if path.starts_with("/api/v1/invoke/") {
                assert_eq!(servers[0]["url"], "https://invoke.example.com", "{path}");
            } else {
                assert!(servers.is_null(), "{path}: {servers}");
            }
        }
        let docs = docs_view("http://127.0.0.1:3000", Some(&origin));
        let endpoints: Vec<_> = docs.groups.iter().flat_map(|g| &g.endpoints).collect();
        let invoke = endpoints.iter().find(|e| e.path.starts_with("/api/v1/invoke/")).unwrap();
        assert!(invoke.curl.contains("https://invoke.example.com/api/v1/invoke/"), "{}", invoke.curl);
        let keys = endpoints.iter().find(|e| e.path == "/api/v1/keys").unwrap();
        assert!(keys.curl.contains("http://127.0.0.1:3000/api/v1/keys"), "{}", keys.curl);
    }
}
