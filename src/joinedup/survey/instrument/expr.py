"""The XLSForm expression subset used in ``relevant`` and ``constraint``, parsed once into a syntax
tree that is evaluated in Python (server-side validation) and, sent as JSON, by the same rules in
``static/survey.js`` (live skip logic in the page).

Grammar (XPath 1.0 precedence): or < and < = != < comparisons < <= > >= < + - < * div mod < unary -;
atoms: ``${name}``, ``.`` (the answer being checked), 'string' or "string", numbers, ``( ... )`` and
the functions selected(a, b), count-selected(a), string-length(a), not(a), number(a), today(),
regex(a, pattern), true(), false().

XPath semantics kept: an unanswered question is ''; a comparison is numeric when both sides are numbers
(or one side is a number literal and the other parses as one), else it compares strings; ``selected``
splits a space-separated multiple answer; truthiness of a string is "non-empty", of a number "non-zero".

Example:
    >>> e = parse("selected(${bar}, 'significant') and ${n} > 2")
    >>> evaluate(e, {"bar": "minor significant", "n": "3"})
    True
"""

from __future__ import annotations

import datetime as dt
import re

from joinedup.survey.instrument.model import FormError

TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\$\{[A-Za-z_][\w.-]*\})
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<name>[A-Za-z_][\w-]*)
  | (?P<dot>\.)
)""", re.X)
FUNCTIONS = {"selected": 2, "count-selected": 1, "string-length": 1, "not": 1, "number": 1, "today": 0,
             "regex": 2, "true": 0, "false": 0}
BINARY = [("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod")]


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormError(f"cannot read {text[pos:pos + 10]!r} at position {pos}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse(text: str):
    """Parse an expression into a nested tuple AST; FormError on bad syntax or unknown functions."""
    toks = _tokens(text)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take(value=None):
        nonlocal pos
        tok = peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise FormError(f"expected {value or 'more'} in {text!r}")
        pos += 1
        return tok

    def level(i):
        if i == len(BINARY):
            return unary()
        left = level(i + 1)
        while peek()[1] in BINARY[i] and peek()[0] in ("op", "name"):
            op = take()[1]
            left = ("bin", op, left, level(i + 1))
        return left

    def unary():
        if peek() == ("op", "-"):
            take()
            return ("neg", unary())
        return atom()

    def atom():
        kind, value = take()
        if kind == "ref":
            return ("ref", value[2:-1])
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1])
        if kind == "dot":
            return ("dot",)
        if value == "(":
            inner = level(0)
            take(")")
            return inner
        if kind == "name":
            if value not in FUNCTIONS:
                raise FormError(f"unknown function {value!r} in {text!r}")
            take("(")
            args = []
            if peek()[1] != ")":
                args.append(level(0))
                while peek()[1] == ",":
                    take(",")
                    args.append(level(0))
            take(")")
            if len(args) != FUNCTIONS[value]:
                raise FormError(f"{value}() takes {FUNCTIONS[value]} argument(s) in {text!r}")
            return ("call", value, *args)
        raise FormError(f"unexpected {value!r} in {text!r}")

    tree = level(0)
    if pos != len(toks):
        raise FormError(f"unexpected {toks[pos][1]!r} in {text!r}")
    return tree


def references(tree) -> set[str]:
    """Question names an expression reads."""
    if tree[0] == "ref":
        return {tree[1]}
    return set().union(*(references(t) for t in tree[1:] if isinstance(t, tuple))) if len(tree) > 1 else set()


def _num(v):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _truthy(v) -> bool:
    return bool(v) if not isinstance(v, str) else v != ""


def _cmp(op, a, b) -> bool:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        x, y = str(a), str(b)
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def evaluate(tree, answers: dict, current=None):
    """Value of an expression for ``answers`` (name -> str, list or number); ``current`` is ``.``."""
    kind = tree[0]
    if kind == "ref":
        v = answers.get(tree[1])
        return " ".join(v) if isinstance(v, (list, tuple)) else ("" if v is None else v)
    if kind in ("num", "str"):
        return tree[1]
    if kind == "dot":
        v = current
        return " ".join(v) if isinstance(v, (list, tuple)) else ("" if v is None else v)
    if kind == "neg":
        return -(_num(evaluate(tree[1], answers, current)) or 0.0)
    if kind == "bin":
        op, a = tree[1], evaluate(tree[2], answers, current)
        if op == "and":
            return _truthy(a) and _truthy(evaluate(tree[3], answers, current))
        if op == "or":
            return _truthy(a) or _truthy(evaluate(tree[3], answers, current))
        b = evaluate(tree[3], answers, current)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return _cmp(op, a, b)
        x, y = _num(a), _num(b)
        if x is None or y is None:
            return float("nan")
        return {"+": x + y, "-": x - y, "*": x * y, "div": x / y if y else float("nan"),
                "mod": x % y if y else float("nan")}[op]
    name, args = tree[1], [evaluate(t, answers, current) for t in tree[2:]]
    if name == "selected":
        return str(args[1]) in str(args[0]).split()
    if name == "count-selected":
        return float(len(str(args[0]).split()))
    if name == "string-length":
        return float(len(str(args[0])))
    if name == "not":
        return not _truthy(args[0])
    if name == "number":
        n = _num(args[0])
        return float("nan") if n is None else n
    if name == "today":
        return dt.date.today().isoformat()
    if name == "regex":
        return re.fullmatch(str(args[1]), str(args[0])) is not None or re.search(str(args[1]), str(args[0])) is not None
    return name == "true"
