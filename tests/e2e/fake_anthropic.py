#!/usr/bin/env python3
"""A stand-in for the Anthropic Messages API, enough for Claude Code to run
one tool and answer: the first request that offers a Bash tool gets a
tool_use of Bash running CMD; a request carrying its tool_result gets the
final text "AGENTBOX-DONE" (streamed as Server-Sent Events when asked, as
the real API does).  Anything else (a title, a quota check) gets a short
text.  Logs each request's method, path and body to LOG.
Usage: fake_anthropic.py ADDR PORT LOG CMD.  Stops by itself after 180 s."""
import json

from fakeapi import Handler, cmd, serve


def sse(events):
    out = b""
    for name, data in events:
        out += b"event: " + name.encode() + b"\ndata: " + json.dumps(data).encode() + b"\n\n"
    return out


def message(blocks, stop):
    """The events of one assistant message made of blocks."""
    ev = [("message_start", {"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant",
        "model": "claude-fake", "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})]
    for i, b in enumerate(blocks):
        if b["type"] == "text":
            ev.append(("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": {"type": "text", "text": ""}}))
            ev.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "text_delta", "text": b["text"]}}))
        else:
            ev.append(("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": {"type": "tool_use", "id": b["id"],
                                                                 "name": b["name"], "input": {}}}))
            ev.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "input_json_delta",
                                                         "partial_json": json.dumps(b["input"])}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    ev.append(("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": stop, "stop_sequence": None},
                                 "usage": {"output_tokens": 5}}))
    ev.append(("message_stop", {"type": "message_stop"}))
    return ev


class H(Handler):
    not_found = b'{"type":"error","error":{"type":"not_found_error","message":"no"}}'

    def do_POST(self):
        raw, req = self.body()
        if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
            self.reply(200, b'{"input_tokens": 10}')
            return
        req = req or {}
        msgs = req.get("messages", [])
        last = msgs[-1] if msgs else {}
        content = last.get("content", [])
        has_result = isinstance(content, list) and any(
            isinstance(c, dict) and c.get("type") == "tool_result" for c in content)
        tools = [t.get("name") for t in req.get("tools", []) if isinstance(t, dict)]
        if has_result:
            blocks, stop = [{"type": "text", "text": "AGENTBOX-DONE"}], "end_turn"
        elif "Bash" in tools:
            blocks = [{"type": "tool_use", "id": "toolu_fake1", "name": "Bash",
                       "input": {"command": cmd, "description": "run the test's command"}}]
            stop = "tool_use"
        else:
            blocks, stop = [{"type": "text", "text": "ok"}], "end_turn"
        if req.get("stream"):
            self.reply(200, sse(message(blocks, stop)), "text/event-stream")
        else:
            body = {"id": "msg_fake", "type": "message", "role": "assistant",
                    "model": "claude-fake", "content": blocks, "stop_reason": stop,
                    "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
            self.reply(200, json.dumps(body).encode())


serve(H)
