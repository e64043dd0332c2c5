"""The condition language: small, safe expressions for rules.

A condition is parsed once, checked against a whitelist of constructs, and compiled
into nested Python closures. Nothing of the text ever reaches ``eval`` or ``exec``:
Python's parser only turns the text into a tree, and every node kind that is not
listed below is refused with the column where it stands::

    >>> check = Condition.parse("event.amount >= 100 and customer.tier in ['gold', 'platinum']")
    >>> check.evaluate({"event": {"amount": 120}, "customer": {"tier": "gold"}})
    True

The language: literals (integers, decimals such as ``1.5`` read exactly as
``Decimal``, strings, ``true``/``True``, ``false``/``False``, ``none``/``None``, lists and
sets), dotted variables (``event.amount``, ``customer.tags``, ``at``), ``and or not``,
comparisons (``== != < <= > >=``, chained), ``in`` / ``not in``, arithmetic
(``+ - * / // %``) and the functions in :data:`FUNCTIONS`. A variable that is absent
reads as ``None``; an ordering comparison with ``None`` is false.
See ``docs/reference/conditions.md`` for the grammar.
"""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import attrs

from loyaltykit.errors import InvalidArgument

__all__ = ["FUNCTIONS", "ROOTS", "Condition", "ConditionError", "ConditionEvaluationError"]

Compiled = Callable[[Mapping[str, Any]], Any]
MAX_LENGTH = 2000
MAX_DEPTH = 40
ROOTS = frozenset({"event", "customer", "counters", "at"})
"""The variable roots a programme's conditions read (see ``condition_context``)."""
MAX_PRODUCT_DIGITS = 400
"""The largest int a multiplication may produce, in decimal digits."""


class ConditionError(InvalidArgument):
    """A condition's text is not valid; names the text and the column of the problem."""

    code: ClassVar[str] = "invalid_condition"

    def __init__(self, source: str, position: int, problem: str) -> None:
        super().__init__(f"condition {source!r}: {problem} at column {position + 1}")
        self.source = source
        self.position = position


class ConditionEvaluationError(InvalidArgument):
    """A valid condition met values it cannot compare or compute (e.g. text < number)."""

    code: ClassVar[str] = "condition_evaluation_failed"

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"condition {source!r}: {problem}")
        self.source = source


def _when(value: Any) -> datetime | date:
    if not isinstance(value, date):
        raise TypeError(f"{value!r} is not a date or datetime")
    return value


# the functions of a date read on every event test the value themselves (one call less)
def _day_of_week(value: Any) -> int:
    if not isinstance(value, date):
        raise TypeError(f"{value!r} is not a date or datetime")
    return value.isoweekday()


def _day(value: Any) -> int:
    if not isinstance(value, date):
        raise TypeError(f"{value!r} is not a date or datetime")
    return value.day


def _month(value: Any) -> int:
    if not isinstance(value, date):
        raise TypeError(f"{value!r} is not a date or datetime")
    return value.month


def _hour(value: Any) -> int:
    moment = _when(value)
    if not isinstance(moment, datetime):
        raise TypeError(f"{value!r} has no hour")
    return moment.hour


def _as_date(value: Any) -> date:
    moment = _when(value)
    return moment.date() if isinstance(moment, datetime) else moment


def _days_between(first: Any, second: Any) -> int:
    return (_as_date(second) - _as_date(first)).days


def _is_birthday_month(birthday: Any, at: Any) -> bool:
    return birthday is not None and _when(birthday).month == _when(at).month


def _contains_any(collection: Any, options: Any) -> bool:
    return any(option in collection for option in options)


def _contains_all(collection: Any, options: Any) -> bool:
    return all(option in collection for option in options)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "abs": abs,
    "min": min,
    "max": max,
    "lower": lambda text: str(text).lower(),
    "upper": lambda text: str(text).upper(),
    "startswith": lambda text, prefix: str(text).startswith(prefix),
    "contains_any": _contains_any,
    "contains_all": _contains_all,
    "day_of_week": _day_of_week,
    "day": _day,
    "month": _month,
    "year": lambda value: _when(value).year,
    "hour": _hour,
    "date": _as_date,
    "days_between": _days_between,
    "is_birthday_month": _is_birthday_month,
}
"""The functions a condition may call, by name."""

