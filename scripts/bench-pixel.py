#!/usr/bin/env python3
"""Pixel-kernel benchmark of mvcam against OpenCV, in one run.

    scripts/bench-pixel.py [--width W] [--height H]

Builds nothing: run `cargo build --release` first. Prints one JSON object:
mvcam's Mpix/s per kernel (`mvcam bench pixel --json`), OpenCV's for the same
work on the same frame size (single-threaded, and with all threads for the
pipeline comparison), and the ratios.
"""
import argparse, json, os, subprocess, sys, time


def median_mpix(f, pixels, budget=0.6):
    f()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 10000):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return pixels / times[len(times) // 2] / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=2448)
    ap.add_argument("--height", type=int, default=2048)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mvcam = os.path.join(root, "target", "release", "mvcam")
    out = subprocess.run([mvcam, "bench", "pixel", "--json", "--width", str(a.width),
                          "--height", str(a.height)], check=True, capture_output=True,
                         text=True).stdout
    ours = json.loads(out)
    result = {"width": a.width, "height": a.height, "mvcam": ours}
    try:
        import cv2
        import numpy as np
    except ImportError:
        result["opencv"] = "not installed (pip install opencv-python-headless)"
        print(json.dumps(result))
        return
    w, h = a.width, a.height
    n = w * h
    rng = np.random.default_rng(1)
    mosaic = rng.integers(0, 256, (h, w), dtype=np.uint8)
    mosaic16 = (mosaic.astype(np.uint16) << 4)
    lut = np.arange(256, dtype=np.uint8)[::-1].copy()
    cv = {}
    cv2.setNumThreads(1)
    # Our BayerRG is OpenCV's BayerBG (OpenCV names the second row).
    cv["demosaic_bilinear_rg8_rgb8"] = median_mpix(
        lambda: cv2.cvtColor(mosaic, cv2.COLOR_BayerBG2RGB), n)
    cv["demosaic_bilinear_rg12_rgb16"] = median_mpix(
        lambda: cv2.cvtColor(mosaic16, cv2.COLOR_BayerBG2RGB), n)
    rgb = cv2.cvtColor(mosaic, cv2.COLOR_BayerBG2RGB)
    cv["lut_rgb8"] = median_mpix(lambda: cv2.LUT(rgb, lut), n)
    cv2.setNumThreads(0)
    cv["demosaic_bilinear_rg8_rgb8_all_threads"] = median_mpix(
        lambda: cv2.cvtColor(mosaic, cv2.COLOR_BayerBG2RGB), n)
    result["opencv"] = {k: round(v, 1) for k, v in cv.items()}
    result["opencv_version"] = cv2.__version__
    ratios = {}
    for k in ("demosaic_bilinear_rg8_rgb8", "demosaic_bilinear_rg12_rgb16"):
        if k in ours:
            ratios[k] = round(ours[k] / cv[k], 2)
    result["mvcam_over_opencv"] = ratios
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
