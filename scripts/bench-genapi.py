#!/usr/bin/env python3
"""Load-time benchmark of the GenApi engine against the reference GenApi, in one run.

    scripts/bench-genapi.py FILE.xml [--loads N]

Builds nothing: run `cargo build --release` first. Prints one JSON object:
mvcam's load time (mean and median) and mean cached read time (`mvcam genapi bench --json`), the
reference's mean load time over the same file (PyPI `genicam`), and the ratio.
"""
import argparse, json, os, subprocess, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xml")
    ap.add_argument("--loads", type=int, default=20)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mvcam = os.path.join(root, "target", "release", "mvcam")
    out = subprocess.run([mvcam, "genapi", "bench", a.xml, "--json", "--loads", str(a.loads)],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    result = {"file": os.path.basename(a.xml), "mvcam_load_ms": ours["load_ms"],
              "mvcam_load_median_ms": ours["load_median_ms"], "mvcam_read_ns": ours["read_ns"]}
    try:
        from genicam import genapi
    except ImportError:
        result["reference"] = "not installed (pip install genicam)"
        print(json.dumps(result))
        return
    with open(a.xml, encoding="utf-8", errors="replace") as f:
        text = f.read()
    genapi.NodeMap().load_xml_from_string(text)  # warm-up
    times = []
    for _ in range(max(3, a.loads // 4)):
        t = time.perf_counter()
        genapi.NodeMap().load_xml_from_string(text)
        times.append((time.perf_counter() - t) * 1e3)
    ref_ms = sum(times) / len(times)
    result["reference_load_median_ms"] = round(sorted(times)[len(times) // 2], 3)
    result["reference_load_ms"] = round(ref_ms, 3)
    result["load_speedup"] = round(ref_ms / ours["load_ms"], 1)
    print(json.dumps(result))

if __name__ == "__main__":
    sys.exit(main())
