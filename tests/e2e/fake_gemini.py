#!/usr/bin/env python3
"""A stand-in for the Gemini API (generativelanguage v1beta), enough for
Gemini CLI (0.61) to run one tool and answer: a request that offers the
run_shell_command tool (streamGenerateContent, as Server-Sent Events) gets
a functionCall of it running CMD; a request whose last turn carries its
functionResponse gets the final text "AGENTBOX-DONE".  The side calls get
harmless answers: a generateContent with a JSON schema (the model router's
complexity score, the next-speaker check, loop detection) gets a value
that fits the schema (lowest complexity, the user speaks next, no loop),
countTokens a count, anything else (a session summary) a short text.
Logs each request's method, path and body to LOG.
Usage: fake_gemini.py ADDR PORT LOG CMD.  Stops by itself after 180 s."""
import json

from fakeapi import Handler, cmd, serve

USAGE = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}


def response(parts):
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": USAGE, "modelVersion": "gemini-fake"}


def fill(schema, name=""):
    """A value that fits a JSON schema (types in either case), harmless for
    the CLI's side checks: the next speaker is the user, the router picks
    flash with the lowest complexity, loop confidence is 0."""
    t = str(schema.get("type", "object")).lower()
    if "enum" in schema:
        e = schema["enum"]
        for pref in ("user", "flash"):
            if pref in e:
                return pref
        return e[0]
    if t == "object":
        return {k: fill(v, k) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return []
    if t in ("number", "integer"):
        return 0 if "confidence" in name else schema.get("minimum", 1)
    if t == "boolean":
        return False
    return "ok"


def has_function_response(req):
    contents = req.get("contents") or []
    last = contents[-1] if contents else {}
    return any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or [])


def tool_names(req):
    return [d.get("name") for t in req.get("tools") or [] if isinstance(t, dict)
            for d in t.get("functionDeclarations") or [] if isinstance(d, dict)]


class H(Handler):
    not_found = b'{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}'

    def do_POST(self):
        raw, req = self.body()
        req = req if isinstance(req, dict) else {}
        path = self.path.split("?")[0]
        if path.endswith(":countTokens"):
            self.reply(200, b'{"totalTokens": 10}')
            return
        if path.endswith(":embedContent") or path.endswith(":batchEmbedContents"):
            self.reply(200, b'{"embedding": {"values": [0.0]}}')
            return
        gc = req.get("generationConfig") or {}
        schema = gc.get("responseJsonSchema") or gc.get("responseSchema")
        if schema:
            parts = [{"text": json.dumps(fill(schema))}]
        elif has_function_response(req):
            parts = [{"text": "AGENTBOX-DONE"}]
        elif "run_shell_command" in tool_names(req):
            parts = [{"functionCall": {"name": "run_shell_command",
                                       "args": {"command": cmd, "description": "run the test's command"}}}]
        else:
            parts = [{"text": "ok"}]
        body = json.dumps(response(parts)).encode()
        if path.endswith(":streamGenerateContent"):
            self.reply(200, b"data: " + body + b"\r\n\r\n", "text/event-stream")
        else:
            self.reply(200, body)


serve(H)
