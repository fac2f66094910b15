//! A listing's description: Markdown written by a provider (untrusted), rendered to HTML and
//! then sanitised with `ammonia`'s allow-list, so no script, event handler, `javascript:` link
//! or style reaches the page.
use pulldown_cmark::{Options, Parser, html};

/// Safe HTML for `markdown`.
pub fn render(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html =
            render("# Weather\n\nForecasts **by the hour**.\n\n- one\n- two\n\n[docs](https://example.com)");
        assert!(html.contains("<h1>Weather</h1>"), "{html}");
        assert!(html.contains("<strong>by the hour</strong>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains(r#"href="https://example.com""#));
        assert!(html.contains("noopener"));
    }

    #[test]
    fn scripts_javascript_links_and_event_attributes_never_reach_the_page() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<svg onload=alert(1)></svg>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<form action=\"https://evil.example\"><input name=p></form>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<p onclick=\"alert(1)\">hi</p>",
        ] {
            let html = render(attack).to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<iframe",
                "style=",
                "<form",
                "data:text",
            ] {
                assert!(!html.contains(bad), "{attack:?} rendered as {html:?}");
            }
        }
    }
}
