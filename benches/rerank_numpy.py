"""NumPy side of the re-ranking benchmark: the same rank + Jaccard re-ranking as
lookout's eval module, written the straightforward vectorised NumPy way.

usage: rerank_numpy.py DIR REPEATS  (DIR holds texts.npy, images.npy, text_pid.npy,
image_pid.npy); prints JSON with the median time and the metrics."""
import json
import sys
import time

import numpy as np


def rank(sim, q_pid, g_pid, topk=(1, 5, 10)):
    order = np.argsort(-sim, axis=1, kind="stable")
    matches = g_pid[order] == q_pid[:, None]
    cmc = [float(matches[:, :k].any(axis=1).mean() * 100) for k in topk]
    cum = np.cumsum(matches, axis=1)
    pos = np.arange(1, sim.shape[1] + 1)
    ap = (cum / pos * matches).sum(axis=1) / matches.sum(axis=1)
    return cmc, float(ap.mean() * 100)


def k_reciprocal(qg, gg, k=5, alpha=0.05):
    nq, ng = qg.shape
    q_nn = np.argsort(-qg, axis=1, kind="stable")[:, :k]
    g_nn = np.argsort(-gg, axis=1, kind="stable")[:, :k]
    a = np.zeros((nq, ng), dtype=np.float32)
    a[np.arange(nq)[:, None], q_nn] = 1
    b = np.zeros((ng, ng), dtype=np.float32)
    b[np.arange(ng)[:, None], g_nn] = 1
    inter = a @ b.T
    return alpha * (inter / (2 * k - inter)).astype(np.float64)


def main():
    d, repeats = sys.argv[1], int(sys.argv[2])
    texts = np.load(f"{d}/texts.npy")
    images = np.load(f"{d}/images.npy")
    t_pid = np.load(f"{d}/text_pid.npy")
    i_pid = np.load(f"{d}/image_pid.npy")
    times = []
    for _ in range(repeats + 1):  # first run is warm-up
        start = time.perf_counter()
        sim = texts @ images.T
        gram = images @ images.T
        cmc, m_ap = rank(sim, t_pid, i_pid)
        re = sim + k_reciprocal(sim, gram)
        re_cmc, re_map = rank(re, t_pid, i_pid)
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])
    try:
        from threadpoolctl import threadpool_info
        blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                         f"{i.get('num_threads')} threads" for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed"
    print(json.dumps({"median_s": times[len(times) // 2], "r1": cmc[0], "map": m_ap,
                      "re_r1": re_cmc[0], "re_map": re_map, "blas": blas}))


if __name__ == "__main__":
    main()
