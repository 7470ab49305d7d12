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

``to_js`` writes the same tree as a JavaScript expression over the helper object ``S`` that
``static/survey.js`` builds (``window.joinedupSurvey.helper(answers, current)``): every operator goes
through a helper with the rules above, so the browser cannot drift from Python (JavaScript's own ``==``
and ``<`` coerce differently). The page itself ships the JSON tree, because its Content-Security-Policy
forbids ``eval``; ``to_js`` is for pages and tools that may compile code (and the tests run both).

Example:
    >>> e = parse("selected(${bar}, 'significant') and ${n} > 2")
    >>> evaluate(e, {"bar": "minor significant", "n": "3"})
    True
    >>> to_js(parse("${n} > 2"))
    'S.cmp(">", S.ref("n"), 2.0)'
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re

from joinedup.survey.instrument.model import FormError

TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\$\{[A-Za-z_][\w.-]*\})
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
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


@functools.lru_cache(maxsize=1024)  # the tree is immutable tuples, and forms re-check the same texts
def parse(text: str):
    """Parse an expression into a nested tuple AST; FormError on bad syntax or unknown functions.

    Example:
        >>> parse("${a} = 'yes'")
        ('bin', '=', ('ref', 'a'), ('str', 'yes'))
    """
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


_NUMBER = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")  # XPath number syntax: no 1e3, 0x10, inf, 1_000


def _num(v):
    """A number, or None when ``v`` is not one (Python's float() accepts 'inf' and '1_0'; XPath does not)."""
    if isinstance(v, (bool, int, float)):
        return float(v)
    return float(v) if isinstance(v, str) and _NUMBER.fullmatch(v) else None


def _str(v) -> str:
    """XPath string(): 3.0 -> '3', True -> 'true', as JavaScript's String() (so both sides agree)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v != ""
    if isinstance(v, float):
        return v != 0 and not math.isnan(v)  # XPath boolean(NaN) is false
    return bool(v)


def _cmp(op, a, b) -> bool:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        x, y = _str(a), _str(b)
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _arith(op, a, b) -> float:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return math.nan
    if op == "div" and y == 0:  # IEEE as XPath and JavaScript: 1 div 0 is Infinity, 0 div 0 NaN
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
    if op == "mod":  # XPath mod truncates like JavaScript's %, not Python's floor modulo
        return math.fmod(x, y) if y else math.nan
    return {"+": x + y, "-": x - y, "*": x * y, "div": x / y if y else math.nan}[op]


def evaluate(tree, answers: dict, current=None):
    """Value of an expression for ``answers`` (name -> str, list or number); ``current`` is ``.``."""
    kind = tree[0]
    if kind in ("ref", "dot"):
        v = answers.get(tree[1]) if kind == "ref" else current
        return " ".join(map(_str, v)) if isinstance(v, (list, tuple)) else ("" if v is None else v)
    if kind in ("num", "str"):
        return tree[1]
    if kind == "neg":
        n = _num(evaluate(tree[1], answers, current))
        return math.nan if n is None else -n
    if kind == "bin":
        op, a = tree[1], evaluate(tree[2], answers, current)
        if op == "and":
            return _truthy(a) and _truthy(evaluate(tree[3], answers, current))
        if op == "or":
            return _truthy(a) or _truthy(evaluate(tree[3], answers, current))
        b = evaluate(tree[3], answers, current)
        return _cmp(op, a, b) if op in ("=", "!=", "<", "<=", ">", ">=") else _arith(op, a, b)
    name, args = tree[1], [evaluate(t, answers, current) for t in tree[2:]]
    if name == "selected":
        return _str(args[1]) in _str(args[0]).split()
    if name == "count-selected":
        return float(len(_str(args[0]).split()))
    if name == "string-length":
        return float(len(_str(args[0])))
    if name == "not":
        return not _truthy(args[0])
    if name == "number":
        n = _num(args[0])
        return math.nan if n is None else n
    if name == "today":
        return dt.date.today().isoformat()
    if name == "regex":  # ODK's regex() matches anywhere unless anchored, like JavaScript's RegExp.test
        return re.search(_str(args[1]), _str(args[0])) is not None
    return name == "true"


def _lit(value) -> str:
    # JSON is valid JavaScript; escape '<' so the text is also safe inside an inline <script>
    return json.dumps(value).replace("<", "\\u003c")


def to_js(tree) -> str:
    """A JavaScript expression for ``tree`` over the helper ``S`` of static/survey.js (same values).

    Example:
        >>> to_js(parse("not(selected(${m}, 'a'))"))
        'S.call("not", S.call("selected", S.ref("m"), "a"))'
    """
    kind = tree[0]
    if kind == "ref":
        return f"S.ref({_lit(tree[1])})"
    if kind == "dot":
        return "S.cur()"
    if kind in ("num", "str"):
        return _lit(tree[1])
    if kind == "neg":
        return f"S.neg({to_js(tree[1])})"
    if kind == "bin":
        op, a, b = tree[1], to_js(tree[2]), to_js(tree[3])
        if op in ("and", "or"):
            return f"(S.truthy({a}) {'&&' if op == 'and' else '||'} S.truthy({b}))"
        helper = "cmp" if op in ("=", "!=", "<", "<=", ">", ">=") else "arith"
        return f"S.{helper}({_lit(op)}, {a}, {b})"
    return f"S.call({', '.join([_lit(tree[1]), *(to_js(t) for t in tree[2:])])})"
