# Shared helpers for sluice's shell test suites. Source it; it never exits.
#
# Every suite reports in TAP lines, one per test: "ok NAME" or "not ok NAME",
# so tests/run can count them all in one place whatever wrote them (cmocka
# emits the same with CMOCKA_MESSAGE_OUTPUT=TAP).

T_FAILED=0

# run_test NAME FUNCTION [ARGS...]
# Runs FUNCTION in a subshell with errexit; its output is shown only when it
# fails, indented under the "not ok" line so the reason sits next to the name.
run_test() {
  local name=$1; shift
  local out rc
  # The status travels out as the last line: running the subshell inside
  # "&&"/"||" would silently disable its errexit.
  out=$( (set -eo pipefail; "$@") 2>&1; printf '\n%s' "$?" )
  rc=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$rc" -eq 0 ]; then
    echo "ok - $name"
  else
    echo "not ok - $name"
    printf '%s\n' "$out" | tail -n 40 | sed 's/^/#   /'
    T_FAILED=$((T_FAILED + 1))
  fi
}

# fail MESSAGE: end the current test with a reason.
fail() { echo "FAIL: $*" >&2; return 1; }

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds or the deadline
# passes. Polling with a deadline, never a blind sleep.
wait_for() {
  local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
    sleep 0.02
  done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 - <<'PY' 2>/dev/null || shuf -i 20000-60000 -n 1
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
