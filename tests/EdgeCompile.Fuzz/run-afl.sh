#!/usr/bin/env bash
# Coverage-guided fuzzing of the model front end with afl++ and SharpFuzz (README.md beside this file).
#
#   tests/EdgeCompile.Fuzz/run-afl.sh [seconds]      default 600; 0 = until Ctrl-C
#
# Environment (all optional):
#   EDGE_AFL_WORK          work folder (default /tmp/edge-afl): bin/, tools/, in/, findings/
#   EDGE_AFL_RESUME=1      continue the campaign in $EDGE_AFL_WORK/findings instead of starting a new one
#                          (a new one moves an existing findings/ aside to findings.<date>/, it never deletes it)
#   EDGE_AFL_SEED_MAX      largest seed file in bytes (default 131072)
#   EDGE_AFL_TIMEOUT_MS    afl-fuzz -t per-input limit (default 5000); a slower input is a hang
#   EDGE_AFL_ARGS          extra afl-fuzz arguments (e.g. "-x my.dict", "-M main" for parallel runs)
#
# Installs what is missing: afl++ (Debian's package, via apt-get) and the sharpfuzz CLI (a .NET tool, in
# $EDGE_AFL_WORK/tools). Exit code: 0 when the run found no crash and no hang, 1 otherwise.
set -euo pipefail

SECONDS_TO_RUN="${1:-600}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${EDGE_AFL_WORK:-/tmp/edge-afl}"
SEED_MAX="${EDGE_AFL_SEED_MAX:-131072}"
TIMEOUT_MS="${EDGE_AFL_TIMEOUT_MS:-5000}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$WORK"

# ---- tools
if ! command -v afl-fuzz >/dev/null; then
  echo "== installing afl++ (apt-get install afl++)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq afl++
fi
SHARPFUZZ="$WORK/tools/sharpfuzz"
if [ ! -x "$SHARPFUZZ" ]; then
  echo "== installing the sharpfuzz CLI (dotnet tool SharpFuzz.CommandLine) into $WORK/tools"
  dotnet tool install --tool-path "$WORK/tools" SharpFuzz.CommandLine
fi

# ---- harness: publish, then instrument the compiler in the published copy (a fresh publish each run,
# so the assembly is never instrumented twice)
echo "== publishing tests/EdgeCompile.Fuzz"
rm -rf "$WORK/bin"
dotnet publish "$ROOT/tests/EdgeCompile.Fuzz/EdgeCompile.Fuzz.csproj" -c Release -o "$WORK/bin" -v:q -nologo
echo "== instrumenting EdgeCompile.Compiler.dll"
"$SHARPFUZZ" "$WORK/bin/EdgeCompile.Compiler.dll"
HARNESS="$WORK/bin/EdgeCompile.Fuzz.dll"

# ---- seeds: the sample model, the hostile corpus, and every former crasher (small files only)
rm -rf "$WORK/in"; mkdir -p "$WORK/in"
for f in "$ROOT/Samples/DigitRecognizer/model/digits.onnx" \
         "$ROOT"/tests/EdgeCompile.Tests/Corpus/bad/*.onnx \
         "$ROOT"/tests/EdgeCompile.Tests/Corpus/crashers/*; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le "$SEED_MAX" ] || continue
  cp "$f" "$WORK/in/$(basename "$(dirname "$f")")_$(basename "$f")"
done
echo "== $(ls "$WORK/in" | wc -l) seeds in $WORK/in"

# ---- run
INPUT=(-i "$WORK/in")
if [ "${EDGE_AFL_RESUME:-0}" = 1 ] && [ -d "$WORK/findings" ]; then
  INPUT=(-i -)
elif [ -d "$WORK/findings" ]; then
  mv "$WORK/findings" "$WORK/findings.$(date +%Y%m%d-%H%M%S)"
fi
# dotnet itself carries no afl instrumentation marker (the probes are in the instrumented .dll): skip that check.
export AFL_SKIP_BIN_CHECK=1
# Containers and shared machines: no CPU governor to read, core dumps piped elsewhere, no free core to pin.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# The .NET runtime takes a few seconds to start the fork server on a busy machine.
export AFL_FORKSRV_INIT_TMOUT="${AFL_FORKSRV_INIT_TMOUT:-60000}"
[ -t 1 ] || export AFL_NO_UI=1
DURATION=(); [ "$SECONDS_TO_RUN" -gt 0 ] && DURATION=(-V "$SECONDS_TO_RUN")
echo "== afl-fuzz for ${SECONDS_TO_RUN}s (0 = until Ctrl-C); findings in $WORK/findings"
# shellcheck disable=SC2086
afl-fuzz "${INPUT[@]}" -o "$WORK/findings" -t "$TIMEOUT_MS" -m none "${DURATION[@]}" ${EDGE_AFL_ARGS:-} \
  -- dotnet "$HARNESS" || echo "afl-fuzz exited with $?"

# ---- summary: afl++ keeps one folder per fuzzer instance (default/ unless -M/-S names it)
status=0
for inst in "$WORK"/findings/*/; do
  [ -f "$inst/fuzzer_stats" ] || continue
  echo "== $(basename "$inst"): $(grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|corpus_found|edges_found|saved_crashes|saved_hangs) ' "$inst/fuzzer_stats" | awk '{printf "%s=%s ", $1, $3}')"
  for kind in crashes hangs; do
    files=$(find "$inst/$kind" -type f ! -name README.txt 2>/dev/null | sort)
    [ -n "$files" ] || continue
    status=1
    echo "-- $kind:"; echo "$files"
  done
  crashes=$(find "$inst/crashes" -type f ! -name README.txt 2>/dev/null | sort)
  if [ -n "$crashes" ]; then
    echo "-- replaying the crashes (stack traces):"
    # shellcheck disable=SC2086
    dotnet "$HARNESS" --replay $crashes || true
  fi
done
[ $status = 0 ] && echo "== no crashes, no hangs" || echo "== save each input under tests/EdgeCompile.Tests/Corpus/crashers/<name>.onnx once fixed"
exit $status
