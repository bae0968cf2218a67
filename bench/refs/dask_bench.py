#!/usr/bin/python3
# dask_bench.py: the Dask reference for rows 1 and 2 (adapted from the infra notes' dask_bench.py).
# Run with /usr/bin/python3: Debian's python3-distributed lives in dist-packages, which a pyenv or
# venv python cannot see.
#
#   dask_bench.py rtt WARMUP N ROUNDS    one client.submit(inc, i).result() at a time
#   dask_bench.py map WARMUP N ROUNDS    client.map(inc, range(N)) + client.gather
#
# Cluster: LocalCluster with 2 worker processes x 1 thread on 127.0.0.1 (as the clustrix rows use
# 2 agents x 1 slot), or an existing scheduler when DASK_ADDR is set (e.g. tcp://127.0.0.1:8786 from
# test/infra/dask-up.sh). Prints progress on stderr and one line `BENCH_JSON {...}` on stdout.
import json
import os
import signal
import sys
import threading
import time


def inc(x):
    return x + 1


def log(msg):
    print(f"    dask: {msg}", file=sys.stderr, flush=True)


def main():
    mode, warmup, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    budget_s = float(os.environ.get("BENCH_DASK_BUDGET_S", "1e9"))
    import dask
    import distributed
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    addr = os.environ.get("DASK_ADDR")
    cluster = None
    if addr:
        client = Client(addr, timeout=30)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        client.wait_for_workers(2, timeout=60)
        workers = len(client.scheduler_info()["workers"])
        start_s = time.perf_counter() - t0
        log(f"{'scheduler ' + addr if addr else 'LocalCluster'} with {workers} workers up in {start_s:.2f}s")
        out = {"mode": mode, "n": n, "workers": workers, "clusterStartS": start_s,
               "cluster": addr or "LocalCluster(n_workers=2, threads_per_worker=1, processes=True)",
               "versions": {"distributed": distributed.__version__, "dask": dask.__version__,
                            "python": sys.version.split()[0]},
               "rounds": []}
        began = time.perf_counter()
        if mode == "rtt":
            for i in range(warmup):
                assert client.submit(inc, i, pure=False).result() == i + 1
            for r in range(rounds):
                if r >= 2 and time.perf_counter() - began > budget_s:
                    log(f"stopping after {r} rounds (budget)")
                    break
                lat = []
                for i in range(n):
                    t = time.perf_counter()
                    v = client.submit(inc, i, pure=False).result()
                    lat.append((time.perf_counter() - t) * 1e3)
                    assert v == i + 1
                out["rounds"].append(lat)
                lat.sort()
                log(f"rtt round {r + 1}/{rounds}: median {lat[len(lat) // 2]:.2f} ms")
        elif mode == "map":
            client.gather(client.map(inc, range(warmup), pure=False))
            for r in range(rounds):
                if r >= 2 and time.perf_counter() - began > budget_s:
                    log(f"stopping after {r} rounds (budget)")
                    break
                t = time.perf_counter()
                futs = client.map(inc, range(n), pure=False)  # pure=False: no key reuse between rounds
                res = client.gather(futs)
                dt = time.perf_counter() - t
                assert res == list(range(1, n + 1))
                del futs, res
                out["rounds"].append({"seconds": dt, "tasksPerS": n / dt})
                log(f"map round {r + 1}/{rounds}: {n} tasks in {dt:.2f}s = {n / dt:,.0f} tasks/s")
        else:
            raise SystemExit(f"unknown mode {mode}")
        print("BENCH_JSON " + json.dumps(out), flush=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def on_term(signum, frame):
    raise SystemExit(143)


def watch_stdin():
    # The runner keeps our stdin open; EOF means it is gone: shut the LocalCluster down too.
    # os.read, not sys.stdin: a daemon thread blocked in a buffered read aborts interpreter shutdown
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    if os.environ.get("BENCH_WATCH_STDIN") == "1":
        threading.Thread(target=watch_stdin, daemon=True).start()
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
