#!/usr/bin/env bash
# Runs the int8 kernel self-test (tests/EdgeCompile.Int8.Selftest) in every configuration whose paths ship:
#   x64 native (scalar + AVX2), x64 with DOTNET_EnableAVX512=0 (AVX2 with 16 vector registers), x64 with DOTNET_EnableAVX2=0 (scalar),
#   ARM64 under qemu -cpu max (scalar + AdvSimd + Dp) and -cpu cortex-a53 (scalar + AdvSimd, no dot product).
# Installs qemu-user and the arm64 cross libc/libstdc++ when missing. Fails on any failed check or missing path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${EDGE_BUILD_ROOT:-/tmp/build-int8-selftest}
out=${INT8_SELFTEST_OUT:-/tmp/int8-selftest}
sysroot=/usr/aarch64-linux-gnu

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || need+=(libc6-arm64-cross)
[ -e "$sysroot/lib/libstdc++.so.6" ] || need+=(libstdc++6-arm64-cross)
if ((${#need[@]})); then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"
fi

dotnet publish tests/EdgeCompile.Int8.Selftest -c Release -o "$out/x64" -p:ArtifactsPath="$root/x64" -p:UseArtifactsOutput=true --nologo -v q
dotnet publish tests/EdgeCompile.Int8.Selftest -c Release -p:SelftestRid=linux-arm64 -o "$out/arm64" -p:ArtifactsPath="$root/arm64" -p:UseArtifactsOutput=true --nologo -v q

failed=0
# run <name> <expected paths line> <command...>
run() {
  local name=$1 paths=$2; shift 2
  local start=$SECONDS log
  echo "== $name"
  if log=$("$@" 2>&1); then rc=0; else rc=$?; fi
  echo "$log" | grep -E 'FAIL|int8 selftest:|paths:' || true
  echo "   ($((SECONDS - start)) s, exit $rc)"
  if [ $rc -ne 0 ]; then echo "   FAILED: exit code $rc"; failed=1; fi
  if ! echo "$log" | grep -qx "paths: $paths"; then echo "   FAILED: expected 'paths: $paths'"; failed=1; fi
  if [ -n "${expect:-}" ] && ! echo "$log" | grep -qx "$expect"; then echo "   FAILED: expected '$expect' (the knob did not take effect)"; failed=1; fi
}
if [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo; then
  run "x64 (AVX2)" "scalar, AVX2" dotnet "$out/x64/EdgeCompile.Int8.Selftest.dll"
  # AVX2 without AVX-512: 16 vector registers, so the conv/GEMM kernels select single 8-pixel blocks (QConv.WideTile false).
  # .NET 10's knob is DOTNET_EnableAVX512 (DOTNET_EnableAVX512F is ignored): the "avx512: off" line proves it took effect.
  expect="avx512: off" run "x64 DOTNET_EnableAVX512=0" "scalar, AVX2" env DOTNET_EnableAVX512=0 dotnet "$out/x64/EdgeCompile.Int8.Selftest.dll"
fi
run "x64 DOTNET_EnableAVX2=0" "scalar" env DOTNET_EnableAVX2=0 dotnet "$out/x64/EdgeCompile.Int8.Selftest.dll"
run "arm64 qemu -cpu max" "scalar, AdvSimd, Dp" qemu-aarch64 -cpu max -L "$sysroot" "$out/arm64/EdgeCompile.Int8.Selftest"
run "arm64 qemu -cpu cortex-a53" "scalar, AdvSimd" qemu-aarch64 -cpu cortex-a53 -L "$sysroot" "$out/arm64/EdgeCompile.Int8.Selftest"
if [ $failed -ne 0 ]; then echo "int8 selftest: FAILED"; exit 1; fi
echo "int8 selftest: all configurations passed"
