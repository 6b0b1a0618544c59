//! Lookout: find people in camera footage from a written description.
//!
//! The library behind the `lookout` binary. Data flows one way through the stages:
//! images and sentences are turned into model inputs ([`preprocess`], [`text`]),
//! embedded by the TextReID dual encoder ([`model`]), and compared, ranked and
//! re-ranked ([`eval`]). [`checkpoint`] reads and converts official checkpoints.
//!
//! Live: camera frames ([`ingest`]) → person boxes ([`detect`]) → one sighting per
//! track with its best crop ([`track`]) → embeddings ([`encode`]) → the sighting store
//! ([`store`]); queries: text → [`search`] (encode, filtered search, re-ranking) → the
//! HTTP daemon and web UI ([`server`]). [`worker`] wires the live stages together.
pub mod checkpoint;
pub mod config;
pub mod dataset;
pub mod detect;
pub mod device;
pub mod encode;
pub mod eval;
pub mod frame;
pub mod ingest;
pub mod model;
pub mod preprocess;
pub mod runtime;
pub mod search;
pub mod server;
pub mod store;
pub mod synth;
pub mod text;
pub mod track;
pub mod train;
pub mod worker;
