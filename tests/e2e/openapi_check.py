#!/usr/bin/env python3
"""tests/e2e/openapi_check.py: checks one response of `tallyman serve` against
docs/openapi.json: the route and method are described, the status is one the
route documents, and a JSON body fits the documented schema (types, nullable,
required members, properties, items, oneOf, enum, pattern, $ref).

usage: openapi_check.py SPEC METHOD ROUTE STATUS BODY_FILE
       openapi_check.py SPEC --batch LIST  (lines "METHOD ROUTE STATUS BODY_FILE")
Prints nothing and exits 0 when the response fits; else says why, exit 1."""
import json
import re
import sys


def resolve(spec, s):
    while isinstance(s, dict) and "$ref" in s:
        node = spec
        for part in s["$ref"].lstrip("#/").split("/"):
            node = node[part]
        s = node
    return s


TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def check(spec, schema, v, where):
    s = resolve(spec, schema)
    if v is None:
        if s.get("nullable") or not s.get("type") and "oneOf" not in s:
            return None
        return f"{where}: null where the schema does not allow it"
    if "oneOf" in s:
        fits = [o for o in s["oneOf"] if check(spec, o, v, where) is None]
        if len(fits) != 1:
            whys = [check(spec, o, v, where) for o in s["oneOf"]]
            return f"{where}: fits {len(fits)} of the oneOf schemas ({'; '.join(w for w in whys if w)})"
        return None
    t = s.get("type")
    if t and not TYPES[t](v):
        return f"{where}: {json.dumps(v)[:80]} is not of type {t}"
    if "enum" in s and v not in s["enum"]:
        return f"{where}: {v!r} is not one of {s['enum']}"
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v):
        return f"{where}: {v!r} does not match {s['pattern']}"
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v:
                return f"{where}: required member '{r}' is missing"
        for k, sub in s.get("properties", {}).items():
            if k in v:
                why = check(spec, sub, v[k], f"{where}.{k}")
                if why:
                    return why
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            why = check(spec, s["items"], item, f"{where}[{i}]")
            if why:
                return why
    return None


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--batch":
        bad = 0
        for line in open(sys.argv[3]):
            if line.strip():
                bad |= one(sys.argv[1], *line.split(None, 3))
        return bad
    return one(*sys.argv[1:6])


def one(spec_file, method, route, status, body_file):
    body_file = body_file.strip()
    spec = json.load(open(spec_file))
    ops = spec["paths"].get(route, {})
    op = ops.get(method.lower())
    if op is None and status == "405" and ops:
        # A method the route does not take: its 405 is documented on the methods it does.
        op = next(iter(ops.values()))
    if op is None:
        print(f"{method} {route} is not described in {spec_file}")
        return 1
    resp = op["responses"].get(status)
    if resp is None:
        print(f"{method} {route}: status {status} is not documented (documented: {sorted(op['responses'])})")
        return 1
    content = resp.get("content", {})
    body = open(body_file, "rb").read()
    if "application/json" in content:
        try:
            v = json.loads(body)
        except ValueError as e:
            print(f"{method} {route} {status}: the body is not JSON: {e}")
            return 1
        why = check(spec, content["application/json"]["schema"], v, "body")
        if why:
            print(f"{method} {route} {status}: {why}")
            return 1
    return 0


sys.exit(main())
