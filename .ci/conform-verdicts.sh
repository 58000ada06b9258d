#!/usr/bin/env bash
# The reference driver revisions' verdicts, little- and big-endian (the big-endian run is the
# real s390x build under qemu-s390x). Usage: .ci/conform-verdicts.sh ISMKIT SHARED [OPERATIONS]
set -uo pipefail
ismkit=$1 shared=$2 ops=${3:-4000}
failed=0
expect() { # expect EXIT REVISION ORDER
  local want=$1 rev=$2 order=$3 got
  "$ismkit" conform --driver-source "$shared/kernel/$rev/main.c" --byte-order "$order" --operations "$ops" --seed 1 --output reproducers/conform-ci
  got=$?
  if [ "$got" -eq "$want" ]; then echo "ok: $rev $order exit $got"; else echo "FAIL: $rev $order exit $got, expected $want"; failed=1; fi
}
expect 0 merged both
expect 0 v3 little
expect 1 v3 big
expect 1 v4 little
expect 1 v4 big
expect 1 v3-probe little
expect 1 v3-probe big
exit $failed
