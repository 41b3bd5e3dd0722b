# Sourced by the issue-27 device scripts: sktime, scikit-base and POT from the carried
# wheels (.whl/), one thread per worker, and the 36 development sets unpacked from the
# carried .study/ucr36.tar.xz (../shared/data/ucr and ucr-more) into /tmp/ucr36.
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
mkdir -p /tmp/data /tmp/ucr36 && tar -xJf .study/ucr36.tar.xz -C /tmp/data || exit 1
ln -sf /tmp/data/ucr/* /tmp/data/ucr-more/* /tmp/ucr36/
