//! The portal's static files: precompressed variants by `Accept-Encoding`, `Vary` on every
//! file, a year's immutable caching for content-hashed names and none for pages. Each test
//! serves a site root of its own, made here, so none depends on a built bundle.
use reqwest::{Response, StatusCode};
use std::path::Path;
use tempfile::TempDir;
use web4_tests::{TestApp, spawn_app_with};

const HASHED_WASM: &str = "/pkg/web4.AbCdEfGhIjKlMnOpQrSt-_.wasm";
const HASHED_JS: &str = "/pkg/web4.0123456789abcdefABCDEF.js";
const CSS: &str = "/pkg/web4.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site root with a hashed wasm and JS (each with a `.br` and a `.gz` whose contents say
/// which one was sent), a plain CSS with only a `.gz`, and an icon with no variant at all.
fn site() -> TempDir {
    let root = tempfile::tempdir().expect("temporary directory");
    let write = |path: &str, contents: &str| {
        let file = root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("create the directory");
        std::fs::write(file, contents).expect("write the file");
    };
    for path in [HASHED_WASM, HASHED_JS] {
        write(path, "identity");
        write(&format!("{path}.br"), "brotli");
        write(&format!("{path}.gz"), "gzip");
    }
    write(CSS, "body {}");
    write(&format!("{CSS}.gz"), "gzip css");
    write("/favicon.svg", "<svg/>");
    root
}

async fn app_on(site: &Path) -> TestApp {
    let site = site.to_path_buf();
    spawn_app_with(move |config| config.site_root = site).await
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> Response {
    let mut request = app.client.get(app.url(path));
    if let Some(encoding) = accept_encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.expect("the request is answered")
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|value| value.to_str().expect("an ASCII header"))
}

#[tokio::test]
async fn the_bundle_is_sent_brotli_or_gzip_by_accept_encoding_and_plain_otherwise() {
    let site = site();
    let app = app_on(site.path()).await;

    for path in [HASHED_WASM, HASHED_JS] {
        let cases = [
            (Some("gzip, deflate, br, zstd"), Some("br"), "brotli"),
            (Some("br"), Some("br"), "brotli"),
            (Some("gzip"), Some("gzip"), "gzip"),
            (Some("gzip;q=1, br;q=0"), Some("gzip"), "gzip"),
            (Some("deflate"), None, "identity"),
            (None, None, "identity"),
        ];
        for (accept, encoding, body) in cases {
            let response = get(&app, path, accept).await;
            assert_eq!(response.status(), StatusCode::OK, "{path} with {accept:?}");
            assert_eq!(header(&response, "content-encoding"), encoding, "{path} with {accept:?}");
            assert_eq!(header(&response, "vary"), Some("accept-encoding"), "{path} with {accept:?}");
            assert_eq!(header(&response, "cache-control"), Some(IMMUTABLE), "{path} with {accept:?}");
            let content_type = if path.ends_with(".wasm") { "application/wasm" } else { "javascript" };
            let sent = header(&response, "content-type").unwrap_or_default();
            assert!(sent.contains(content_type), "{path} with {accept:?}: {sent}");
            assert_eq!(response.text().await.unwrap(), body, "{path} with {accept:?}");
        }
    }
}

#[tokio::test]
async fn a_file_with_no_precompressed_variant_is_sent_as_it_is() {
    let site = site();
    let app = app_on(site.path()).await;

    // Only a .gz exists: brotli is not invented, gzip is used when allowed.
    let response = get(&app, CSS, Some("br")).await;
    assert_eq!(header(&response, "content-encoding"), None);
    assert_eq!(header(&response, "vary"), Some("accept-encoding"));
    assert_eq!(response.text().await.unwrap(), "body {}");
    let response = get(&app, CSS, Some("br, gzip")).await;
    assert_eq!(header(&response, "content-encoding"), Some("gzip"));
    assert_eq!(response.text().await.unwrap(), "gzip css");

    let response = get(&app, "/favicon.svg", Some("br, gzip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-encoding"), None);
    assert_eq!(header(&response, "content-type"), Some("image/svg+xml"));
    assert_eq!(response.text().await.unwrap(), "<svg/>");
}

#[tokio::test]
async fn only_hashed_names_are_cached_for_good_and_pages_not_at_all() {
    let site = site();
    let app = app_on(site.path()).await;

    // Unhashed files may be kept, but are revalidated before each use.
    for path in [CSS, "/favicon.svg"] {
        let response = get(&app, path, Some("br, gzip")).await;
        assert_eq!(header(&response, "cache-control"), Some("no-cache"), "{path}");
    }

    // A hashed file revalidates to a 304 that keeps the caching.
    let response = get(&app, HASHED_WASM, Some("br")).await;
    let modified = header(&response, "last-modified").expect("a Last-Modified").to_string();
    let response = app
        .client
        .get(app.url(HASHED_WASM))
        .header("accept-encoding", "br")
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, "cache-control"), Some(IMMUTABLE));

    // Pages, found or not, are never stored; a missing file is the portal's 404 page.
    for (path, status) in
        [("/", StatusCode::OK), ("/login", StatusCode::OK), ("/pkg/web4.nope.wasm", StatusCode::NOT_FOUND)]
    {
        let response = get(&app, path, Some("br, gzip")).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(header(&response, "cache-control"), Some("no-store"), "{path}");
        assert!(header(&response, "content-type").is_some_and(|t| t.starts_with("text/html")), "{path}");
        assert_eq!(header(&response, "content-encoding"), None, "{path}");
    }
}

#[tokio::test]
async fn pages_name_the_plain_bundle_when_the_site_was_not_built_with_hashes() {
    let site = site();
    let app = app_on(site.path()).await;

    // No hash.txt beside the test binary: the pages name web4.js and web4.css.
    let html = get(&app, "/", None).await.text().await.unwrap();
    for name in ["/pkg/web4.js", "/pkg/web4.css\""] {
        assert!(html.contains(name), "{name} missing in {html}");
    }
}

/// Sends `GET {target}` exactly as written (no client-side normalisation of `..`) and returns
/// the raw answer.
async fn raw_get(app: &TestApp, target: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_site_root() {
    let outside = tempfile::tempdir().expect("temporary directory");
    std::fs::write(outside.path().join("secret.txt"), "the host's secret").expect("write the secret");
    let site = outside.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).expect("create the site root");
    std::fs::write(site.join("pkg/web4.css"), "body {}").expect("write the stylesheet");
    let app = app_on(&site).await;
    for target in [
        "/../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/pkg/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "//secret.txt",
    ] {
        let answer = raw_get(&app, target).await;
        assert!(
            !answer.contains("the host's secret"),
            "{target} read a file outside the site root:\n{answer}"
        );
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        assert!(matches!(status, "400" | "404"), "{target} answered {status}:\n{answer}");
    }
    // The site root itself still serves.
    assert_eq!(get(&app, CSS, None).await.status(), StatusCode::OK);
}
