"""FLOP counts for the matmul and training-FLOPs cards (p1 and q17): torch's own count of a call,
and the textbook triple loop's multiplications and additions, counted one by one."""

from __future__ import annotations

from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn, *args) -> int:
    """The FLOPs torch counts while running fn(*args)."""
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


def naive_matmul_counting(a: list[list[float]], b: list[list[float]]) -> tuple[list, int]:
    """a @ b by the textbook triple loop, and how many multiplications and additions it made."""
    m, n, p = len(a), len(b), len(b[0])
    flops = 0
    out = [[0.0] * p for _ in range(m)]
    for i in range(m):
        for j in range(p):
            acc = a[i][0] * b[0][j]
            flops += 1
            for k in range(1, n):
                acc += a[i][k] * b[k][j]
                flops += 2
            out[i][j] = acc
    return out, flops
