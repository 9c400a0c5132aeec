//! hallwatch-alerts: alerts on the live hall (work in progress).
#![deny(missing_docs)]
