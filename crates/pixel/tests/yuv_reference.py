#!/usr/bin/env python3
"""Reference conversions with OpenCV for tests/convert_opencv.rs.

Usage: yuv_reference.py CODE CHANNELS WIDTH HEIGHT IN OUT

Reads WIDTH*HEIGHT*CHANNELS raw bytes from IN (an HxWxCHANNELS uint8 image),
applies cv2.cvtColor with cv2.<CODE> (e.g. COLOR_YUV2RGB_YUYV) and writes the
raw result bytes to OUT. Exit status 3 if cv2 is not importable.
"""
import sys

try:
    import cv2
    import numpy as np
except ImportError:
    sys.exit(3)


def main():
    code, ch, w, h, src, dst = sys.argv[1:7]
    ch, w, h = int(ch), int(w), int(h)
    data = np.fromfile(src, dtype=np.uint8)
    img = data[: w * h * ch].reshape(h, w, ch)
    out = cv2.cvtColor(img, getattr(cv2, code))
    np.ascontiguousarray(out).tofile(dst)


if __name__ == "__main__":
    main()
