"""Exceptions raised by the GPUaaS Python client.

Every failure the client meets is a :class:`GpuaasError` (or a subclass), so one
``except GpuaasError`` catches them all. Bad arguments given to a method (a wrong type, an
unknown choice the client can check itself) raise the ordinary ``TypeError`` / ``ValueError``
before anything is sent.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional


class GpuaasError(Exception):
    """An error answer of the GPUaaS API, or a failure to get an answer at all.

    Attributes:
        status: the HTTP status (400, 401, 403, 404, 409, 413, 422, 429, 500, 503, ...), or
            ``None`` when no HTTP answer was received (see :class:`GpuaasConnectionError`).
        code: the contract's error code (``"not_found"``, ``"unauthenticated"``,
            ``"unprocessable"``, ...), or ``None`` when the answer had no error object.
        message: the server's message in words (never empty).
        error: the whole ``error`` object of the answer (``code``, ``message`` and any other
            field the server adds), ``{}`` when there was none.
        method, url: the request that failed (the token is never part of them).
        body: the answer's text, cut to 2,000 characters (``""`` when none).
        retry_after: seconds to wait before trying again, from the answer's ``Retry-After``
            header (the server sends it with 429 and 503), or ``None``.
    """

    def __init__(self, message: str, *, status: Optional[int] = None,
                 code: Optional[str] = None, error: Optional[Mapping[str, Any]] = None,
                 method: str = "", url: str = "", body: str = "",
                 retry_after: Optional[float] = None) -> None:
        self.status = status
        self.code = code
        self.message = message or "unknown error"
        self.error: dict[str, Any] = dict(error or {})
        self.method = method
        self.url = url
        self.body = body[:2000]
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        head = []
        if self.status is not None:
            head.append(f"HTTP {self.status}")
        if self.code:
            head.append(self.code)
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        prefix = " ".join(head)
        return f"{prefix}: {self.message}{where}" if prefix else f"{self.message}{where}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
                f"message={self.message!r})")


class GpuaasConnectionError(GpuaasError):
    """No HTTP answer: the server could not be reached, the connection broke, or the
    request timed out. ``status`` and ``code`` are ``None``."""


class JobWaitTimeout(GpuaasError, TimeoutError):
    """:meth:`Client.wait_job` ran out of time before the job reached a wanted state.

    ``job`` is the job as last seen (a dict), so the caller can tell where it stands.
    """

    def __init__(self, message: str, job: Mapping[str, Any]) -> None:
        self.job = dict(job)
        super().__init__(message)
