//! Header hygiene on the invoke path, in both directions, in one place.
//!
//! To the upstream: never the caller's credentials for the platform (`Authorization`,
//! `Proxy-Authorization`, `Cookie`) nor any `x-web4-*` a caller could forge; the platform adds
//! its own (`x-web4-invoke-id`, `x-web4-consumer`). With the marketplace, a provider would
//! otherwise collect every consumer's API key. The caller's `traceparent` and `tracestate` are
//! not passed raw either: the hosting node sends its own `traceparent` (a child of the
//! platform's spans) and the entry node a vetted `tracestate`.
//!
//! From the upstream: an answer is served on the platform's origin, so nothing in it may set
//! the platform's cookies, widen its CORS, or pose as the platform's own headers. Filtered at
//! the entry node (the hosting node filters too, but a hosted node may lie).
use super::executor::is_hop_by_hop;

/// Whether a caller's request header is passed to the upstream.
pub fn to_upstream(name: &str) -> bool {
    !is_hop_by_hop(name)
        && !matches!(name, "authorization" | "proxy-authorization" | "cookie" | "traceparent" | "tracestate")
        && !name.starts_with("x-web4-")
}

/// Whether an upstream's response header is passed to the caller.
pub fn from_upstream(name: &str) -> bool {
    !is_hop_by_hop(name)
        && !matches!(
            name,
            "set-cookie"
                | "set-cookie2"
                | "x-request-id"
                | "content-security-policy"
                | "x-content-type-options"
        )
        && !name.starts_with("x-web4-")
        && !name.starts_with("access-control-")
}

/// Headers every invoke answer carries: the upstream's body may be anything (HTML that
/// reflects a caller's input, say) and is served on the platform's origin, so it is never
/// sniffed into something executable and, if a browser renders it, it renders sandboxed —
/// no scripts, no same-origin access to the portal.
pub const ON_EVERY_ANSWER: [(&str, &str); 2] =
    [("x-content-type-options", "nosniff"), ("content-security-policy", "sandbox; default-src 'none'")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_credentials_and_headers_never_reach_the_upstream() {
        for h in [
            "authorization",
            "proxy-authorization",
            "cookie",
            "connection",
            "te",
            "host",
            "x-web4-consumer",
            "traceparent",
            "tracestate",
        ] {
            assert!(!to_upstream(h), "{h}");
        }
        for h in ["content-type", "accept", "x-request-id", "x-api-version"] {
            assert!(to_upstream(h), "{h}");
        }
    }

    #[test]
    fn upstream_answers_cannot_set_cookies_widen_cors_or_pose_as_the_platform() {
        for h in [
            "set-cookie",
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "x-web4-route",
            "x-request-id",
            "transfer-encoding",
            "content-security-policy",
        ] {
            assert!(!from_upstream(h), "{h}");
        }
        for h in ["content-type", "cache-control", "etag", "x-custom"] {
            assert!(from_upstream(h), "{h}");
        }
    }
}
