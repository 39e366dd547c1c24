//! Stage two of the configuration: a parsed model file becomes a validated, ready-to-run experiment.

pub mod build;

pub use build::{Built, DEFAULT_EPSILON, DynamicsKind, DynamicsSpec, build};
