"""The GPUaaS REST client: one :class:`Client` per server and token.

Standard library only (``urllib.request`` and ``json``). Every method is one documented call of
``/api/v1`` (docs/api.md, docs/openapi.yaml) and answers the server's JSON as plain ``dict`` /
``list`` values (easy to turn into a pandas DataFrame where pandas is at hand). Any error
answer raises :class:`~gpuaas_client.errors.GpuaasError` with the HTTP status and the contract's
``{"error": {"code", "message"}}``; nothing is swallowed.

Limits: every request has a socket timeout (``timeout``, 30 s by default), answers larger than
``max_response_bytes`` (64 MiB by default) are refused, :meth:`Client.wait_job` always has a
deadline, and list iteration stops when the server's cursor does not move.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import http.client
import json
import math
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

from .errors import GpuaasConnectionError, GpuaasError, JobWaitTimeout

__all__ = ["Client", "DEFAULT_URL", "JOB_STATES", "FINAL_STATES", "JOB_KINDS"]

DEFAULT_URL = "http://127.0.0.1:8080"
USER_AGENT = "gpuaas-python-client/0.1"

#: Every job state of the contract, and the final ones (a job in one of those never changes).
JOB_STATES = ("queued", "starting", "running", "succeeded", "failed", "cancelled", "preempted",
              "timed_out", "lost")
FINAL_STATES = frozenset({"succeeded", "failed", "cancelled", "preempted", "timed_out", "lost"})
#: What a job may be: a batch job, a Jupyter notebook, a long-running (inference) service, or
#: a plain allocation of GPUs.
JOB_KINDS = ("job", "notebook", "service", "allocation")

Json = dict[str, Any]
JobRef = Union[int, str, Mapping[str, Any]]
DateLike = Union[str, _dt.date, _dt.datetime]
MoneyLike = Union[str, int, decimal.Decimal, float]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The API never redirects; following one could send the token elsewhere. A 3xx answer is
    therefore an error (raised by urllib as HTTPError and turned into a GpuaasError)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


def _saved_login() -> Optional[dict]:
    """The CLI's saved login (``gpuaas login``: ``$XDG_CONFIG_HOME/gpuaas/login.json``, else
    ``~/.config/gpuaas/login.json``), or None. The CLI's rules (src/cmd/cli_credentials.h): a
    file that others may read, or that is not a login, is not used (with a warning)."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg.startswith("/"):
        path = os.path.join(xdg, "gpuaas", "login.json")
    elif os.environ.get("HOME"):
        path = os.path.join(os.environ["HOME"], ".config", "gpuaas", "login.json")
    else:
        return None
    try:
        if os.stat(path).st_mode & 0o077:
            warnings.warn(f"the saved login {path} may be read by others: not used "
                          "(chmod 600 it, or `gpuaas logout`)", stacklevel=3)
            return None
        with open(path, encoding="utf-8") as f:
            login = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        warnings.warn(f"the saved login {path} cannot be read: not used ({e})", stacklevel=3)
        return None
    if not isinstance(login, dict) or not all(isinstance(login.get(k), str) and login.get(k)
                                              for k in ("url", "token")):
        warnings.warn(f"{path} is not a saved login: not used", stacklevel=3)
        return None
    return login


