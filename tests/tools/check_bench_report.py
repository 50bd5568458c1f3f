#!/usr/bin/env python3
"""Checks tessera-bench report: the static HTML page, parsed here and in a real browser.

    check_bench_report.py --bench BIN --workdir DIR --ops OPS.json --e2e E2E.json --llama LLAMA.json
                          [--chromium PATH] [--keep]

Runs `tessera-bench report` on the op and e2e results, a modified copy of the
op results (another host, one cell unsupported with a reason, one noisy) and
real llama-bench output, with the op file as the baseline, then:

- parses DIR/index.html with html.parser: every element closed in order; no
  script, no external resource; the files, sources and comparison tables
  hold one row per file, source, op workload and e2e test (computed here from
  the inputs); each cell says what its result is (value, unsupported with the
  reason as its title, '!' when noisy, the ratio against the baseline); an
  inline <svg> per DIR/<chart>.svg, identical to the file;
- loads the page in headless Chromium (--dump-dom) and checks the browser's
  DOM holds the same rows and the same SVG elements and marks;
- takes a screenshot (--screenshot) and decodes the PNG (zlib, no PIL): the
  requested size, not blank (many colours, a sane share of non-white pixels),
  and the colour of every mark of the charts present (of the first two
  charts when the page is taller than the window);
- a file with HTML in its device, host and model names shows them as text
  (no element made of them); a bad -o (under a regular file), a missing file
  and a baseline that matches nothing exit nonzero with a message.

No bound on any measured speed. Exit 0 ok, 1 failures, 77 skipped: Chromium is
not installed (scripts/install-deps.sh installs it; the static checks still run
first and fail the test when they fail).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from html.parser import HTMLParser

WINDOW = (1280, 6000)  # the screenshot: tall enough for the whole test page
MARKS = {"bar", "point", "roof", "ceiling"}  # the charts' data marks (benchmarks/README.md, compare)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
failures: list[str] = []


def check(cond: bool, msg: str) -> bool:
    if not cond:
        failures.append(msg)
    return cond


# ---- A small DOM ---------------------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list["Node | str"] = []

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.classes()):
                    out.append(c)
                out.extend(c.find_all(tag, cls))
        return out


class TreeBuilder(HTMLParser):
    """Builds the tree; strict: every non-void element must be closed by its own end tag."""

    def __init__(self, strict: bool):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root
        self.strict = strict
        self.errors: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        n = Node(tag, {k: (v or "") for k, v in attrs}, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag == tag:
            self.cur = self.cur.parent
            return
        if self.strict:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}> (line {self.getpos()[0]})")
        n = self.cur  # lenient: close up to the matching element
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(text: str, strict: bool) -> tuple[Node, TreeBuilder]:
    b = TreeBuilder(strict)
    b.feed(text)
    b.close()
    if strict and b.cur is not b.root:
        b.errors.append(f"<{b.cur.tag}> never closed")
    return b.root, b


# ---- What the page must hold, computed from the inputs ---------------------------


def json_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def llama_results(path: str) -> list[dict]:
    """llama-bench tests as compare names them (engine llama.cpp, cpu)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        tests = json.loads(text)
        tests = tests if isinstance(tests, list) else [tests]
    except json.JSONDecodeError:
        tests = [json.loads(line) for line in text.splitlines() if line.strip()]
    out = []
    for t in tests:
        name = ""
        if t["n_prompt"] > 0:
            name = f"pp{t['n_prompt']}"
        if t["n_gen"] > 0:
            name += ("+" if name else "") + f"tg{t['n_gen']}"
        if t.get("n_depth", 0) > 0:
            name += f" @ d{t['n_depth']}"
        out.append({"kind": "e2e", "engine": "llama.cpp", "device": "cpu", "threads": t.get("n_threads", 0),
                    "model": os.path.basename(t.get("model_filename", "unknown")), "test": name,
                    "n_prompt": t["n_prompt"], "n_batch": 0})
    return out