_CONSTANTS = {
    "true": True,
    "false": False,
    "none": None,
    "True": True,
    "False": False,
    "None": None,
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


def _no_sequence(value: Any) -> bool:
    return not isinstance(value, str | bytes | list | tuple | set | frozenset | Mapping)


def _multiply(left: Any, right: Any) -> Any:
    # ``'x' * 2000000000`` would build gigabytes: the language multiplies numbers only,
    # and bounds the size of an int product before computing it
    if not (_no_sequence(left) and _no_sequence(right)):
        raise TypeError("'*' multiplies numbers; repeating text or lists is not supported")
    if isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length() + abs(right).bit_length()
        if bits > MAX_PRODUCT_DIGITS * 10 // 3:
            raise ArithmeticError(f"the product has more than {MAX_PRODUCT_DIGITS} digits")
    return left * right


def _modulo(left: Any, right: Any) -> Any:
    # ``'%*d' % (1500000000, 1)`` pads to gigabytes: '%' is the remainder of numbers only
    if isinstance(left, str | bytes):
        raise TypeError("'%' is a remainder of numbers; text formatting is not supported")
    return left % right


_GUARDED: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Mult: _multiply,
    ast.Mod: _modulo,
}
_ORDERING: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.Eq):
        return bool(left == right)
    if isinstance(op, ast.NotEq):
        return bool(left != right)
    if isinstance(op, ast.In):
        return right is not None and left in right
    if isinstance(op, ast.NotIn):
        return right is None or left not in right
    if left is None or right is None:
        return False
    return bool(_ORDERING[type(op)](left, right))


def _field_of(value: Any, field: str) -> Any:
    """``field`` of a root that is not a plain dict (the compiled code reads a dict's)."""
    return None if value is None else _step(value, field)


