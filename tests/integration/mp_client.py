# SPDX-License-Identifier: BSD-3-Clause
"""Message-plane test client (python3-websockets): a game client speaking
the warpgate client protocol (docs/protocol.md) over ws:// or wss://, as
JSON text frames or binary protobuf Envelopes.

Binary mode needs the protobuf module generated from proto/wg_client.proto
(protoc --python_out=DIR); its directory is in the environment as WG_PB_DIR.
Messages come back as dicts in the proto3 JSON form (lowerCamel field
names, 64-bit integers as strings) whichever mode was used, so a test
checks both modes with the same code.
"""
import asyncio
import base64
import json
import os
import sys

import websockets

PAYLOAD = {
    "LOGIN": "Login", "LOGIN_ACK": "LoginAck", "HEARTBEAT": "Heartbeat",
    "HEARTBEAT_ACK": "HeartbeatAck", "KICK": "Kick", "ERROR": "Error",
    "RESUME": "Resume", "RESUME_ACK": "ResumeAck", "LOGOUT": "Logout", "ACK": None,
    "ECHO": "Echo", "CHAT_JOIN": "ChatJoin", "CHAT_LEAVE": "ChatLeave",
    "CHAT_SAY": "ChatSay", "CHAT_MSG": "ChatMsg", "CHAT_JOINED": "ChatJoined",
}

_pb = None


def pb():
    global _pb
    if _pb is None:
        sys.path.insert(0, os.environ["WG_PB_DIR"])
        import wg_client_pb2  # noqa: E402
        _pb = wg_client_pb2
    return _pb


class Closed(Exception):
    pass


class Client:
    def __init__(self, url, ssl=None, text=True, name="client"):
        self.url, self.ssl, self.text, self.name = url, ssl, text, name
        self.ws = None
        self.seq = 0          # our last seq
        self.srv_seq = 0      # highest server seq seen
        self.msg_id = 0
        self.session_id = None
        self.resume_token = None
        self.inbox = []       # messages received but not asked for yet

    async def connect(self):
        self.ws = await websockets.connect(self.url, ssl=self.ssl, max_size=None,
                                           compression=None, ping_interval=None)
        return self

    async def close(self):
        if self.ws is not None:
            await self.ws.close()

    def abort(self):
        """Drop the connection without a close handshake (a lost client)."""
        self.ws.transport.abort()

    # ---- encoding

    def _encode(self, mtype, payload, seq, ack, msg_id):
        if self.text:
            frame = {"type": mtype, "seq": seq, "ack": ack, "msg_id": msg_id}
            if payload is not None:
                frame["payload"] = payload
            return json.dumps(frame)
        from google.protobuf import json_format
        env = pb().Envelope(type=pb().MsgType.Value(mtype), seq=seq, ack=ack, msg_id=msg_id)
        cls = PAYLOAD.get(mtype)
        if cls is not None and payload is not None:
            msg = getattr(pb(), cls)()
            json_format.ParseDict(payload, msg)
            env.payload = msg.SerializeToString()
        return env.SerializeToString()

    def _decode(self, frame):
        if isinstance(frame, str):
            d = json.loads(frame)
            if "msgId" in d:
                d["msg_id"] = d.pop("msgId")
            for k in ("seq", "ack", "msg_id"):
                d.setdefault(k, 0)
            d.setdefault("payload", {})
            return d
        from google.protobuf import json_format
        env = pb().Envelope()
        env.ParseFromString(frame)
        mtype = pb().MsgType.Name(env.type)
        cls = PAYLOAD.get(mtype)
        payload = {}
        if cls is not None:
            msg = getattr(pb(), cls)()
            msg.ParseFromString(env.payload)
            payload = json_format.MessageToDict(msg)
        return {"type": mtype, "seq": env.seq, "ack": env.ack, "msg_id": env.msg_id,
                "payload": payload}

    # ---- messages

    async def send(self, mtype, payload=None, seq=True):
        self.msg_id += 1
        s = 0
        if seq:
            self.seq += 1
            s = self.seq
        await self.ws.send(self._encode(mtype, payload, s, self.srv_seq, self.msg_id))
        return self.msg_id

    async def send_raw(self, frame):
        await self.ws.send(frame)

    async def recv(self, timeout=10):
        if self.inbox:
            return self.inbox.pop(0)
        try:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as e:
            raise Closed(e.rcvd.code if e.rcvd else None)
        m = self._decode(frame)
        if m["seq"]:
            self.srv_seq = max(self.srv_seq, m["seq"])
        return m

    async def expect(self, mtype, timeout=10, keep_others=True):
        """Next message of mtype; others received meanwhile stay queued."""
        others = []
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        try:
            while True:
                left = end - loop.time()
                if left <= 0:
                    raise TimeoutError("%s: no %s within %ss (got %s)" % (
                        self.name, mtype, timeout, [o["type"] for o in others]))
                if self.inbox and not others:
                    m = self.inbox.pop(0)
                else:
                    frame = await asyncio.wait_for(self.ws.recv(), left)
                    m = self._decode(frame)
                    if m["seq"]:
                        self.srv_seq = max(self.srv_seq, m["seq"])
                if m["type"] == mtype:
                    return m
                others.append(m)
        except websockets.ConnectionClosed as e:
            raise Closed("%s: closed (%s) waiting for %s" % (
                self.name, e.rcvd.code if e.rcvd else None, mtype))
        finally:
            if keep_others:
                self.inbox = others + self.inbox

    async def login(self, token, version="1.0.0"):
        await self.send("LOGIN", {"token": token, "device": self.name, "version": version})
        m = await self.recv_any(("LOGIN_ACK", "ERROR"))
        if m["type"] == "LOGIN_ACK":
            self.session_id = int(m["payload"]["sessionId"])
            self.resume_token = m["payload"]["resumeToken"]
        return m

    async def login_password(self, account, password, version="1.0.0"):
        await self.send("LOGIN", {"password": {"account": account, "password": password},
                                  "device": self.name, "version": version})
        m = await self.recv_any(("LOGIN_ACK", "ERROR"), timeout=20)
        if m["type"] == "LOGIN_ACK":
            self.session_id = int(m["payload"]["sessionId"])
            self.resume_token = m["payload"]["resumeToken"]
        return m

    async def resume(self, session_id, resume_token, last_seq):
        await self.send("RESUME", {"sessionId": str(session_id), "resumeToken": resume_token,
                                   "lastSeq": last_seq})
        m = await self.recv_any(("RESUME_ACK", "ERROR"))
        if m["type"] == "RESUME_ACK":
            self.session_id = session_id
            self.resume_token = m["payload"].get("resumeToken", resume_token)
        return m

    async def recv_any(self, types, timeout=10):
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        others = []
        try:
            while True:
                m = await self.recv(max(0.01, end - loop.time()))
                if m["type"] in types:
                    return m
                others.append(m)
        finally:
            self.inbox = others + self.inbox


def b64(data):
    return base64.b64encode(data).decode()
