//! Topic names and filters: dot-separated segments; `*` matches one segment and `>` (last
//! only) one or more. Which topics an account may publish on and read from.
use super::EventsError;
use app::types::ids::AccountId;

/// The longest topic or filter, in bytes.
pub const MAX_TOPIC_BYTES: usize = 255;
/// The most segments in a topic or filter.
pub const MAX_SEGMENTS: usize = 16;
/// Topics only the platform writes: what it says about an account's resources.
pub const PLATFORM: &str = "platform";
/// Topics only the platform writes: dead letters, `dlq.<consumer>`.
pub const DEAD_LETTERS: &str = "dlq";
/// The first segment of the topics an account publishes on: `acct.<its id>.…`.
pub const ACCOUNT: &str = "acct";

fn valid_segment(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn split<'a>(text: &'a str, what: &str) -> Result<Vec<&'a str>, String> {
    if text.is_empty() || text.len() > MAX_TOPIC_BYTES {
        return Err(format!("A {what} is 1 to {MAX_TOPIC_BYTES} bytes."));
    }
    let segments: Vec<&str> = text.split('.').collect();
    if segments.len() > MAX_SEGMENTS {
        return Err(format!("A {what} has at most {MAX_SEGMENTS} segments."));
    }
    Ok(segments)
}

/// A concrete topic (no wildcards): `Err` tells what is wrong.
pub fn check_topic(topic: &str) -> Result<(), String> {
    let segments = split(topic, "topic")?;
    if segments.iter().all(|s| valid_segment(s)) {
        Ok(())
    } else {
        Err("A topic is segments of letters, digits, '_' and '-' separated by dots.".into())
    }
}

/// One segment of a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `*`: exactly one segment.
    One,
    /// `>`: one or more segments (last only).
    Rest,
}

/// A parsed topic filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    parts: Vec<Part>,
}

impl Filter {
    /// Parses a filter; `Err` tells what is wrong.
    pub fn parse(filter: &str) -> Result<Self, String> {
        let segments = split(filter, "topic filter")?;
        let last = segments.len() - 1;
        let mut parts = Vec::with_capacity(segments.len());
        for (i, segment) in segments.into_iter().enumerate() {
            parts.push(match segment {
                "*" => Part::One,
                ">" if i == last => Part::Rest,
                ">" => return Err("'>' may only be the last segment of a filter.".into()),
                s if valid_segment(s) => Part::Literal(s.to_owned()),
                _ => {
                    return Err("A filter is segments of letters, digits, '_' and '-' (or '*', or a \
                                last '>') separated by dots."
                        .into());
                }
            });
        }
        Ok(Self { parts })
    }

    /// Every topic.
    pub fn everything() -> Self {
        Self { parts: vec![Part::Rest] }
    }

    /// Whether `topic` (a valid topic) matches.
    pub fn matches(&self, topic: &str) -> bool {
        let mut segments = topic.split('.');
        for part in &self.parts {
            match part {
                Part::Rest => return segments.next().is_some(),
                Part::One => {
                    if segments.next().is_none() {
                        return false;
                    }
                }
                Part::Literal(literal) => {
                    if segments.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        segments.next().is_none()
    }

    /// The literal first two segments, when the filter has them.
    fn head(&self) -> (Option<&str>, Option<&str>) {
        let literal = |i: usize| match self.parts.get(i) {
            Some(Part::Literal(s)) => Some(s.as_str()),
            _ => None,
        };
        (literal(0), literal(1))
    }
}

/// The topic an account's own messages go to must be `acct.<its id>.…` (at least one more
/// segment); `platform.…` and `dlq.…` are the platform's.
pub fn publishable(account: &AccountId, topic: &str) -> Result<(), EventsError> {
    check_topic(topic).map_err(|m| EventsError::field("topic", &m))?;
    let mut segments = topic.split('.');
    let (first, second, third) = (segments.next(), segments.next(), segments.next());
    if first == Some(ACCOUNT) && second == Some(account.as_str()) && third.is_some() {
        return Ok(());
    }
    Err(EventsError::TopicForbidden(format!(
        "Publish on your own topics: acct.{account}.<name> (platform.* and dlq.* are the platform's)."
    )))
}

/// A filter the account may read with: anything but one naming another account's topics
/// (`acct.<other id>.…`), which is refused rather than answered empty.
pub fn readable(account: &AccountId, filter: &str) -> Result<Filter, EventsError> {
    let parsed = Filter::parse(filter).map_err(|m| EventsError::field("filter", &m))?;
    if let (Some(ACCOUNT), Some(owner)) = parsed.head()
        && owner != account.as_str()
    {
        return Err(EventsError::TopicForbidden("You may read your own topics only.".into()));
    }
    Ok(parsed)
}

/// The dead-letter topic of a consumer.
pub fn dead_letter_topic(consumer: &str) -> String {
    format!("{DEAD_LETTERS}.{consumer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(filter: &str, topic: &str) -> bool {
        Filter::parse(filter).unwrap().matches(topic)
    }

    #[test]
    fn wildcards_match_one_segment_or_the_rest() {
        assert!(matches("a.b.c", "a.b.c"));
        assert!(!matches("a.b.c", "a.b"));
        assert!(!matches("a.b", "a.b.c"));
        assert!(matches("a.*.c", "a.x.c"));
        assert!(!matches("a.*.c", "a.x.y.c"));
        assert!(!matches("a.*", "a"));
        assert!(matches("a.>", "a.b"));
        assert!(matches("a.>", "a.b.c.d"));
        assert!(!matches("a.>", "a"), "'>' needs at least one segment");
        assert!(matches(">", "anything.at.all"));
        assert!(matches("*.b.>", "x.b.y"));
        assert!(!matches("*.b.>", "x.c.y"));
        assert!(matches("platform.service.*", "platform.service.registered"));
    }

    #[test]
    fn bad_topics_and_filters_are_refused_with_a_reason() {
        assert!(check_topic("acct.1.orders").is_ok());
        for bad in ["", "a..b", "a.b.", "a b", "a.*", "a.>", "é"] {
            assert!(check_topic(bad).is_err(), "{bad:?}");
        }
        assert!(check_topic(&"a".repeat(256)).is_err());
        assert!(check_topic(&vec!["a"; 17].join(".")).is_err());
        for bad in ["a.>.b", "a.b*", "", "a..b"] {
            assert!(Filter::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_account_publishes_on_its_own_topics_and_reads_no_one_elses() {
        let me = AccountId::new("me");
        assert!(publishable(&me, "acct.me.orders").is_ok());
        assert!(publishable(&me, "acct.me.orders.eu").is_ok());
        for refused in ["acct.me", "acct.you.orders", "platform.service.registered", "dlq.worker", "orders"] {
            assert!(matches!(publishable(&me, refused), Err(EventsError::TopicForbidden(_))), "{refused}");
        }
        for allowed in [">", "acct.me.>", "platform.>", "dlq.worker", "*.*.orders", "acct.*.orders"] {
            assert!(readable(&me, allowed).is_ok(), "{allowed}");
        }
        assert!(matches!(readable(&me, "acct.you.>"), Err(EventsError::TopicForbidden(_))));
    }
}
