# Shared set-up for the side-by-side benchmarks (sourced by bench/*/run.sh).

# find_python MODULES...: sets $python to an interpreter that imports MODULES. Debian's
# python3-torch lives in the system interpreter, which a version manager's python3 earlier on
# PATH may hide.
find_python() {
  local imports
  imports=$(IFS=,; echo "$*")
  python=""
  for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c "import $imports" 2>/dev/null; then python=$candidate; return 0; fi
  done
  echo "no python3 with $* found: sudo apt-get install $(printf 'python3-%s ' "$@")" >&2
  exit 1
}

# require_openblas: libtorch (both sides) calls whatever libblas.so.3 resolves to, and the
# reference BLAS is ~20x slower on linear layers. If the alternative points elsewhere, preload
# OpenBLAS's libblas/liblapack for both processes (no system change needed).
require_openblas() {
  local triplet=x86_64-linux-gnu
  local openblas_dir=/usr/lib/$triplet/openblas-pthread
  local blas_link
  blas_link=$(update-alternatives --query libblas.so.3-$triplet 2>/dev/null | awk '/^Value:/ {print $2}' || true)
  blas_link=${blas_link:-$(readlink -f /usr/lib/$triplet/libblas.so.3 || true)}
  if [[ "$blas_link" == *openblas* ]]; then
    echo "blas: libblas.so.3 -> $blas_link (alternatives)"
  elif [[ -e $openblas_dir/libblas.so.3 ]]; then
    export LD_PRELOAD="$openblas_dir/libblas.so.3 $openblas_dir/liblapack.so.3${LD_PRELOAD:+ $LD_PRELOAD}"
    echo "blas: libblas.so.3 -> ${blas_link:-none}; preloading OpenBLAS from $openblas_dir"
  else
    echo "OpenBLAS is not installed (libblas.so.3 -> ${blas_link:-none}): sudo apt-get install libopenblas0-pthread" >&2
    exit 1
  fi
}
