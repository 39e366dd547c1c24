//! # samsde
//!
//! Ensemble simulation of the stochastic differential equations (SDEs) that model SGD, USAM and SAM near
//! saddle points of a loss, and of the discrete optimizers they approximate. Ids such as S-USAM, N1 or O3
//! refer to the project's math spec (`docs/math-spec.md`, summarised in the README).
//!
//! Data flows one way: model file → the config → experiment → ensemble run with observers → report.
#![deny(missing_docs)]
// Index loops mirror the equations (b[i] = −(g[i] + c·v[i])) and keep the hot loop allocation-free.
#![allow(clippy::needless_range_loop)]

pub mod error;
pub mod linalg;
pub mod model;
pub mod sde;
pub mod setup;
pub mod theory;

pub use error::{Error, Result};
pub mod app;
pub mod brownian;
pub mod cli;
pub mod ensemble;
pub mod paper;
pub mod plot;
pub mod report;
pub mod solver;
pub mod stats;
pub mod stepper;
pub mod sweep;
