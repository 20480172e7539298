//! crowdfund's query side: pure functions from read-model data to static pages.
//!
//! No file system, network or clock here: the Worker links this library to re-render the pages
//! a change touched, and the CLI (feature `cli`) links it for full builds. Both go through
//! [`render`], so a page rendered incrementally is byte-identical to the same page from a full
//! build of the same data.

pub mod gather;
pub mod markdown;
pub mod model;
pub mod pages;
pub mod paths;
pub mod ranking;
pub mod site;
#[cfg(feature = "testing")]
pub mod testing;

pub use pages::{render, Page, PageData, SiteConfig};

/// Why a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// The generator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
