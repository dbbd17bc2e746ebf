#!/usr/bin/env python3
"""Checks tests/formula_table.txt against the reference GenApi (Python package `genicam`).

Each table row is `mode<TAB>expression<TAB>expected[<TAB>comment]`:
  mode        int (IntSwissKnife) or float (SwissKnife)
  expression  the formula; `\\n`, `\\t` and `\\\\` are escapes for newline, tab, backslash
  expected    an integer, a float (Python repr; `-0.0` checks the sign), nan, inf, -inf,
              or `error` (the reference fails to load or to read the node)
Blank lines and lines starting with `#` are ignored.

The formula may use these variables (the same set the Rust test declares):
  A=7, B=-3, Z=0, BIG=i64::MAX, MIN=i64::MIN, E=7   (Integer nodes)
  F=7.5, G=-2.5, H=2.5, FZ=0.0, HUGE=1e30           (Float nodes)
Only the variables an expression mentions become pVariables of its node (the reference
reads every pVariable, so an unused HUGE would make every integer formula fail).

Usage: formula_reference.py [TABLE]        check, print mismatches, exit 1 if any
       formula_reference.py --show [TABLE]  print the reference's result of every row
Each batch of nodes runs in a subprocess, since the reference crashes (SIGFPE) on some
integer inputs (i64::MIN / -1); such rows must not be in the table.
"""

import html
import json
import math
import os
import re
import subprocess
import sys

HEADER = """<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription ModelName="T" VendorName="T" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="11111111-1111-1111-1111-111111111111" VersionGuid="11111111-1111-1111-1111-111111111112" xmlns="http://www.genicam.org/GenApi/Version_1_1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.genicam.org/GenApi/Version_1_1 http://www.genicam.org/GenApi/GenApiSchema_Version_1_1.xsd">
"""

VARIABLES = {
    # name: (node type, value)
    "A": ("Integer", "7"),
    "B": ("Integer", "-3"),
    "Z": ("Integer", "0"),
    "BIG": ("Integer", "9223372036854775807"),
    "MIN": ("Integer", "-9223372036854775808"),
    "E": ("Integer", "7"),
    "F": ("Float", "7.5"),
    "G": ("Float", "-2.5"),
    "H": ("Float", "2.5"),
    "FZ": ("Float", "0"),
    "HUGE": ("Float", "1e30"),
}

VALUE_NODES = "".join(
    f'<{t} Name="V_{n}"><Value>{v}</Value></{t}>\n' for n, (t, v) in VARIABLES.items()
)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(s[i + 1], "\\" + s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def used_variables(expr):
    words = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", expr))
    return [n for n in VARIABLES if n in words]


def node_xml(i, mode, expr):
    tag = "IntSwissKnife" if mode == "int" else "SwissKnife"
    pv = "".join(f'<pVariable Name="{n}">V_{n}</pVariable>' for n in used_variables(expr))
    return f'<{tag} Name="N{i}">{pv}<Formula>{html.escape(expr, quote=False)}</Formula></{tag}>\n'


def load(nodes):
    from genicam import genapi

    xml = (
        HEADER
        + '<Category Name="Root">'
        + "".join(f"<pFeature>N{i}</pFeature>" for i in range(len(nodes)))
        + "</Category>\n"
        + "".join(nodes)
        + VALUE_NODES
        + "</RegisterDescription>"
    )
    nm = genapi.NodeMap()
    nm.load_xml_from_string(xml)
    return nm


def first_line(e):
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def run_batch(cases):
    """cases: [(mode, expr)] -> [(status, value)] in this process."""
    nodes = [node_xml(i, m, e) for i, (m, e) in enumerate(cases)]
    try:
        nm = load(nodes)
    except Exception as e:  # one bad node spoils the load: split
        if len(cases) == 1:
            return [("loaderr", first_line(e))]
        h = len(cases) // 2
        return run_batch(cases[:h]) + run_batch(cases[h:])
    out = []
    for i in range(len(cases)):
        try:
            out.append(("ok", nm.get_node(f"N{i}").value))
        except Exception as e:
            out.append(("readerr", first_line(e)))
    return out


def safe_batch(cases):
    """Like run_batch, but in subprocesses, bisecting around crashes."""
    p = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker"],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
    )
    if p.returncode == 0:
        return [tuple(x) for x in json.loads(p.stdout)]
    if len(cases) == 1:
        return [("crash", f"reference process died (status {p.returncode})")]
    h = len(cases) // 2
    return safe_batch(cases[:h]) + safe_batch(cases[h:])


def read_table(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 3 or parts[0] not in ("int", "float"):
                sys.exit(f"{path}:{lineno}: malformed row {line!r}")
            rows.append((lineno, parts[0], unescape(parts[1]), parts[2].strip()))
    return rows


def matches(mode, expected, status, value):
    if expected == "error":
        return status != "ok"
    if status != "ok":
        return False
    if mode == "int":
        return isinstance(value, int) and value == int(expected)
    exp = float(expected)
    if math.isnan(exp):
        return math.isnan(value)
    return value == exp and math.copysign(1.0, value) == math.copysign(1.0, exp)


def main(argv):
    if argv[1:2] == ["--worker"]:
        cases = json.loads(sys.stdin.read())
        print(json.dumps(run_batch([tuple(c) for c in cases])))
        return 0
    show = "--show" in argv
    args = [a for a in argv[1:] if a != "--show"]
    path = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "formula_table.txt")
    rows = read_table(path)
    results = safe_batch([(m, e) for _, m, e, _ in rows])
    bad = 0
    for (lineno, mode, expr, expected), (status, value) in zip(rows, results):
        ok = matches(mode, expected, status, value)
        shown = repr(value) if status == "ok" else f"{status}: {value}"
        if show:
            print(f"{lineno}\t{mode}\t{expr!r}\t{expected}\t{shown}\t{'ok' if ok else 'MISMATCH'}")
        elif not ok:
            print(f"{path}:{lineno}: {mode} {expr!r}: table says {expected}, reference gives {shown}")
        bad += not ok
    print(f"{len(rows)} rows, {len(rows) - bad} agree with the reference, {bad} mismatches", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
