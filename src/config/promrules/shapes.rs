//! The shapes Prometheus rule files take in the wild, read into one list of groups:
//! plain `groups:` files, several YAML documents in one file (`---`), documents that are just
//! `null` or empty (0 rules, as promtool says), Kubernetes `PrometheusRule` manifests
//! (`apiVersion`, `kind`, `spec.groups`), and YAML merge keys (`<<: *defaults`).

use super::super::locate::Locations;
use super::super::{yaml_error_in, ConfigError, Source};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `groups:` of a rule file (or of a manifest's `spec`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// A `PrometheusRule` manifest (prometheus-operator).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(rename = "apiVersion")]
    #[allow(dead_code)]
    api_version: Option<String>,
    kind: Option<String>,
    #[allow(dead_code)]
    metadata: Option<serde_yaml::Value>,
    #[serde(default)]
    spec: RuleFile,
}

/// One rule group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default)]
    pub rules: Vec<PromRule>,
    /// Labels added to every rule of the group (Prometheus 3); a rule's own win.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How often Prometheus evaluates the group; the gate evaluates at its own tick, so
    /// this is warned about in `check`.
    #[serde(default, deserialize_with = "super::super::dur::opt_duration")]
    pub interval: Option<Duration>,
    /// Most series (alerts) one rule may return: more is an evaluation error, nothing fires.
    #[serde(default)]
    pub limit: Option<u64>,
    /// How far in the past the group's expressions are evaluated.
    #[serde(default, deserialize_with = "super::super::dur::opt_duration")]
    pub query_offset: Option<Duration>,
    #[serde(default, rename = "partial_response_strategy")]
    _partial_response_strategy: Option<serde_yaml::Value>,
    #[serde(default, rename = "source_tenants")]
    _source_tenants: Option<serde_yaml::Value>,
    #[serde(default, rename = "evaluation_delay")]
    _evaluation_delay: Option<serde_yaml::Value>,
}

/// One rule: `alert` or `record`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromRule {
    pub alert: Option<String>,
    pub record: Option<String>,
    /// A string, or a bare number (`expr: 1`).
    #[serde(default, deserialize_with = "scalar_text")]
    pub expr: Option<String>,
    #[serde(
        rename = "for",
        default,
        deserialize_with = "super::super::dur::opt_duration"
    )]
    pub for_: Option<Duration>,
    #[serde(default, deserialize_with = "super::super::dur::opt_duration")]
    pub keep_firing_for: Option<Duration>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A YAML scalar (string, number, bool) as text.
fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match serde_yaml::Value::deserialize(d)? {
        serde_yaml::Value::Null => Ok(None),
        serde_yaml::Value::String(s) => Ok(Some(s)),
        serde_yaml::Value::Number(n) => Ok(Some(n.to_string())),
        serde_yaml::Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(de::Error::custom("expected PromQL text")),
    }
}

/// One document of a rule file: its groups, where they are (`groups` or `spec.groups`), and
/// its positions (lines counted in the whole file).
pub struct Document {
    pub groups: Vec<Group>,
    /// `""` or `"spec."`: prefix of field paths in this document.
    pub prefix: &'static str,
    pub source: Source,
}

/// Whether a YAML text is a Prometheus rule file: some document has `groups`, or is a
/// `PrometheusRule` manifest, or every document is empty or `null`.
pub fn is_rule_file(text: &str) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    let values: Vec<serde_yaml::Value> = split(text)
        .iter()
        .filter_map(|(_, d)| serde_yaml::from_str(d).ok())
        .collect();
    values.iter().all(serde_yaml::Value::is_null)
        || values.iter().any(|v| match v {
            serde_yaml::Value::Mapping(m) => {
                m.contains_key("groups")
                    || m.get("kind").and_then(|k| k.as_str()) == Some("PrometheusRule")
            }
            _ => false,
        })
}

