//! Unicode normalization form C, as every stored text is kept. Natively (tests, the CLI) it is
//! the `unicode-normalization` crate; in the Worker it is the runtime's own
//! `String.prototype.normalize`, so the wasm does not carry a second copy of the Unicode
//! composition tables (about 25 KB gzipped). Both follow the Unicode standard; they can differ
//! only for characters one of them is too old to know.

/// `text` in NFC.
#[cfg(not(target_arch = "wasm32"))]
pub fn nfc(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().collect()
}

/// `text` in NFC.
#[cfg(target_arch = "wasm32")]
pub fn nfc(text: &str) -> String {
    js_sys::JsString::from(text).normalize("NFC").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_text_is_composed() {
        assert_eq!(nfc("Cafe\u{301} Ame\u{301}lie"), "Café Amélie");
        assert_eq!(nfc("already composed"), "already composed");
    }
}
