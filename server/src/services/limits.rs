//! What a service may ask for: the bounds validation holds registrations to.
/// Largest request body a service may accept: an invoke travels in one envelope, with room
/// for the method, path and headers.
pub const MAX_BODY_BYTES: u32 = 4_000_000;
/// Longest upstream timeout a service may set.
pub const MAX_TIMEOUT_MS: u32 = 60_000;
/// Most replicas a service may ask for.
pub const MAX_REPLICAS: u8 = 5;
/// Methods a service may allow.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
