"""What this machine gives two single-threaded processes at once: the same float32 matrix product in plain PyTorch, one
process alone and then two processes side by side. Prints each rate and the throughput ratio, the ceiling for any batch of
compute-bound runs spread over that many workers (two vCPUs that are hyper-threads of one core, or share a power budget,
give far less than 2)."""
import multiprocessing as mp
import sys
import time

import torch


def rate(seconds_out, size=1024, repeats=40):
    torch.set_num_threads(1)
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    seconds_out.put(2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9)


def run(processes):
    out = mp.Queue()
    ps = [mp.Process(target=rate, args=(out,)) for _ in range(processes)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return [out.get() for _ in ps]


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    alone = run(1)[0]
    together = run(workers)
    print(f"machine ceiling: 1 process {alone:.1f} GFLOP/s; {workers} at once {' + '.join(f'{g:.1f}' for g in together)} GFLOP/s; "
          f"ratio {sum(together) / alone:.2f}")
