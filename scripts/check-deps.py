#!/usr/bin/env python3
"""Checks that scripts/debian-packages.txt covers what the build really uses.

    check-deps.py [--list FILE] configure [-- CMAKE_ARGS...]
                                                configure from an empty build
                                                directory and check the files
                                                it found (run before building)
    check-deps.py [--list FILE] built BUILD_DIR  check a finished build: its
                                                cache, include and link paths,
                                                and every header ninja recorded

Every listed package must be installed. Every file or directory the build
uses (CMake cache entries, -I and link paths in build.ninja, headers from
`ninja -t deps`) must belong to a Debian package that install-deps.sh brings
in on a fresh machine: a listed package or one of their Depends/Pre-Depends,
recursively, or a package every Debian system has (Essential or Priority
required). Recommends do not count: install-deps.sh installs with
--no-install-recommends, and that is how OpenCL's development files went
missing for oneDNN on fresh machines while the machines CI ran on had them
from a hand install. Files outside any package are allowed only under the
preinstalled CUDA toolkit and the Python that the tests' PyPI packages go to.

--list FILE checks against another package list (default
scripts/debian-packages.txt; tests use it to show a gap is caught).

Exit 0 when all is covered, 1 with one line per problem (the file, the
package that owns it, and what to add to the list), 2 on usage errors.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "scripts", "debian-packages.txt")
# Cache entries that name where things go or where CMake itself lives, not
# something the build consumes.
IGNORED_CACHE = re.compile(r"^(CMAKE_INSTALL_|_GNUInstallDirs_|CMAKE_HOME_DIRECTORY|CMAKE_CACHEFILE_DIR|"
                           r"CMAKE_PROJECT_|.*_BINARY_DIR$|.*_SOURCE_DIR$|FETCHCONTENT_)")


def log(msg: str) -> None:
    print(f"check-deps: {msg}", flush=True)


def listed_packages() -> list[str]:
    pkgs = []
    with open(LIST, encoding="utf-8") as f:
        for line in f:
            name = line.split("#", 1)[0].strip()
            if name:
                pkgs.append(name)
    return pkgs


def list_name() -> str:
    return os.path.relpath(LIST, ROOT) if LIST.startswith(ROOT + "/") else LIST


def bare(name: str) -> str:
    """'libfoo:amd64 (>= 1.2)' -> 'libfoo'."""
    return name.strip().split(" ", 1)[0].split(":", 1)[0]


class Dpkg:
    """The installed-package database: dependencies and provided names."""

    def __init__(self) -> None:
        fmt = "${Package}\\t${db:Status-Abbrev}\\t${Essential}\\t${Priority}\\t${Depends}\\t${Pre-Depends}\\t${Provides}\\n"
        out = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True, check=True).stdout
        self.installed: set[str] = set()
        self.base: set[str] = set()
        self.depends: dict[str, list[list[str]]] = {}
        self.providers: dict[str, set[str]] = {}
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) < 7 or not f[1].startswith("ii"):
                continue
            pkg = f[0]
            self.installed.add(pkg)
            if f[2] == "yes" or f[3] == "required":
                self.base.add(pkg)
            alts = []
            for dep in (f[4] + "," + f[5]).split(","):
                if dep.strip():
                    alts.append([bare(a) for a in dep.split("|")])
            self.depends[pkg] = alts
            for p in f[6].split(","):
                if p.strip():
                    self.providers.setdefault(bare(p), set()).add(pkg)

    def resolve(self, name: str) -> set[str]:
        """Installed packages that satisfy a dependency on `name`."""
        got = {name} if name in self.installed else set()
        return got | self.providers.get(name, set())

    def closure(self, roots: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = [p for p in roots if p in self.installed]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            for alts in self.depends.get(p, []):
                for a in alts:  # any installed alternative may be the one apt chose
                    todo.extend(self.resolve(a) - seen)
        return seen


def link_chain(p: str) -> list[str]:
    """p, then each symlink's target in turn, then the real path."""
    chain = [p]
    while os.path.islink(chain[-1]) and len(chain) < 16:
        nxt = os.path.normpath(os.path.join(os.path.dirname(chain[-1]), os.readlink(chain[-1])))
        if nxt in chain:
            break
        chain.append(nxt)
    real = os.path.realpath(p)
    if real not in chain:
        chain.append(real)
    return chain


