//! Lookout: find people in camera footage from a written description.
//!
//! The library behind the `lookout` binary. Data flows one way through the stages:
//! images and sentences are turned into model inputs ([`preprocess`], [`text`]),
//! embedded by the TextReID dual encoder ([`model`]), and compared, ranked and
//! re-ranked ([`eval`]). [`checkpoint`] reads and converts official checkpoints.
pub mod checkpoint;
pub mod dataset;
pub mod device;
pub mod eval;
pub mod model;
pub mod preprocess;
pub mod runtime;
pub mod synth;
pub mod text;
pub mod train;