/// Splits a multi-document text at `---` lines: (lines before the document, its text).
fn split(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, line) in text.lines().enumerate() {
        let marker = line == "---" || line.starts_with("--- ") || line == "...";
        if marker {
            if i > 0 {
                docs.push((start, std::mem::take(&mut cur)));
            }
            // Content after `--- ` (rare) stays on the marker's line.
            match line.strip_prefix("--- ") {
                Some(rest) => {
                    start = i;
                    cur.push_str(rest);
                    cur.push('\n');
                }
                None => start = i + 1,
            }
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    docs.push((start, cur));
    docs
}

/// Reads every document of the rule file `name`.
pub fn documents(name: &str, text: &str) -> Result<Vec<Document>, ConfigError> {
    let mut out = Vec::new();
    for (offset, doc) in split(text) {
        // Positions inside the document, moved down to the file's lines for every error.
        let rel = Source {
            name: name.to_string(),
            locations: Locations::of(&doc),
        };
        let shift = |mut e: ConfigError| {
            e.line = e.line.map(|l| l + offset);
            e
        };
        let Some((groups, prefix)) = read_document(&rel, &doc).map_err(shift)? else {
            continue;
        };
        let Source { name, locations } = rel;
        out.push(Document {
            groups,
            prefix,
            source: Source {
                name,
                locations: locations.shifted(offset),
            },
        });
    }
    Ok(out)
}

/// One document's groups and field prefix; None for an empty (`null`) document.
fn read_document(
    source: &Source,
    doc: &str,
) -> Result<Option<(Vec<Group>, &'static str)>, ConfigError> {
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(doc).map_err(|e| yaml_error_in(source, &e))?;
    let serde_yaml::Value::Mapping(map) = &value else {
        if value.is_null() {
            return Ok(None); // An empty document: 0 rules, as promtool says.
        }
        return Err(source.err("", "expected `groups:` or a PrometheusRule manifest"));
    };
    let manifest = map.contains_key("apiVersion") || map.contains_key("kind");
    // Merge keys need the value tree (serde_yaml applies them there), which loses
    // positions; without them, parse the text so errors keep their line.
    let has_merge = doc.contains("<<:");
    if has_merge {
        value
            .apply_merge()
            .map_err(|e| source.err("", format!("YAML merge key: {e}")))?;
    }
    fn parse<T: serde::de::DeserializeOwned>(
        source: &Source,
        doc: &str,
        value: Option<serde_yaml::Value>,
    ) -> Result<T, ConfigError> {
        match value {
            Some(v) => serde_yaml::from_value(v).map_err(|e| yaml_error_in(source, &e)),
            None => serde_yaml::from_str(doc).map_err(|e| yaml_error_in(source, &e)),
        }
    }
    let tree = has_merge.then_some(value);
    if !manifest {
        let f: RuleFile = parse(source, doc, tree)?;
        return Ok(Some((f.groups, "")));
    }
    let m: Manifest = parse(source, doc, tree)?;
    match m.kind.as_deref() {
        Some("PrometheusRule") => Ok(Some((m.spec.groups, "spec."))),
        other => Err(source.err(
            "kind",
            format!(
                "`{}`: only a PrometheusRule manifest holds rule groups",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_file_lines() {
        let text = "groups: []\n---\n# two\ngroups:\n  - name: b\n    rules: []\n---\nnull\n";
        let docs = documents("f.yml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].groups[0].name, "b");
        assert_eq!(
            docs[1].source.locations.find("groups[0].name").map(|p| p.0),
            Some(5)
        );
    }

    #[test]
    fn rule_files_are_recognised_in_every_shape() {
        assert!(is_rule_file("groups: []\n"));
        assert!(is_rule_file("null\n"));
        assert!(is_rule_file("---\n---\n"));
        assert!(is_rule_file(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {groups: []}\n"
        ));
        assert!(is_rule_file("metrics: {}\n---\ngroups: []\n"));
        assert!(!is_rule_file("metrics: {}\nrules: []\n"));
        assert!(!is_rule_file(""));
    }
}
