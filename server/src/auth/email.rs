//! A validated, normalised email address.
use std::fmt;

/// The longest address SMTP can carry (RFC 5321 path limit).
const MAX_LEN: usize = 254;

/// An email address, trimmed and lower-cased, checked against RFC 5322 syntax (through the
/// `email_address` crate) and required to have a dotted domain. Lower-casing the local part
/// too is a deliberate simplification: nearly every provider treats it case-insensitively,
/// and it stops `Ann@x.io` and `ann@x.io` from becoming two accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises and validates `raw`; the error is a sentence for the person who typed it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalised = raw.trim().to_lowercase();
        if normalised.is_empty() {
            return Err("Enter your email address.".into());
        }
        if normalised.len() > MAX_LEN {
            return Err(format!("An email address has at most {MAX_LEN} characters."));
        }
        let valid = email_address::EmailAddress::parse_with_options(
            &normalised,
            email_address::Options::default().without_display_text().without_domain_literal(),
        )
        .is_ok();
        let dotted_domain = normalised
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !valid || !dotted_domain {
            return Err("Enter a valid email address, like name@example.com.".into());
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_trims_and_lowercases() {
        assert_eq!(Email::parse("  Ann.Lee@Example.COM \n").unwrap().as_str(), "ann.lee@example.com");
    }

    #[test]
    fn parse_accepts_plus_addressing_and_subdomains() {
        assert!(Email::parse("dev+web4@mail.example.co.uk").is_ok());
    }

    #[test]
    fn parse_rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@@example.com",
            "ann example@example.com",
            "Ann <ann@example.com>",
            "ann@[127.0.0.1]",
            "ann@example.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn parse_rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).unwrap_err().contains("254"));
    }
}
