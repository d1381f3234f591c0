#!/usr/bin/env python3
"""A stand-in for the OpenAI Responses API, enough for Codex CLI to run one
tool and answer: the first POST .../responses offering a shell tool gets a
call of that tool running CMD; a request carrying its output gets the
final message "AGENTBOX-DONE".  Both are streamed as Server-Sent Events
(response.created, response.output_item.added, response.output_text.delta,
response.output_item.done, response.completed), as the real API does.
The shell tool is the first offered, in the request's tools or its
"additional_tools" input item, of: exec_command {cmd} (unified exec),
shell_command {command}, shell {command: argv}, local_shell, or code
mode's freeform "exec" (JavaScript calling tools.exec_command; Codex uses
it for the models of its catalog).  A request for JSON (the TUI's thread
title) gets that JSON and no tool call; anything else gets a short text,
a GET of .../models an empty list.  Logs each request's method, path and
body to LOG.
Usage: fake_openai.py ADDR PORT LOG CMD.  Stops by itself after 180 s."""
import json, threading

from fakeapi import Handler, cmd, serve

lock = threading.Lock()
seq = [0]


def next_id(prefix):
    with lock:
        seq[0] += 1
        return "%s_fake%d" % (prefix, seq[0])


def sse(events):
    out = b""
    for data in events:
        out += b"event: " + data["type"].encode() + b"\ndata: " + json.dumps(data).encode() + b"\n\n"
    return out


def response(items):
    """The events of one streamed response whose output is items."""
    rid = next_id("resp")
    usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": 15}
    ev = [{"type": "response.created", "response": {"id": rid, "object": "response",
                                                    "status": "in_progress", "output": []}}]
    for i, item in enumerate(items):
        ev.append({"type": "response.output_item.added", "output_index": i, "item": item})
        if item["type"] == "message":
            ev.append({"type": "response.output_text.delta", "output_index": i, "content_index": 0,
                       "item_id": item["id"], "delta": item["content"][0]["text"]})
        ev.append({"type": "response.output_item.done", "output_index": i, "item": item})
    ev.append({"type": "response.completed", "response": {
        "id": rid, "object": "response", "status": "completed", "output": items, "usage": usage}})
    return ev


def text(t):
    return {"type": "message", "id": next_id("msg"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": t, "annotations": []}]}


def tool_names(tools):
    """Tool name -> tool, namespaces flattened."""
    out = {}
    for t in tools or []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "namespace":
            out.update(tool_names(t.get("tools")))
        elif t.get("type") == "local_shell":
            out["local_shell"] = t
        elif t.get("name"):
            out[t["name"]] = t
    return out


def tool_call(tools):
    """A call of the shell tool offered, running cmd; None if there is none."""
    call_id = next_id("call")
    fc = {"type": "function_call", "id": next_id("fc"), "call_id": call_id, "status": "completed"}
    if "exec_command" in tools:
        return dict(fc, name="exec_command", arguments=json.dumps({"cmd": cmd, "yield_time_ms": 10000}))
    if "shell_command" in tools:
        return dict(fc, name="shell_command", arguments=json.dumps({"command": cmd}))
    if "shell" in tools:
        return dict(fc, name="shell", arguments=json.dumps({"command": ["bash", "-c", cmd]}))
    if "local_shell" in tools:
        return {"type": "local_shell_call", "id": next_id("lsh"), "call_id": call_id,
                "status": "completed", "action": {"type": "exec", "command": ["bash", "-c", cmd]}}
    if "exec" in tools:  # code mode: a freeform tool whose input is JavaScript
        js = "const r = await tools.exec_command(%s);\ntext(JSON.stringify(r));\n" % json.dumps(
            {"cmd": cmd, "yield_time_ms": 10000})
        return {"type": "custom_tool_call", "id": next_id("ctc"), "call_id": call_id,
                "status": "completed", "name": "exec", "input": js}
    return None


def structured(req):
    """For a request asking for JSON (a thread title), that JSON; else None."""
    fmt = (req.get("text") or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        return None
    props = (fmt.get("schema") or {}).get("properties") or {}
    return json.dumps({k: "Run the tool" if v.get("type") == "string" else None
                       for k, v in props.items()})


def has_tool_output(inp):
    return isinstance(inp, list) and any(
        isinstance(i, dict) and i.get("type") in (
            "function_call_output", "custom_tool_call_output", "local_shell_call_output")
        for i in inp)


class H(Handler):
    def do_GET(self):
        self.note()
        path = self.path.split("?")[0]
        if path.endswith("/models"):
            # both the OpenAI list shape and Codex's own {"models": [...]}
            self.reply(200, json.dumps({"object": "list", "data": [], "models": []}).encode())
        else:
            self.reply(404, b'{"error":{"message":"not found","type":"invalid_request_error"}}')

    def do_POST(self):
        raw, req = self.body()
        path = self.path.split("?")[0]
        if not path.endswith("/responses"):
            self.reply(200, b"{}")
            return
        if req is None:
            # a compressed body (Content-Encoding: zstd): say so rather than guess
            self.reply(400, b'{"error":{"message":"cannot read the body","type":"invalid_request_error"}}')
            return
        tools = list(req.get("tools") or [])
        # newer Codex sends tools as an "additional_tools" input item
        for i in req.get("input") or []:
            if isinstance(i, dict) and i.get("type") == "additional_tools":
                tools += i.get("tools") or []
        done = has_tool_output(req.get("input"))
        answer = structured(req)
        call = None if done or answer else tool_call(tool_names(tools))
        items = [call] if call else [text(answer or ("AGENTBOX-DONE" if done else "ok"))]
        if req.get("stream", True):
            self.reply(200, sse(response(items)), "text/event-stream")
        else:
            body = {"id": next_id("resp"), "object": "response", "status": "completed",
                    "output": items, "usage": {"input_tokens": 10, "output_tokens": 5,
                                               "total_tokens": 15}}
            self.reply(200, json.dumps(body).encode())


serve(H)
