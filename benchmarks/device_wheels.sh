#!/usr/bin/env bash
# Fetch, into .whl/, the wheels the GPU machine's image lacks (it has CuPy, torch, JAX, SciPy,
# hypothesis and pytest but not these), for its Python 3.12. Run once here before a device run.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
for req in "optree>=0.14" "array-api-compat>=1.11" "array-api-strict>=2.3" "array-api-extra>=0.7"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    -d .whl "$req"
done
ls .whl
