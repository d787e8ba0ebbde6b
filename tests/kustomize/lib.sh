# shellcheck shell=bash
# Shared by tests/kustomize/regen and tests/kustomize/check. Source it.
#
# A case is a directory tests/data/kustomize/NNN-name/ holding:
#   input/         the tree to build (bases, components, overlays inside it)
#   root           optional: the path to build, relative to the case
#                  directory (e.g. "input/overlays/prod"); default "input"
#   expected.yaml  kubectl kustomize's stdout, when the build succeeds
#   expected.warn  kubectl kustomize's "# Warning: ..." lines, if it printed any
#   fails          present when the build fails; each non-empty line is a
#                  substring the engine's error message must contain
#   expected.err   kubectl kustomize's error message (see oracle_err)
#   flags          optional: extra arguments for `kubectl kustomize`, one a
#                  line, that make kubectl behave as Flux's build does
#                  (--load-restrictor=LoadRestrictionsNone); the engine is
#                  always run without them

KUSTOMIZE_CORPUS=${KUSTOMIZE_CORPUS:-tests/data/kustomize}
KUBECTL=${KUBECTL:-kubectl}

# case_root DIR: the build root of a case, relative to DIR.
case_root() {
  if [ -f "$1/root" ]; then
    local r
    r=$(<"$1/root")
    printf '%s\n' "${r%/}"
  else
    echo input
  fi
}

# case_flags DIR: the extra kubectl arguments of a case, one a line.
case_flags() {
  if [ -f "$1/flags" ]; then
    grep -v '^[[:space:]]*$' "$1/flags" || true
  fi
}

# case_list [NAME...]: the case directories (no trailing slash), all of
# them or those whose name starts with one of the arguments.
case_list() {
  local d n a
  for d in "$KUSTOMIZE_CORPUS"/[0-9]*; do
    [ -d "$d" ] || continue
    n=${d##*/}
    if [ $# -eq 0 ]; then echo "$d"; continue; fi
    for a in "$@"; do
      case $n in "${a##*/}"*) echo "$d"; break;; esac
    done
  done
}

# go_unquote: reads the inside of a Go %q string, prints it unescaped.
go_unquote() {
  local s
  s=$(cat)
  s=$(printf '%s' "$s" | sed 's/\\"/\\x22/g')
  printf '%b' "$s"
}

# oracle_err CASEDIR < STDERR: the message of a failed `kubectl kustomize`.
# kubectl v1.32 reports through klog:
#   E1128 08:13:15.433798   23065 run.go:72] "command failed" err="MSG"
# or, for a message with newlines,
#   E1128 ... run.go:72] "command failed" err=<
#   <TAB>line 1
#   <TAB>line 2
#    >
# (older kubectl printed "error: MSG"). This prints MSG alone, with the
# case directory's absolute path (as kustomize reports it) removed so that
# paths read relative to the case directory: "input/missing.yaml", and Go
# pointers (which change from run to run) replaced by 0xPTR.
oracle_err() {
  local abs out
  abs=$(cd "$1" && pwd -P)
  out=$(awk '
    /^# Warning: / { next }
    inblock && /^ >$/ { inblock = 0; next }
    inblock { sub(/^\t/, ""); print; next }
    /"command failed" err=<$/ { inblock = 1; next }
    /"command failed" err="/ { sub(/^.*"command failed" err="/, ""); sub(/"$/, ""); print "\001" $0; next }
    /^error: / { sub(/^error: /, ""); print; next }
    { print }
  ')
  if [ "${out:0:1}" = $'\001' ]; then
    out=$(printf '%s' "${out:1}" | go_unquote)
  fi
  out=${out//"$abs/"/}
  out=${out//"$abs"/.}
  printf '%s\n' "$out" | sed -E 's/0xc[0-9a-f]{9,}/0xPTR/g'
}

# oracle_warn < STDERR: kubectl's "# Warning:" lines.
oracle_warn() {
  grep '^# Warning: ' || true
}
