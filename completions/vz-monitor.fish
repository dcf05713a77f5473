# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vz_monitor_global_optspecs
    string join \n c/config= db= h/help V/version
end

function __fish_vz_monitor_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vz_monitor_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vz_monitor_using_subcommand
    set -l cmd (__fish_vz_monitor_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -s V -l version -d 'Print version'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "init" -d 'Write a commented vz-monitor.yaml and a rules folder to start from'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "check" -d 'Validate config and rules without touching anything'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "baseline" -d 'Capture the pre-deploy distribution of every metric'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "watch" -d 'Watch the window after a deploy: detect, decide, roll back'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "rollback" -d 'Run the configured rollback now, recorded like an automatic one'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "analyze" -d 'Replay baseline and current series from CSV/JSON files through the same rules and policy'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "test" -d 'Run rule unit tests (input series, expected anomalies and decision), like promtool test rules'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "backtest" -d 'Replay the gate over many past windows of the service\'s own history: the false-rollback rate it would have had and the smallest shift it can catch per metric'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "history" -d 'Past runs'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "report" -d 'One stored run as a table, JSON, Markdown (PR comment), JUnit XML or an HTML page with charts'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "health" -d 'Sample every metric once and print a table; exit 1 if any fails (pipeline smoke test)'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "audit" -d 'The audit log: verify its hash chain, export it'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "hold" -d 'Put a deployment\'s running or future watches on hold: detect and report, never roll back'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "release" -d 'Lift a hold: automatic rollback is allowed again'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "abort" -d 'Make a running watch of a deployment roll back now and exit 1'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "prune" -d 'Apply retention: delete old samples and audit entries, leaving a signed checkpoint'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL (also committed under completions/)'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "man" -d 'Print the man page (roff) of vz-monitor or of one subcommand, generated from this command line'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "notify" -d 'Notifications: send a test message through a channel, list past attempts'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "serve" -d 'A read-only web dashboard over the store: runs, live watches, charts, alerts, audit, health'
complete -c vz-monitor -n "__fish_vz_monitor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand init" -l dir -d 'Folder to write into' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand init" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand init" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand init" -l force -d 'Overwrite existing files'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand init" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand check" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand check" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand check" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand check" -l online -d 'Also run each PromQL query and probe once'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l deployment -d 'Deployment name [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l samples -d 'Probe readings to take per metric' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l interval -d 'Time between probe readings [default: config interval]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l window -d 'Prometheus metrics: range before now to take (e.g. 1h)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l lookback -d 'Metrics with a history (Prometheus): how far back, ending now, to estimate how consecutive ticks depend on each other, at the watch interval, in hour-long stretches (0 reads none: the baseline\'s own ticks only)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -s o -l output -d 'Output format: `table` or `json` (a FILE here still works, as `--out FILE`)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l out -d 'Also write the baseline to this JSON file (what `watch --baseline` reads)' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand baseline" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l deployment -d 'Deployment name [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l revision -d 'The deploy being watched (a commit SHA, a deploy id): every watch and manual rollback of one revision shares one rollback [default: GITHUB_SHA of this workflow run]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l duration -d 'Length of the watched window, at most 24h (e.g. 15m; a bare number is seconds) [default: config duration]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l interval -d 'Time between ticks [default: config interval]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l baseline -d 'Baseline JSON file (from `baseline --out FILE`) [default: latest stored for the deployment]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l listen -d 'Serve live Prometheus metrics at http://ADDR/metrics while the watch runs' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l pushgateway -d 'Push the run\'s result metrics to this Prometheus Pushgateway at the end' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l grafana-url -d 'Post start/rollback/end annotations to this Grafana (token from VZ_GRAFANA_TOKEN)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l dry-run -d 'Evaluate and report, never run the rollback'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -l no-rollback -d 'Detect and report only (same as rollback.enabled: false)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l reason -d 'Why (stored, passed as VZ_REASON)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l pushgateway -d 'Push the run\'s result metrics to this Prometheus Pushgateway at the end' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l grafana-url -d 'Post start/rollback/end annotations to this Grafana (token from VZ_GRAFANA_TOKEN)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l deployment -d 'Deployment to roll back [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l revision -d 'The deploy being rolled back (a commit SHA, a deploy id): every watch and manual rollback of one revision shares one rollback [default: GITHUB_SHA of this workflow run]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -l baseline -d 'Pre-deploy series: CSV (timestamp,<metric>,…) or JSON' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -l current -d 'Post-deploy series to replay tick by tick' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -l control -d 'The control (stable version) over the same ticks, same shape as --current: baseline rules of its metrics compare the canary with it' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand test" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand test" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand test" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l since -d 'How far back the history goes (e.g. 7d)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l every -d 'Distance between two windows (e.g. 1h: one window ending at each hour)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l windows -d 'At most this many windows, the most recent [default: every window that fits]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l baseline-window -d 'The baseline of each window: this long a stretch of history just before it' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l duration -d 'Length of each replayed watch [default: config duration]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l interval -d 'Time between points of the history [default: config interval]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l until -d 'End of the history: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds [default: now]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l history -d 'Read the history from this CSV/JSON file (as `analyze` reads its files) instead of the metric backends' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l mde-windows -d 'Quiet windows the shifts are injected into for the minimum detectable effect (0: no minimum detectable effect)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -s o -l output -d 'Output format: `markdown` for a GitHub step summary, `html` for a page with a chart per metric' -r -f -a "table\t'Tables for people'
json\t'JSON for scripts'
markdown\t'For `$GITHUB_STEP_SUMMARY` or a pull-request comment'
html\t'One self-contained page with a chart per metric'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand backtest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -l deployment -d 'Only runs of this deployment [default: every deployment]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -l verdict -d 'Only runs with this verdict' -r -f -a "healthy\t'The window passed'
rollback\t'The policy said roll back (`watch`)'
inconclusive\t'Too much data missing to decide'
rolled-back\t'A manual `rollback` that succeeded'
rollback-failed\t'A manual `rollback` whose command failed'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -l since -d 'Only runs started within this long ago (e.g. 7d)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -l limit -d 'At most this many runs, newest first' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand report" -l deployment -d 'With `latest`: the newest run of this deployment' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand report" -s o -l output -d 'Output format: table, json, markdown (PR comment), junit (GitLab, Jenkins) or html (one self-contained page with a chart per judged series; redirect it to a file)' -r -f -a "table\t'Rules table and verdict block, for a terminal or a CI log'
json\t'The stored summary, as `watch --output json` printed it'
markdown\t'For a pull-request comment or `$GITHUB_STEP_SUMMARY`'
junit\t'JUnit XML, for GitLab and Jenkins test reports'
html\t'One self-contained page with a chart per judged series (no network needed)'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand report" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand report" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand health" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand health" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand health" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand health" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "verify" -d 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "export" -d 'Write every entry as JSON lines'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from verify" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from verify" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from export" -l out -d 'File to write [default: stdout] (`--output` is accepted as an older spelling)' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from export" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from export" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write every entry as JSON lines'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand hold" -l deployment -d 'Deployment [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand hold" -l reason -d 'Why (recorded in the audit log)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand hold" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand hold" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand hold" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand release" -l deployment -d 'Deployment [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand release" -l reason -d 'Why (recorded in the audit log)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand release" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand release" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand release" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand abort" -l deployment -d 'Deployment [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand abort" -l reason -d 'Why (recorded, passed to the rollback as VZ_REASON)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand abort" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand abort" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand abort" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand prune" -l older-than -d 'Delete what is older than this (e.g. 30d; a bare number is seconds) [default: store.retention, 30d]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand prune" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand prune" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand prune" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand completions" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand completions" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand completions" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand man" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand man" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand man" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -f -a "test" -d 'Send a test message through one channel of notify.channels; exit 1 if it fails'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -f -a "history" -d 'Past notification attempts and their outcomes, newest first'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and not __fish_seen_subcommand_from test history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from test" -l deployment -d 'Deployment named in the message [default: from config]' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from test" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from test" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from test" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -l run -d 'Only this run (an id or its prefix)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -l deployment -d 'Only this deployment' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -l limit -d 'At most this many attempts' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for scripts'"
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "test" -d 'Send a test message through one channel of notify.channels; exit 1 if it fails'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "history" -d 'Past notification attempts and their outcomes, newest first'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -l listen -d 'Address to listen on; any address but loopback needs a token (--token-env)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -l token-env -d 'Environment variable holding the bearer token clients must send (never printed)' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -l window -d 'Runs per deployment that the change-failure rate and time to rollback cover' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -l poll -d 'How often the live page reads the store' -r
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -s c -l config -d 'Config file [default: ./vz-monitor.yaml, else built-in defaults]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -l db -d 'Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]' -r -F
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand serve" -s h -l help -d 'Print help'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "init" -d 'Write a commented vz-monitor.yaml and a rules folder to start from'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "check" -d 'Validate config and rules without touching anything'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "baseline" -d 'Capture the pre-deploy distribution of every metric'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "watch" -d 'Watch the window after a deploy: detect, decide, roll back'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "rollback" -d 'Run the configured rollback now, recorded like an automatic one'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "analyze" -d 'Replay baseline and current series from CSV/JSON files through the same rules and policy'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "test" -d 'Run rule unit tests (input series, expected anomalies and decision), like promtool test rules'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "backtest" -d 'Replay the gate over many past windows of the service\'s own history: the false-rollback rate it would have had and the smallest shift it can catch per metric'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "history" -d 'Past runs'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "report" -d 'One stored run as a table, JSON, Markdown (PR comment), JUnit XML or an HTML page with charts'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "health" -d 'Sample every metric once and print a table; exit 1 if any fails (pipeline smoke test)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "audit" -d 'The audit log: verify its hash chain, export it'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "hold" -d 'Put a deployment\'s running or future watches on hold: detect and report, never roll back'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "release" -d 'Lift a hold: automatic rollback is allowed again'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "abort" -d 'Make a running watch of a deployment roll back now and exit 1'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "prune" -d 'Apply retention: delete old samples and audit entries, leaving a signed checkpoint'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "completions" -d 'Print the shell completion script for SHELL (also committed under completions/)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "man" -d 'Print the man page (roff) of vz-monitor or of one subcommand, generated from this command line'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "notify" -d 'Notifications: send a test message through a channel, list past attempts'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "serve" -d 'A read-only web dashboard over the store: runs, live watches, charts, alerts, audit, health'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and not __fish_seen_subcommand_from init check baseline watch rollback analyze test backtest history report health audit hold release abort prune completions man notify serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "export" -d 'Write every entry as JSON lines'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "test" -d 'Send a test message through one channel of notify.channels; exit 1 if it fails'
complete -c vz-monitor -n "__fish_vz_monitor_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "history" -d 'Past notification attempts and their outcomes, newest first'
