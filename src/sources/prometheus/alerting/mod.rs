//! The pure side of Prometheus alerting rules: PromQL checked offline ([`promql`]), Go
//! annotation templates checked and rendered ([`template`]), and one alert as the gate runs
//! it ([`alert`]: per label set, pre-existing series). The config reads rule files into
//! these (config → sources); the alert source ([`super::alerts`]) runs them.

pub mod alert;
mod gofmt;
pub mod promql;
pub mod template;
pub mod worse;

#[cfg(test)]
mod report_tests;
