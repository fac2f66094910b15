//! Aligned plain-text tables for the command line's human output (`status`, `demo`): columns
//! padded to their widest cell and two spaces apart, like `consul members` or `nomad status`.

/// Renders `header` and `rows` as aligned columns, one line each, the last column unpadded.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate().take(columns) {
            if i + 1 == columns {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count() + 2));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A node id short enough for a table: libp2p ids all start alike (`12D3KooW…`), so the
/// head alone would not tell them apart; the tail does.
pub fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 12 {
        return id.to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell_and_lines_carry_no_trailing_spaces() {
        let rows = vec![
            vec!["a".to_owned(), "longer cell".to_owned(), "x".to_owned()],
            vec!["bbbb".to_owned(), "c".to_owned(), String::new()],
        ];
        let text = render(&["ID", "NAME", "LAST"], &rows);
        assert_eq!(text, "ID    NAME         LAST\na     longer cell  x\nbbbb  c\n");
    }

    #[test]
    fn short_ids_keep_the_distinguishing_tail() {
        assert_eq!(short_id("12D3KooWAbCdEfGhIjKlMn"), "12D3…IjKlMn");
        assert_eq!(short_id("node-1"), "node-1");
    }
}
