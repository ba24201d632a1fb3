"""A search through ``--address`` against a local cluster started with Ray's token auth on.

Used by tests/test_token_auth.py in a subprocess started in its own session (the test kills its
process group at the end; nothing here runs ``ray stop``). The token reaches the head and the
driver as with cluster.yaml (docs/guide/cluster.md): the head finds ``~/.ray/auth_token`` (``RAY_AUTH_MODE``
unset) and turns token auth on; a driver joining through an explicit address needs ``RAY_AUTH_MODE=token``
beside the token (Ray enables it by itself only for ``--address auto``). Prints one JSON line.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

base = Path(sys.argv[1])
clean = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
homes = {}
for name in ("head", "driver", "stranger"):  # the stranger's home holds no token
    homes[name] = base / name
    (homes[name] / ".ray").mkdir(parents=True)
token = uuid.uuid4().hex
for name in ("head", "driver"):
    (homes[name] / ".ray" / "auth_token").write_text(token)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
t0 = time.monotonic()
started = subprocess.run(
    [
        "ray",
        "start",
        "--head",
        f"--port={port}",
        "--num-cpus=2",
        "--num-gpus=0",
        "--object-store-memory=150000000",
        f"--temp-dir={base / 'ray'}",
        "--include-dashboard=false",
        "--disable-usage-stats",
    ],
    env={**clean, "HOME": str(homes["head"])},
    capture_output=True,
    text=True,
)
if started.returncode != 0:
    sys.exit(f"ray start --head failed ({started.returncode}):\n{started.stdout[-2000:]}\n{started.stderr[-2000:]}")
report = {"ray_start_seconds": round(time.monotonic() - t0, 1)}
address = f"127.0.0.1:{port}"


def search(env: dict, out: str, timeout: float) -> dict:
    argv = ["search", "--address", address, "--budget", "6", "--proxy", "params", "--workers", "1"]
    argv += ["--out", str(base / out), "--quiet", "--wait-for-workers", "60s"]
    t = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "zeronas", *argv], env=env, capture_output=True, text=True, timeout=timeout
    )
    return {
        "rc": proc.returncode,
        "seconds": round(time.monotonic() - t, 1),
        "stderr": proc.stderr[-2000:],
        "parts": len(list((base / out).glob("run=*/part-*.parquet"))),
    }


report["with_token"] = search({**clean, "HOME": str(homes["driver"]), "RAY_AUTH_MODE": "token"}, "with", 300)
report["without_token"] = search({**clean, "HOME": str(homes["stranger"])}, "without", 180)
print(json.dumps(report))
