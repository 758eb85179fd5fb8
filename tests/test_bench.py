"""The bench measures what it says: FLOP counts from the architecture, fast vs reference on one image."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from liif.core.model import LIIF, LIIFConfig
from liif.evaluation import bench

REPO = Path(__file__).resolve().parents[1]


def test_flop_counts_follow_the_architecture():
    model = LIIF(LIIFConfig(encoder="edsr-baseline"))
    weights = sum(p.numel() for n, p in model.encoder.named_parameters() if n.endswith("weight"))
    assert bench.encoder_flops(model.encoder, 10, 10) == 2 * weights * 100
    reference = bench.decoder_flops(model, 1000, 100, fast=False)
    fast = bench.decoder_flops(model, 1000, 100, fast=True)
    assert reference == 1000 * 4 * 2 * (580 * 256 + 3 * 256 * 256 + 256 * 3)
    # the projection moves 576 of the first layer's 580 inputs from per-query to per-code work: ~43% fewer
    assert 0.55 < fast / reference < 0.6


def test_fast_path_matches_reference_in_the_bench():
    rows = bench.run_bench(["edsr-baseline"], [bench.Workload("tiny", 12, 3)], device="cpu", repeats=1,
                           progress=lambda m: None)
    (row,) = rows
    paths = row["paths"]
    assert set(paths) == set(bench.precisions_here("cpu")) and row["auto"] in paths
    assert paths["fp32"]["max_abs_diff"] <= 1e-4
    assert all(p["max_abs_diff"] < 0.05 for p in paths.values())
    assert paths["fp32"]["total_s"] > 0 and row["reference"]["total_s"] > 0
    assert all(p["cpu_speedup"] > 0 and p["cpu_s"] > 0 for p in paths.values())
    table = bench.format_table(rows)
    assert "reference" in table and "fast fp32" in table and f"fast {row['auto']} (auto)" in table


def test_several_pictures_are_each_encoded_and_compared():
    work = bench.Workload("two", 10, 2, count=2)
    rows = bench.run_bench(["edsr-baseline"], [work], device="cpu", repeats=2, precisions=["fp32"],
                           progress=lambda m: None)
    fp32 = rows[0]["paths"]["fp32"]
    assert len(fp32["runs_total_s"]) == 2 and fp32["max_abs_diff"] <= 1e-4
    assert fp32["gflop"] == 2 * bench.run_bench(["edsr-baseline"], [bench.Workload("one", 10, 2)], device="cpu",
                                                repeats=1, precisions=["fp32"], reference=False,
                                                progress=lambda m: None)[0]["paths"]["fp32"]["gflop"]


def test_the_reference_runs_between_the_fast_paths_as_often_as_they_do(tmp_path):
    """Interleaved runs (A B ref A B ref): a drifting neighbour's load falls on the reference too."""
    calls = []
    original = bench.ReferencePath.once

    def noted(self):
        calls.append("ref")
        original(self)

    bench.ReferencePath.once = noted
    try:
        fast_once = bench.FastPath.once
        bench.FastPath.once = lambda self: (calls.append(self.engine.precision), fast_once(self))
        rows = bench.run_bench(["edsr-baseline"], [bench.Workload("tiny", 8, 2)], device="cpu", repeats=2,
                               precisions=["fp32"], progress=lambda m: None)
    finally:
        bench.ReferencePath.once, bench.FastPath.once = original, fast_once
    assert calls == ["fp32", "fp32", "ref", "fp32", "ref"]  # warm-up, then two rounds
    assert len(rows[0]["reference"]["runs_total_s"]) == 2


def test_trained_weights_are_timed_when_given(tmp_path):
    from liif.core.weights import save_weights

    torch.manual_seed(5)
    trained = LIIF(LIIFConfig(encoder="edsr-baseline"))
    path = tmp_path / "trained.safetensors"
    save_weights(trained, path)
    rows = bench.run_bench(["edsr-baseline"], [bench.Workload("tiny", 8, 2)], device="cpu", repeats=1,
                           precisions=["fp32"], reference=False, weights={"edsr-baseline": path},
                           progress=lambda m: None)
    assert rows[0]["weights"] == str(path)


def test_magnifier_workload_compares_a_crop_of_the_reference():
    work = bench.Workload("window", 16, 8, window=4)
    rows = bench.run_bench(["edsr-baseline"], [work], device="cpu", repeats=1, max_reference_queries=320,
                           progress=lambda m: None)
    ref = rows[0]["reference"]
    assert ref["subset"] and ref["n_queries"] == 320
    assert rows[0]["paths"]["fp32"]["max_abs_diff"] <= 1e-4


@pytest.mark.slow
def test_bench_quick_command(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "liif", "bench", "--quick", "--json", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| edsr-baseline | quick 32->x4 | fast fp32" in result.stdout and "machine: " in result.stdout
    assert out.exists() and '"speedup"' in out.read_text()
