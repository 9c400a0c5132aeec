//! `[service]`: ticket-system intake, rating devices and dossier imports.

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// ticket-system intake, rating devices and dossier imports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {}

impl ServiceConfig {
    /// Adds this section's semantic errors to `errors`.
    pub(crate) fn check(&self, _errors: &mut Vec<ConfigError>) {}
}
