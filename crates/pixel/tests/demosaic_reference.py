#!/usr/bin/env python3
"""Reference helper for tests/demosaic_opencv.rs.

Usage:
  demosaic_reference.py convert IN OUT WIDTH HEIGHT BITS OPENCV_NAME
      Reads a raw little-endian mosaic (BITS = 8 or 16) from IN, runs
      cv2.cvtColor(img, cv2.COLOR_<OPENCV_NAME>2RGB) and writes the raw RGB
      result to OUT.
  demosaic_reference.py bench WIDTH HEIGHT REPEATS
      Times single-threaded cv2.cvtColor(BayerBG2RGB) (= PFNC BayerRG8) on a
      random 8-bit image; prints the best time in milliseconds and Mpix/s.
Exit status 3 if cv2 cannot be imported.
"""
import sys
import time

try:
    import numpy as np
    import cv2
except ImportError as e:  # pragma: no cover
    print("cv2/numpy unavailable: %s" % e, file=sys.stderr)
    sys.exit(3)


def main():
    if sys.argv[1] == "convert":
        _, _, inp, out, w, h, bits, name = sys.argv
        w, h = int(w), int(h)
        dt = np.uint8 if bits == "8" else np.dtype("<u2")
        img = np.fromfile(inp, dtype=dt).reshape(h, w)
        rgb = cv2.cvtColor(img, getattr(cv2, "COLOR_%s2RGB" % name))
        rgb.astype(dt).tofile(out)
    elif sys.argv[1] == "bench":
        w, h, reps = map(int, sys.argv[2:5])
        cv2.setNumThreads(1)
        img = np.random.default_rng(0).integers(0, 256, (h, w), dtype=np.uint8)
        out = np.empty((h, w, 3), np.uint8)
        best = 1e9
        for _ in range(reps):
            t = time.perf_counter()
            cv2.cvtColor(img, cv2.COLOR_BayerBG2RGB, dst=out)
            best = min(best, time.perf_counter() - t)
        print("%.4f %.1f" % (best * 1e3, w * h / best / 1e6))
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
