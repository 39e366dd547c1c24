//! # samsde
//!
//! Ensemble simulation of the stochastic differential equations (SDEs) that model SGD, USAM and SAM near
//! saddle points of a loss, and of the discrete optimizers they approximate. Ids such as S-USAM, N1 or O3
//! refer to the project's math spec, `docs/math-spec.md`; `docs/ARCHITECTURE.md` describes the modules.
//!
//! Modules import one way, in this order: [`model`] (landscape, noise, critical points, regions) → [`sde`]
//! → [`solver`] → [`stepper`] (steppers and the per-step lane loop) → [`ensemble`] (runner, observers) →
//! [`stats`] (the observers' accumulators) → [`ams`] (rare events by adaptive multilevel splitting) →
//! [`setup`] (model file → validated experiment) → [`report`] → [`sweep`] / [`plot`] → [`paper`] → [`app`];
//! [`theory`] (closed forms) and the leaf helpers [`error`], [`linalg`], [`special`], [`brownian`], [`npy`],
//! [`progress`] are used throughout. One `samsde run`: model file → `setup::Source` → `setup::Experiment` →
//! `ensemble::run` with the observers of `stats` → `report::Report` → files and figures.
#![deny(missing_docs)]
// Index loops mirror the equations (b[i] = −(g[i] + c·v[i])) and keep the hot loop allocation-free.
#![allow(clippy::needless_range_loop)]

pub mod brownian;
pub mod error;
pub mod linalg;
pub mod npy;
pub mod progress;
pub mod special;

pub mod ams;
pub mod app;
pub mod cli;
pub mod ensemble;
pub mod model;
pub mod paper;
pub mod plot;
pub mod report;
pub mod sde;
pub mod setup;
pub mod shard;
pub mod slurm;
pub mod solver;
pub mod stats;
pub mod stepper;
pub mod sweep;
pub mod theory;

pub use error::{Error, Result};