class Client:
    """A client of one GPUaaS server, acting with one token.

    Args:
        base_url: the server, e.g. ``"https://gpuaas.example.internal"``; default: the
            ``GPUAAS_URL`` environment variable, else the server of the CLI's saved login
            (``gpuaas login``), else ``http://127.0.0.1:8080`` (as the CLI).
        token: an API token (``gpa_...``); default: the ``GPUAAS_TOKEN`` environment variable,
            else the saved login's token when ``base_url`` is its server (as the CLI).
            Sent as ``Authorization: Bearer TOKEN``; never shown in errors or ``repr``.
        timeout: seconds, the socket timeout of every request (connect and each read).
        max_response_bytes: answers larger than this are refused (a GpuaasError).
        cafile: a PEM bundle of the CA(s) to trust for ``https://`` (a company CA); default:
            the ``GPUAAS_CA_FILE`` environment variable (as the CLI), else the saved login's (for
            its server), else the system's CAs.

    Raises:
        ValueError: the URL is not ``http://`` or ``https://``, or a limit is not positive.
    """

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, *,
                 timeout: float = 30.0, max_response_bytes: int = 64 << 20,
                 cafile: Optional[str] = None) -> None:
        saved = _saved_login() or {}
        url = base_url if base_url is not None else (
            os.environ.get("GPUAAS_URL") or saved.get("url") or DEFAULT_URL)
        url = url.strip().rstrip("/")
        same = bool(saved) and saved["url"].strip().rstrip("/") == url
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url {url!r} must start with http:// or https:// and name a host")
        if not (isinstance(timeout, (int, float)) and timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if not (isinstance(max_response_bytes, int) and max_response_bytes > 0):
            raise ValueError("max_response_bytes must be a positive integer")
        tok = token if token is not None else (
            os.environ.get("GPUAAS_TOKEN") or (saved["token"] if same else ""))
        self.base_url = url
        self.token: Optional[str] = tok.strip() or None
        self.timeout = float(timeout)
        self.max_response_bytes = max_response_bytes
        if cafile is None:
            cafile = os.environ.get("GPUAAS_CA_FILE") or (
                saved.get("ca_file") if same else None) or None
        self._cafile = cafile
        handlers: list[Any] = [_NoRedirect()]
        if cafile is not None:
            handlers.append(urllib.request.HTTPSHandler(
                context=ssl.create_default_context(cafile=cafile)))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, token={'set' if self.token else 'none'})"

    def with_token(self, token: str) -> "Client":
        """The same server and limits, acting with another token (e.g. a user just created)."""
        return type(self)(self.base_url, token, timeout=self.timeout,
                          max_response_bytes=self.max_response_bytes, cafile=self._cafile)

    # ------------------------------------------------------------------------------------------
    # HTTP

    def _request(self, method: str, path: str, *, query: Optional[Mapping[str, Any]] = None,
                 body: Any = None, auth: bool = True) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange. Answers (status, headers, body) for a 2xx, raises otherwise."""
        url = self.base_url + path
        if query:
            q = {k: _query_value(v) for k, v in query.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as r:
                raw = self._read(r, method, url)
                return r.status, dict(r.headers.items()), raw
        except urllib.error.HTTPError as e:
            try:
                raw = self._read(e, method, url)
            except (GpuaasError, OSError, http.client.HTTPException):
                raw = b""  # the status still tells what happened
            finally:
                e.close()
            raise _error_of(e.code, raw, method, url, e.reason,
                            _retry_after(e.headers)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            # refused, DNS, TLS, timeout, reset, a broken answer
            reason = getattr(e, "reason", None) or e
            raise GpuaasConnectionError(
                f"no answer from {self.base_url}: {type(e).__name__}: {reason} (is the server "
                f"running and base_url / GPUAAS_URL right? timeout {self.timeout:g}s)",
                method=method, url=url) from None

    def _read(self, r: Any, method: str, url: str) -> bytes:
        raw = r.read(self.max_response_bytes + 1)
        if len(raw) > self.max_response_bytes:
            raise GpuaasError(f"the answer is larger than max_response_bytes "
                              f"({self.max_response_bytes})", status=r.status, method=method,
                              url=url)
        return raw

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        status, _, raw = self._request(method, path, **kw)
        if status == 204 or not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise GpuaasError("the server's answer is not JSON", status=status, method=method,
                              url=self.base_url + path,
                              body=raw.decode("utf-8", errors="replace")) from None

    def _list(self, key: str, method: str, path: str, **kw: Any) -> list[Json]:
        """The list under ``key`` of a JSON answer (``{"nodes": [...]}`` -> ``[...]``)."""
        doc = self._json(method, path, **kw)
        if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
            raise GpuaasError(f"the server's answer has no {key!r} list", status=200,
                              method=method, url=self.base_url + path)
        return doc[key]

    def _text(self, method: str, path: str, **kw: Any) -> str:
        _, _, raw = self._request(method, path, **kw)
        return raw.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------------------------------
    # Health and identity

    def health(self) -> Json:
        """``GET /healthz`` (no token needed): ``{"status": "ok"}`` while the process serves."""
        return self._json("GET", "/healthz", auth=False)

    def ready(self) -> bool:
        """``GET /readyz``: True once the server's state is loaded and its store is writable,
        False while it answers 503. Any other failure raises."""
        try:
            self._request("GET", "/readyz", auth=False)
            return True
        except GpuaasError as e:
            if e.status == 503:
                return False
            raise

    def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text exposition (no token needed)."""
        return self._text("GET", "/metrics", auth=False)

    def whoami(self) -> Json:
        """``GET /api/v1/whoami``: ``{"user": USER, "entity": ENTITY|None}`` of this token."""
        return self._json("GET", "/api/v1/whoami")

    # ------------------------------------------------------------------------------------------
    # Jobs (batch jobs, notebooks, services, allocations)

    def submit_job(self, command: Optional[Sequence[str]] = None, *,
                   kind: Optional[str] = None, name: Optional[str] = None,
                   gpus: Optional[int] = None,
                   gpu_types: Union[None, str, Sequence[str]] = None,
                   walltime_s: Union[None, int, _dt.timedelta] = None,
                   environment: Optional[str] = None, workspace: Optional[str] = None,
                   secrets: Optional[Sequence[str]] = None, cpus: Optional[int] = None,
                   memory_gb: Optional[int] = None, entity: Optional[str] = None,
                   project: Optional[str] = None, priority_class: Optional[str] = None,
                   requeue_on_preempt: Optional[bool] = None,
                   allow_fallback: Optional[bool] = None,
                   node_selector: Optional[Mapping[str, str]] = None) -> Json:
        """``POST /api/v1/jobs``: submits a job and answers it (201), usually ``queued``.

        Only the arguments given are sent; the server's defaults apply to the others.

        Args:
            command: the program and its arguments, a list (``["python", "train.py"]``; for a
                shell line use ``["sh", "-c", "..."]``). Required for kind job and service.
            kind: ``"job"`` (default), ``"notebook"``, ``"service"`` or ``"allocation"``.
            name: a label (at most 128 characters; default: the command's first word).
            gpus: how many GPUs (default 1). More than one node holds runs across nodes.
            gpu_types: acceptable GPU classes in order of preference (``["h200", "l40s"]``;
                a string ``"h200,l40s"`` is split); empty or absent: any class.
            walltime_s: the time limit in seconds (or a ``timedelta``); default 24 h, max 30 d.
            environment: a container environment of :meth:`environments` (``"pytorch"``);
                absent or ``""``: a plain process on the host.
            workspace: ``"rw"`` (default), ``"ro"`` or ``"none"``: the entity workspace.
            secrets: names of entity secrets to put in the job's environment.
            cpus, memory_gb: host CPU cores and memory (GiB) for the job's cgroup.
            entity: the entity to bill; only a platform-admin names it (and must).
            project: a label shown on invoice lines.
            priority_class: ``"production"``, ``"standard"`` (default) or ``"best-effort"``.
            requeue_on_preempt: resubmit a queued copy when preempted.
            allow_fallback: may run on another acceptable class than the first (default True).
            node_selector: node labels the job needs (``{"rack": "a"}``).

        Raises:
            GpuaasError: 400 wrong types, 401, 403, 404 unknown entity, 422 a rule broken
                (unknown class or environment, gpus < 1, a job that can never fit, a budget).
        """
        body = _job_body(command, kind=kind, name=name, gpus=gpus, gpu_types=gpu_types,
                         walltime_s=walltime_s, environment=environment, workspace=workspace,
                         secrets=secrets, cpus=cpus, memory_gb=memory_gb, entity=entity,
                         project=project, priority_class=priority_class,
                         requeue_on_preempt=requeue_on_preempt, allow_fallback=allow_fallback,
                         node_selector=node_selector)
        return self._json("POST", "/api/v1/jobs", body=body)

    def submit_notebook(self, command: Optional[Sequence[str]] = None, **fields: Any) -> Json:
        """Submits a Jupyter notebook (kind ``notebook``; no command needed). The answer has
        ``url``, a path on this server (``/notebooks/ID/``): see :meth:`notebook_url`. It
        takes the keyword arguments of :meth:`submit_job` (but ``kind``)."""
        return self.submit_job(command, kind="notebook", **fields)

    def submit_service(self, command: Sequence[str], **fields: Any) -> Json:
        """Submits a long-running service (kind ``service``, e.g. an inference server): it runs
        until cancelled or its walltime. Keyword arguments as :meth:`submit_job`."""
        return self.submit_job(command, kind="service", **fields)

    def submit_allocation(self, command: Optional[Sequence[str]] = None,
                          **fields: Any) -> Json:
        """Reserves GPUs (kind ``allocation``): without a command it holds them until
        cancelled or its walltime. Keyword arguments as :meth:`submit_job`."""
        return self.submit_job(command, kind="allocation", **fields)

    def estimate(self, command: Optional[Sequence[str]] = None, **fields: Any) -> Json:
        """``POST /api/v1/estimate``: where, when and at what cost a job would run if it were
        submitted now, without submitting it. Takes the arguments of :meth:`submit_job`
        (no command needed). Answers the best option (``gpu_type``, ``node``,
        ``estimated_start``, ``estimated_end``, ``walltime_s``, ``queue_position``, ``rate``,
        ``price``, ``cost``, ``reason``) with ``options`` (one per class asked)."""
        return self._json("POST", "/api/v1/estimate", body=_job_body(command, **fields))

    def size(self, params: Union[int, float, str],
             tokens: Optional[Union[int, float, str]] = None, *, method: str = "full",
             epochs: Optional[int] = None, seq_len: Optional[int] = None,
             micro_batch: Optional[int] = None, mfu: Optional[float] = None,
             precision: Optional[str] = None, concurrency: Optional[int] = None,
             hours: Optional[float] = None, gpu_types: Optional[Sequence[str]] = None,
             entity: Optional[str] = None) -> Json:
        """``POST /api/v1/sizing``: how many GPUs of each class a training run needs, for how
        many hours, at what cost and energy, and when each option could start and end
        (docs/sizing.md). ``params`` and ``tokens`` are numbers or counts such as ``"7B"``,
        ``"500M"``; ``method`` is ``full``, ``lora`` or ``qlora``; or ``inference`` for a
        service, sized by ``precision`` (bf16, fp8, int4), ``concurrency``, ``seq_len`` and
        ``hours`` instead of ``tokens``. Answers ``{"workload",
        "options": [{"gpu_type", "gpus", "nodes", "memory", "hours", "gpu_hours", "walltime_s",
        "energy_kwh_max", "max_concurrency", "rate", "cost", "cost_at_walltime", "estimated_start",
        "estimated_end", "queue_position", "reason"}], "fastest", "cheapest", "not_possible",
        "assumptions"}``; ``fastest`` and ``cheapest`` index ``options`` (or are None)."""
        body: dict[str, Any] = {"params": params, "method": method}
        for key, value in (("tokens", tokens), ("epochs", epochs), ("seq_len", seq_len),
                           ("micro_batch", micro_batch), ("mfu", mfu),
                           ("precision", precision), ("concurrency", concurrency),
                           ("hours", hours),
                           ("gpu_types", list(gpu_types) if gpu_types is not None else None),
                           ("entity", entity)):
            if value is not None:
                body[key] = value
        return self._json("POST", "/api/v1/sizing", body=body)

    def get_job(self, job: JobRef) -> Json:
        """``GET /api/v1/jobs/{id}``. Another entity's job is a 404, as a missing one."""
        return self._json("GET", f"/api/v1/jobs/{_job_id(job)}")

    def list_jobs(self, *, state: Optional[str] = None, entity: Optional[str] = None,
                  limit: Optional[int] = None, after: Optional[int] = None) -> Json:
        """``GET /api/v1/jobs``: one page, ``{"jobs": [...], "next_after": ID|None}``, by
        ascending id. ``limit`` 1-1000 (server default 100); pass ``next_after`` as ``after``
        for the next page, or use :meth:`iter_jobs`."""
        return self._json("GET", "/api/v1/jobs", query={"state": state, "entity": entity,
                                                        "limit": limit, "after": after})

    def iter_jobs(self, *, state: Optional[str] = None, entity: Optional[str] = None,
                  page_size: int = 1000, max_jobs: Optional[int] = None) -> Iterator[Json]:
        """Every visible job (optionally of one ``state`` / ``entity``), page after page.

        Stops after ``max_jobs`` jobs if given, or when the server's cursor does not advance.
        """
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be in 1..1000")
        after: Optional[int] = None
        count = 0
        while True:
            page = self.list_jobs(state=state, entity=entity, limit=page_size, after=after)
            for j in page.get("jobs", []):
                if max_jobs is not None and count >= max_jobs:
                    return
                count += 1
                yield j
            nxt = page.get("next_after")
            if nxt is None or not page.get("jobs") or (after is not None and nxt <= after):
                return
            after = nxt

    def cancel_job(self, job: JobRef) -> Json:
        """``POST /api/v1/jobs/{id}/cancel``: answers the job, ``cancelled`` (with
        ``releasing`` True while its processes stop). A job already final is a 409."""
        return self._json("POST", f"/api/v1/jobs/{_job_id(job)}/cancel")

    def job_logs(self, job: JobRef, *, tail_bytes: Optional[int] = None,
                 rank: Optional[int] = None) -> str:
        """``GET /api/v1/jobs/{id}/logs``: the job's stdout and stderr as text (the last 8 MiB
        at most; ``tail_bytes`` for less; ``rank`` for another node of a multi-node job).
        Empty until the node's agent has shipped some: logs travel with heartbeats."""
        return self._text("GET", f"/api/v1/jobs/{_job_id(job)}/logs",
                          query={"tail_bytes": tail_bytes, "rank": rank})

    def wait_job(self, job: JobRef, *, timeout: float = 600.0,
                 states: Optional[Iterable[str]] = None, poll_interval: float = 2.0) -> Json:
        """Polls the job until its state is one of ``states`` (default: a final state) and
        answers it. Polls at 0.1 s, then backs off up to ``poll_interval`` seconds.

        Raises:
            JobWaitTimeout: ``timeout`` seconds passed first (its ``job`` is the last seen).
            GpuaasError: a call failed (e.g. 404: the job does not exist).
        """
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError("timeout must be a positive, finite number of seconds")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        wanted = frozenset(states) if states is not None else FINAL_STATES
        unknown = wanted - set(JOB_STATES)
        if unknown or not wanted:
            raise ValueError(f"unknown job states {sorted(unknown)} (known: {', '.join(JOB_STATES)})")
        jid = _job_id(job)
        deadline = time.monotonic() + timeout
        delay = min(0.1, poll_interval)
        while True:
            current = self.get_job(jid)
            if current.get("state") in wanted:
                return current
            left = deadline - time.monotonic()
            if left <= 0:
                raise JobWaitTimeout(
                    f"job {jid} is still {current.get('state')} after {timeout:g}s "
                    f"(waiting for {', '.join(sorted(wanted))})", current)
            time.sleep(min(delay, left))
            delay = min(delay * 2, poll_interval)

    def notebook_url(self, job: Mapping[str, Any]) -> str:
        """The absolute URL of a notebook job (its ``url`` is a path on this server). Open it
        with this client's token as ``Authorization: Bearer`` (or sign in to the portal)."""
        path = job.get("url") if isinstance(job, Mapping) else None
        if not path:
            raise ValueError("this job has no 'url' (is it a notebook?)")
        return self.base_url + path

    # ------------------------------------------------------------------------------------------
    # Catalogue: nodes, GPU classes, environments

    def list_nodes(self) -> list[Json]:
        """``GET /api/v1/nodes``: every node with its GPUs, their state and holder."""
        return self._list("nodes", "GET", "/api/v1/nodes")

    def node_telemetry(self, node: str, *, limit: Optional[int] = None) -> Json:
        """``GET /api/v1/nodes/{name}/telemetry``: the last ``limit`` (1-10000, default 60)
        GPU samples per device of a node, oldest first."""
        return self._json("GET", f"/api/v1/nodes/{_seg(node)}/telemetry",
                          query={"limit": limit})

    def cordon_node(self, node: str) -> Json:
        """``POST /api/v1/nodes/{name}/cordon`` (platform-admin): no new jobs on it."""
        return self._json("POST", f"/api/v1/nodes/{_seg(node)}/cordon")

    def drain_node(self, node: str) -> Json:
        """``POST /api/v1/nodes/{name}/drain`` (platform-admin): no new jobs, running ones
        finish."""
        return self._json("POST", f"/api/v1/nodes/{_seg(node)}/drain")

    def resume_node(self, node: str) -> Json:
        """``POST /api/v1/nodes/{name}/resume`` (platform-admin): ready again."""
        return self._json("POST", f"/api/v1/nodes/{_seg(node)}/resume")

    def gpu_classes(self) -> list[Json]:
        """``GET /api/v1/classes``: the GPU classes (``name``, ``model``, ``memory_mb``,
        ``hourly_rate``, ``speed``)."""
        return self._list("classes", "GET", "/api/v1/classes")

    def environments(self) -> list[Json]:
        """``GET /api/v1/environments``: the ready-made container environments (``name``,
        ``image``, ``description``) a job may name."""
        return self._list("environments", "GET", "/api/v1/environments")

    # ------------------------------------------------------------------------------------------
    # Entities, users, tokens (administration)

    def create_entity(self, name: str, *, quota: Optional[Mapping[str, int]] = None,
                      guarantee: Optional[Mapping[str, int]] = None,
                      shares: Optional[int] = None) -> Json:
        """``POST /api/v1/entities`` (platform-admin): a tenant, with per-class GPU ``quota``
        (the most it may hold), ``guarantee`` and fair-share ``shares`` (1-10000). 409 if the
        name exists; 422 for an unknown class or a bad number."""
        body: Json = {"name": name}
        _put(body, quota=_int_map(quota, "quota"), guarantee=_int_map(guarantee, "guarantee"),
             shares=shares)
        return self._json("POST", "/api/v1/entities", body=body)

    def list_entities(self) -> list[Json]:
        """``GET /api/v1/entities``: all for a platform-admin, else the caller's own."""
        return self._list("entities", "GET", "/api/v1/entities")

    def get_entity(self, name: str) -> Json:
        """``GET /api/v1/entities/{name}``."""
        return self._json("GET", f"/api/v1/entities/{_seg(name)}")

    def update_entity(self, name: str, *, quota: Optional[Mapping[str, int]] = None,
                      guarantee: Optional[Mapping[str, int]] = None,
                      shares: Optional[int] = None) -> Json:
        """``PATCH /api/v1/entities/{name}`` (platform-admin): changes what is given (at least
        one of ``quota``, ``guarantee``, ``shares``)."""
        body: Json = {}
        _put(body, quota=_int_map(quota, "quota"), guarantee=_int_map(guarantee, "guarantee"),
             shares=shares)
        return self._json("PATCH", f"/api/v1/entities/{_seg(name)}", body=body)

    def create_user(self, name: str, *, entity: Optional[str] = None,
                    role: Optional[str] = None) -> Json:
        """``POST /api/v1/users``: a user of ``entity`` with ``role`` ``"member"`` (default),
        ``"entity-admin"`` or ``"platform-admin"``. The answer's ``token`` is shown once."""
        body: Json = {"name": name}
        _put(body, entity=entity, role=role)
        return self._json("POST", "/api/v1/users", body=body)

    def list_users(self) -> list[Json]:
        """``GET /api/v1/users`` (scoped to what the caller may see)."""
        return self._list("users", "GET", "/api/v1/users")

    def update_user(self, name: str, *, role: Optional[str] = None,
                    disabled: Optional[bool] = None, cancel_jobs: bool = False) -> Json:
        """``PATCH /api/v1/users/{name}``: a new ``role``, and/or ``disabled=True`` (someone
        leaves: its tokens are refused, it cannot sign in; its history stays) or ``False``.
        ``cancel_jobs=True`` (with ``disabled=True``) cancels the user's unfinished jobs in the
        same step. The answer is the user with ``cancelled_jobs`` (ids) and ``unfinished_jobs``
        (how many of its jobs go on)."""
        body: Json = {}
        _put(body, role=role, disabled=disabled, cancel_jobs=True if cancel_jobs else None)
        return self._json("PATCH", f"/api/v1/users/{_seg(name)}", body=body)

    def create_token(self, user: str, *, expires_in_s: Optional[int] = None) -> Json:
        """``POST /api/v1/users/{name}/tokens``: ``{"user", "token", "token_id", "expires_at"}``,
        a new token (older ones stay valid until revoked). Without ``expires_in_s`` it gets the
        platform's maximum lifetime, or never expires."""
        body = None if expires_in_s is None else {"expires_in_s": int(expires_in_s)}
        return self._json("POST", f"/api/v1/users/{_seg(user)}/tokens", body=body)

    def list_tokens(self, user: str) -> list[Json]:
        """``GET /api/v1/users/{name}/tokens``: ``[{"id", "created_at"}]``, oldest first (never
        the secrets)."""
        return self._list("tokens", "GET", f"/api/v1/users/{_seg(user)}/tokens")

    def revoke_token(self, user: str, token_id: int) -> None:
        """``DELETE /api/v1/users/{name}/tokens/{id}``: refused from its next request on (404 if
        the user has no such token)."""
        self._request("DELETE", f"/api/v1/users/{_seg(user)}/tokens/{int(token_id)}")

    def revoke_tokens(self, user: str) -> int:
        """``DELETE /api/v1/users/{name}/tokens``: every token of the user (someone leaves);
        returns how many were revoked. 409 for the platform admins' last token."""
        return int(self._json("DELETE", f"/api/v1/users/{_seg(user)}/tokens")["revoked"])

    def list_group_mappings(self) -> list[Json]:
        """``GET /api/v1/group-mappings``: the directory group mappings the caller administers
        (entity-admins: their entity's; platform-admins: all)."""
        return self._list("group_mappings", "GET", "/api/v1/group-mappings")

    def map_group(self, group: str, *, entity: str, role: Optional[str] = None) -> Json:
        """``POST /api/v1/group-mappings``: people the identity provider puts in ``group`` get an
        account in ``entity`` at their first single sign-on, with ``role`` (``"member"``, the
        default, or ``"entity-admin"``); their role follows their groups at each sign-in."""
        body: Json = {"group": group, "entity": entity}
        _put(body, role=role)
        return self._json("POST", "/api/v1/group-mappings", body=body)

    def unmap_group(self, mapping_id: int) -> None:
        """``DELETE /api/v1/group-mappings/{id}`` (404 if absent or another entity's)."""
        self._request("DELETE", f"/api/v1/group-mappings/{int(mapping_id)}")

    # ------------------------------------------------------------------------------------------
    # Entity secrets and storage

    def list_secrets(self, entity: str) -> list[Json]:
        """``GET /api/v1/entities/{name}/secrets``: names, sizes and dates (never values)."""
        return self._list("secrets", "GET", f"/api/v1/entities/{_seg(entity)}/secrets")

    def put_secret(self, entity: str, name: str, value: str) -> Json:
        """``POST /api/v1/entities/{name}/secrets``: creates or replaces a secret (entity-admin
        or platform-admin); the value is never answered back."""
        return self._json("POST", f"/api/v1/entities/{_seg(entity)}/secrets",
                          body={"name": name, "value": value})

    def delete_secret(self, entity: str, name: str) -> None:
        """``DELETE /api/v1/entities/{name}/secrets/{secret}`` (404 if absent)."""
        self._request("DELETE", f"/api/v1/entities/{_seg(entity)}/secrets/{_seg(name)}")

    def get_storage(self, entity: str) -> Json:
        """``GET /api/v1/entities/{name}/storage``: measures the entity workspace now, with
        Artifactory's figures as last fetched."""
        return self._json("GET", f"/api/v1/entities/{_seg(entity)}/storage")

    def set_storage_quota(self, entity: str, quota_bytes: int) -> Json:
        """``PUT /api/v1/entities/{name}/storage`` (platform-admin): the workspace quota."""
        return self._json("PUT", f"/api/v1/entities/{_seg(entity)}/storage",
                          body={"quota_bytes": quota_bytes})

    # ------------------------------------------------------------------------------------------
    # Usage, billing, budgets

    def usage(self, *, entity: Optional[str] = None, from_: Optional[DateLike] = None,
              to: Optional[DateLike] = None) -> Json:
        """``GET /api/v1/usage``: GPU-seconds and cost per class and entity over a period,
        ``{"from", "to", "entities": [{"entity", "gpu_seconds", "cost_by_class", "cost",
        "energy_kwh", "network": {"rx_bytes", "tx_bytes"}, "storage"}]}`` (energy and network of
        the allocations that ended, as invoices share them). ``from_`` / ``to``: ``"YYYY-MM-DD"``, RFC 3339, a ``date`` or a
        ``datetime`` (naive = UTC); defaults: the start of this month, now."""
        return self._json("GET", "/api/v1/usage",
                          query={"entity": entity, "from": _date_param(from_),
                                 "to": _date_param(to)})

    def fairshare(self) -> Json:
        """``GET /api/v1/fairshare``: where each visible entity stands in the fair-share order,
        ``{"queue_order", "usage_delay_s", "late_wait_ratio", "half_life_s", "entities":
        [{"entity", "shares", "share", "usage_gpu_hours", "usage", "factor", "delay_s",
        "wait_ratio", "late", "queued_jobs"}]}`` (docs/api.md)."""
        return self._json("GET", "/api/v1/fairshare")

    def prices(self) -> Json:
        """``GET /api/v1/prices``: the price book (``current`` rates per class and priority
        class, and every price change)."""
        return self._json("GET", "/api/v1/prices")

    def add_price(self, gpu_class: str, rate: MoneyLike, *,
                  effective_from: Optional[DateLike] = None,
                  priority_class: Optional[str] = None) -> Json:
        """``POST /api/v1/prices`` (platform-admin): a new hourly ``rate`` per GPU in euros
        (``"3.50"``) for ``gpu_class``, from ``effective_from`` (default now; never past)."""
        body: Json = {"gpu_class": gpu_class, "rate": _money(rate)}
        _put(body, effective_from=_time_param(effective_from), priority_class=priority_class)
        return self._json("POST", "/api/v1/prices", body=body)

    def invoice(self, entity: str, month: Union[str, _dt.date], *,
                format: str = "json") -> Union[Json, str]:
        """``GET /api/v1/invoices``: the entity's invoice of ``month`` (``"YYYY-MM"`` or a
        date). ``format="json"`` answers a dict; ``"csv"`` and ``"html"`` answer text."""
        if format not in ("json", "csv", "html"):
            raise ValueError("format must be 'json', 'csv' or 'html'")
        q = {"entity": entity, "month": _month(month), "format": format}
        if format == "json":
            return self._json("GET", "/api/v1/invoices", query=q)
        return self._text("GET", "/api/v1/invoices", query=q)

    def close_invoice(self, entity: str, month: Union[str, _dt.date]) -> Json:
        """``POST /api/v1/invoices/close`` (platform-admin): closes a month that is over
        (422 before); closing again answers the same invoice."""
        return self._json("POST", "/api/v1/invoices/close",
                          body={"entity": entity, "month": _month(month)})

    def create_credit_note(self, entity: str, month: Union[str, _dt.date], amount: MoneyLike,
                           reason: Optional[str] = None) -> Json:
        """``POST /api/v1/credit-notes`` (platform-admin): a correction of a closed month, at
        most its invoice's total (422 otherwise)."""
        body: Json = {"entity": entity, "month": _month(month), "amount": _money(amount)}
        _put(body, reason=reason)
        return self._json("POST", "/api/v1/credit-notes", body=body)

    def get_budget(self, entity: str) -> Json:
        """``GET /api/v1/entities/{name}/budget``: ``{"entity", "monthly", "policy", "month",
        "spent", "used_pct"}``."""
        return self._json("GET", f"/api/v1/entities/{_seg(entity)}/budget")

    def set_budget(self, entity: str, monthly: MoneyLike, *,
                   policy: Optional[str] = None) -> Json:
        """``PUT /api/v1/entities/{name}/budget`` (platform-admin): a monthly budget in euros
        (``"0"`` removes it) and what happens past it, ``"refuse"`` (default) or
        ``"best-effort-only"``."""
        body: Json = {"monthly": _money(monthly)}
        _put(body, policy=policy)
        return self._json("PUT", f"/api/v1/entities/{_seg(entity)}/budget", body=body)

    def billing_events(self, *, entity: Optional[str] = None) -> list[Json]:
        """``GET /api/v1/events``: budget alerts, invoice closes and credit notes (the last
        1000)."""
        return self._list("events", "GET", "/api/v1/events", query={"entity": entity})

    def forecast(self, *, weeks: Optional[int] = None, lead_time: Union[None, str, int] = None,
                 gpu_class: Optional[str] = None, growth: Optional[float] = None,
                 max_utilization: Optional[float] = None) -> Json:
        """``GET /api/v1/forecast`` (platform-admin): weekly GPU-hour demand per class,
        projected, and when to order more. ``lead_time``: ``"12w"``, ``"90d"`` or seconds;
        ``gpu_class``: a class or ``"any"`` (the ``class`` parameter)."""
        return self._json("GET", "/api/v1/forecast",
                          query={"weeks": weeks, "lead_time": lead_time, "class": gpu_class,
                                 "growth": growth, "max_utilization": max_utilization})

    def audit(self, *, actor: Optional[str] = None, entity: Optional[str] = None,
              limit: Optional[int] = None, before: Optional[int] = None) -> Json:
        """``GET /api/v1/audit`` (platform-admin; an entity-admin sees its entity's lines): one
        page of the audit trail, newest first, ``{"entries": [...], "next_before": SEQ|None}``.
        ``limit`` 1-1000 (server default 100); pass ``next_before`` as ``before`` for the next
        page, or use :meth:`iter_audit`."""
        return self._json("GET", "/api/v1/audit", query={"actor": actor, "entity": entity,
                                                         "limit": limit, "before": before})

    def iter_audit(self, *, actor: Optional[str] = None, entity: Optional[str] = None,
                   page_size: int = 1000, max_entries: Optional[int] = None) -> Iterator[Json]:
        """Every audit line (optionally of one ``actor`` / ``entity``), newest first, page after
        page. Stops after ``max_entries`` lines if given, or at the first line."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be in 1..1000")
        before: Optional[int] = None
        count = 0
        while True:
            page = self.audit(actor=actor, entity=entity, limit=page_size, before=before)
            for e in page.get("entries", []):
                if max_entries is not None and count >= max_entries:
                    return
                count += 1
                yield e
            nxt = page.get("next_before")
            if nxt is None or (before is not None and nxt >= before):
                return
            before = nxt


# ----------------------------------------------------------------------------------------------
# Helpers


def _retry_after(headers: Any) -> Optional[float]:
    """Retry-After in seconds (the server sends a number; an HTTP date is not used)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _error_of(status: int, raw: bytes, method: str, url: str, reason: Any,
              retry_after: Optional[float] = None) -> GpuaasError:
    text = raw.decode("utf-8", errors="replace")
    err: Mapping[str, Any] = {}
    try:
        doc = json.loads(text) if text else None
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            err = doc["error"]
    except ValueError:
        pass
    code = err.get("code") if isinstance(err.get("code"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else ""
    if not message:
        message = text.strip()[:300] or str(reason or "") or f"HTTP {status}"
    return GpuaasError(message, status=status, code=code, error=err, method=method, url=url,
                       body=text, retry_after=retry_after)


def _job_id(job: JobRef) -> str:
    if isinstance(job, Mapping):
        job = job.get("id")  # type: ignore[assignment]
    if isinstance(job, bool) or not isinstance(job, (int, str)) or not str(job).strip():
        raise TypeError(f"a job id (int), or a job dict with 'id', is needed, not {job!r}")
    return urllib.parse.quote(str(job).strip(), safe="")


def _seg(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a non-empty name is needed, not {name!r}")
    return urllib.parse.quote(name, safe="")


def _put(body: Json, **fields: Any) -> None:
    for k, v in fields.items():
        if v is not None:
            body[k] = v


def _int_map(m: Optional[Mapping[str, int]], what: str) -> Optional[dict[str, int]]:
    if m is None:
        return None
    if not isinstance(m, Mapping):
        raise TypeError(f"{what} must be a mapping of GPU class to count, like {{'h200': 8}}")
    return dict(m)


def _job_body(command: Optional[Sequence[str]] = None, *, kind: Optional[str] = None,
              name: Optional[str] = None, gpus: Optional[int] = None,
              gpu_types: Union[None, str, Sequence[str]] = None,
              walltime_s: Union[None, int, _dt.timedelta] = None,
              environment: Optional[str] = None, workspace: Optional[str] = None,
              secrets: Optional[Sequence[str]] = None, cpus: Optional[int] = None,
              memory_gb: Optional[int] = None, entity: Optional[str] = None,
              project: Optional[str] = None, priority_class: Optional[str] = None,
              requeue_on_preempt: Optional[bool] = None, allow_fallback: Optional[bool] = None,
              node_selector: Optional[Mapping[str, str]] = None) -> Json:
    """The JSON body of POST /api/v1/jobs and /estimate (only the fields given)."""
    body: Json = {}
    if command is not None:
        if isinstance(command, (str, bytes)):
            raise TypeError("command must be a list of strings, e.g. ['python', 'train.py'] "
                            "(for a shell line: ['sh', '-c', '...'])")
        body["command"] = [str(a) for a in command]
    if isinstance(gpu_types, str):
        gpu_types = [t.strip() for t in gpu_types.split(",") if t.strip()]
    if isinstance(walltime_s, _dt.timedelta):
        walltime_s = int(walltime_s.total_seconds())
    if secrets is not None:
        if isinstance(secrets, str):
            raise TypeError("secrets must be a list of names")
        secrets = list(secrets)
    _put(body, kind=kind, name=name, gpus=gpus,
         gpu_types=list(gpu_types) if gpu_types is not None else None,
         walltime_s=walltime_s, environment=environment, workspace=workspace, secrets=secrets,
         cpus=cpus, memory_gb=memory_gb, entity=entity, project=project,
         priority_class=priority_class, requeue_on_preempt=requeue_on_preempt,
         allow_fallback=allow_fallback,
         node_selector=dict(node_selector) if node_selector is not None else None)
    return body


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _time_param(v: Optional[DateLike]) -> Optional[str]:
    """RFC 3339 UTC for a datetime (naive = UTC); a date is its midnight UTC; str as given."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return v.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, _dt.date):
        return v.isoformat() + "T00:00:00Z"
    raise TypeError(f"a date, datetime or string is needed, not {v!r}")


def _date_param(v: Optional[DateLike]) -> Optional[str]:
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v.isoformat()
    return _time_param(v)


def _month(v: Union[str, _dt.date]) -> str:
    if isinstance(v, _dt.date):
        return v.strftime("%Y-%m")
    if isinstance(v, str):
        return v
    raise TypeError(f"month must be 'YYYY-MM' or a date, not {v!r}")


def _money(v: MoneyLike) -> str:
    """Euros as the decimal string the API takes ("3.50")."""
    if isinstance(v, bool):
        raise TypeError("an amount of euros is needed, not a bool")
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} is not an amount")
        return str(decimal.Decimal(repr(v)))
    if isinstance(v, (int, decimal.Decimal)):
        return str(v)
    raise TypeError(f"an amount of euros (str, int, Decimal) is needed, not {v!r}")
