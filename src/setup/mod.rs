//! Stage two of the configuration: a model file becomes a validated, ready-to-run [`Experiment`].
//!
//! [`schema`] is the model-file format (serde types, kinds as enums), [`source`] the file as read (text,
//! `--set` overrides, error location), [`model`] the landscape and noise builders, [`build`](mod@build) the dynamics
//! builder (the one dispatch on the dynamics kind), [`experiment`] the validation, and [`run`] runs an
//! experiment with the standard observers (and, with `[exit] estimator = "ams"`, the rare-event estimator of
//! [`rare`]); [`resources`] says what a run will cost before it starts.

pub mod build;
pub mod experiment;
pub mod model;
pub mod rare;
pub mod resources;
pub mod run;
pub mod schema;
pub mod source;

pub use build::{Built, DEFAULT_EPSILON, DynamicsKind, DynamicsSpec, build};
pub use experiment::{DynamicsMeta, Experiment};
pub use rare::{AmsBasin, AmsOutcome, AmsPlan};
pub use resources::Resources;
pub use run::{Observations, ShardObservations};
pub use schema::Config;
pub use source::Source;
