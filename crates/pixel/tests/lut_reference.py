#!/usr/bin/env python3
"""Reference LUT / gamma / colour-matrix results with OpenCV and numpy for
tests/lut_opencv.rs.

Usage:
  lut_reference.py gamma8 GAMMA CHANNELS WIDTH HEIGHT IN OUT TABLE
      Builds the 8-bit gamma table independently in numpy,
      table[i] = floor(255 * (i / 255) ** GAMMA + 0.5), writes it (256 bytes)
      to TABLE, applies it with cv2.LUT to the HxWxCHANNELS uint8 image read
      from IN and writes the result to OUT.
  gamma12 GAMMA OUT_DEPTH IN_DEPTH COUNT IN OUT
      12-bit-index table table[i] = floor(out_max * (i / 4095) ** GAMMA + 0.5)
      applied with numpy indexing to COUNT little-endian uint16 samples of
      IN_DEPTH bits (index = s >> (IN_DEPTH - 12) or s << (12 - IN_DEPTH));
      writes little-endian uint16 to OUT.
  transform WIDTH HEIGHT IN OUT M00 M01 M02 O0 M10 M11 M12 O1 M20 M21 M22 O2
      cv2.transform of the HxWx3 uint8 image with the 3x4 matrix [M | O]
      (saturating, OpenCV rounding); writes uint8 to OUT.

Exit status 3 if cv2 or numpy is not importable.
"""
import sys

try:
    import cv2
    import numpy as np
except ImportError:
    sys.exit(3)


def gamma_table(gamma, in_max, out_max):
    i = np.arange(in_max + 1, dtype=np.float64)
    t = np.floor(out_max * np.power(i / in_max, gamma) + 0.5)
    return np.clip(t, 0, out_max)


def gamma8(args):
    gamma, ch, w, h, src, dst, table_out = args
    gamma, ch, w, h = float(gamma), int(ch), int(w), int(h)
    table = gamma_table(gamma, 255, 255).astype(np.uint8)
    table.tofile(table_out)
    data = np.fromfile(src, dtype=np.uint8)
    shape = (h, w) if ch == 1 else (h, w, ch)
    img = data[: w * h * ch].reshape(shape)
    out = cv2.LUT(img, table)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.ascontiguousarray(out).tofile(dst)


def gamma12(args):
    gamma, out_depth, in_depth, count, src, dst = args
    gamma, out_depth, in_depth, count = float(gamma), int(out_depth), int(in_depth), int(count)
    table = gamma_table(gamma, 4095, (1 << out_depth) - 1).astype(np.uint16)
    data = np.fromfile(src, dtype="<u2")[:count].astype(np.uint32)
    data = np.minimum(data, (1 << in_depth) - 1)
    if in_depth >= 12:
        idx = data >> (in_depth - 12)
    else:
        idx = data << (12 - in_depth)
    table[idx].astype("<u2").tofile(dst)


def transform(args):
    w, h, src, dst = args[:4]
    w, h = int(w), int(h)
    m = np.array([float(v) for v in args[4:16]], dtype=np.float64).reshape(3, 4)
    img = np.fromfile(src, dtype=np.uint8)[: w * h * 3].reshape(h, w, 3)
    out = cv2.transform(img, m)
    np.ascontiguousarray(out).tofile(dst)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"gamma8": gamma8, "gamma12": gamma12, "transform": transform}[mode](args)


if __name__ == "__main__":
    main()