def _get(context: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value = context.get(path[0])
    for part in path[1:]:
        if value is None:
            return None
        value = _step(value, part)
    return value


def _step(value: Any, part: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(part)
    # only public attributes: the compiler refuses names starting with '_'
    return getattr(value, part, None)


def _is_hoisted(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id.startswith("_k")


class _Compiler:
    """Checks a parsed tree against the whitelist and rewrites it into safe code.

    The output is a new tree in which every variable is a call to a lookup helper,
    every function a call to a whitelisted one, every ordering comparison guarded
    against missing values and every decimal literal a hoisted constant. That tree, and
    nothing written by the user, is compiled into a function.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.names: set[str] = set()
        self.namespace: dict[str, Any] = {
            "__builtins__": {},
            "_get": _get,
            "_field_of": _field_of,
            "_type": type,
            "_dict": dict,
            "_failures": (TypeError, ValueError, ArithmeticError, AttributeError),
            "_limits": (MemoryError, RecursionError),  # a last guard: the language bounds both
            "_failed": _failed,
            "_source": source,
        }
        self._temporaries = 0

    def fail(self, node: ast.AST, problem: str) -> ConditionError:
        return ConditionError(self.source, getattr(node, "col_offset", 0), problem)

    def compile(self, node: ast.AST, depth: int = 0) -> ast.expr:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"is nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not part of the condition language")
        compiled: ast.expr = method(node, depth + 1)
        return compiled

    def _hoist(self, value: Any) -> ast.expr:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return ast.Name(id=name, ctx=ast.Load())

    def _temporary(self) -> str:
        self._temporaries += 1
        return f"_t{self._temporaries}"

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> ast.expr:
        return ast.BoolOp(op=node.op, values=[self.compile(v, depth) for v in node.values])

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> ast.expr:
        if isinstance(node.op, ast.Invert):
            raise self.fail(node, "'~' is not part of the condition language")
        return ast.UnaryOp(op=node.op, operand=self.compile(node.operand, depth))

    def _BinOp(self, node: ast.BinOp, depth: int) -> ast.expr:
        if type(node.op) not in _BINARY:
            raise self.fail(node, f"operator {type(node.op).__name__} is not supported")
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)
        guarded = _GUARDED.get(type(node.op))
        if guarded is None:
            return ast.BinOp(left=left, op=node.op, right=right)
        for operand in (left, right) if isinstance(node.op, ast.Mult) else (left,):
            literal = self._literal(operand)
            if not _no_sequence(literal):
                raise self.fail(node, f"{self.source_of(node)!r} repeats or formats text or a list")
        return ast.Call(func=self._hoist(guarded), args=[left, right], keywords=[])

    def _literal(self, node: ast.expr) -> Any:
        """The value of a literal operand (a constant or a hoisted list), else ``None``."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Set):
            return []
        if _is_hoisted(node):
            assert isinstance(node, ast.Name)
            return self.namespace[node.id]
        return None

    def source_of(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or type(node).__name__

    def _Compare(self, node: ast.Compare, depth: int) -> ast.expr:
        for op in node.ops:
            if isinstance(op, ast.Is | ast.IsNot):
                raise self.fail(node, "'is' is not supported; use == or !=")
        operands = [self.compile(node.left, depth)] + [
            self.compile(c, depth) for c in node.comparators
        ]
        if len(node.ops) == 1 and type(node.ops[0]) not in _ORDERING:
            return self._membership(node.ops[0], operands[0], operands[1])
        # a < b < c, and any ordering: every operand is computed once (bound to a
        # temporary) and a missing value (None) makes the comparison false, not an error
        checks: list[ast.expr] = []
        names: list[ast.expr] = []
        for operand in operands:
            if isinstance(operand, ast.Constant | ast.List | ast.Set) or _is_hoisted(operand):
                names.append(operand)
                continue
            name = self._temporary()
            checks.append(
                ast.Compare(
                    left=ast.NamedExpr(target=ast.Name(id=name, ctx=ast.Store()), value=operand),
                    ops=[ast.IsNot()],
                    comparators=[ast.Constant(value=None)],
                )
            )
            names.append(ast.Name(id=name, ctx=ast.Load()))
        for op, left, right in zip(node.ops, names, names[1:], strict=False):
            checks.append(self._membership(op, left, right))
        return ast.BoolOp(op=ast.And(), values=checks) if len(checks) > 1 else checks[0]

    def _membership(self, op: ast.cmpop, left: ast.expr, right: ast.expr) -> ast.expr:
        comparison = ast.Compare(left=left, ops=[op], comparators=[right])
        if (
            not isinstance(op, ast.In | ast.NotIn)
            or isinstance(right, ast.Constant)
            or _is_hoisted(right)
        ):
            return comparison
        # ``x in collection`` where the collection is missing is false (``not in``: true)
        holder = self._temporary()
        bound = ast.NamedExpr(target=ast.Name(id=holder, ctx=ast.Store()), value=right)
        present = ast.Compare(left=bound, ops=[ast.IsNot()], comparators=[ast.Constant(value=None)])
        check = ast.Compare(left=left, ops=[op], comparators=[ast.Name(id=holder, ctx=ast.Load())])
        if isinstance(op, ast.In):
            return ast.BoolOp(op=ast.And(), values=[present, check])
        return ast.BoolOp(op=ast.Or(), values=[ast.UnaryOp(op=ast.Not(), operand=present), check])

    def _Name(self, node: ast.Name, depth: int) -> ast.expr:
        if node.id in _CONSTANTS:
            return ast.Constant(value=_CONSTANTS[node.id])
        return self._path(node, (node.id,))

    def _Attribute(self, node: ast.Attribute, depth: int) -> ast.expr:
        parts: list[str] = []
        current: ast.AST = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise self.fail(node, "only dotted variable names can be read, like event.amount")
        parts.append(current.id)
        return self._path(node, tuple(reversed(parts)))

    def _path(self, node: ast.AST, path: tuple[str, ...]) -> ast.expr:
        for part in path:
            if part.startswith("_"):
                raise self.fail(node, f"names starting with '_' ({part!r}) are not allowed")
        self.names.add(".".join(path))
        context = ast.Name(id="context", ctx=ast.Load())
        if len(path) == 2:
            # root.field, read inline from a plain dict (as the engine's context holds):
            # _t.get(field) if _type(_t := context.get(root)) is _dict else _field_of(_t, field)
            held = self._temporary()
            root = ast.Call(
                func=ast.Attribute(value=context, attr="get", ctx=ast.Load()),
                args=[ast.Constant(path[0])],
                keywords=[],
            )
            bound = ast.NamedExpr(target=ast.Name(id=held, ctx=ast.Store()), value=root)
            plain = ast.Compare(
                left=ast.Call(func=ast.Name(id="_type", ctx=ast.Load()), args=[bound], keywords=[]),
                ops=[ast.Is()],
                comparators=[ast.Name(id="_dict", ctx=ast.Load())],
            )
            value = ast.Name(id=held, ctx=ast.Load())
            field = ast.Constant(path[1])
            return ast.IfExp(
                test=plain,
                body=ast.Call(
                    func=ast.Attribute(value=value, attr="get", ctx=ast.Load()),
                    args=[field],
                    keywords=[],
                ),
                orelse=ast.Call(
                    func=ast.Name(id="_field_of", ctx=ast.Load()), args=[value, field], keywords=[]
                ),
            )
        if len(path) == 1:
            get = ast.Attribute(value=context, attr="get", ctx=ast.Load())
            return ast.Call(func=get, args=[ast.Constant(path[0])], keywords=[])
        arguments = [context, self._hoist(path)]
        return ast.Call(func=ast.Name(id="_get", ctx=ast.Load()), args=arguments, keywords=[])

    def _Constant(self, node: ast.Constant, depth: int) -> ast.expr:
        value = node.value
        if isinstance(value, float):
            text = ast.get_source_segment(self.source, node) or repr(value)
            try:
                return self._hoist(Decimal(text))
            except InvalidOperation:
                raise self.fail(node, f"{text!r} is not a plain decimal number") from None
        if isinstance(value, complex | bytes) or value is Ellipsis:
            raise self.fail(node, f"{value!r} is not a supported literal")
        return ast.Constant(value=value)

    def _List(self, node: ast.List | ast.Tuple, depth: int) -> ast.expr:
        elements = [self.compile(element, depth) for element in node.elts]
        if all(isinstance(element, ast.Constant) for element in elements):
            # a literal list of constants is built once, not on every evaluation
            return self._hoist(tuple(e.value for e in elements if isinstance(e, ast.Constant)))
        return ast.List(elts=elements, ctx=ast.Load())

    _Tuple = _List

    def _Set(self, node: ast.Set, depth: int) -> ast.expr:
        return ast.Set(elts=[self.compile(element, depth) for element in node.elts])

    def _Call(self, node: ast.Call, depth: int) -> ast.expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else "this expression"
            raise self.fail(node, f"{name!r} is not a known function (known: {sorted(FUNCTIONS)})")
        if node.keywords:
            raise self.fail(node, "functions take positional arguments only")
        function = self._hoist(FUNCTIONS[node.func.id])
        return ast.Call(
            func=function, args=[self.compile(a, depth) for a in node.args], keywords=[]
        )

    def _Starred(self, node: ast.Starred, depth: int) -> ast.expr:
        raise self.fail(node, "'*' unpacking is not part of the condition language")

    def function(self, body: ast.expr) -> Compiled:
        """A Python function computing ``body`` from ``context`` (no eval, no exec), and
        raising :class:`ConditionEvaluationError` for the values it cannot compute::

            def condition(context):
                try:
                    return not not body  # a bool without a call to bool()
                except _failures as error:
                    raise _failed(_source, error) from None
                except _limits:
                    raise _failed(_source, None) from None
        """

        def name(identifier: str, ctx: ast.expr_context | None = None) -> ast.Name:
            return ast.Name(id=identifier, ctx=ctx or ast.Load())

        def failed(error: ast.expr) -> ast.Raise:
            call = ast.Call(func=name("_failed"), args=[name("_source"), error], keywords=[])
            return ast.Raise(exc=call, cause=ast.Constant(value=None))

        result = ast.UnaryOp(op=ast.Not(), operand=ast.UnaryOp(op=ast.Not(), operand=body))
        guarded = ast.Try(
            body=[ast.Return(value=result)],
            handlers=[
                ast.ExceptHandler(
                    type=name("_failures"), name="error", body=[failed(name("error"))]
                ),
                ast.ExceptHandler(
                    type=name("_limits"), name=None, body=[failed(ast.Constant(value=None))]
                ),
            ],
            orelse=[],
            finalbody=[],
        )
        definition = ast.FunctionDef(
            name="condition",
            args=ast.arguments(
                posonlyargs=[],
                args=[ast.arg(arg="context")],
                kwonlyargs=[],
                kw_defaults=[],
                defaults=[],
            ),
            body=[guarded],
            decorator_list=[],
            returns=None,
        )
        module = ast.fix_missing_locations(ast.Module(body=[definition], type_ignores=[]))
        code = compile(module, "<condition>", "exec")
        (function_code,) = [c for c in code.co_consts if isinstance(c, types.CodeType)]
        compiled: Compiled = types.FunctionType(function_code, self.namespace, "condition")
        return compiled


def _failed(source: str, error: BaseException | None) -> ConditionEvaluationError:
    """The error a condition raises for values it cannot compute (``None``: too large)."""
    problem = "too large to evaluate" if error is None else str(error)
    return ConditionEvaluationError(source, problem)


def _parse(source: str) -> ast.Expression:
    if not isinstance(source, str):
        raise ConditionError(repr(source), 0, "a condition must be a string")
    if not source.strip():
        raise ConditionError(source, 0, "the condition is empty")
    if len(source) > MAX_LENGTH:
        raise ConditionError(
            source[:40] + "...", MAX_LENGTH, f"longer than {MAX_LENGTH} characters"
        )
    if "\x00" in source:
        raise ConditionError(source, source.index("\x00"), "a NUL character is not allowed")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        column = max((error.offset or 1) - 1, 0)
        raise ConditionError(source, column, f"syntax error ({error.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise ConditionError(source, 0, "the condition cannot be parsed") from None
    return tree


@attrs.frozen(eq=False)
class Condition:
    """A parsed, checked and compiled condition. Build it with :meth:`parse`."""

    source: str
    names: frozenset[str]
    _compiled: Compiled = attrs.field(repr=False)

    @classmethod
    def parse(cls, source: str, *, names: Collection[str] | None = None) -> Condition:
        """Parse, check and compile ``source``.

        ``names`` lists the variable roots the condition may read (``event``,
        ``customer``...); an unknown root is then an error naming the known ones.
        """
        tree = _parse(source)
        compiler = _Compiler(source.strip())
        try:
            compiled = compiler.function(compiler.compile(tree.body))
        except RecursionError:
            raise ConditionError(source, 0, "the condition is nested too deeply") from None
        if names is not None:
            allowed = set(names)
            for name in sorted(compiler.names):
                if name.split(".")[0] not in allowed:
                    raise ConditionError(
                        source,
                        source.find(name.split(".")[0]),
                        f"unknown variable {name!r} (known: {sorted(allowed)})",
                    )
        return cls(source.strip(), frozenset(compiler.names), compiled)

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``context`` (a mapping of variable roots)."""
        return self._compiled(context)  # type: ignore[no-any-return]

    @property
    def test(self) -> Callable[[Mapping[str, Any]], bool]:
        """:meth:`evaluate` as a plain function, one call less (the engine's plan holds
        it for every rule it evaluates on every event)."""
        return self._compiled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)
