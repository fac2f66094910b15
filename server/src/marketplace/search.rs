//! Turning a visitor's words into a full-text query. The text is never passed to FTS5 as
//! syntax: it is cut into words (letters and digits), each quoted, so `"`, `NEAR`, `*`, `-`,
//! `:` and parentheses are only ever searched for, never interpreted, and a search cannot fail.

/// Most words a search uses.
const MAX_WORDS: usize = 8;
/// Longest word kept (in characters).
const MAX_WORD: usize = 40;

/// The FTS5 query for `text`: every word must match, the last one also as a prefix (so results
/// appear while typing). `None` when the text has no word.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| w.chars().take(MAX_WORD).collect::<String>().to_lowercase())
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    query.push(format!("\"{last}\"*"));
    Some(query.join(" "))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn words_are_quoted_and_the_last_is_a_prefix() {
        assert_eq!(fts_query("Weather forecast").as_deref(), Some(r#""weather" "forecast"*"#));
        assert_eq!(fts_query("  ").as_deref(), None);
        assert_eq!(
            fts_query(r#"" NEAR(a b) * - OR x:y"#).as_deref(),
            Some(r#""near" "a" "b" "or" "x" "y"*"#)
        );
        assert_eq!(fts_query("Müller été").as_deref(), Some(r#""müller" "été"*"#));
        assert_eq!(fts_query(&"a ".repeat(100)).map(|q| q.matches('"').count()), Some(16));
    }
}
