"""functrans benchmark suite: ``python -m benchmarks [--quick] [--only W1,W3]``.

Importing this package pins every BLAS / XLA / OpenMP pool to one thread *before* NumPy (or any
peer) is imported, so that all systems are compared single-threaded on a noisy 2-core machine.
The child processes it starts (W6, W8) import it too and are pinned the same way.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
if _XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _XLA_ONE_THREAD).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")      # no accelerator probing, CPU only
os.environ.setdefault("JAX_ENABLE_X64", "1")       # float64 everywhere
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep XLA's start-up chatter off the table
