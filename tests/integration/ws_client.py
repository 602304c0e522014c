"""A minimal WebSocket client (RFC 6455) on the standard library, for the tests: handshake with
key check, masked text frames out, text/binary frames in (fragments joined, pings answered).
Enough to talk to Jupyter's kernel channels through the notebook proxy."""

import base64
import hashlib
import json
import os
import socket
import struct
import time
import uuid

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    def __init__(self, status, head):
        super().__init__(f"WebSocket handshake answered {status}: {head[:300]!r}")
        self.status = status
        self.head = head


class WebSocket:
    def __init__(self, host, port, path, headers=None, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        head = head.decode("latin-1")
        status = int(head.split(" ", 2)[1]) if head.startswith("HTTP/") else 0
        if status != 101:
            self.sock.close()
            raise HandshakeError(status, head + "\r\n\r\n" + self.buf.decode("latin-1"))
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                  for l in head.split("\r\n")[1:] if ":" in l}
        if fields.get("sec-websocket-accept") != accept:
            raise HandshakeError(status, head)

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("WebSocket closed by the peer")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next whole message (str for text, bytes for binary); None on a close frame."""
        parts, first_op = [], None
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if op == 0x8:
                return None
            if op == 0x9:
                self._send_frame(0xA, data)
                continue
            if op == 0xA:
                continue
            if first_op is None:
                first_op = op
            parts.append(data)
            if b0 & 0x80:
                data = b"".join(parts)
                return data.decode() if first_op == 0x1 else data

    def wait_closed(self, timeout):
        """True once the peer closes the connection (messages before it are skipped), False
        if it is still open after `timeout` seconds."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                if self.recv() is None:
                    return True  # a close frame
            except socket.timeout:
                return False
            except (ConnectionError, OSError):
                return True

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def jupyter_execute(ws, code, timeout=60):
    """Runs `code` on the kernel behind a Jupyter channels socket; returns its stdout."""
    session = uuid.uuid4().hex
    msg_id = uuid.uuid4().hex
    ws.send_text(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": session,
                   "msg_type": "execute_request", "version": "5.3",
                   "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    out, deadline = [], time.time() + timeout
    ws.sock.settimeout(timeout)
    while time.time() < deadline:
        m = ws.recv()
        if m is None:
            raise ConnectionError("the kernel socket closed")
        if not isinstance(m, str):
            continue  # binary messages carry buffers; not ours
        msg = json.loads(m)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if kind == "stream" and msg["content"].get("name") == "stdout":
            out.append(msg["content"]["text"])
        elif kind == "error":
            raise RuntimeError(f"the cell failed: {msg['content']}")
        elif kind == "status" and msg["content"].get("execution_state") == "idle":
            return "".join(out)
    raise TimeoutError("no answer from the kernel")
