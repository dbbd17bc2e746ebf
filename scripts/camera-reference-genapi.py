#!/usr/bin/env python3
"""Exercise every feature of the virtual camera through the EMVA reference
GenApi (PyPI package `genicam`), with the real camera firmware behind the port.

The camera runs in the `regserve` example of the `camera` crate: it powers a
camera up, writes the camera's GenICam XML to a file and then serves GenCP
register reads and writes line by line on stdin/stdout:

    r <addr-hex> <len>          -> ok <hex-bytes> | err <message>
    w <addr-hex> <hex-bytes>    -> ok | err <message>

This script loads that XML in the reference GenApi, connects a port that
forwards every access to the firmware, and exercises each feature node
(Integer, Float, Enumeration, Boolean, String, Command, Register):

  * the access mode is read;
  * when readable, the value is read (and min/max/inc for numbers);
  * when writable: numbers are written at min, max and a value in between
    (on the increment grid) and read back, then the original is restored;
    every available enumeration entry is set and read back, then restored;
    booleans are written both ways; strings get a short value; registers are
    written with their own content;
  * safe commands are executed (AcquisitionStart is followed by
    AcquisitionStop; UserSetSave only while UserSetSelector is UserSet1;
    DeviceReset, SimulationDisconnect and SimulationFaultStallStream never).

Selected features are exercised again under every available entry of their
selectors. The non-feature helper nodes of the XML (registers behind the
features, lock and availability flags) are read wherever the reference says
they are readable.

A JSON summary (per-feature counts and totals) is printed at the end. The
exit status is 1 when a feature the reference considers readable or
writable fails: a read error, a write the reference accepted but the
firmware refused (or the reference itself refused inside the range it
announced), or a value read back that differs from the value written.

Usage: camera-reference-genapi.py MODEL [--binary PATH] [--xml PATH]
  MODEL is color5mp, mono5mp or highspeed. Without --binary the example is
  started with `cargo run --release -p camera --example regserve`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

from genicam import genapi

# Commands never executed: they end the session or break the stream.
UNSAFE_COMMANDS = {"DeviceReset", "SimulationDisconnect", "SimulationFaultStallStream"}
# Commands executed by the acquisition step rather than on their own.
ACQUISITION_COMMANDS = ("AcquisitionStart", "AcquisitionStop")
# A string short enough for every StringReg of the camera.
SHORT_STRING = "refgen"

ACCESS = {
    genapi.EAccessMode.RO: "RO",
    genapi.EAccessMode.RW: "RW",
    genapi.EAccessMode.WO: "WO",
    genapi.EAccessMode.NA: "NA",
    genapi.EAccessMode.NI: "NI",
}
KINDS = {
    "IEnumeration": "Enumeration",
    "IInteger": "Integer",
    "IFloat": "Float",
    "IBoolean": "Boolean",
    "ICommand": "Command",
    "IString": "String",
    "IRegister": "Register",
}


class Regserve:
    """The regserve subprocess and its line protocol."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            self.close()
            raise RuntimeError("regserve did not start (said %r)" % first)

    def request(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise IOError("regserve exited")
        return answer.rstrip("\n")

    def close(self):
        try:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.proc.stdin.write("q\n")
                self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class FirmwarePort(genapi.AbstractPort):
    """A GenApi port forwarding to the firmware; remembers the firmware's
    refusals so that a failing feature access can say who refused it."""

    def __init__(self, server):
        super().__init__()
        self.server = server
        self.refusals = []

    def get_access_mode(self):
        return genapi.EAccessMode.RW

    def read(self, address, length):
        answer = self.server.request("r %x %d" % (address, length))
        if answer.startswith("ok"):
            data = bytes.fromhex(answer[2:].strip())
            if len(data) != length:
                raise IOError("read of %d bytes at %#x answered %d" % (length, address, len(data)))
            return data
        message = "read %#x+%d: %s" % (address, length, answer[4:])
        self.refusals.append(message)
        raise IOError(message)

    def write(self, address, value):
        data = bytes(value)
        answer = self.server.request("w %x %s" % (address, data.hex()))
        if answer == "ok":
            return
        message = "write %#x <- %s: %s" % (address, data.hex()[:32], answer[4:])
        self.refusals.append(message)
        raise IOError(message)


class Record:
    """What happened to one feature."""

    def __init__(self, name, kind):
        self.name, self.kind = name, kind
        self.access = None
        self.read_ok = self.write_ok = self.mismatch = self.error = 0
        self.errors = []
        self.notes = []
        self.access_by_context = {}

    def to_json(self):
        out = {
            "kind": self.kind,
            "access": self.access,
            "read_ok": self.read_ok,
            "write_ok": self.write_ok,
            "mismatch": self.mismatch,
            "error": self.error,
        }
        if self.errors:
            out["errors"] = self.errors
        if self.notes:
            out["notes"] = self.notes
        if self.access_by_context:
            out["access_by_context"] = self.access_by_context
        return out


class Exerciser:
    def __init__(self, nodemap, port):
        self.nm = nodemap
        self.port = port
        self.records = {}

    # ---- bookkeeping -------------------------------------------------
    def record(self, name, kind):
        if name not in self.records:
            self.records[name] = Record(name, kind)
        return self.records[name]

    def attempt(self, rec, what, fn):
        """Runs fn; on an exception counts an error that says whether the
        firmware refused an access (seen by the port) or the reference GenApi
        refused by itself. Returns (ok, result)."""
        seen = len(self.port.refusals)
        try:
            return True, fn()
        except Exception as e:  # the reference raises many classes
            firmware = self.port.refusals[seen:]
            who = "firmware refused: " + "; ".join(firmware) if firmware else "reference refused"
            rec.error += 1
            rec.errors.append("%s: %s (%s: %s)" % (what, who, type(e).__name__, one_line(e)))
            return False, None

    def mismatch(self, rec, what, wrote, read):
        rec.mismatch += 1
        rec.errors.append("%s: wrote %r, read back %r" % (what, wrote, read))

    def node(self, name):
        try:
            return self.nm.get_node(name)
        except Exception:
            return None

    # ---- access ------------------------------------------------------
    def access_of(self, rec, f, context=""):
        """Reads the access mode; the record keeps the mode of the first
        pass and lists the modes seen under other selector values."""
        ok, mode = self.attempt(rec, "access mode", lambda: ACCESS.get(f.node.get_access_mode(), "?"))
        shown = mode if ok else "error"
        if rec.access is None:
            rec.access = shown
        elif context:
            rec.access_by_context[context] = shown
        return mode if ok else None

    # ---- per kind ----------------------------------------------------
    def exercise(self, f, context=""):
        kind = KINDS.get(type(f).__name__)
        if kind is None:
            return
        name = f.node.name
        rec = self.record(name, kind)
        first = rec.access is None
        if not context:
            context = selector_values(f)
        tag = (" [%s]" % context) if context else ""
        mode = self.access_of(rec, f, "" if first else context)
        if mode is None:
            return
        if kind == "Command":
            self.execute(rec, f, mode, tag)
            return
        readable = mode in ("RO", "RW")
        writable = mode in ("RW", "WO")
        if kind in ("Integer", "Float"):
            self.numeric(rec, f, kind, readable, writable, tag)
        elif kind == "Enumeration":
            self.enumeration(rec, f, readable, writable, tag)
        elif kind == "Boolean":
            self.boolean(rec, f, readable, writable, tag)
        elif kind == "String":
            self.string(rec, f, readable, writable, tag)
        elif kind == "Register":
            self.register(rec, f, readable, writable, tag)

    def read_value(self, rec, what, fn):
        ok, value = self.attempt(rec, what, fn)
        if ok:
            rec.read_ok += 1
        return ok, value

    def numeric(self, rec, f, kind, readable, writable, tag):
        ok, original = (False, None)
        if readable:
            ok, original = self.read_value(rec, "read" + tag, lambda: f.value)
        if not (readable or writable):
            return
        okr, lim = self.attempt(
            rec, "min/max/inc" + tag,
            lambda: (f.min, f.max, f.inc if kind == "Integer" else (f.inc if f.has_inc() else None)),
        )
        if okr:
            rec.read_ok += 1
        if not (writable and okr):
            return
        lo, hi, inc = lim
        targets = numeric_targets(kind, lo, hi, inc)
        if not readable:
            rec.notes.append("write-only: values written without read-back")
        for value in targets:
            self.write_and_check(rec, f, value, readable, tag, kind, inc)
        if ok:
            # The original may have moved out of the range other features
            # imply; restore it as the reference sees fit.
            okw, _ = self.attempt(rec, "restore %r%s" % (original, tag), lambda: setattr(f, "value", original))
            if okw:
                rec.write_ok += 1

    def write_and_check(self, rec, f, value, readable, tag, kind, inc=None):
        okw, _ = self.attempt(rec, "write %r%s" % (value, tag), lambda: setattr(f, "value", value))
        if not okw:
            return
        rec.write_ok += 1
        if not readable:
            return
        ok, back = self.read_value(rec, "read back %r%s" % (value, tag), lambda: f.value)
        if ok and not same_value(kind, value, back, inc):
            self.mismatch(rec, "write" + tag, value, back)

    def enumeration(self, rec, f, readable, writable, tag):
        ok, original = (False, None)
        if readable:
            ok, original = self.read_value(rec, "read" + tag, lambda: f.to_string())
        if not writable:
            return
        okl, entries = self.attempt(rec, "entries" + tag, lambda: available_entries(f))
        if not okl:
            return
        if not entries:
            rec.notes.append("no entry available%s" % tag)
        for symbolic in entries:
            okw, _ = self.attempt(rec, "set %s%s" % (symbolic, tag), lambda s=symbolic: f.from_string(s))
            if not okw:
                continue
            rec.write_ok += 1
            if readable:
                okb, back = self.read_value(rec, "read back %s%s" % (symbolic, tag), lambda: f.to_string())
                if okb and back != symbolic:
                    self.mismatch(rec, "set" + tag, symbolic, back)
        if ok:
            okw, _ = self.attempt(rec, "restore %s%s" % (original, tag), lambda: f.from_string(original))
            if okw:
                rec.write_ok += 1

    def boolean(self, rec, f, readable, writable, tag):
        ok, original = (False, None)
        if readable:
            ok, original = self.read_value(rec, "read" + tag, lambda: f.value)
        if not writable:
            return
        first = (not original) if ok else True
        for value in (first, not first):
            self.write_and_check(rec, f, value, readable, tag, "Boolean")
        if ok:
            okw, _ = self.attempt(rec, "restore %r%s" % (original, tag), lambda: setattr(f, "value", original))
            if okw:
                rec.write_ok += 1

    def string(self, rec, f, readable, writable, tag):
        ok, original = (False, None)
        if readable:
            ok, original = self.read_value(rec, "read" + tag, lambda: f.value)
        if not writable:
            return
        if rec.name == "SimulationImagePath":
            # A path names a file outside the camera; the firmware's answer
            # depends on that file, which the XML cannot know about. Write
            # the current content back instead.
            value = original if ok else ""
            rec.notes.append("wrote its own content (a path depends on the file system)")
        else:
            okm, max_length = self.attempt(rec, "max_length" + tag, lambda: f.max_length)
            value = SHORT_STRING[: max(1, max_length - 1)] if okm else SHORT_STRING
        self.write_and_check(rec, f, value, readable, tag, "String")
        if ok and value != original:
            okw, _ = self.attempt(rec, "restore %r%s" % (original, tag), lambda: setattr(f, "value", original))
            if okw:
                rec.write_ok += 1

    def register(self, rec, f, readable, writable, tag):
        okl, length = self.attempt(rec, "length" + tag, lambda: f.length)
        if not okl:
            return
        content = None
        if readable:
            ok, content = self.read_value(rec, "read %d bytes%s" % (length, tag), lambda: bytes(f.get(length)))
            if not ok:
                content = None
        if writable and content is not None:
            okw, _ = self.attempt(rec, "write own content" + tag, lambda: f.set(content))
            if okw:
                rec.write_ok += 1
                okb, back = self.read_value(rec, "read back" + tag, lambda: bytes(f.get(length)))
                if okb and back != content:
                    first = next(i for i in range(min(len(back), len(content))) if back[i] != content[i]) \
                        if len(back) == len(content) else None
                    self.mismatch(rec, "write own content%s (first difference at byte %r)" % (tag, first),
                                  "%d bytes" % len(content), "%d bytes" % len(back))
        elif writable:
            rec.notes.append("write-only register not written (no content to write)%s" % tag)

    def execute(self, rec, f, mode, tag):
        name = rec.name
        if name in UNSAFE_COMMANDS:
            rec.notes.append("not executed: unsafe")
            return
        if name == "UserSetSave":
            selector = self.node("UserSetSelector")
            current = selector.to_string() if selector is not None and genapi.is_readable(selector) else None
            if current != "UserSet1":
                rec.notes.append("not executed with UserSetSelector=%s%s" % (current, tag))
                return
        if mode not in ("RW", "WO"):
            rec.notes.append("not executed: access %s%s" % (mode, tag))
            return
        okx, _ = self.attempt(rec, "execute" + tag, lambda: f.execute())
        if okx:
            rec.write_ok += 1
            okd, done = self.attempt(rec, "is_done" + tag, lambda: f.is_done())
            if okd:
                rec.read_ok += 1

    # ---- passes ------------------------------------------------------
    def features_in_order(self):
        """Features in the order of the category tree under Root."""
        seen, order = set(), []

        def walk(node):
            for child in category_children(node):
                name = child.node.name
                if name in seen:
                    continue
                seen.add(name)
                if type(child).__name__ == "ICategory":
                    walk(child)
                elif KINDS.get(type(child).__name__):
                    order.append(child)

        root = self.node("Root")
        if root is not None:
            walk(root)
        # Features not reachable from Root come last.
        for n in self.nm.nodes:
            if n.node.name not in seen and n.node.is_feature() and KINDS.get(type(n).__name__):
                seen.add(n.node.name)
                order.append(n)
        return order

    def stop_acquisition(self):
        stop = self.node("AcquisitionStop")
        if stop is None:
            return
        rec = self.record("AcquisitionStop", "Command")
        if self.access_of(rec, stop) in ("RW", "WO"):
            okx, _ = self.attempt(rec, "execute (stop before the run)", lambda: stop.execute())
            if okx:
                rec.write_ok += 1

    def acquisition(self):
        start, stop = self.node("AcquisitionStart"), self.node("AcquisitionStop")
        if start is None or stop is None:
            return
        self.exercise(start, "then AcquisitionStop")
        self.exercise(stop, "after AcquisitionStart")

    def selector_pass(self, features):
        """Exercises every selected feature under every available entry of
        its selector (the first pass saw only the selectors' defaults)."""
        for sel in features:
            if type(sel).__name__ != "IEnumeration" or not sel.node.is_selector():
                continue
            if not (genapi.is_readable(sel) and genapi.is_writable(sel)):
                continue
            rec = self.record(sel.node.name, "Enumeration")
            ok, original = self.attempt(rec, "read (selector pass)", lambda: sel.to_string())
            okl, entries = self.attempt(rec, "entries (selector pass)", lambda: available_entries(sel))
            if not (ok and okl):
                continue
            selected = [s for s in sel.node.selected_features if KINDS.get(type(s).__name__)]
            for entry in entries:
                if entry == original:
                    continue
                okw, _ = self.attempt(rec, "set %s (selector pass)" % entry, lambda e=entry: sel.from_string(e))
                if not okw:
                    continue
                context = "%s=%s" % (sel.node.name, entry)
                for f in selected:
                    if f.node.name in ACQUISITION_COMMANDS:
                        continue
                    self.exercise(f, context)
            self.attempt(rec, "restore %s (selector pass)" % original, lambda: sel.from_string(original))

    def helper_pass(self, feature_names):
        """Reads every non-feature node that the reference says is readable."""
        helpers = Record("(helper nodes)", "mixed")
        count = 0
        for n in self.nm.nodes:
            kind = KINDS.get(type(n).__name__)
            if kind is None or kind == "Command" or n.node.name in feature_names:
                continue
            count += 1
            ok, mode = self.attempt(helpers, n.node.name + ": access mode", lambda: n.node.get_access_mode())
            if not ok or ACCESS.get(mode) not in ("RO", "RW"):
                continue
            if kind == "Register":
                fn = lambda: n.get(n.length)
            elif kind == "Enumeration":
                fn = lambda: n.to_string()
            else:
                fn = lambda: n.value
            ok, _ = self.attempt(helpers, n.node.name + ": read", fn)
            if ok:
                helpers.read_ok += 1
        helpers.notes.append("%d helper nodes" % count)
        return helpers


def selector_values(f):
    """The current values of the selectors of f, as `Name=Entry,...`."""
    out = []
    try:
        selectors = list(f.node.selecting_features)
    except Exception:
        return ""
    for sel in selectors:
        try:
            if genapi.is_readable(sel.node) and type(sel).__name__ == "IEnumeration":
                out.append("%s=%s" % (sel.node.name, sel.to_string()))
        except Exception:
            pass
    return ",".join(out)


def category_children(node):
    try:
        return list(node.features)
    except Exception:
        return []


def available_entries(f):
    out = []
    for e in f.entries:
        if genapi.is_available(e.node):
            out.append(e.symbolic)
    return out


def numeric_targets(kind, lo, hi, inc):
    if kind == "Integer":
        step = inc if inc and inc > 0 else 1
        span = hi - lo
        mid = lo + ((span // 2) // step) * step
        values = [lo, hi, mid]
    else:
        mid = lo + (hi - lo) / 2.0
        if inc:
            mid = lo + math.floor((mid - lo) / inc) * inc
        values = [lo, hi, mid]
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def same_value(kind, wrote, read, inc=None):
    if kind != "Float":
        return wrote == read
    tol = max(abs(wrote) * 1e-6, 1e-9)
    if inc:
        tol = max(tol, inc / 2.0)
    return abs(wrote - read) <= tol


def one_line(e):
    text = str(e).replace("\n", " ").strip()
    return text[:300]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=["color5mp", "mono5mp", "highspeed"])
    ap.add_argument("--binary", help="the regserve example binary")
    ap.add_argument("--xml", help="where the camera's XML is written (default: a temporary file)")
    a = ap.parse_args()

    tmpdir = None
    xml_path = a.xml
    if xml_path is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="refgenapi-")
        xml_path = os.path.join(tmpdir.name, "camera.xml")
    if a.binary:
        argv = [a.binary, a.model, xml_path]
    else:
        argv = ["cargo", "run", "--quiet", "--release", "-p", "camera", "--example", "regserve", "--",
                a.model, xml_path]
    server = Regserve(argv)
    try:
        summary = run(server, xml_path, a.model)
    finally:
        server.close()
        if tmpdir is not None:
            tmpdir.cleanup()
    print(json.dumps(summary, indent=1, sort_keys=True))
    return 1 if summary["totals"]["failed_features"] else 0


def run(server, xml_path, model):
    nm = genapi.NodeMap()
    with open(xml_path, encoding="utf-8") as f:
        nm.load_xml_from_string(f.read())
    port = FirmwarePort(server)
    nm.connect(port, "Device")
    ex = Exerciser(nm, port)

    ex.stop_acquisition()
    features = ex.features_in_order()
    commands = [f for f in features if type(f).__name__ == "ICommand"]
    values = [f for f in features if type(f).__name__ != "ICommand"]
    for f in values:
        ex.exercise(f)
    ex.selector_pass(values)
    ex.acquisition()
    for f in commands:
        if f.node.name in ACQUISITION_COMMANDS:
            continue
        if f.node.name == "UserSetSave":
            with_user_set1(ex, f)
        else:
            ex.exercise(f)
    helpers = ex.helper_pass({f.node.name for f in features})

    per_feature = {name: r.to_json() for name, r in ex.records.items()}
    failed = sorted(name for name, r in ex.records.items() if r.error or r.mismatch)
    totals = {
        "features": len(ex.records),
        "read_ok": sum(r.read_ok for r in ex.records.values()),
        "write_ok": sum(r.write_ok for r in ex.records.values()),
        "mismatch": sum(r.mismatch for r in ex.records.values()),
        "error": sum(r.error for r in ex.records.values()),
        "failed_features": len(failed) + (1 if helpers.error else 0),
        "helper_reads_ok": helpers.read_ok,
        "helper_errors": helpers.error,
        "firmware_refusals": len(port.refusals),
    }
    return {
        "model": model,
        "totals": totals,
        "failed": failed,
        "features": per_feature,
        "helpers": helpers.to_json(),
    }


def with_user_set1(ex, save):
    """Runs UserSetSave with UserSet1 selected, then restores the selector."""
    selector = ex.node("UserSetSelector")
    rec = ex.record("UserSetSave", "Command")
    if selector is None:
        rec.notes.append("no UserSetSelector")
        return
    ok, original = ex.attempt(rec, "read UserSetSelector", lambda: selector.to_string())
    okw, _ = ex.attempt(rec, "select UserSet1", lambda: selector.from_string("UserSet1"))
    if okw:
        ex.exercise(save, "UserSetSelector=UserSet1")
    if ok:
        ex.attempt(rec, "restore UserSetSelector", lambda: selector.from_string(original))


if __name__ == "__main__":
    sys.exit(main())
