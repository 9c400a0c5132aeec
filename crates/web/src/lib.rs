//! hallwatch-web: the HTTP server (work in progress).
#![deny(missing_docs)]