def spellings(p: str) -> list[str]:
    """With Debian's merged /usr, dpkg may record /usr/lib/x as /lib/x and
    the other way round."""
    m = re.match(r"^/usr(/(?:lib|lib32|lib64|bin|sbin)/.*)$", p)
    if m:
        return [p, m.group(1)]
    if re.match(r"^/(?:lib|lib32|lib64|bin|sbin)/", p):
        return [p, "/usr" + p]
    return [p]


def owners(paths: list[str]) -> dict[str, set[str]]:
    """Path -> owning packages (empty set: no package owns it).

    The first link of a path's symlink chain that a package ships decides:
    libOpenCL.so belongs to ocl-icd-opencl-dev even though its target
    libOpenCL.so.1 comes from the runtime package; /usr/bin/c++ (through
    /etc/alternatives, which no package ships) belongs to g++."""
    chains = {p: [spellings(c) for c in link_chain(p)] for p in paths}
    queries = sorted({q for ch in chains.values() for sp in ch for q in sp})
    found: dict[str, set[str]] = {}
    for i in range(0, len(queries), 500):
        r = subprocess.run(["dpkg-query", "-S", *queries[i:i + 500]], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("diversion by"):
                continue
            pkgs, sep, path = line.rpartition(": ")
            if sep:
                found.setdefault(path, set()).update(bare(x) for x in pkgs.split(","))
    result = {}
    for p, ch in chains.items():
        result[p] = set()
        for sp in ch:
            got = set().union(*(found.get(q, set()) for q in sp))
            if got:
                result[p] = got
                break
    return result


def cache_paths(build: str) -> dict[str, str]:
    """Absolute paths in CMakeCache.txt values -> the entry naming them."""
    out = {}
    with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.+-]+):[A-Z]+=(.*)$", line.rstrip("\n"))
            if not m or IGNORED_CACHE.match(m.group(1)):
                continue
            for v in m.group(2).split(";"):
                if v.startswith("/") and os.path.exists(v):
                    out.setdefault(v, "CMakeCache " + m.group(1))
    return out


def ninja_paths(build: str) -> dict[str, str]:
    """-I/-isystem directories and absolute link inputs in the ninja files."""
    out = {}
    for dirpath, _, files in os.walk(build):
        for fn in files:
            if not fn.endswith(".ninja"):
                continue
            with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.match(r"^\s+(INCLUDES|LINK_LIBRARIES|LINK_PATH|FLAGS)\s*=\s*(.*)$", line)
                    if not m:
                        continue
                    toks = m.group(2).split()
                    i = 0
                    while i < len(toks):
                        t = toks[i]
                        flag = next((f for f in ("-isystem", "-I", "-L") if t.startswith(f)), None)
                        if flag and t == flag and i + 1 < len(toks):
                            i += 1
                            t = toks[i]
                        elif flag:
                            t = t[len(flag):]
                        if t.startswith("/") and os.path.exists(t):
                            out.setdefault(os.path.normpath(t), f"build.ninja {m.group(1)}")
                        i += 1
    return out


def ninja_deps(build: str) -> dict[str, str]:
    """Every header the compiler reported for an object (ninja -t deps)."""
    r = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"warning: ninja -t deps failed: {r.stderr.strip()}")
        return {}
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("    "):
            p = line.strip()
            if p.startswith("/"):
                out.setdefault(os.path.normpath(p), "header (ninja -t deps)")
    return out


