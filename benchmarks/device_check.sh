#!/usr/bin/env bash
# One run on the GPU machine (the `device` tool), after benchmarks/device_wheels.sh here:
#   command: bash benchmarks/device_check.sh      carry: [".whl"]
# The test suite on CuPy (with NumPy beside it), then the GPU benchmark; logs and results
# land in $OUT.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import cupy, torch, jax; print('cupy', cupy.__version__, 'torch', torch.__version__, 'jax', jax.__version__, jax.devices())"
FUNCTRANS_TEST_BACKENDS=numpy,cupy timeout 330 python3 -m pytest -q -p no:cacheprovider \
  -n 8 tests > "$OUT/pytest_cupy.log" 2>&1
echo "pytest rc $?"; tail -25 "$OUT/pytest_cupy.log"
timeout 180 python3 -m benchmarks.gpu --out "$OUT" > "$OUT/gpu_bench.log" 2>&1
echo "benchmark rc $?"; cat "$OUT/gpu_bench.log" | tail -40
