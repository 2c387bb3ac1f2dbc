//! Tolerant-but-strict quote matching: a cited quote must appear verbatim in
//! its document, up to whitespace, quote style, dash style and the U+FFFD
//! replacement character (which stands for a lost dash in one document).
//! Nothing looser: case and wording must match.

/// Folds the differences the checker tolerates.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FFFD}' => '-',
            c => c,
        });
    }
    out
}

/// Whether `quote` appears in `document` (both unfolded).
pub fn contains(folded_document: &str, quote: &str) -> bool {
    let q = fold(quote);
    !q.is_empty() && folded_document.contains(&q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_whitespace_quotes_dashes_and_replacement_char() {
        let doc =
            fold("massage therapy\u{FFFD}who wouldn\u{2019}t  want\n to   relax \u{2014} now");
        assert!(contains(
            &doc,
            "massage therapy—who wouldn't want to relax - now"
        ));
        assert!(contains(&doc, "therapy-who"));
    }

    #[test]
    fn is_not_looser() {
        let doc = fold("Improved blood circulation");
        assert!(!contains(&doc, "improved blood circulation"));
        assert!(!contains(&doc, "Improved circulation"));
        assert!(!contains(&doc, "   "));
    }
}