def preinstalled_roots() -> list[tuple[str, str]]:
    roots = []
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    if os.path.exists(nvcc):
        roots.append((os.path.dirname(os.path.dirname(os.path.realpath(nvcc))), "CUDA toolkit (preinstalled)"))
        roots.append(("/usr/local/cuda", "CUDA toolkit (preinstalled)"))
    roots.append((os.path.realpath(sys.base_prefix), "Python (tests' PyPI packages)"))
    py = shutil.which("python3")
    if py:
        roots.append((os.path.dirname(os.path.dirname(py)), "Python (tests' PyPI packages)"))
    # pyenv's shims (what CMake finds on the PATH) live beside its versions.
    for pyenv in (os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")):
        if pyenv and os.path.isdir(pyenv):
            roots.append((os.path.realpath(pyenv), "Python (pyenv)"))
    return roots


def check(build: str, used: dict[str, str], what: str) -> int:
    db = Dpkg()
    pkgs = listed_packages()
    problems = []
    for p in pkgs:
        if p not in db.installed:
            problems.append(f"{p} is listed in {list_name()} but not installed "
                            f"(run scripts/install-deps.sh)")
    allowed = db.closure(set(pkgs) | db.base)
    roots = preinstalled_roots()
    src = os.path.realpath(ROOT)
    bld = os.path.realpath(build)
    candidates = []
    for p in sorted(used):
        rp = os.path.realpath(p)
        if rp.startswith((src + "/", bld + "/")) or rp in (src, bld):
            continue
        if any(rp == r or rp.startswith(r + "/") or p.startswith(r + "/") for r, _ in roots):
            continue
        candidates.append(p)
    own = owners(candidates)
    for p in candidates:
        o = own[p]
        if not o:
            problems.append(f"{p} ({used[p]}) belongs to no Debian package: installed by hand? "
                            f"A fresh machine will not have it")
        elif os.path.isdir(p):
            # A directory is shared by many packages; one allowed owner is
            # enough (the files inside are checked one by one as headers).
            if not (o & allowed):
                problems.append(f"{p} ({used[p]}) comes from {', '.join(sorted(o))}, none of them in "
                                f"{list_name()} or a dependency of one")
        elif not (o & allowed):
            why = recommended_by(db, o, pkgs)
            problems.append(f"{p} ({used[p]}) comes from {', '.join(sorted(o))}, which is not in "
                            f"{list_name()} nor a Depends of a package there{why}: add it")
    for line in problems:
        log("FAIL: " + line)
    if problems:
        log(f"{len(problems)} problem(s) in {what}")
        return 1
    log(f"{what}: {len(pkgs)} listed packages installed; {len(used)} paths used, {len(candidates)} from "
        f"Debian packages, all of them listed or depended on ({len(allowed)} packages in the closure); "
        f"the rest in the tree or under {', '.join(sorted({r for r, _ in roots}))}")
    return 0


def recommended_by(db: Dpkg, owners_: set[str], pkgs: list[str]) -> str:
    fmt = "${Package}\\t${Recommends}\\n"
    r = subprocess.run(["dpkg-query", "-W", "-f=" + fmt, *pkgs], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        name, _, rec = line.partition("\t")
        recs = {bare(a) for d in rec.split(",") for a in d.split("|") if a.strip()}
        hit = recs & owners_
        if hit:
            return f" ({name} only recommends {', '.join(sorted(hit))})"
    return ""


def main(argv: list[str]) -> int:
    global LIST
    if len(argv) >= 2 and argv[0] == "--list":
        LIST = os.path.abspath(argv[1])
        argv = argv[2:]
    if len(argv) >= 1 and argv[0] == "configure":
        extra = argv[2:] if len(argv) > 1 and argv[1] == "--" else argv[1:]
        tmp = tempfile.mkdtemp(prefix="tessera-check-deps-")
        try:
            cmd = ["cmake", "-S", ROOT, "-B", tmp, "-G", "Ninja", *extra]
            log("configure from an empty build directory: " + " ".join(cmd))
            r = subprocess.run(cmd, capture_output=True, text=True)
            summary = [l for l in r.stdout.splitlines() if "Tessera backends:" in l]
            for l in summary:
                log(l.removeprefix("-- "))
            if r.returncode != 0:
                sys.stdout.write(r.stdout[-4000:] + r.stderr[-4000:])
                log("FAIL: configure from an empty build directory failed")
                return 1
            return check(tmp, {**cache_paths(tmp), **ninja_paths(tmp)}, "configure")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if len(argv) == 2 and argv[0] == "built":
        build = argv[1]
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            log(f"{build} holds no configured build")
            return 2
        return check(build, {**cache_paths(build), **ninja_paths(build), **ninja_deps(build)}, "build")
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
