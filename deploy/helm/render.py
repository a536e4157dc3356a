#!/usr/bin/env python3
"""Renders and checks the Hansa Helm chart without Helm (Helm is not packaged in Debian 12).

    deploy/helm/render.py CHART_DIR [--set key.path=value ...] [--render-only] [--stdin]

Renders templates/*.yaml with a small evaluator of the Go-template subset the chart uses
(actions {{ }} with trim markers; .Values/.Release/.Chart paths; include/define; if/else/end with
`not` and `eq`; pipelines through quote, b64enc, default, toYaml, indent, nindent), parses every
rendered document with PyYAML and checks it against a small schema of the kinds the chart emits
(ConfigMap, Secret, PersistentVolumeClaim, Deployment, Service): required fields, label selectors
that match their pod templates, Services that select a Deployment's pods and target named ports
that exist, volumes that are defined, probes on declared ports, Secret data that is base64.
Anything outside the subset is an error, so the chart stays renderable here.

With --stdin it checks documents already rendered (`helm template ... | render.py CHART --stdin`).
Exit 0 when everything renders and checks, 1 otherwise (each problem printed).
"""

import base64
import re
import sys

import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


class TemplateError(Exception):
    pass


def tokenize(text):
    """Splits a template into ('text', s) and ('action', s) tokens, applying trim markers."""
    tokens = []
    pos = 0
    for m in ACTION.finditer(text):
        tokens.append(["text", text[pos:m.start()]])
        if m.group(1):
            tokens[-1][1] = tokens[-1][1].rstrip(" \t\r\n")
        action = m.group(2)
        if action.startswith("/*"):
            action = None
        tokens.append(["action", action, bool(m.group(3))])
        pos = m.end()
    tokens.append(["text", text[pos:]])
    # Right trim markers strip the following text's leading whitespace.
    for i, t in enumerate(tokens):
        if t[0] == "action" and t[2] and i + 1 < len(tokens):
            tokens[i + 1][1] = tokens[i + 1][1].lstrip(" \t\r\n")
    return [t for t in tokens if not (t[0] == "action" and t[1] is None)]


def parse(tokens, pos=0, stop=("end",)):
    """Builds a tree: list of nodes; returns (nodes, pos, stopper)."""
    nodes = []
    while pos < len(tokens):
        t = tokens[pos]
        if t[0] == "text":
            nodes.append(("text", t[1]))
            pos += 1
            continue
        action = t[1]
        word = action.split()[0]
        if word in stop:
            return nodes, pos, action
        if word == "if":
            body, pos, stopper = parse(tokens, pos + 1, ("else", "end"))
            other = []
            if stopper.split()[0] == "else":
                other, pos, stopper = parse(tokens, pos + 1, ("end",))
            nodes.append(("if", action[2:].strip(), body, other))
            pos += 1
            continue
        if word == "define":
            name = re.match(r'define\s+"([^"]+)"', action)
            if not name:
                raise TemplateError("bad define: " + action)
            body, pos, _ = parse(tokens, pos + 1, ("end",))
            nodes.append(("define", name.group(1), body))
            pos += 1
            continue
        if word in ("range", "with", "template", "block", "else", "end"):
            raise TemplateError("unsupported or unbalanced action: {{ %s }}" % action)
        nodes.append(("expr", action))
        pos += 1
    if stop != ("end",) or pos < len(tokens):
        pass
    return nodes, pos, None


