//! The portal's static files (the wasm bundle, its JS and CSS under `/pkg/`, and `public/`'s
//! files at the site root), served from the site root by tower-http's `ServeDir`:
//!
//! - **Precompressed.** A release build (`cargo leptos build --release --precompress`) writes a
//!   `.br` and a `.gz` next to every file; `ServeDir` answers the one the request's
//!   `Accept-Encoding` allows (brotli first), the file itself otherwise, and works the same when
//!   there are none (debug builds). Every answer says `Vary: Accept-Encoding`.
//! - **Cached for good when hashed.** cargo-leptos' `hash-files` names the bundle
//!   `web4.<hash>.wasm` (a new build, a new name), so those answers say `public,
//!   max-age=31536000, immutable`; unhashed files say `no-cache` (kept, revalidated with
//!   `If-Modified-Since`). Pages never come from here: a path with no file falls through to
//!   Leptos' error handler, which renders the 404 page (and the security headers make it
//!   `no-store`, like every page).
use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use std::path::Path;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of any other static file: may be kept, but is checked before each use.
pub const REVALIDATE: &str = "no-cache";

/// Marks an answer that is not a static file (the fallback's page), so that it gets none of
/// the static files' caching.
#[derive(Clone, Copy)]
struct NotAFile;

/// A service for the router's fallback: the file under `site_root` that the path names (its
/// precompressed variant where the request accepts one), or else `not_found`'s answer.
pub fn service<F>(site_root: &Path, not_found: F) -> Router
where
    F: tower::Service<Request<Body>, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    F::Future: Send + 'static,
{
    let not_found = tower::ServiceExt::map_response(not_found, |mut response: Response| {
        response.extensions_mut().insert(NotAFile);
        response
    });
    let files = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        // A directory is not a file to serve: no redirect to `dir/`, no index.html.
        .append_index_html_on_directories(false)
        // Any method that names no file gets the fallback's answer, as before this service.
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    Router::new().fallback_service(files).layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.extensions().get::<NotAFile>().is_some() {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let policy = if hashed { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Whether a path's file name carries cargo-leptos' content hash: `name.<hash>.ext`, the hash
/// being an MD5 in unpadded URL-safe base64 (22 characters).
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.').rev();
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == 22
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the site under `site_root` was built with hashed file names that this server can
/// name in its pages: cargo-leptos writes the hashes to `hash.txt` next to the server binary
/// (where Leptos reads them), and that file's wasm must be in `site_root/pkg`. A stale or
/// missing `hash.txt` (a debug build, a test binary) means plain names.
pub fn site_is_hashed(site_root: &Path, output_name: &str) -> bool {
    let Some(hash_file) = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("hash.txt")))
    else {
        return false;
    };
    let Ok(hashes) = std::fs::read_to_string(hash_file) else {
        return false;
    };
    hashes
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(kind, _)| kind.trim() == "wasm")
        .is_some_and(|(_, hash)| {
            site_root.join("pkg").join(format!("{output_name}.{}.wasm", hash.trim())).is_file()
        })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/web4.0123456789abcdefABCD-_.wasm"));
        assert!(is_hashed("/pkg/__wasm_split.0123456789abcdefABCDEF.js"));
        assert!(!is_hashed("/pkg/web4.wasm"));
        assert!(!is_hashed("/pkg/web4.css"));
        assert!(!is_hashed("/favicon.svg"));
        assert!(!is_hashed("/pkg/.0123456789abcdefABCDEF.js"));
        assert!(!is_hashed("/pkg/web4.0123456789abcdefABCDE!.js"));
        assert!(!is_hashed("/pkg/web4.short.js"));
        // Browsers never ask for a precompressed variant by its own name.
        assert!(!is_hashed("/pkg/web4.0123456789abcdefABCDEF.wasm.br"));
    }
}
