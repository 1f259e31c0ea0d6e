"""A platform simulator for development, demos and tests (``foodarchive platform-sim``).

It implements the receiving side of a profile (the default one unless told
otherwise): authentication, required fields, idempotent acceptance and
receipts, with switchable faults. It is NOT the real platform and knows
nothing about it beyond our own profile. It binds to 127.0.0.1 by default.

Control endpoints (no authentication; loopback only):
  GET  /_sim/received  every record received, per-key arrival counts, accepted keys
  POST /_sim/faults    set faults, e.g. {"error500": 0.2, "drop": 0.1, "slow": 0.5}
  POST /_sim/reset     forget everything received
Faults: ``timeout`` (probability of answering only after ``timeout_seconds``),
``error500``, ``drop_before`` (connection closed before the batch is looked
at), ``drop`` (closed after the batch was accepted: the sender cannot know),
``duplicate_ack`` (the receipt repeats acknowledgements), ``slow`` (seconds
added to every answer), ``clock_offset_seconds`` (the simulator's clock is off).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .client import signature
from .profile import Profile, load

log = logging.getLogger("platform-sim")

FAULTS = {"timeout": 0.0, "timeout_seconds": 30.0, "error500": 0.0, "drop_before": 0.0, "drop": 0.0,
          "duplicate_ack": 0.0, "slow": 0.0, "clock_offset_seconds": 0.0}


class Simulator:
    def __init__(self, profile: Profile | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 accounts: dict[str, str] | None = None, seed: int | None = None, echo: bool = False):
        self.profile = profile or load()
        self.accounts = dict(accounts if accounts is not None else {"demo": "demo-secret"})
        self.faults = dict(FAULTS)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.echo = echo
        self.reset()
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------- control
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.received: list[dict] = []  # every record as it arrived
            self.arrivals: Counter[str] = Counter()
            self.accepted: dict[str, dict] = {}  # key -> {"receipt_id", "type", "data"}
            self.rejected: Counter[str] = Counter()
            self.batches = 0

    def set_faults(self, **faults) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        with self.lock:
            self.faults = dict(FAULTS) | {k: float(v) for k, v in faults.items()}

    def report(self) -> dict:
        with self.lock:
            return {
                "batches": self.batches,
                "records": list(self.received),
                "counts": dict(self.arrivals),
                "accepted": {k: v["receipt_id"] for k, v in self.accepted.items()},
                "rejected": dict(self.rejected),
            }

    def start(self) -> "Simulator":
        self.thread = threading.Thread(target=self.server.serve_forever, name="platform-sim", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ platform
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.faults["clock_offset_seconds"])

    def authenticate(self, method: str, path: str, headers, body: bytes) -> str | None:
        """None when the request is authentic; else why not."""
        auth = self.profile.auth
        if auth["scheme"] == "none":
            return None
        if auth["scheme"] == "token":
            given = headers.get(auth["header"], "")
            ok = any(hmac.compare_digest(given, auth.get("prefix", "") + s) for s in self.accounts.values())
            return None if ok else "bad credentials"
        key = headers.get(auth["key_header"], "")
        timestamp = headers.get(auth["timestamp_header"], "")
        given = headers.get(auth["signature_header"], "")
        secret = self.accounts.get(key)
        if secret is None:
            return "bad credentials: unknown key"
        try:
            skew = abs(self.now().timestamp() - int(timestamp))
        except ValueError:
            return "bad credentials: no timestamp"
        if skew > auth["max_skew_seconds"]:
            return f"clock skew: request time differs from platform time by {skew:.0f} s"
        if not hmac.compare_digest(given, signature(secret, method, path, timestamp, body)):
            return "bad credentials: signature does not match"
        return None

    def accept(self, batch: dict) -> list[dict]:
        envelope, spec = self.profile.envelope, self.profile.receipt
        records = batch.get(envelope["records"])
        if not isinstance(records, list):
            raise ValueError(f"no list '{envelope['records']}'")
        results = []
        with self.lock:
            self.batches += 1
            for record in records:
                key = record.get(envelope["key"])
                type_ = record.get(envelope["type"])
                data = record.get(envelope["data"]) or {}
                self.received.append({"key": key, "type": type_, "data": data})
                self.arrivals[key] += 1
                message = self.profile.message_by_type(type_)
                missing = [] if message is None else [f for f in message.required if data.get(f) in (None, "")]
                if not key:
                    result = {spec["status"]: spec["rejected"][0], spec["reason"]: "missing idempotency key"}
                elif key in self.accepted:
                    result = {spec["status"]: spec["accepted"][-1], spec.get("receipt_id", "receipt_id"): self.accepted[key]["receipt_id"]}
                elif message is None:
                    result = {spec["status"]: spec["rejected"][0], spec["reason"]: f"unknown message type {type_}"}
                elif missing:
                    self.rejected[key] += 1
                    result = {spec["status"]: spec["rejected"][0], spec["reason"]: "缺少必填字段：" + "、".join(missing)}
                else:
                    receipt_id = "R" + hashlib.sha256(f"{key}|{len(self.accepted)}".encode()).hexdigest()[:16]
                    self.accepted[key] = {"receipt_id": receipt_id, "type": type_, "data": data}
                    result = {spec["status"]: spec["accepted"][0], spec.get("receipt_id", "receipt_id"): receipt_id}
                result[spec["key"]] = key
                results.append(result)
            if results and self.rng.random() < self.faults["duplicate_ack"]:
                results += [dict(r) for r in results[: max(1, len(results) // 2)]]
                if self.accepted:  # and one for a key from an earlier batch
                    old = self.rng.choice(list(self.accepted))
                    results.append({spec["key"]: old, spec["status"]: spec["accepted"][-1],
                                    spec.get("receipt_id", "receipt_id"): self.accepted[old]["receipt_id"]})
        if self.echo:
            print(f"收到 {len(records)} 条记录，平台已接收 {len(self.accepted)} 个不同的键", flush=True)
        return results


def _handler(sim: Simulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FoodArchivePlatformSimulator/1"

        def log_message(self, format, *args):  # noqa: A002 — quiet; the logger has it
            log.debug("%s %s", self.address_string(), format % args)

        def _reply(self, status: int, data: dict) -> None:
            body = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True  # no answer at all

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _chance(self, fault: str) -> bool:
            with sim.lock:
                return sim.rng.random() < sim.faults[fault]

        def do_GET(self):  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/_sim/received":
                return self._reply(200, sim.report())
            if path != sim.profile.endpoint("check"):
                return self._reply(404, {"error": "no such endpoint"})
            problem = sim.authenticate("GET", path, self.headers, b"")
            if problem:
                return self._reply(401, {"error": problem})
            check = sim.profile.check
            self._reply(200, {check.get("server_time", "server_time"): sim.now().isoformat(timespec="seconds"),
                              check.get("profile", "profile"): sim.profile.name})

        def do_POST(self):  # noqa: N802
            path = self.path.split("?")[0]
            body = self._body()
            if path == "/_sim/faults":
                try:
                    sim.set_faults(**json.loads(body or b"{}"))
                except (ValueError, TypeError) as exc:
                    return self._reply(400, {"error": str(exc)})
                return self._reply(200, sim.faults)
            if path == "/_sim/reset":
                sim.reset()
                return self._reply(200, {})
            if path != sim.profile.endpoint("submit"):
                return self._reply(404, {"error": "no such endpoint"})
            if self._chance("drop_before"):
                return self._drop()
            if self._chance("timeout"):
                time.sleep(sim.faults["timeout_seconds"])
            if self._chance("error500"):
                return self._reply(500, {"error": "simulated server error"})
            problem = sim.authenticate("POST", path, self.headers, body)
            if problem:
                return self._reply(401, {"error": problem})
            try:
                results = sim.accept(json.loads(body))
            except (ValueError, TypeError, AttributeError) as exc:
                return self._reply(400, {"error": f"malformed batch: {exc}"})
            if sim.faults["slow"]:
                time.sleep(sim.faults["slow"])  # accepted; the answer takes its time
            if self._chance("drop"):
                return self._drop()  # accepted, but the sender never hears it
            self._reply(200, {sim.profile.receipt["results"]: results})

    return Handler
