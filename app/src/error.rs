//! The error every portal server function returns: serialisable, so it crosses the wire (or,
//! for a form posted before hydration, the redirect URL) and renders as an inline message.
use crate::types::services::ServiceFieldErrors;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Why a portal action failed, phrased for the person at the keyboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    /// Per-field messages of the form that was sent (input name → message).
    #[error("Please correct the highlighted fields.")]
    Fields(ServiceFieldErrors),
    #[error("An account with this email already exists. Log in instead.")]
    EmailTaken,
    /// Deliberately the same for an unknown email and a wrong password.
    #[error("Incorrect email or password.")]
    InvalidCredentials,
    /// A limit was reached: what was limited and when to try again (the message says both).
    #[error("{message}")]
    Limited { message: String, retry_after_secs: u64 },
    #[error("Please log in first.")]
    Unauthenticated,
    #[error("Only the platform's operator can see this.")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    /// A request the backend refused, with its reason.
    #[error("{0}")]
    Rejected(String),
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("The request did not go through: {0}")]
    Transport(String),
}

impl PortalError {
    /// The message for the form input `name`, when this is a validation failure.
    pub fn field_error(&self, name: &str) -> Option<String> {
        match self {
            PortalError::Fields(fields) => fields.get(name).cloned(),
            _ => None,
        }
    }
}

impl FromServerFnError for PortalError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        PortalError::Transport(value.to_string())
    }
}

/// "45 seconds", "1 minute", "14 minutes": rounds up so the wait is never under-stated.
pub fn human_duration(secs: u64) -> String {
    if secs < 60 {
        let s = secs.max(1);
        format!("{s} second{}", if s == 1 { "" } else { "s" })
    } else {
        let m = secs.div_ceil(60);
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_rounds_up_to_whole_minutes() {
        assert_eq!(human_duration(0), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "1 minute");
        assert_eq!(human_duration(61), "2 minutes");
        assert_eq!(human_duration(900), "15 minutes");
    }
}
