//! The OpenAPI document: generated from the code, public, and true to the routes.
use reqwest::StatusCode;
use serde_json::Value;
use web4_tests::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_only_real_ones() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/services",
        "/api/v1/invoke/{service}/{path}",
        "/api/v1/keys",
        "/api/v1/keys/{id}",
        "/api/v1/usage",
        "/api/v1/billing/preview",
        "/api/v1/invoices/{id}/export.csv",
        "/api/v1/earnings",
        "/api/v1/nodes",
        "/api/v1/kv/buckets/{bucket}/keys/{key}",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["api_key"]["scheme"] == "bearer");
    assert!(doc["components"]["schemas"]["ServiceView"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    // Every documented operation exists: the router never answers "no API endpoint" for it.
    let client = reqwest::Client::new();
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{service}", "00000000-0000-7000-8000-000000000000")
            .replace("{path}", "x")
            .replace("{position}", "1")
            .replace("{action}", "drain")
            .replace("{id}", "00000000-0000-7000-8000-000000000000");
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let response = client.request(method.clone(), app.url(&concrete)).send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED && !text.contains("There is no API endpoint"),
                "{method} {concrete}: {status} {text}"
            );
        }
    }
    assert!(operations >= 35, "{operations} operations");

    // A path parameter is one the path names: a query struct documented without
    // `parameter_in = Query` would be declared "in: path" and its checks never fuzzed.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                if parameter["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: `{name}` is not in the path"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_reference_in_the_openapi_document_resolves() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    let mut missing: Vec<&str> = text
        .split("\"#/components/schemas/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    missing.dedup();
    assert!(missing.is_empty(), "unresolvable references: {missing:?}");
}
