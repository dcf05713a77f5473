#!/usr/bin/env bash
# The run step of action.yml: runs one vz-monitor subcommand with the action's inputs.
#
# Inputs come from the environment (action.yml maps each `with:` input to one variable):
#   VZ_COMMAND   the subcommand
#   VZ_ARGS      more arguments, ONE PER LINE, passed as they are: never split on spaces,
#                never expanded, never evaluated (a `$(...)` in a commit message stays text)
#   VZ_FAIL      "true": the step fails with vz-monitor's exit code
#   VZ_CONFIG, VZ_DURATION, VZ_INTERVAL, VZ_DEPLOYMENT, VZ_BASELINE: read by vz-monitor
#                itself; an empty one is unset so it does not reach vz-monitor as "".
set -uo pipefail
for v in VZ_CONFIG VZ_DURATION VZ_INTERVAL VZ_DEPLOYMENT VZ_BASELINE; do
  [ -n "${!v:-}" ] || unset "$v"
done
extra=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%$'\r'}"
  [ -n "$line" ] && extra+=("$line")
done <<< "${VZ_ARGS:-}"
vz-monitor "$VZ_COMMAND" "${extra[@]}"
code=$?
# vz-monitor writes verdict, exit-code, run-id, anomalies, rolled-back and deployment itself
# (watch); exit-code is written here too, for every command and for errors before a run.
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
if [ "$code" -ne 0 ] && [ "${VZ_FAIL:-true}" = "true" ]; then
  exit "$code"
fi
exit 0