def llama_commit(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        first = f.read().lstrip().lstrip("[").lstrip()
    m = re.search(r'"build_commit"\s*:\s*"([^"]*)"', first)
    return m.group(1) if m else "?"


def row_key(r: dict) -> str:
    if r["kind"] == "op":
        return r["name"]
    k = f"{r['model']} {r['test']}"
    b, p = r.get("n_batch") or 0, r.get("n_prompt") or 0
    if 0 < b < p:
        k += " b" + json_number(b)
    return k


def sources_of(files: list[tuple[str, str, list[dict]]]) -> list[dict]:
    """(path, host, results) per file -> the sources in order of appearance, as comparison.cpp forms them."""
    sources: list[dict] = []
    for path, host, results in files:
        for r in results:
            key = (r.get("engine", "tessera"), r["device"], int(r.get("threads") or 0), host, path)
            for s in sources:
                if s["key"] == key:
                    break
            else:
                s = {"key": key, "path": path, "results": {}}
                sources.append(s)
            s["results"].setdefault((r["kind"], row_key(r)), r)
    return sources


# ---- Checks of one page -----------------------------------------------------------


def table_rows(root: Node, kind: str) -> tuple[list[int], dict[str, list[Node]]]:
    """The comparison table of a kind: its columns' source indices and {row key: its cells}."""
    tables = [t for t in root.find_all("table", "compare") if t.attrs.get("data-kind") == kind]
    if not check(len(tables) == 1, f"{len(tables)} comparison tables of kind {kind}, expected 1"):
        return [], {}
    thead = tables[0].find_all("thead")[0]
    cols = [int(th.attrs["data-source"]) for th in thead.find_all("th") if "data-source" in th.attrs]
    rows: dict[str, list[Node]] = {}
    for tr in tables[0].find_all("tbody")[0].find_all("tr"):
        ths = tr.find_all("th")
        key = ths[0].text() if ths else "?"
        check(key not in rows, f"{kind} row {key!r} twice")
        rows[key] = tr.find_all("td")
    return cols, rows


def svg_marks(svg: Node) -> Counter:
    return Counter((n.tag, cls, n.attrs.get("data-source", "")) for n in svg.find_all()
                   for cls in n.classes() & MARKS)


def check_page(root: Node, where: str, sources: list[dict], n_files: int, charts: dict[str, Node],
               baseline: int, changed: dict) -> None:
    """The tables and charts of a page (index.html as parsed here, or the browser's DOM)."""
    files = root.find_all("table", "files")
    if check(len(files) == 1, f"{where}: no files table"):
        check(len(files[0].find_all("tbody")[0].find_all("tr")) == n_files, f"{where}: files table rows")
    srcs = root.find_all("table", "sources")
    if check(len(srcs) == 1, f"{where}: no sources table"):
        trs = srcs[0].find_all("tbody")[0].find_all("tr")
        check(len(trs) == len(sources), f"{where}: {len(trs)} source rows, expected {len(sources)}")
        for i, tr in enumerate(trs):
            check((baseline == i) == bool(tr.find_all("span", "badge")),
                  f"{where}: source [{i}] baseline badge")
    for kind in ("op", "e2e"):
        want_cols = [i for i, s in enumerate(sources) if any(k == kind for k, _ in s["results"])]
        want_rows = []
        for s in sources:
            for k, key in s["results"]:
                if k == kind and key not in want_rows:
                    want_rows.append(key)
        cols, rows = table_rows(root, kind)
        check(cols == want_cols, f"{where}: {kind} columns {cols}, expected sources {want_cols}")
        check(sorted(rows) == sorted(want_rows),
              f"{where}: {kind} rows {sorted(rows)} != expected {sorted(want_rows)}")
        for key, tds in rows.items():
            if not check(len(tds) == len(cols), f"{where}: {key!r}: {len(tds)} cells for {len(cols)} columns"):
                continue
            for s, td in zip(cols, tds):
                r = sources[s]["results"].get((kind, key))
                cls, text = td.classes(), " ".join(td.text().split())
                here = f"{where}: {kind} {key!r} [{s}]"
                if r is None:
                    check("none" in cls, f"{here}: expected an empty cell, got {text!r}")
                    continue
                status = r.get("status", "ok")
                if status != "ok":
                    check("status" in cls and status in cls and text == status,
                          f"{here}: expected a '{status}' cell, got class {sorted(cls)} {text!r}")
                    check(td.attrs.get("title") == (r.get("reason") or "no reason recorded"),
                          f"{here}: title {td.attrs.get('title')!r} is not the reason {r.get('reason')!r}")
                    continue
                check("ok" in cls and re.match(r"^[0-9.e+-]+", text) is not None, f"{here}: no value: {text!r}")
                noisy = bool(r.get("noisy"))
                check(("noisy" in cls) == noisy and bool(td.find_all("span", "noisy")) == noisy,
                      f"{here}: noisy mark is {'noisy' in cls}, the result's noisy is {noisy}")
                if kind == "op" or s == baseline:
                    if s == baseline:
                        check("ref" in cls and "reference" in text, f"{here}: the baseline cell: {text!r}")
                    else:
                        check(re.search(rf"\u00d7[0-9.]+ \([0-9.]+\u2013[0-9.]+\)~? vs \[{baseline}\]", text)
                              is not None, f"{here}: no ratio with interval against [{baseline}]: {text!r}")
                    if r.get("samples_s") and len(r["samples_s"]) > 1:
                        check(re.search(r"95%: [0-9.e+-]+\u2013[0-9.e+-]+", text) is not None,
                              f"{here}: no 95% interval: {text!r}")
    # The changed cells really are in the page (the checks above compare with the inputs).
    cols, rows = table_rows(root, "op")
    if changed["unsupported"] in rows and changed["source"] in cols:
        td = rows[changed["unsupported"]][cols.index(changed["source"])]
        check("unsupported" in td.classes(), f"{where}: the injected unsupported cell is {td.text()!r}")
    notes = " ".join(li.text() for li in root.find_all("li"))
    check(changed["reason"] in notes, f"{where}: the unsupported reason is not listed under the table")

    figures = root.find_all("figure", "chart")
    names = [f.attrs.get("id", "")[len("chart-"):] for f in figures]
    check(sorted(names) == sorted(charts), f"{where}: chart figures {names}, files {sorted(charts)}")
    for f in figures:
        name = f.attrs.get("id", "")[len("chart-"):]
        svgs = f.find_all("svg")
        if not check(len(svgs) == 1, f"{where}: figure {name}: {len(svgs)} <svg>"):
            continue
        if name in charts:
            got, want = svg_marks(svgs[0]), svg_marks(charts[name])
            check(got == want, f"{where}: chart {name}: marks {dict(got)} != the file's {dict(want)}")
            check(len(svgs[0].find_all("text")) == len(charts[name].find_all("text")),
                  f"{where}: chart {name}: a different number of <text> than {name}.svg")


def check_static(text: str, where: str) -> Node:
    root, b = parse_html(text, strict=True)
    check(b.doctype.lower() == "doctype html", f"{where}: doctype {b.doctype!r}")
    for e in b.errors[:10]:
        failures.append(f"{where}: not well formed: {e}")
    check(not root.find_all("script"), f"{where}: holds a <script>")
    check(not root.find_all("link") and not root.find_all("img") and not root.find_all("iframe"),
          f"{where}: holds <link>, <img> or <iframe>")
    for n in root.find_all():
        for a in ("src", "href", "xlink:href"):
            v = n.attrs.get(a, "")
            check(not re.match(r"^\s*([a-z]+:|//)", v, re.I), f"{where}: external reference {a}={v!r}")
    styles = " ".join(s.text() for s in root.find_all("style"))
    check("url(" not in styles and "@import" not in styles, f"{where}: the style loads something")
    metas = [m for m in root.find_all("meta") if m.attrs.get("charset", "").lower() == "utf-8"]
    check(bool(metas), f"{where}: no <meta charset=utf-8>")
    return root


# ---- Chromium ------------------------------------------------------------------------


def find_chromium(given: str | None) -> str | None:
    if given:
        return given
    for c in (os.environ.get("TESSERA_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


def run_chromium(chrome: str, args: list[str], timeout: float) -> subprocess.CompletedProcess | None:
    """One headless Chromium run, in its own process group, killed after (it leaves helpers behind)."""
    with tempfile.TemporaryDirectory(prefix="tessera-chromium-") as profile:
        cmd = [chrome, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            out, err = "", ""
            check(False, f"chromium {' '.join(args[-2:])}: no result in {timeout} s")
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            p.wait()
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def decode_png(path: str) -> tuple[int, int, list[bytes], int]:
    """8-bit RGB or RGBA, not interlaced (what Chromium writes): width, height, rows, bytes per pixel."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    if ihdr is None:
        raise ValueError("no IHDR")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG format: depth {depth}, colour type {ctype}, interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError("image data of the wrong length")
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f != 0:
            raise ValueError(f"unknown filter {f}")
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def chart_colours(svg: Node) -> set[str]:
    """Fill / stroke colours of a chart's marks."""
    out = set()
    for n in svg.find_all():
        if n.classes() & MARKS:
            for a in ("fill", "stroke"):
                v = n.attrs.get(a, "")
                if re.fullmatch(r"#[0-9a-fA-F]{6}", v) and v.lower() not in ("#333333", "#ffffff"):
                    out.add(v.lower())
    return out


def check_screenshot(png: str, charts: list[Node]) -> str:
    """charts: in page order; the colours of all are checked when the page fits the window, else the first two's."""
    try:
        w, h, rows, bpp = decode_png(png)
    except (OSError, ValueError, zlib.error) as e:
        check(False, f"screenshot {png}: {e}")
        return "no screenshot"
    check((w, h) == WINDOW, f"screenshot is {w}x{h}, asked for {WINDOW[0]}x{WINDOW[1]}")
    colours: Counter = Counter()
    for r in rows:
        for x in range(0, len(r), bpp):
            colours[r[x:x + 3]] += 1
    total = w * h
    white = colours.get(b"\xff\xff\xff", 0)
    share = 1 - white / total
    check(len(colours) >= 32, f"screenshot: only {len(colours)} distinct colours (blank?)")
    check(0.02 <= share <= 0.9, f"screenshot: {100 * share:.1f}% non-white pixels")
    # The page fits the window when its last rows are white.
    fits = all(r == rows[-1] for r in rows[-50:]) and set(rows[-1][:3]) == {255}
    wanted = set()
    for svg in charts if fits else charts[:2]:
        wanted |= chart_colours(svg)
    check(bool(wanted), "the charts have no coloured marks")
    seen = []
    for c in sorted(wanted):
        n = colours.get(bytes.fromhex(c[1:]), 0)
        if check(n >= 20, f"screenshot: the chart colour {c} is on {n} pixels"):
            seen.append(f"{c} ({n} px)")
    return (f"{w}x{h}, {len(colours)} colours, {100 * share:.1f}% non-white, chart colours seen: "
            f"{', '.join(seen) or 'none'} ({'the page fits the window: every chart' if fits else 'the page is taller than the window: the first two charts'})")


# ---- Main ---------------------------------------------------------------------------------


def run_bench(bench: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([bench, "report", *args], capture_output=True, text=True, timeout=120)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ops", required=True)
    ap.add_argument("--e2e", required=True)
    ap.add_argument("--llama", required=True)
    ap.add_argument("--chromium")
    args = ap.parse_args()

    work = os.path.abspath(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    # A second op source: another host; one cell unsupported with a reason, one noisy.
    ops = load(args.ops)
    other = copy.deepcopy(ops)
    other["run"]["hostname"] = "otherhost"
    oks = [r for r in other["results"] if r.get("status", "ok") == "ok"]
    if not check(len(oks) >= 2, f"{args.ops}: fewer than two ok op results"):
        return report()
    reason = "no kernel for <q4_1> & \"this\" layout on this device"
    oks[0].update(status="unsupported", reason=reason, median_s=None, samples_s=[], gflops=None, gbps=None,
                  roofline_share=None)
    oks[1]["noisy"] = True
    other_path = os.path.join(work, "ops-otherhost.json")
    with open(other_path, "w", encoding="utf-8") as f:
        json.dump(other, f)
    ops_path = os.path.join(work, "ops.json")
    shutil.copyfile(args.ops, ops_path)
    e2e = load(args.e2e)

    out = os.path.join(work, "report", "page")  # two levels that do not exist yet
    inputs = [ops_path, other_path, args.e2e, args.llama]
    p = run_bench(args.bench, [*inputs, "-o", out + "/", "--baseline", "ops.json"])
    if not check(p.returncode == 0, f"report exited {p.returncode}: {p.stderr.strip()}"):
        return report()
    index = os.path.join(out, "index.html")
    with open(index, encoding="utf-8") as f:
        text = f.read()

    host = ops["run"].get("hostname", "")
    files = [(ops_path, host, ops["results"]), (other_path, "otherhost", other["results"]),
             (args.e2e, e2e["run"].get("hostname", ""), e2e["results"]), (args.llama, "", llama_results(args.llama))]
    sources = sources_of(files)
    changed = {"unsupported": oks[0]["name"], "reason": reason,
               "source": next(i for i, s in enumerate(sources) if s["path"] == other_path)}

    charts = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".svg"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                svg_text = f.read()
            check(svg_text[svg_text.find("<svg"):] in text, f"{name} is not inline in index.html as written")
            root, b = parse_html(svg_text, strict=True)
            check(not b.errors, f"{name}: {b.errors[:3]}")
            svgs = root.find_all("svg")
            if check(len(svgs) == 1, f"{name}: {len(svgs)} <svg>"):
                charts[name[:-4]] = svgs[0]
    for required in ("ops", "e2e", "roofline"):
        check(required in charts, f"no {required}.svg")

    root = check_static(text, "index.html")
    check_page(root, "index.html", sources, len(inputs), charts, 0, changed)
    page_text = root.text()
    headers = {"generated by": "Generated by tessera-bench report", "command": "--baseline ops.json",
               "llama format": "llama-bench JSON", "tessera format": "tessera-bench/1",
               "git commit": ops["run"].get("git_commit", "?"), "cpu model": ops["run"]["cpu_model"],
               "command line": ops["run"]["command_line"], "llama commit": llama_commit(args.llama)}
    for what, s in headers.items():
        check(s in page_text, f"index.html: the header lacks the {what} ({s!r})")

    # HTML in names is text.
    evil = copy.deepcopy(e2e)
    bad_dev, bad_model = "<script>alert(1)</script>", "<i>model</i>.gguf"
    evil["run"]["hostname"] = "<b>host</b>&amp;"
    evil["run"]["command_line"] = "tessera-bench e2e <img src=x onerror=alert(2)>"
    for d in evil.get("devices", []):
        d.update(name=bad_dev, description="<img src=x onerror=alert(3)>", driver="</td></tr></table>")
    for r in evil["results"]:
        r.update(device=bad_dev, model=bad_model)
    evil_path = os.path.join(work, "evil.json")
    with open(evil_path, "w", encoding="utf-8") as f:
        json.dump(evil, f)
    evil_out = os.path.join(work, "evil")
    p = run_bench(args.bench, [evil_path, "-o", evil_out])
    evil_root = None
    if check(p.returncode == 0, f"report of evil.json exited {p.returncode}: {p.stderr.strip()}"):
        with open(os.path.join(evil_out, "index.html"), encoding="utf-8") as f:
            evil_text = f.read()
        for s in ("<script", "<img", "<b>", "<i>", "</td></tr></table>"):
            check(s not in evil_text, f"evil/index.html holds {s!r} unescaped")
        evil_root = check_static(evil_text, "evil/index.html")
        check(not evil_root.find_all("b") and not evil_root.find_all("i"), "evil/index.html: <b> or <i> elements")
        page_text = evil_root.text()
        for s in (bad_dev, bad_model, "<b>host</b>&amp;", "<img src=x onerror=alert(3)>", "</td></tr></table>"):
            check(s in page_text, f"evil/index.html: {s!r} is not shown as text")

    # Errors: a path under a regular file, a missing file, a baseline that matches nothing, no -o.
    plain = os.path.join(work, "plain-file")
    with open(plain, "w") as f:
        f.write("x")
    for argv, code, msg in (([args.e2e, "-o", os.path.join(plain, "sub")], None, plain),
                            ([os.path.join(work, "missing.json"), "-o", out], 2, "missing.json"),
                            ([args.e2e, "-o", out, "--baseline", "nosuchdevice"], 2, "nosuchdevice"),
                            ([args.e2e], 2, "-o DIR")):
        p = run_bench(args.bench, argv)
        ok = p.returncode != 0 if code is None else p.returncode == code
        check(ok and msg in p.stderr and "tessera-bench report" in p.stderr,
              f"report {' '.join(argv)}: exit {p.returncode}, stderr {p.stderr.strip()!r} "
              f"(expected {code or 'nonzero'} and a message naming {msg!r})")
    p = run_bench(args.bench, ["--help"])
    check(p.returncode == 0 and "-o DIR" in p.stdout, "report --help")

    if failures:
        return report()

    chrome = find_chromium(args.chromium)
    if not chrome:
        if os.environ.get("TESSERA_REQUIRE_CHROMIUM") == "1":
            check(False, "chromium is not installed and TESSERA_REQUIRE_CHROMIUM=1 (scripts/test.sh) needs it")
            return report()
        print("SKIP: chromium is not installed (scripts/install-deps.sh installs it from "
              "scripts/debian-packages.txt); the static checks passed")
        return 77
    v = run_chromium(chrome, ["--version"], 60)
    version = (v.stdout.strip().splitlines() or ["?"])[-1] if v else "?"
    url = "file://" + os.path.abspath(index)

    d = run_chromium(chrome, ["--dump-dom", url], 90)
    if check(d is not None and "<table" in d.stdout, f"chromium --dump-dom gave no page: {d.stderr[-2000:]}"):
        dom, _ = parse_html(d.stdout, strict=False)
        check(not dom.find_all("parsererror"), "the browser reports a parse error")
        check_page(dom, "browser DOM", sources, len(inputs), charts, 0, changed)
        check(len(dom.find_all("svg")) == len(charts), "browser DOM: the number of <svg> elements")
    if evil_root is not None:
        d = run_chromium(chrome, ["--dump-dom", "file://" + os.path.join(evil_out, "index.html")], 90)
        if check(d is not None and "<table" in d.stdout, "chromium --dump-dom of evil/index.html"):
            dom, _ = parse_html(d.stdout, strict=False)
            check(not dom.find_all("script") and not dom.find_all("img"),
                  "browser DOM of evil/index.html: a <script> or <img> element")
            check(bad_dev in dom.text(), "browser DOM of evil/index.html: the device name is not text")

    png = os.path.join(work, "report.png")
    s = run_chromium(chrome, [f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url], 90)
    shot = "no screenshot"
    if check(s is not None and os.path.exists(png), f"chromium --screenshot wrote nothing: {s.stderr[-2000:]}"):
        figures = root.find_all("figure", "chart")
        shot = check_screenshot(png, [f.find_all("svg")[0] for f in figures if f.find_all("svg")])
    print(f"{version}; screenshot {png}: {shot}")
    return report()


def report() -> int:
    for f in failures:
        print(f"FAIL: {f}")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("report: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
