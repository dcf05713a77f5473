
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'vz-monitor' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'vz-monitor'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'vz-monitor' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented vz-monitor.yaml and a rules folder to start from')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate config and rules without touching anything')
            [CompletionResult]::new('baseline', 'baseline', [CompletionResultType]::ParameterValue, 'Capture the pre-deploy distribution of every metric')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Watch the window after a deploy: detect, decide, roll back')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Run the configured rollback now, recorded like an automatic one')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Replay baseline and current series from CSV/JSON files through the same rules and policy')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run rule unit tests (input series, expected anomalies and decision), like promtool test rules')
            [CompletionResult]::new('backtest', 'backtest', [CompletionResultType]::ParameterValue, 'Replay the gate over many past windows of the service''s own history: the false-rollback rate it would have had and the smallest shift it can catch per metric')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Past runs')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'One stored run as a table, JSON, Markdown (PR comment), JUnit XML or an HTML page with charts')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Sample every metric once and print a table; exit 1 if any fails (pipeline smoke test)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit log: verify its hash chain, export it')
            [CompletionResult]::new('hold', 'hold', [CompletionResultType]::ParameterValue, 'Put a deployment''s running or future watches on hold: detect and report, never roll back')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Lift a hold: automatic rollback is allowed again')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Make a running watch of a deployment roll back now and exit 1')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Apply retention: delete old samples and audit entries, leaving a signed checkpoint')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL (also committed under completions/)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of vz-monitor or of one subcommand, generated from this command line')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Notifications: send a test message through a channel, list past attempts')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'A read-only web dashboard over the store: runs, live watches, charts, alerts, audit, health')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;init' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Folder to write into')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite existing files')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;check' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('--online', '--online', [CompletionResultType]::ParameterName, 'Also run each PromQL query and probe once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;baseline' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment name [default: from config]')
            [CompletionResult]::new('--samples', '--samples', [CompletionResultType]::ParameterName, 'Probe readings to take per metric')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between probe readings [default: config interval]')
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'Prometheus metrics: range before now to take (e.g. 1h)')
            [CompletionResult]::new('--lookback', '--lookback', [CompletionResultType]::ParameterName, 'Metrics with a history (Prometheus): how far back, ending now, to estimate how consecutive ticks depend on each other, at the watch interval, in hour-long stretches (0 reads none: the baseline''s own ticks only)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` or `json` (a FILE here still works, as `--out FILE`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` or `json` (a FILE here still works, as `--out FILE`)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Also write the baseline to this JSON file (what `watch --baseline` reads)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;watch' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment name [default: from config]')
            [CompletionResult]::new('--revision', '--revision', [CompletionResultType]::ParameterName, 'The deploy being watched (a commit SHA, a deploy id): every watch and manual rollback of one revision shares one rollback [default: GITHUB_SHA of this workflow run]')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Length of the watched window, at most 24h (e.g. 15m; a bare number is seconds) [default: config duration]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between ticks [default: config interval]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Baseline JSON file (from `baseline --out FILE`) [default: latest stored for the deployment]')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Serve live Prometheus metrics at http://ADDR/metrics while the watch runs')
            [CompletionResult]::new('--pushgateway', '--pushgateway', [CompletionResultType]::ParameterName, 'Push the run''s result metrics to this Prometheus Pushgateway at the end')
            [CompletionResult]::new('--grafana-url', '--grafana-url', [CompletionResultType]::ParameterName, 'Post start/rollback/end annotations to this Grafana (token from VZ_GRAFANA_TOKEN)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Evaluate and report, never run the rollback')
            [CompletionResult]::new('--no-rollback', '--no-rollback', [CompletionResultType]::ParameterName, 'Detect and report only (same as rollback.enabled: false)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;rollback' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (stored, passed as VZ_REASON)')
            [CompletionResult]::new('--pushgateway', '--pushgateway', [CompletionResultType]::ParameterName, 'Push the run''s result metrics to this Prometheus Pushgateway at the end')
            [CompletionResult]::new('--grafana-url', '--grafana-url', [CompletionResultType]::ParameterName, 'Post start/rollback/end annotations to this Grafana (token from VZ_GRAFANA_TOKEN)')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment to roll back [default: from config]')
            [CompletionResult]::new('--revision', '--revision', [CompletionResultType]::ParameterName, 'The deploy being rolled back (a commit SHA, a deploy id): every watch and manual rollback of one revision shares one rollback [default: GITHUB_SHA of this workflow run]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;analyze' {
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Pre-deploy series: CSV (timestamp,<metric>,…) or JSON')
            [CompletionResult]::new('--current', '--current', [CompletionResultType]::ParameterName, 'Post-deploy series to replay tick by tick')
            [CompletionResult]::new('--control', '--control', [CompletionResultType]::ParameterName, 'The control (stable version) over the same ticks, same shape as --current: baseline rules of its metrics compare the canary with it')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;test' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;backtest' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'How far back the history goes (e.g. 7d)')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Distance between two windows (e.g. 1h: one window ending at each hour)')
            [CompletionResult]::new('--windows', '--windows', [CompletionResultType]::ParameterName, 'At most this many windows, the most recent [default: every window that fits]')
            [CompletionResult]::new('--baseline-window', '--baseline-window', [CompletionResultType]::ParameterName, 'The baseline of each window: this long a stretch of history just before it')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Length of each replayed watch [default: config duration]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between points of the history [default: config interval]')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the history: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds [default: now]')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'Read the history from this CSV/JSON file (as `analyze` reads its files) instead of the metric backends')
            [CompletionResult]::new('--mde-windows', '--mde-windows', [CompletionResultType]::ParameterName, 'Quiet windows the shifts are injected into for the minimum detectable effect (0: no minimum detectable effect)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `markdown` for a GitHub step summary, `html` for a page with a chart per metric')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `markdown` for a GitHub step summary, `html` for a page with a chart per metric')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;history' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Only runs of this deployment [default: every deployment]')
            [CompletionResult]::new('--verdict', '--verdict', [CompletionResultType]::ParameterName, 'Only runs with this verdict')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only runs started within this long ago (e.g. 7d)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many runs, newest first')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;report' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'With `latest`: the newest run of this deployment')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json, markdown (PR comment), junit (GitLab, Jenkins) or html (one self-contained page with a chart per judged series; redirect it to a file)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json, markdown (PR comment), junit (GitLab, Jenkins) or html (one self-contained page with a chart per judged series; redirect it to a file)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;health' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;audit' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every entry as JSON lines')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;audit;verify' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;audit;export' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'File to write [default: stdout] (`--output` is accepted as an older spelling)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;audit;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every entry as JSON lines')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;audit;help;verify' {
            break
        }
        'vz-monitor;audit;help;export' {
            break
        }
        'vz-monitor;audit;help;help' {
            break
        }
        'vz-monitor;hold' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the audit log)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;release' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the audit log)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;abort' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded, passed to the rollback as VZ_REASON)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;prune' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Delete what is older than this (e.g. 30d; a bare number is seconds) [default: store.retention, 30d]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;man' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;notify' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test message through one channel of notify.channels; exit 1 if it fails')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Past notification attempts and their outcomes, newest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;notify;test' {
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment named in the message [default: from config]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;notify;history' {
            [CompletionResult]::new('--run', '--run', [CompletionResultType]::ParameterName, 'Only this run (an id or its prefix)')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Only this deployment')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many attempts')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'vz-monitor;notify;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test message through one channel of notify.channels; exit 1 if it fails')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Past notification attempts and their outcomes, newest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;notify;help;test' {
            break
        }
        'vz-monitor;notify;help;history' {
            break
        }
        'vz-monitor;notify;help;help' {
            break
        }
        'vz-monitor;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; any address but loopback needs a token (--token-env)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Environment variable holding the bearer token clients must send (never printed)')
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'Runs per deployment that the change-failure rate and time to rollback cover')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'How often the live page reads the store')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./vz-monitor.yaml, else built-in defaults]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'vz-monitor;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented vz-monitor.yaml and a rules folder to start from')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate config and rules without touching anything')
            [CompletionResult]::new('baseline', 'baseline', [CompletionResultType]::ParameterValue, 'Capture the pre-deploy distribution of every metric')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Watch the window after a deploy: detect, decide, roll back')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Run the configured rollback now, recorded like an automatic one')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Replay baseline and current series from CSV/JSON files through the same rules and policy')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run rule unit tests (input series, expected anomalies and decision), like promtool test rules')
            [CompletionResult]::new('backtest', 'backtest', [CompletionResultType]::ParameterValue, 'Replay the gate over many past windows of the service''s own history: the false-rollback rate it would have had and the smallest shift it can catch per metric')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Past runs')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'One stored run as a table, JSON, Markdown (PR comment), JUnit XML or an HTML page with charts')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Sample every metric once and print a table; exit 1 if any fails (pipeline smoke test)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit log: verify its hash chain, export it')
            [CompletionResult]::new('hold', 'hold', [CompletionResultType]::ParameterValue, 'Put a deployment''s running or future watches on hold: detect and report, never roll back')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Lift a hold: automatic rollback is allowed again')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Make a running watch of a deployment roll back now and exit 1')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Apply retention: delete old samples and audit entries, leaving a signed checkpoint')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL (also committed under completions/)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of vz-monitor or of one subcommand, generated from this command line')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Notifications: send a test message through a channel, list past attempts')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'A read-only web dashboard over the store: runs, live watches, charts, alerts, audit, health')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vz-monitor;help;init' {
            break
        }
        'vz-monitor;help;check' {
            break
        }
        'vz-monitor;help;baseline' {
            break
        }
        'vz-monitor;help;watch' {
            break
        }
        'vz-monitor;help;rollback' {
            break
        }
        'vz-monitor;help;analyze' {
            break
        }
        'vz-monitor;help;test' {
            break
        }
        'vz-monitor;help;backtest' {
            break
        }
        'vz-monitor;help;history' {
            break
        }
        'vz-monitor;help;report' {
            break
        }
        'vz-monitor;help;health' {
            break
        }
        'vz-monitor;help;audit' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every entry as JSON lines')
            break
        }
        'vz-monitor;help;audit;verify' {
            break
        }
        'vz-monitor;help;audit;export' {
            break
        }
        'vz-monitor;help;hold' {
            break
        }
        'vz-monitor;help;release' {
            break
        }
        'vz-monitor;help;abort' {
            break
        }
        'vz-monitor;help;prune' {
            break
        }
        'vz-monitor;help;completions' {
            break
        }
        'vz-monitor;help;man' {
            break
        }
        'vz-monitor;help;notify' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test message through one channel of notify.channels; exit 1 if it fails')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Past notification attempts and their outcomes, newest first')
            break
        }
        'vz-monitor;help;notify;test' {
            break
        }
        'vz-monitor;help;notify;history' {
            break
        }
        'vz-monitor;help;serve' {
            break
        }
        'vz-monitor;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