def split_args(expr):
    """Splits a command into arguments: strings, parenthesised groups, words."""
    args, i = [], 0
    while i < len(expr):
        c = expr[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            while expr[j] != '"':
                j += 2 if expr[j] == "\\" else 1
            args.append(expr[i:j + 1])
            i = j + 1
        elif c == "(":
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(expr[j], 0)
                if depth == 0:
                    break
                j += 1
            args.append(expr[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(expr) and not expr[j].isspace():
                j += 1
            args.append(expr[i:j])
            i = j
    return args


def split_pipe(expr):
    parts, depth, quote, cur = [], 0, False, ""
    for c in expr:
        if c == '"':
            quote = not quote
        if not quote:
            depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "|" and depth == 0 and not quote:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    parts.append(cur.strip())
    return parts


class Renderer:
    def __init__(self, ctx):
        self.ctx = ctx
        self.defines = {}

    def value(self, arg, dot):
        if arg.startswith('"'):
            return arg[1:-1].encode().decode("unicode_escape")
        if arg.startswith("("):
            return self.pipeline(arg[1:-1], dot)
        if arg == ".":
            return dot
        if arg.startswith("."):
            cur = dot
            for part in arg[1:].split("."):
                if not isinstance(cur, dict) or part not in cur:
                    raise TemplateError("no value " + arg)
                cur = cur[part]
            return cur
        if re.fullmatch(r"-?\d+", arg):
            return int(arg)
        if arg in ("true", "false"):
            return arg == "true"
        raise TemplateError("unsupported argument " + arg)

    def call(self, cmd, dot, piped, has_piped):
        args = split_args(cmd)
        fn, rest = args[0], args[1:]
        vals = [self.value(a, dot) for a in rest]
        if has_piped:
            vals.append(piped)
        if fn.startswith(".") or fn.startswith('"') or fn.startswith("("):
            if rest or has_piped:
                raise TemplateError("cannot call " + fn)
            return self.value(fn, dot)
        if fn == "include":
            name, arg = vals
            if name not in self.defines:
                raise TemplateError("no template " + name)
            return self.render_nodes(self.defines[name], arg)
        if fn == "quote":
            return '"' + str(vals[0]).replace("\\", "\\\\").replace('"', '\\"') + '"'
        if fn == "b64enc":
            return base64.b64encode(str(vals[0]).encode()).decode()
        if fn == "default":
            return vals[1] if vals[1] not in (None, "", [], {}, False, 0) else vals[0]
        if fn == "toYaml":
            v = vals[0]
            if v in ({}, []):
                return "{}" if v == {} else "[]"
            return yaml.safe_dump(v, default_flow_style=False, sort_keys=False).rstrip("\n")
        if fn in ("indent", "nindent"):
            n, text = vals
            pad = " " * n
            out = "\n".join(pad + line if line else line for line in str(text).split("\n"))
            return ("\n" + out) if fn == "nindent" else out
        if fn == "not":
            return not truthy(vals[0])
        if fn == "eq":
            return vals[0] == vals[1]
        if fn == "printf":
            return vals[0] % tuple(vals[1:])
        raise TemplateError("unsupported function " + fn)

    def pipeline(self, expr, dot):
        result, has = None, False
        for part in split_pipe(expr):
            result = self.call(part, dot, result, has)
            has = True
        return result

    def render_nodes(self, nodes, dot):
        out = []
        for n in nodes:
            if n[0] == "text":
                out.append(n[1])
            elif n[0] == "expr":
                v = self.pipeline(n[1], dot)
                out.append("" if v is None else (str(v).lower() if isinstance(v, bool) else str(v)))
            elif n[0] == "if":
                out.append(self.render_nodes(n[2] if truthy(self.pipeline(n[1], dot)) else n[3], dot))
            elif n[0] == "define":
                self.defines[n[1]] = n[2]
        return "".join(out)


def truthy(v):
    return v not in (None, False, 0, "", [], {})


def deep_set(d, path, value):
    parts = path.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = yaml.safe_load(value)


def render_chart(chart, sets):
    import glob
    import os
    meta = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))
    values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
    for s in sets:
        k, v = s.split("=", 1)
        deep_set(values, k, v)
    ctx = {"Values": values, "Release": {"Name": "test", "Namespace": "default"},
           "Chart": {"Name": meta["name"], "Version": meta["version"],
                     "AppVersion": meta.get("appVersion", meta["version"])}}
    r = Renderer(ctx)
    files = sorted(glob.glob(os.path.join(chart, "templates", "*")))
    for f in files:
        if f.endswith(".tpl"):
            r.render_nodes(parse(tokenize(open(f).read()))[0], ctx)
    out = []
    for f in files:
        if f.endswith(".yaml"):
            nodes, pos, stopper = parse(tokenize(open(f).read()))
            if stopper is not None:
                raise TemplateError("%s: unbalanced {{ %s }}" % (f, stopper))
            out.append("# Source: %s\n%s" % (os.path.relpath(f, chart), r.render_nodes(nodes, ctx)))
        elif f.endswith("NOTES.txt"):
            r.render_nodes(parse(tokenize(open(f).read()))[0], ctx)
    return meta, "\n---\n".join(out)


def check_docs(docs):
    problems = []
    deployments, services = [], []

    def need(doc, path):
        cur = doc
        for p in path.split("."):
            if not isinstance(cur, dict) or p not in cur:
                problems.append("%s %s: missing %s" % (doc.get("kind"), name_of(doc), path))
                return None
            cur = cur[p]
        return cur

    for d in docs:
        for f in ("apiVersion", "kind", "metadata.name"):
            need(d, f)
        kind = d.get("kind")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(name_of(d))):
            problems.append("%s %s: not a DNS-1123 name" % (kind, name_of(d)))
        if kind == "Secret":
            for k, v in (d.get("data") or {}).items():
                try:
                    base64.b64decode(str(v), validate=True)
                except Exception:
                    problems.append("Secret %s: data %s is not base64" % (name_of(d), k))
        elif kind == "ConfigMap":
            for k, v in (d.get("data") or {}).items():
                if not isinstance(v, str):
                    problems.append("ConfigMap %s: data %s is not a string" % (name_of(d), k))
        elif kind == "PersistentVolumeClaim":
            need(d, "spec.accessModes")
            need(d, "spec.resources.requests.storage")
        elif kind == "Deployment":
            deployments.append(d)
            sel = need(d, "spec.selector.matchLabels") or {}
            labels = need(d, "spec.template.metadata.labels") or {}
            for k, v in sel.items():
                if labels.get(k) != v:
                    problems.append("Deployment %s: selector %s=%s not in the pod labels" % (name_of(d), k, v))
            spec = need(d, "spec.template.spec") or {}
            volumes = {v["name"] for v in spec.get("volumes", [])}
            for c in spec.get("containers", []) + spec.get("initContainers", []):
                for f in ("name", "image"):
                    if not c.get(f):
                        problems.append("Deployment %s: container without %s" % (name_of(d), f))
                if ":" not in str(c.get("image", "")):
                    problems.append("Deployment %s: image %s has no tag" % (name_of(d), c.get("image")))
                for m in c.get("volumeMounts", []):
                    if m.get("name") not in volumes:
                        problems.append("Deployment %s: mount of undefined volume %s" % (name_of(d), m.get("name")))
                ports = {p.get("name") for p in c.get("ports", [])} | {p.get("containerPort") for p in c.get("ports", [])}
                for probe in ("readinessProbe", "livenessProbe"):
                    p = c.get(probe)
                    if p:
                        port = (p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
                        if port not in ports:
                            problems.append("Deployment %s: %s on undeclared port %s" % (name_of(d), probe, port))
                if c in spec.get("containers", []) and not c.get("readinessProbe"):
                    problems.append("Deployment %s: container %s has no readinessProbe" % (name_of(d), c.get("name")))
        elif kind == "Service":
            services.append(d)
            need(d, "spec.selector")
            need(d, "spec.ports")
    for s in services:
        sel = s.get("spec", {}).get("selector", {})
        match = [d for d in deployments
                 if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        if not match:
            problems.append("Service %s selects no Deployment's pods" % name_of(s))
            continue
        names = set()
        for d in match:
            for c in d["spec"]["template"]["spec"]["containers"]:
                names |= {p.get("name") for p in c.get("ports", [])}
        for p in s["spec"].get("ports", []):
            if isinstance(p.get("targetPort"), str) and p["targetPort"] not in names:
                problems.append("Service %s: targetPort %s is no container port name" % (name_of(s), p["targetPort"]))
    return problems


def name_of(d):
    return (d.get("metadata") or {}).get("name")


def main(argv):
    chart, sets, render_only, stdin = None, [], False, False
    i = 0
    while i < len(argv):
        if argv[i] == "--set":
            sets.append(argv[i + 1])
            i += 2
            continue
        if argv[i] == "--render-only":
            render_only = True
        elif argv[i] == "--stdin":
            stdin = True
        else:
            chart = argv[i]
        i += 1
    if not chart:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if stdin else render_chart(chart, sets)[1]
    except (TemplateError, KeyError, IndexError, ValueError) as e:
        print("render: %s" % e, file=sys.stderr)
        return 1
    if render_only:
        print(text)
        return 0
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as e:
        print("rendered YAML does not parse: %s" % e, file=sys.stderr)
        return 1
    problems = check_docs(docs)
    for p in problems:
        print("problem: " + p, file=sys.stderr)
    kinds = sorted("%s/%s" % (d["kind"], name_of(d)) for d in docs)
    print("%d documents: %s" % (len(docs), ", ".join(kinds)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
