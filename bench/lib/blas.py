"""Shared by the plain-PyTorch sides of the benchmarks."""


def loaded_blas():
    """The BLAS shared objects mapped into this process (what libblas.so.3 resolved to)."""
    seen = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and "blas" in fields[5].lower() and fields[5] not in seen:
                seen.append(fields[5])
    return seen
