//! Removing credentials from anything that may be printed.
//!
//! Camera URLs carry user names and passwords (`rtsp://admin:secret@10.0.0.5/stream`). Every
//! URL or message that reaches a log, an error or the API goes through [`url`] or [`message`].

/// The URL with any `user:password@` part replaced by `***@`.
pub fn url(u: &str) -> String {
    message(u, &[])
}

/// The text with every URL's userinfo replaced by `***`, and each of `secrets` (non-empty ones)
/// replaced by `***` wherever it appears.
pub fn message(text: &str, secrets: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace, quote or end of text.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'' || c == '>')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(
            super::url("rtsp://admin:p@ss@10.0.0.5:554/h264"),
            "rtsp://***@10.0.0.5:554/h264"
        );
        assert_eq!(super::url("rtsp://10.0.0.5/x"), "rtsp://10.0.0.5/x");
    }

    #[test]
    fn messages_lose_urls_and_secrets() {
        let m = super::message(
            "Could not open 'rtsp://u:hunter2@h/a' (auth hunter2 failed); see file:///tmp/x",
            &["hunter2", ""],
        );
        assert_eq!(
            m,
            "Could not open 'rtsp://***@h/a' (auth *** failed); see file:///tmp/x"
        );
    }
}
