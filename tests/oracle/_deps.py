"""Make sure the oracle's Python dependencies (numpy, gguf) are importable.

If one is missing, install the pinned versions from requirements.txt with pip
(the ordinary client, one requirements file) and carry on; if that fails, exit
with a message that says what to run.
"""
import importlib
import os
import subprocess
import sys

_REQ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")


def ensure() -> None:
    missing = []
    for mod in ("numpy", "gguf"):
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if not missing:
        return
    print(f"[oracle] installing missing Python packages {missing} from {_REQ}", file=sys.stderr)
    rc = subprocess.call([sys.executable, "-m", "pip", "install", "-q", "-r", _REQ], stdout=sys.stderr)
    if rc != 0:
        sys.exit(f"[oracle] pip install failed; run: {sys.executable} -m pip install -r {_REQ}")
    importlib.invalidate_caches()
    for mod in missing:
        importlib.import_module(mod)
