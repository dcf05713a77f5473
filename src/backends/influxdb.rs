//! InfluxDB 1.x: InfluxQL over `/query`.

pub mod influxql;
