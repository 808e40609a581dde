//! A generated section of a book page: the tests that print a table of the code into the book
//! (the header tables of the wire-protocol appendix, the broker's configuration reference)
//! compare the page with what the code generates, or rewrite it when asked.
//!
//! Why: the book must not drift from the code, and a table copied by hand would. The page keeps
//! its prose; only the text between two marker lines is generated.
//!
//! Book chapter: the appendix pages it keeps in sync. RocketMQ 4.8.0 counterpart: none.

use std::path::Path;

/// Checks that the text between `begin` and `end` in `page` equals `generated`; with
/// `RMQ_BLESS_BOOK=1` in the environment it writes `generated` there instead. Panics (this is
/// for tests) when the page or a marker is missing, or when the section is out of date, naming
/// `bless_command` as the way to refresh it.
pub fn check_generated_section(
    page: &Path,
    begin: &str,
    end: &str,
    generated: &str,
    bless_command: &str,
) {
    let book =
        std::fs::read_to_string(page).unwrap_or_else(|e| panic!("reading {}: {e}", page.display()));
    let start = book
        .find(begin)
        .unwrap_or_else(|| panic!("no begin marker {begin:?} in {}", page.display()))
        + begin.len();
    let stop = book[start..]
        .find(end)
        .unwrap_or_else(|| panic!("no end marker {end:?} in {}", page.display()))
        + start;
    if std::env::var_os("RMQ_BLESS_BOOK").is_some_and(|v| v == "1") {
        let updated = format!("{}{}{}", &book[..start], generated, &book[stop..]);
        std::fs::write(page, updated).unwrap_or_else(|e| panic!("writing {}: {e}", page.display()));
        return;
    }
    assert!(
        book[start..stop] == *generated,
        "the generated section of {} is out of date; run {bless_command}",
        page.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_section_passes_and_a_stale_one_fails() {
        let dir = std::env::temp_dir().join(format!("rmq-testkit-book-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let page = dir.join("page.md");
        std::fs::write(&page, "intro\n<!-- b -->\nTABLE\n<!-- e -->\nouter\n").unwrap();
        check_generated_section(&page, "<!-- b -->\n", "<!-- e -->", "TABLE\n", "bless");
        let stale = std::panic::catch_unwind(|| {
            check_generated_section(&page, "<!-- b -->\n", "<!-- e -->", "NEW\n", "bless")
        });
        assert!(stale.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
