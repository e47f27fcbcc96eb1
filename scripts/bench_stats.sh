#!/usr/bin/env bash
# Benchmark JudgeStats against the Python references on the same 1 000 000 seeded votes:
# Cohen's κ (sklearn cohen_kappa_score), Krippendorff's α nominal, 2 coders × 1e6 units
# (krippendorff.alpha 0.9.0), 1 000-resample accuracy and κ bootstraps (numpy).
# Prints seconds and peak RSS for both sides and the Python/Swift time ratio.
#
#   pip install scikit-learn krippendorff==0.9.0 numpy
#   scripts/bench_stats.sh            # PACKAGE_DIR=... to build another package with a StatsBench product
set -euo pipefail
cd "${PACKAGE_DIR:-$(dirname "$0")/..}"
swift build -c release --product StatsBench >&2
BIN="$(swift build -c release --show-bin-path)/StatsBench"
DATA="$(mktemp)"; SWIFT_OUT="$(mktemp)"
trap 'rm -f "$DATA" "$SWIFT_OUT"' EXIT
"$BIN" "$DATA" | tee "$SWIFT_OUT"
python3 - "$DATA" "$SWIFT_OUT" <<'PY'
import resource, sys, time
import numpy as np
import krippendorff
from sklearn.metrics import cohen_kappa_score

data = np.fromfile(sys.argv[1], dtype=np.uint8)
n = data.size // 2
judge, truth = data[:n].astype(np.int64), data[n:].astype(np.int64)
swift = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) >= 3 and parts[0] == "swift":
        swift[parts[1]] = float(parts[2])

def timed(f):
    t = time.perf_counter(); v = f(); return v, time.perf_counter() - t

py = {}
v, py["cohen_kappa"] = timed(lambda: cohen_kappa_score(judge, truth))
print(f"python cohen_kappa {py['cohen_kappa']:.6f} s  kappa={v!r}")
v, py["cohen_kappa_quadratic"] = timed(lambda: cohen_kappa_score(judge, truth, weights="quadratic"))
print(f"python cohen_kappa_quadratic {py['cohen_kappa_quadratic']:.6f} s  kappa={v!r}")
rel = np.stack([judge, truth]).astype(float)
v, py["krippendorff_alpha"] = timed(lambda: krippendorff.alpha(reliability_data=rel, level_of_measurement="nominal"))
print(f"python krippendorff_alpha {py['krippendorff_alpha']:.6f} s  alpha={v!r}")
correct = (judge == truth).astype(np.float64)
def boot():
    rng = np.random.default_rng(0)
    stats = np.empty(1000)
    for r in range(1000):
        stats[r] = correct[rng.integers(0, n, n)].mean()
    return np.percentile(stats, [2.5, 97.5])
v, py["bootstrap_accuracy"] = timed(boot)
print(f"python bootstrap_accuracy {py['bootstrap_accuracy']:.6f} s  resamples=1000 ci={v.tolist()}")
def kappa_from_table(t):
    t = t.reshape(3, 3).astype(float)
    n_ = t.sum(); w = 1 - np.eye(3)
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n_
    return 1 - (w * t).sum() / (w * expected).sum()
def boot_kappa():
    # numpy index resampling with a bincount κ per resample (sklearn per resample would take ~200 s).
    rng = np.random.default_rng(0)
    codes = judge * 3 + truth
    stats = np.empty(1000)
    for r in range(1000):
        stats[r] = kappa_from_table(np.bincount(codes[rng.integers(0, n, n)], minlength=9))
    return np.percentile(stats, [2.5, 97.5])
v, py["bootstrap_kappa"] = timed(boot_kappa)
print(f"python bootstrap_kappa {py['bootstrap_kappa']:.6f} s  resamples=1000 ci={v.tolist()}")
py["total_core"] = py["cohen_kappa"] + py["krippendorff_alpha"] + py["bootstrap_accuracy"]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"python peak_rss_mib {rss:.1f}")

print(f"\n{'n = ' + str(n):<24}{'swift s':>12}{'python s':>12}{'python/swift':>14}")
rows = [("cohen_kappa", "cohen_kappa"), ("cohen_kappa_quadratic", "cohen_kappa_quadratic"),
        ("krippendorff_alpha", "krippendorff_alpha"), ("bootstrap_accuracy", "bootstrap_accuracy"),
        ("bootstrap_kappa", "bootstrap_kappa"), ("bootstrap_generic", "bootstrap_accuracy"), ("total_core", "total_core")]
for s, p in rows:
    if s in swift:
        print(f"{s:<24}{swift[s]:>12.4f}{py[p]:>12.4f}{py[p] / swift[s]:>13.1f}x")
print(f"{'peak RSS MiB':<24}{swift.get('peak_rss_mib', float('nan')):>12.1f}{rss:>12.1f}")
PY
