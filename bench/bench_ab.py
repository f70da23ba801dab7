"""One intake figure of one checkout of the desk, for A/B runs of two commits in one sitting
(run: python bench/bench_ab.py ROOT ENGINE LATENCY CLIENTS, e.g. after
`git worktree add /tmp/base <commit>`: python bench/bench_ab.py /tmp/base sqlite 0 200, then the
same with this checkout's root, then ENGINE echo). Each run starts the bot of ROOT as its own
process, as bench/bench_intake.py does (the same clients, steps and figures)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path


async def measure(root: Path, engine: str, latency: float, clients: int) -> str:
    sys.path[:0] = [str(root), str(root / "bench")]
    import bench_intake as b

    with tempfile.TemporaryDirectory() as folder:
        if engine == "echo":
            f = await b.run_echo(latency, clients, Path(folder))
        else:
            f = await b.run_desk(engine, latency, clients, Path(folder))
    return (
        f"{root.name} {engine} latency={latency} clients={clients}: {f.rate:.1f} updates/s,"
        f" {f.cpu_per_update * 1000:.2f} ms CPU per update,"
        f" p50 {f.p50 * 1000:.0f} ms, p95 {f.p95 * 1000:.0f} ms"
    )


def main() -> None:
    root, engine, latency, clients = sys.argv[1:5]
    print(asyncio.run(measure(Path(root).resolve(), engine, float(latency), int(clients))))


if __name__ == "__main__":
    main()
