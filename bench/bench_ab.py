"""The intake benchmark of two checkouts of the desk, interleaved, for A/B runs of two commits in
one sitting (run: `git worktree add /tmp/base <commit>`, then
python bench/bench_ab.py /tmp/base [--engine sqlite] [--latency 0] [--clients 200] [--rounds 5]).

Each round runs the base's bot, this checkout's bot and the bare echo bot, each as its own
process against the stand-in with the same clients and steps as bench/bench_intake.py. On a
shared virtual machine one run differs from the next by a quarter or more, so the figures are
the medians of the rounds and the ratios are taken round by round (this / base, desk / echo)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def load_bench(root: Path) -> object:
    """bench_intake.py of `root`, which starts `root`'s bot."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"bench_intake_{abs(hash(root))}", root / "bench" / "bench_intake.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def rounds(base: Path, args: argparse.Namespace) -> None:
    sys.path[:0] = [str(HERE), str(HERE / "bench")]
    benches = {"base": load_bench(base), "this": load_bench(HERE)}
    seen: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": [], "echo": []}
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            order = list(benches.items())
            for name, bench in order if n % 2 == 0 else order[::-1]:  # neither always first
                f = await bench.run_desk(  # type: ignore[attr-defined]
                    args.engine, args.latency, args.clients, Path(folder)
                )
                seen[name].append((f.rate, f.cpu_per_update, f.p95))
            f = await benches["this"].run_echo(  # type: ignore[attr-defined]
                args.latency, args.clients, Path(folder)
            )
            seen["echo"].append((f.rate, f.cpu_per_update, f.p95))
        line = ", ".join(f"{k} {v[-1][0]:.1f}/s {v[-1][1] * 1000:.2f} ms" for k, v in seen.items())
        print(f"round {n + 1}: {line}", flush=True)
    print(
        f"\n{args.engine}, {args.clients} clients, +{args.latency * 1000:.0f} ms, medians of "
        f"{args.rounds} rounds; base = {base}"
    )
    print("| bot | updates/s | bot CPU per update | p95 | desk / echo |")
    print("|---|---|---|---|---|")
    for name, figures in seen.items():
        rate, cpu, p95 = (statistics.median(f[i] for f in figures) for i in range(3))
        shares = [d[0] / e[0] for d, e in zip(figures, seen["echo"], strict=True)]
        ratio = "" if name == "echo" else f"{statistics.median(shares):.0%}"
        print(f"| {name} | {rate:.1f} | {cpu * 1000:.2f} ms | {p95:.2f} s | {ratio} |")
    speed = statistics.median(t[0] / b[0] for t, b in zip(seen["this"], seen["base"], strict=True))
    cpu = statistics.median(t[1] / b[1] for t, b in zip(seen["this"], seen["base"], strict=True))
    print(f"\nthis / base, round by round: updates/s {speed:.2f}, CPU per update {cpu:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base", type=Path, help="the root of the other checkout")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(rounds(args.base.resolve(), args))


if __name__ == "__main__":
    main()
