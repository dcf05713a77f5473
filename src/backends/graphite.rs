//! Graphite: graphite-web's render API.

pub mod render;
