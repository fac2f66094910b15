//! Secrets shown once after a plain (no-JavaScript) form post: a new API key or join token.
//! The answer to such a post is a redirect, which would lose the secret, and the URL must never
//! carry it. The session store is a database table, so the secret is not put there either: it
//! is sealed (ChaCha20-Poly1305) under a fresh random key that only the browser holds, in a
//! short-lived `HttpOnly`, `SameSite=Strict` cookie; the session keeps only the sealed bytes.
//! The next page load opens them and forgets both. A copy of the database alone reveals
//! nothing, and neither does the cookie alone.
use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit,
    aead::{Aead, AeadCore, OsRng, Payload},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// How long a sealed secret waits for the page that shows it.
const MAX_AGE_SECS: i64 = 600;

/// A secret sealed for one slot (the slot's name is bound into the seal).
#[derive(Debug, Serialize, Deserialize)]
pub struct Sealed {
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// The cookie holding the key of `slot`'s seal.
fn cookie_name(slot: &str) -> String {
    format!("web4_flash_{}", slot.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

/// Seals `value` for `slot`; returns the sealed bytes (for the session) and the `Set-Cookie`
/// value carrying the key (for the browser).
pub fn seal<T: Serialize>(slot: &str, value: &T, secure: bool) -> anyhow::Result<(Sealed, HeaderValue)> {
    let key = ChaCha20Poly1305::generate_key(&mut OsRng);
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let plaintext = serde_json::to_vec(value)?;
    let ciphertext = ChaCha20Poly1305::new(&key)
        .encrypt(&nonce, Payload { msg: &plaintext, aad: slot.as_bytes() })
        .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
    let cookie = cookie::Cookie::build((cookie_name(slot), URL_SAFE_NO_PAD.encode(key)))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(MAX_AGE_SECS));
    Ok((Sealed { nonce: nonce.to_vec(), ciphertext }, HeaderValue::try_from(cookie.to_string())?))
}

/// Opens `sealed` with the key the request's cookie for `slot` carries: `None` without the
/// cookie, or when it does not open the seal.
pub fn open<T: DeserializeOwned>(slot: &str, sealed: &Sealed, request: &HeaderMap) -> Option<T> {
    let name = cookie_name(slot);
    let key = request
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c.value()).ok())?;
    let key = chacha20poly1305::Key::from_exact_iter(key)?;
    let nonce = chacha20poly1305::Nonce::from_exact_iter(sealed.nonce.iter().copied())?;
    let plaintext = ChaCha20Poly1305::new(&key)
        .decrypt(&nonce, Payload { msg: &sealed.ciphertext, aad: slot.as_bytes() })
        .ok()?;
    serde_json::from_slice(&plaintext).ok()
}

/// The `Set-Cookie` value that removes `slot`'s key cookie.
pub fn forget(slot: &str, secure: bool) -> Option<HeaderValue> {
    let cookie = cookie::Cookie::build((cookie_name(slot), ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO);
    HeaderValue::try_from(cookie.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::try_from(format!("other=1; {pair}")).unwrap());
        headers
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_cookie_and_its_slot() {
        let (sealed, cookie) = seal("api_key", &"w4k_secret", false).unwrap();
        let text = cookie.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Strict"), "{text}");
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("w4k_secret"));

        let request = request_with(&cookie);
        assert_eq!(open::<String>("api_key", &sealed, &request).as_deref(), Some("w4k_secret"));
        assert_eq!(open::<String>("api_key", &sealed, &HeaderMap::new()), None, "no cookie");
        let (_, other) = seal("api_key", &"x", false).unwrap();
        assert_eq!(open::<String>("api_key", &sealed, &request_with(&other)), None, "another key");
    }

    #[test]
    fn secure_cookies_are_marked_secure() {
        let (_, cookie) = seal("join_token", &1, true).unwrap();
        assert!(cookie.to_str().unwrap().contains("Secure"));
        assert!(forget("join_token", true).unwrap().to_str().unwrap().contains("Max-Age=0"));
    }
}
