//! `[alerts]`: alert rules and notification channels.

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// alert rules and notification channels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {}

impl AlertsConfig {
    /// Adds this section's semantic errors to `errors`.
    pub(crate) fn check(&self, _errors: &mut Vec<ConfigError>) {}
}
