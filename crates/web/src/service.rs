//! Service-quality routes: ticket-system events, rating kiosks and rating devices (issue 8
//! fills this in). Routes here are merged into [`crate::app`] and their OpenAPI paths into the
//! document; protect them with [`crate::RequireToken`] (`scope::Tickets`, `scope::Kiosk`,
//! `scope::Ratings`) or [`crate::RequireRole`], and answer errors with [`crate::ApiError`].

use crate::AppState;
use axum::Router;
use serde_json::{Map, Value};

/// The routes (full paths, e.g. `/api/v1/tickets/events`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
}

/// Adds the routes' OpenAPI path items to `paths`.
pub(crate) fn openapi_paths(_paths: &mut Map<String, Value>) {}
