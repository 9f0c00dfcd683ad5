"""A description of the machine a benchmark ran on, stored with its results."""

import os
import platform
from importlib import metadata

from emosynth.synth.knowledge import cpu_name  # the name a knowledge pass records too


def describe() -> dict:
    cpu = cpu_name()
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    versions = {}
    for pkg in ("llama-cpp-python", "torch", "transformers"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "gpu": None,
        **versions,
    }
