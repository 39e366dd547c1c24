//! # samsde
//!
//! Ensemble simulation of the stochastic differential equations (SDEs) that model SGD, USAM and SAM near
//! saddle points of a loss, and of the discrete optimizers they approximate. Ids such as S-USAM, N1 or O3
//! refer to the project's math spec (`docs/math-spec.md`, summarised in the README).
//!
//! Data flows one way: model file → the config → experiment → ensemble run with observers → report.
#![deny(missing_docs)]

pub mod error;
pub mod landscape;
pub mod linalg;
pub mod theory;

pub use error::{Error, Result};
