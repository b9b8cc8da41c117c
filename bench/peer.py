"""The Fastify peer (bench/fastify_peer/): the original's design on the original's stack, with no cache.

Node 20 or later comes from Debian's packages when it is missing (as root), the peer's packages from the npm
registry by `npm ci` into bench/fastify_peer/node_modules (kept out of git), once per package-lock.json.

The peer reads a document of the same shape as the one the service polls, made by that service, from the very store:
on the embedded store, from the service's own SecantusDB child (its address is in the log file of its data
directory); for the in-memory store, that document copied once into a Map of the peer's process. The document has a
provider room of its own, so that the fake provider counts the peer's reads apart from the service's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.load import find_debian_tool
from bench.processes import API_KEY, BenchError, Server, free_port, start

PEER_DIR = Path(__file__).with_name("fastify_peer")
_INSTALLED = PEER_DIR / "node_modules" / ".package-lock.json"  # npm writes it on every install
_LISTENING = re.compile(rb"secantus listening on (\S+):(\d+)")
MINIMUM_NODE = 20


def find_node() -> tuple[str, str]:
    """node and npm, installed from Debian when missing; a Node older than 20 is a clear failure."""
    node = find_debian_tool("node", "nodejs")
    npm = find_debian_tool("npm", "npm")
    if node is None or npm is None:
        raise BenchError("Node.js 20 or later and npm are needed for the Fastify peer (apt-get install nodejs npm)")
    version = subprocess.run([node, "--version"], check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603
    if int(version.lstrip("v").split(".")[0]) < MINIMUM_NODE:
        raise BenchError(f"the Fastify peer needs Node.js {MINIMUM_NODE} or later, found {version}")
    return node, npm


def install(npm: str) -> None:
    """`npm ci` from the committed lock file, unless node_modules already holds exactly that."""
    lock = PEER_DIR / "package-lock.json"
    if _INSTALLED.exists() and _INSTALLED.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("installing the Fastify peer's packages from the npm registry (npm ci) ...", flush=True)
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [npm, "ci", "--no-audit", "--no-fund", "--omit=dev"],
        check=False,
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise BenchError(f"npm ci failed in {PEER_DIR}: {done.stderr.strip()[-500:]}")


def embedded_store_url(data_dir: Path, timeout: float = 10.0) -> str:
    """The address of the SecantusDB the service started on `data_dir` (its log says where it listens)."""
    log = data_dir / "secantusd.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _LISTENING.findall(log.read_bytes()) if log.exists() else []
        if found:
            host, port = found[-1]
            return f"mongodb://{host.decode()}:{int(port)}/?directConnection=true"
        time.sleep(0.1)
    raise BenchError(f"no listening address of the embedded store in {log}")


def stored_documents(url: str, teleconsultation_id: str) -> list[dict[str, Any]]:
    """The polled document as the store holds it, with `_id` as a string, for the peer's in-memory Map."""
    from bson import ObjectId, json_util
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        collection = client["teleconsultation"]["teleconsultations"]
        found: dict[str, Any] | None = collection.find_one({"_id": ObjectId(teleconsultation_id)})
    finally:
        client.close()
    if found is None:
        raise BenchError(f"the polled teleconsultation {teleconsultation_id} is not in the store at {url}")
    found["_id"] = str(found["_id"])
    document: dict[str, Any] = json.loads(json_util.dumps(found, json_options=json_util.RELAXED_JSON_OPTIONS))
    for field in ("startDate", "endDate", "createdAt", "updatedAt"):  # relaxed JSON writes {"$date": "..."}
        if isinstance(document.get(field), dict):
            document[field] = document[field]["$date"]
    return [document]


def start_peer(
    stack: ExitStack,
    name: str,
    fake: Server,
    logs: Path,
    node: str,
    *,
    store_url: str | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> Server:
    """The peer on the store at `store_url`, or (without one) on `documents` held in its own memory."""
    port = free_port()
    env = {"PEER_PORT": str(port), "PEER_KALEYRA_URL": fake.url, "PEER_KALEYRA_API_KEY": API_KEY}
    if store_url is not None:
        env["PEER_MONGODB_URL"] = store_url
    else:
        seed = logs / f"{name}-documents.json"
        seed.write_text(json.dumps(documents or []))
        env["PEER_DOCUMENTS"] = str(seed)
    server, _ = start(
        stack, name, [node, str(PEER_DIR / "server.js")], port=port, logs=logs, env=env, ready_path="/-/ready"
    )
    return server


def node_version(node: str | None = None) -> str:
    node = node or shutil.which("node")
    if node is None:
        return "none"
    return subprocess.run([node, "--version"], check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603
