#!/usr/bin/env python3
"""Reference re-id metrics in NumPy, written from the published semantics of
torchreid's ``eval_market1501`` (torchreid/metrics/rank.py, Python and Cython
paths) and AGW's ``eval_sysu`` / ``eval_regdb`` (Cross-Modal-Re-ID-baseline,
eval_metrics.py). Independent re-implementations, not copies: they exist so
that lib/eval can be checked against the field's numbers on the same inputs.

Usage: reid_eval_ref.py CASES.json  ->  prints a JSON list, one result per case.

Each case: {"fn": "market_py" | "market_cy" | "sysu" | "regdb",
            "dist": path of raw little-endian float32, "rows", "cols",
            "q_pids", "g_pids", "q_camids", "g_camids",
            "gallery": optional column indices (a SYSU trial's gallery),
            "max_rank", "sort": "stable" | "quicksort", "time": bool}

Semantics (what each published function does, as read):
- ranking: np.argsort(distmat, axis=1). The published code uses NumPy's default
  (quicksort, unstable); "sort": "stable" gives ties in gallery-index order.
- market (torchreid): drop gallery items with the query's pid AND camid; skip
  queries with no match left; CMC = first-match indicator cumsum clipped at 1;
  AP = mean over matches of (matches so far / position). No mINP in torchreid;
  it is computed here as AGW does, for comparison.
- market_cy: the Cython path's arithmetic: float32 accumulators for AP, the
  mean AP and the mean CMC.
- sysu (AGW eval_sysu): drop gallery items with camera 2 for camera-3 queries
  (no pid rule); CMC on the ranked list with repeated identities removed
  (first occurrence kept); AP and INP on the full list; INP = #matches /
  position of the last match.
- regdb (AGW eval_regdb): nothing dropped; standard CMC, AP and INP.
"""
import json
import sys
import time

import numpy as np


def _order(distmat, kind):
    return np.argsort(distmat, axis=1, kind=kind)


def _ap_inp(hits):
    """AP and INP of a 0/1 vector of the ranked (kept) gallery, float64."""
    positions = np.flatnonzero(hits) + 1.0
    found = np.arange(1, positions.size + 1, dtype=np.float64)
    return float(np.mean(found / positions)), float(positions.size / positions[-1])


def market(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, kind, f32=False):
    order = _order(distmat, kind)
    cmcs, aps, inps = [], [], []
    for i in range(distmat.shape[0]):
        o = order[i]
        keep = ~((g_pids[o] == q_pids[i]) & (g_camids[o] == q_camids[i]))
        hits = (g_pids[o][keep] == q_pids[i]).astype(np.int32)
        if not hits.any():
            continue
        cmcs.append(np.minimum(np.cumsum(hits), 1)[:max_rank])
        if f32:
            # Cython path: running float32 sum of (cumsum / (k + 1)) * hit.
            cum = np.cumsum(hits).astype(np.float32)
            terms = (cum / np.arange(1, hits.size + 1, dtype=np.float32)) * hits.astype(np.float32)
            acc = np.float32(0.0)
            for v in terms[hits > 0]:
                acc = np.float32(acc + v)
            aps.append(np.float32(acc / np.float32(hits.sum())))
        else:
            aps.append(_ap_inp(hits)[0])
        inps.append(_ap_inp(hits)[1])
    if not cmcs:
        raise AssertionError("Error: all query identities do not appear in gallery")
    n = len(cmcs)
    cmc = np.asarray(cmcs).astype(np.float32).sum(0) / np.float32(n)
    if f32:
        total = np.float32(0.0)
        for ap in aps:
            total = np.float32(total + ap)
        m_ap = float(np.float32(total / np.float32(n)))
    else:
        m_ap = float(np.mean(aps))
    return cmc, m_ap, float(np.mean(inps)), n


def sysu(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, kind):
    order = _order(distmat, kind)
    cmcs, aps, inps = [], [], []
    for i in range(distmat.shape[0]):
        o = order[i]
        keep = ~((q_camids[i] == 3) & (g_camids[o] == 2))
        ranked = g_pids[o][keep]
        hits = (ranked == q_pids[i]).astype(np.int32)
        if not hits.any():
            continue
        _, first = np.unique(ranked, return_index=True)
        distinct = ranked[np.sort(first)]
        cmcs.append(np.cumsum(distinct == q_pids[i])[:max_rank])
        ap, inp = _ap_inp(hits)
        aps.append(ap)
        inps.append(inp)
    if not cmcs:
        raise AssertionError("Error: all query identities do not appear in gallery")
    n = len(cmcs)
    cmc = np.asarray(cmcs).astype(np.float32).sum(0) / np.float32(n)
    return cmc, float(np.mean(aps)), float(np.mean(inps)), n


def regdb(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, kind):
    order = _order(distmat, kind)
    cmcs, aps, inps = [], [], []
    for i in range(distmat.shape[0]):
        hits = (g_pids[order[i]] == q_pids[i]).astype(np.int32)
        if not hits.any():
            continue
        cmcs.append(np.minimum(np.cumsum(hits), 1)[:max_rank])
        ap, inp = _ap_inp(hits)
        aps.append(ap)
        inps.append(inp)
    if not cmcs:
        raise AssertionError("Error: all query identities do not appear in gallery")
    n = len(cmcs)
    cmc = np.asarray(cmcs).astype(np.float32).sum(0) / np.float32(n)
    return cmc, float(np.mean(aps)), float(np.mean(inps)), n


def run_case(case):
    dist = np.fromfile(case["dist"], dtype="<f4").reshape(case["rows"], case["cols"])
    q_pids = np.asarray(case["q_pids"], dtype=np.int64)
    g_pids = np.asarray(case["g_pids"], dtype=np.int64)
    q_cams = np.asarray(case["q_camids"], dtype=np.int64)
    g_cams = np.asarray(case["g_camids"], dtype=np.int64)
    if case.get("gallery") is not None:
        cols = np.asarray(case["gallery"], dtype=np.int64)
        dist, g_pids, g_cams = dist[:, cols], g_pids[cols], g_cams[cols]
    kind = case.get("sort", "stable")
    fn = case["fn"]
    start = time.perf_counter()
    if fn == "market_py":
        out = market(dist, q_pids, g_pids, q_cams, g_cams, case["max_rank"], kind)
    elif fn == "market_cy":
        out = market(dist, q_pids, g_pids, q_cams, g_cams, case["max_rank"], kind, f32=True)
    elif fn == "sysu":
        out = sysu(dist, q_pids, g_pids, q_cams, g_cams, case["max_rank"], kind)
    elif fn == "regdb":
        out = regdb(dist, q_pids, g_pids, q_cams, g_cams, case["max_rank"], kind)
    else:
        raise ValueError("unknown fn " + fn)
    seconds = time.perf_counter() - start
    cmc, m_ap, m_inp, n = out
    return {"cmc": [float(x) for x in cmc], "mAP": m_ap, "mINP": m_inp,
            "numValid": n, "seconds": seconds}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    json.dump([run_case(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
