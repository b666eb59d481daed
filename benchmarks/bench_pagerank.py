"""PageRank: features.pagerank.pagerank against networkx.pagerank, and against one scipy sparse mat-vec.

Run:  /work/venv/bin/python benchmarks/bench_pagerank.py
      (defaults: ours on 1M nodes / 10M edges; networkx on 100k nodes / 1M edges, both sides on that graph;
      add --nx-nodes 1000000 --nx-edges 10000000 to run networkx on the full graph: minutes and ~10 GB)

Graphs are random and heavy-tailed: sources uniform, targets drawn with probability proportional to
rank^-0.8 over a random permutation of the nodes (a power-law in-degree), duplicates and self-loops kept;
the out-edges of a random 10% of the nodes are dropped (--dangling) so that dangling nodes matter.

Both sides run to the same convergence: ours stops when the L1 change is < 1e-10; networkx stops when it is
< N * tol, so it is called with tol = 1e-10 / N. The script checks that both answers agree (max abs diff).
Reported: graph building, iterations, seconds per iteration, end-to-end seconds, the ratio networkx / ours
end to end (graph building included; ours is the best of 3 runs, networkx one run: networkx builds a MultiDiGraph from the edge list, we build a CSR
matrix), and our time per iteration / the time of one CSR mat-vec ``W.T @ x`` on the same matrix (the
floor any power iteration has to pay).

Times are CPU seconds of this process (time.process_time), not wall-clock: the benchmark machine is shared
(2 cores, load average ~8 while this was written), and CPU time is what a contended wall clock cannot show.
Every step is single-threaded (scipy's CSR mat-vec, numpy's element-wise operations, networkx), so on an
idle machine CPU time and wall-clock time agree.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def make_graph(n_nodes: int, n_edges: int, seed: int, dangling: float):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_nodes + 1) ** 0.8
    p /= p.sum()
    drawn = int(n_edges / (1.0 - dangling) * 1.01) + 10  # edges out of silent nodes are dropped below
    position = np.minimum(np.searchsorted(np.cumsum(p), rng.random(drawn)), n_nodes - 1)
    targets = rng.permutation(n_nodes)[position]
    sources = rng.integers(0, n_nodes, size=drawn)
    if dangling > 0:
        silent = rng.random(n_nodes) < dangling
        keep = ~silent[sources]
        sources, targets = sources[keep], targets[keep]
    return sources[:n_edges].astype(np.int64), targets[:n_edges].astype(np.int64)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def run_ours(src, dst, n, tol):
    from features.pagerank import _power_iteration, _transition

    t0 = time.process_time()
    wt, dangling_idx = _transition(src, dst, n, None)
    t_build = time.process_time() - t0
    p = np.full(n, 1.0 / n)
    # best of 3 runs each: the machine is shared, and the minimum is the least disturbed measurement
    t_iter = np.inf
    for _ in range(3):
        t0 = time.process_time()
        x, n_iter, err = _power_iteration(wt, dangling_idx, p, p, 0.85, tol, 10_000)
        t_iter = min(t_iter, time.process_time() - t0)
    vec = np.random.default_rng(0).random(n)
    t_matvec = best_of(lambda: wt @ vec, 3 * n_iter)
    return x, dict(build=t_build, iterations=n_iter, iterate=t_iter, per_iter=t_iter / n_iter,
                   matvec=t_matvec, total=t_build + t_iter, dangling=len(dangling_idx))


def run_public(src, dst, n, tol):
    """The public function end to end (input checks included), as a user calls it."""
    from features.pagerank import pagerank

    best = np.inf
    for _ in range(3):
        t0 = time.process_time()
        x = pagerank(src, dst, n_nodes=n, tol=tol)
        best = min(best, time.process_time() - t0)
    return x, best


def run_networkx(src, dst, n, tol):
    import networkx as nx

    t0 = time.process_time()
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    t_build = time.process_time() - t0
    t0 = time.process_time()
    ref = nx.pagerank(g, alpha=0.85, tol=tol / n, max_iter=10_000)  # networkx stops at N * tol
    t_rank = time.process_time() - t0
    return np.array([ref[i] for i in range(n)]), dict(build=t_build, rank=t_rank, total=t_build + t_rank)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nx-nodes", type=int, default=100_000)
    ap.add_argument("--nx-edges", type=int, default=1_000_000)
    ap.add_argument("--dangling", type=float, default=0.1, help="share of nodes with no out-edge")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print(f"# PageRank, damping 0.85, L1 change < {args.tol:g} on both sides")
    # Step 1: the networkx-sized graph, both sides
    src, dst = make_graph(args.nx_nodes, args.nx_edges, args.seed, args.dangling)
    ours_x, ours = run_ours(src, dst, args.nx_nodes, args.tol)
    _, public_s = run_public(src, dst, args.nx_nodes, args.tol)
    nx_x, nxr = run_networkx(src, dst, args.nx_nodes, args.tol)
    print(f"\n## {args.nx_nodes:,} nodes, {len(src):,} edges ({ours['dangling']:,} dangling)")
    print(f"max |ours - networkx| = {np.abs(ours_x - nx_x).max():.2e}; sum(ours) = {ours_x.sum():.12f}")
    print("| side | build s | iterations | rank s | end to end s | ratio |")
    print("|---|---|---|---|---|---|")
    print(f"| networkx {nx_version()} MultiDiGraph | {nxr['build']:.2f} | - | {nxr['rank']:.2f} | {nxr['total']:.2f} | 1 |")
    print(f"| features.pagerank.pagerank | {ours['build']:.3f} | {ours['iterations']} | {ours['iterate']:.3f} | "
          f"{public_s:.3f} | {nxr['total'] / public_s:.0f}x faster |")
    print(f"per iteration {ours['per_iter'] * 1e3:.2f} ms vs one CSR mat-vec {ours['matvec'] * 1e3:.2f} ms "
          f"({ours['per_iter'] / ours['matvec']:.2f}x)")
    del src, dst

    # Step 2: the full-size graph, ours (networkx here too if asked for the same size)
    src, dst = make_graph(args.nodes, args.edges, args.seed, args.dangling)
    ours_x, ours = run_ours(src, dst, args.nodes, args.tol)
    _, public_s = run_public(src, dst, args.nodes, args.tol)
    print(f"\n## {args.nodes:,} nodes, {len(src):,} edges ({ours['dangling']:,} dangling)")
    print(f"build {ours['build']:.2f} s, {ours['iterations']} iterations in {ours['iterate']:.2f} s, "
          f"end to end (public function) {public_s:.2f} s, sum = {ours_x.sum():.12f}")
    print(f"per iteration {ours['per_iter'] * 1e3:.1f} ms vs one CSR mat-vec {ours['matvec'] * 1e3:.1f} ms "
          f"({ours['per_iter'] / ours['matvec']:.2f}x)")
    print(f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def nx_version() -> str:
    import networkx as nx

    return nx.__version__


if __name__ == "__main__":
    main()
