"""Peak memory of the default text features per character of one long text.

1,000 short texts plus one long text of N characters are featurized with the default
``TfidfFeaturizer``; each size runs in its own process, so that the rise of its peak
resident memory (``ru_maxrss``) over the process's memory before featurizing is the
cost of that text. docs/limits.md quotes the result (bytes per character), which sets
the default ``--max-text-chars``.

    python experiments/text_memory.py                 # 100,000 to 4,000,000 characters
    python experiments/text_memory.py --chars 10000   # one size
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(n_chars: int) -> dict[str, float]:
    """Featurize 1,000 short texts and one of ``n_chars`` characters in this process."""
    import numpy as np

    from pico.featurizers.tfidf import TfidfFeaturizer

    rng = np.random.default_rng(0)
    words = ["book", "flight", "paris", "transfer", "money", "account", "weather", "alarm",
             "music", "play"]
    texts = [" ".join(rng.choice(words, 8)) for _ in range(1000)]
    texts.append(" ".join(rng.choice(words, n_chars // 5 + 1))[:n_chars])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    TfidfFeaturizer().fit_transform(texts)
    rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    return {"chars": n_chars, "peak_rise_mib": round(rise / 2**20, 1),
            "bytes_per_char": round(rise / n_chars, 1),
            "seconds": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, nargs="*",
                        default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return
    for n in args.chars:  # one process per size: its peak memory is its own
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                             capture_output=True, text=True).stdout
        print(out.strip())


if __name__ == "__main__":
    main()
