//! Attacks on the platform, each written as the attacker's requests: a stranger with an
//! account, a malicious upstream, a malicious node. Every test here failed on the code before
//! its defence existed.
mod defects;
mod egress;
mod headers;
mod idempotency;
mod invoke_origin;
mod keys;
mod limits;
mod mesh;
mod metering;
mod routes;
mod throttles;
