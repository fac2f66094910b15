//! Cursor pagination, the same for every list: newest first by UUIDv7 id, `limit` 1–100
//! (default 20), and the last id of a page as the cursor of the next.
use app::types::Page;

/// The most items one page may hold.
pub const MAX_PAGE: u64 = 100;
/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: u64 = 20;

/// A cursor that no list gave out.
#[derive(Debug, thiserror::Error)]
#[error("The cursor is not one this list gave out.")]
pub struct BadCursor;

/// The id to list before, from a cursor (empty means the first page).
pub fn before(cursor: Option<&str>) -> Result<Option<String>, BadCursor> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) => Ok(Some(uuid::Uuid::parse_str(c).map_err(|_| BadCursor)?.to_string())),
        None => Ok(None),
    }
}

/// The page size asked for, within bounds.
pub fn limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// Turns `limit + 1` fetched rows into a page: the extra row only says there is more.
pub fn finish<R, T, I: AsRef<str>>(
    mut rows: Vec<R>,
    limit: u64,
    id: impl Fn(&R) -> &I,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| id(r).as_ref().to_owned()) } else { None };
    Page { items: rows.into_iter().map(map).collect(), next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_must_be_ids_and_limits_are_clamped() {
        assert!(before(Some("nonsense")).is_err());
        assert_eq!(before(Some("")).unwrap(), None);
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(before(Some(&id)).unwrap(), Some(id));
        assert_eq!(limit(None), DEFAULT_PAGE);
        assert_eq!(limit(Some(1000)), MAX_PAGE);
    }

    #[test]
    fn an_extra_row_yields_a_cursor() {
        let page = finish(vec!["c", "b", "a"], 2, |r| r, str::to_uppercase);
        assert_eq!(page.items, ["C", "B"]);
        assert_eq!(page.next_cursor.as_deref(), Some("b"));
        let last = finish(vec!["a"], 2, |r| r, str::to_uppercase);
        assert_eq!(last.next_cursor, None);
    }
}
