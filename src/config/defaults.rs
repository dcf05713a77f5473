//! Built-in defaults (used when there is no `vz-monitor.yaml`) and the `init` template.
//!
//! Both must be able to fail: a clearly broken machine (CPU and disk at 99 %, memory
//! leaking) rolls back. A full disk is critical (one is enough); CPU and memory are high
//! and the policy rolls back on the second high anomaly, so the gate a newcomer starts
//! from is a gate, not a printer of green ticks (issue 14.1).

/// Watches this machine with local probes; no server needed. Detect and report only: with
/// no rollback command configured, an unhealthy window exits 1 without running anything.
pub const YAML: &str = r#"
deployment: local
interval: 10s
duration: 15m
metrics:
  cpu:
    probe: { system: cpu_percent }
  memory:
    probe: { system: memory_percent }
  disk:
    probe: { system: disk_percent }
rules:
  - name: cpu-saturated
    metric: cpu
    detector: { threshold: { op: ">", value: 90 } }
    for: 1m
    kind: CPU_SPIKE
    severity: high
  - name: memory-exhausted
    metric: memory
    detector: { threshold: { op: ">", value: 90 } }
    for: 1m
    kind: MEMORY_LEAK
    severity: high
  - name: disk-full
    metric: disk
    detector: { threshold: { op: ">", value: 90 } }
    kind: DISK_FULL
    severity: critical
rollback:
  enabled: false
  policy: { critical: 1, high: 2 }
"#;

/// What `vz-monitor init` writes: a commented config that passes `check` as it stands.
pub const INIT_CONFIG: &str = r#"# vz-monitor.yaml — the deployment gate's configuration.
# Reference: docs/configuration.md. Durations: 500ms, 30s, 15m, 1h (a bare number is
# seconds; months and years are refused). Percentages: 20 or "20%".
# ${ENV_VAR} (or ${ENV_VAR:-default}) is replaced from the environment before parsing.

deployment: my-service          # --deployment / VZ_DEPLOYMENT override it
interval: 30s                   # one tick every interval (--interval)
duration: 15m                   # the watched window after the deploy (--duration)

# source:
#   prometheus:                 # PromQL metrics need this (or VZ_PROMETHEUS_URL)
#     url: http://127.0.0.1:9090
#     headers: { Authorization: "Bearer ${PROM_TOKEN}" }   # or "Basic ${PROM_BASIC_B64}"
#     timeout: 10s              # per query, retries included
#     retries: 2                # on refused connections, 5xx, unavailable (with backoff)

metrics:
  cpu:
    probe: { system: cpu_percent }        # cpu_percent, memory_percent, memory_mb, disk_percent, net_bytes_per_sec
  memory_mb:
    probe: { system: memory_mb }
  disk:
    probe: { system: disk_percent }
  # health:
  #   probe: { http: { url: "http://127.0.0.1:8080/healthz", expect_status: 200, timeout: 2s } }
  # error_rate:                 # empty result = no 5xx at all, so on_empty: zero
  #   query: 100 * sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))
  #   on_empty: zero
  # p95_latency_ms:             # empty = no traffic: stays a missing sample (on_empty: missing)
  #   query: 1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))
  # requests:                   # one series per label set, each gated on its own
  #   query: sum by (code) (rate(http_requests_total[1m]))
  #   per_series: true

include: [rules/local.yaml]     # more rule files: ours, or Prometheus alerting-rule files
                                # (groups: … alert:) — each alert fires when its expr returns
                                # any series for its `for`; recording rules are skipped

rollback:
  enabled: false                # true needs a command; false = detect and report only
  # command: ["kubectl", "rollout", "undo", "deployment/my-service"]   # argv, no shell
  timeout: 5m
  retries: 1
  policy:
    critical: 1                 # roll back on the first critical anomaly (disk-full)
    high: 2                     # … or on the second high one (cpu-spike + memory-leak)
    max_downtime: 60s           # … or when a probe is down this long
    max_missing: "20%"          # more missing samples than this: inconclusive (exit 3)
    on_inconclusive: pass       # pass = fail-open (exit 3, no rollback); fail = roll back

store: { path: .vz-monitor/vz.db, retention: 30d }
"#;

/// `rules/local.yaml` written by `init`.
pub const INIT_RULES: &str = r#"# Rules for a service watched with local probes. Each rule: metric, detector, kind, severity.
rules:
  - name: cpu-spike
    metric: cpu
    description: CPU far above its pre-deploy level (robust z-score against the baseline) and at least 20 points above it.
    # min_delta: an idle machine's baseline has almost no spread, so without it 3 % CPU
    # against 0.3 % would be hundreds of deviations: a "spike" of nothing.
    detector: { zscore: { threshold: 4, robust: true, direction: increase, min_delta: 20 } }
    for: 1m
    kind: CPU_SPIKE
    severity: high
  - name: memory-leak
    metric: memory_mb
    description: Memory climbing steadily through the window.
    detector: { trend: { min_slope_per_min: 5, min_r2: 0.8 } }
    kind: MEMORY_LEAK
    severity: high
  - name: disk-full
    metric: disk
    detector: { threshold: { op: ">", value: 90 } }
    kind: DISK_FULL
    severity: critical
"#;
