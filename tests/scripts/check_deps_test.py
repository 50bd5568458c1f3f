#!/usr/bin/env python3
"""scripts/check-deps.py catches the two ways a fresh machine differs from a
used one, on this machine's real package database and a real configure:

1. oneDNN's CMake package needs ocl-icd-opencl-dev, which libdnnl-dev only
   recommends: with that package left out of a copy of the list, the check
   must fail, name the package and say who only recommends it.
2. A file the build uses that no Debian package owns (a hand install): the
   check must fail and name it.

Exit 77 (skipped) where libdnnl-dev or ocl-icd-opencl-dev is not installed:
then case 1 cannot arise here.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check-deps.py")
LIST = os.path.join(ROOT, "scripts", "debian-packages.txt")


def installed(pkg: str) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def run(list_path: str, *cmake_args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CHECK, "--list", list_path, "configure", "--", *cmake_args],
                          capture_output=True, text=True, timeout=300)


def main() -> int:
    if not (installed("libdnnl-dev") and installed("ocl-icd-opencl-dev")):
        print("skipped: libdnnl-dev and ocl-icd-opencl-dev are not both installed")
        return 77
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(LIST, encoding="utf-8") as f:
            kept = [l for l in f if l.split("#", 1)[0].strip() not in ("ocl-icd-opencl-dev", "opencl-headers")]
        partial = os.path.join(tmp, "partial.txt")
        with open(partial, "w", encoding="utf-8") as f:
            f.writelines(kept)
        r = run(partial, "-DTESSERA_ONEDNN=ON")
        out = r.stdout + r.stderr
        if r.returncode != 1:
            failures.append(f"list without OpenCL dev files: exit {r.returncode}, expected 1")
        if "comes from ocl-icd-opencl-dev" not in out or "libdnnl-dev only recommends ocl-icd-opencl-dev" not in out:
            failures.append("list without OpenCL dev files: no line naming ocl-icd-opencl-dev and libdnnl-dev")

        by_hand = os.path.join(tmp, "libby_hand.so")
        with open(by_hand, "wb") as f:
            f.write(b"\x7fELF")
        r2 = run(LIST, f"-DTESSERA_TEST_BY_HAND:FILEPATH={by_hand}")
        out2 = r2.stdout + r2.stderr
        if r2.returncode != 1 or f"{by_hand} (CMakeCache TESSERA_TEST_BY_HAND) belongs to no Debian package" not in out2:
            failures.append(f"hand-installed file: exit {r2.returncode}, expected 1 and a line naming {by_hand}")
    for f in failures:
        print("FAIL:", f)
    if failures:
        print("--- output, OpenCL case ---\n" + out + "\n--- output, hand-installed case ---\n" + out2)
        return 1
    print("check-deps caught both gaps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
