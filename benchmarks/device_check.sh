#!/usr/bin/env bash
# One run on the GPU machine (the `run` tool), after benchmarks/device_wheels.sh here:
#   command: bash benchmarks/device_check.sh      carry: [".whl"]      timeout_s: 560
# A session has 15 minutes of device time, the machine's start (1-2 minutes) included: the
# steps come in the order of what matters most, each with its own limit, so that what ran
# comes back in $OUT (7 files) even if a later step is cut:
#   1. the device paths' tests on CuPy alone: the session files test_s4*_*.py (their CuPy
#      cases are the ones no GPU has run) and the backend tests (120 s);
#   2. the host reads on CuPy arrays and on torch CUDA tensors (2 x 30 s);
#   3. the whole suite on CuPy beside NumPy, for the time left (FULL_S, default 240 s);
#   4. the GPU benchmark (60 s).
# JAX (the tests' reference values) runs on the CPU in the tests, as here: on the GPU each of
# the 8 test processes would take 75 % of the GPU's memory.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/out}
export JAX_PLATFORMS=cpu XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import cupy, torch, jax; print('cupy', cupy.__version__, 'torch', torch.__version__, 'jax', jax.__version__, 'GPUs', cupy.cuda.runtime.getDeviceCount())"
step() {  # step NAME SECONDS COMMAND...: its output in $OUT/NAME.log, its tail here
  local name=$1 limit=$2; shift 2
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "== $name: rc $?"; tail -"${TAIL:-15}" "$OUT/$name.log"
}
TAIL=30 step pytest_device_paths 120 env FUNCTRANS_TEST_BACKENDS=cupy python3 -m pytest -q \
  -p no:cacheprovider -n 8 -rfE -k cupy tests/test_s4*_*.py tests/test_backends*.py
step host_reads_cupy 30 python3 -m benchmarks.host_reads --cupy --lines 30
step host_reads_cuda 30 python3 -m benchmarks.host_reads --device cuda --lines 30
TAIL=30 step pytest_cupy "${FULL_S:-240}" env FUNCTRANS_TEST_BACKENDS=numpy,cupy python3 -m \
  pytest -q -p no:cacheprovider -n 8 -rfE tests
step gpu_bench 60 env -u JAX_PLATFORMS python3 -m benchmarks.gpu --out "$OUT"
