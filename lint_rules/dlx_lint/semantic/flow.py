"""Path-sensitive walks over statement blocks (the catalog's "loop iteration model").

A `PathWalker` runs an analysis's transfer functions over every control path of a block of
statements: `if`/`else` and `match` branches are kept apart, nested loops run zero or more
times (to a fixed point), `try` bodies are straight-line, `return`/`raise`, `break` and
`continue` end a path. A state is any hashable value; the walker keeps a set of distinct
states, so the cost is bounded by the analysis's own domain (a set of pending findings, a
set of modules in eval mode...) rather than by the number of paths.

Events, in evaluation order within a statement: each call (arguments before the call that
receives them) and each assignment target (after its value). Calls of functions nested in
the analysed function are "judged where called" (catalog clause 3): their bodies are walked
at the call site, and a closure passed to ``X.step(closure)`` runs just before the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable, Iterable, Protocol

import libcst as cst

from .names import dotted_name
from .walk import children_list

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Scope

State = Hashable
States = frozenset


class Analysis(Protocol):
    """Transfer functions of a path analysis. States must be hashable. An analysis may also
    define ``on_branch(state, test, taken) -> state`` to refine states on each arm of an
    ``if``."""

    def on_call(self, state: State, call: cst.Call) -> State: ...

    def on_assign(self, state: State, target: str, node: cst.CSTNode) -> State: ...


@dataclass(frozen=True)
class FlowResult:
    """States at each way out of a block.

    Attributes:
        normal: states that fall through the end of the block.
        returned: states at ``return`` / ``raise``.
        broke: states at ``break`` (of a loop enclosing the block).
        continued: states at ``continue``.
    """

    normal: frozenset
    returned: frozenset = frozenset()
    broke: frozenset = frozenset()
    continued: frozenset = frozenset()


_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_MAX_LOOP_ROUNDS = 4
_MAX_INLINE_DEPTH = 2


def call_events(model: "SemanticModel", node: cst.CSTNode) -> list[cst.Call]:
    """Calls inside an expression or simple statement, in evaluation order (post-order),
    not entering lambdas or nested definitions."""
    key = ("call-events", node)
    cached = model._cache.get(key)
    if cached is not None:
        return cached
    result: list[cst.Call] = []
    stack: list[tuple[cst.CSTNode, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            if type(current) is cst.Call:
                result.append(current)
            continue
        current_type = type(current)
        if (current_type is cst.FunctionDef or current_type is cst.ClassDef or current_type is cst.Lambda) \
                and current is not node:
            continue
        stack.append((current, True))
        children = children_list(current)
        for child in reversed(children):
            stack.append((child, False))
    model._cache[key] = result
    return result


class PathWalker:
    """Runs an `Analysis` over the control paths of statement blocks in one scope.

    Args:
        model: the file's semantic model.
        analysis: transfer functions.
        scope: the scope the statements belong to (for resolving nested functions).
        max_states: above this many distinct states, `join` (if given) merges them.
        join: optional widening from a set of states to a smaller one.
    """

    def __init__(self, model: "SemanticModel", analysis: Analysis, scope: "Scope", *,
                 max_states: int = 256, join: Callable[[frozenset], frozenset] | None = None):
        self.model = model
        self.analysis = analysis
        self.scope = scope
        self.max_states = max_states
        self.join = join
        self._inline_depth = 0

    # ------------------------------------------------------------------ public

    def run_block(self, statements: Iterable[cst.CSTNode], states: frozenset) -> FlowResult:
        """Walk a sequence of statements from `states`."""
        normal = states
        returned: set = set()
        broke: set = set()
        continued: set = set()
        for statement in statements:
            if not normal:
                break
            result = self._statement(statement, normal)
            normal = self._bound(result.normal)
            returned |= result.returned
            broke |= result.broke
            continued |= result.continued
        return FlowResult(normal, frozenset(returned), frozenset(broke), frozenset(continued))

    def run_body(self, node: cst.CSTNode, states: frozenset) -> FlowResult:
        """Walk the body of a compound statement or function."""
        return self.run_block(_block_statements(getattr(node, "body", None)), states)

    # ------------------------------------------------------------------ statements

    def _bound(self, states: frozenset) -> frozenset:
        if len(states) > self.max_states and self.join is not None:
            return self.join(states)
        return states

    def _events(self, node: cst.CSTNode | None, states: frozenset) -> frozenset:
        if node is None or not states:
            return states
        for call in call_events(self.model, node):
            states = self._call(call, states)
        return states

    def _assign(self, target: cst.BaseExpression, node: cst.CSTNode, states: frozenset) -> frozenset:
        for path in _target_paths(target):
            states = frozenset(self.analysis.on_assign(s, path, node) for s in states)
        return states

    def _call(self, call: cst.Call, states: frozenset) -> frozenset:
        if self._inline_depth < _MAX_INLINE_DEPTH:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "step":
                for arg in call.args:
                    local = self._local_function(arg.value)
                    if local is not None:
                        states = self._inline(local, states)
            local = self._local_function(func)
            if local is not None:
                states = self._inline(local, states)
        on_call = self.analysis.on_call
        return frozenset(on_call(s, call) for s in states)

    def _local_function(self, expr: cst.BaseExpression) -> cst.FunctionDef | cst.Lambda | None:
        if isinstance(expr, cst.Lambda):
            return expr
        if not isinstance(expr, cst.Name):
            return None
        for current in self.scope.lookup_chain():
            bindings = current.bindings.get(expr.value)
            if bindings:
                last = bindings[-1]
                nested = current.kind in ("function", "lambda")
                if nested and last.kind == "def":
                    return last.node  # type: ignore[return-value]
                if nested and last.kind in ("assign", "annassign") and isinstance(last.value, cst.Lambda):
                    return last.value
                return None
        return None

    def _inline(self, function: cst.FunctionDef | cst.Lambda, states: frozenset) -> frozenset:
        self._inline_depth += 1
        try:
            if isinstance(function, cst.Lambda):
                return self._events_of_expression(function.body, states)
            result = self.run_block(_block_statements(function.body), states)
            return result.normal | result.returned
        finally:
            self._inline_depth -= 1

    def _events_of_expression(self, expr: cst.BaseExpression, states: frozenset) -> frozenset:
        for call in call_events(self.model, expr):
            states = self._call(call, states)
        return states

    def _statement(self, node: cst.CSTNode, states: frozenset) -> FlowResult:
        if isinstance(node, (cst.SimpleStatementLine, _SuiteLine)):
            return self._small_statements(node.body, states)
        if isinstance(node, cst.If):
            return self._if(node, states)
        if isinstance(node, (cst.For, cst.While)):
            return self._loop(node, states)
        if isinstance(node, cst.With):
            for item in node.items:
                states = self._events(item.item, states)
                if item.asname is not None:
                    states = self._assign(item.asname.name, node, states)
            return self.run_block(_block_statements(node.body), states)
        if isinstance(node, cst.Try) or isinstance(node, getattr(cst, "TryStar", ())):
            body = self.run_block(_block_statements(node.body), states)
            result = body
            if node.orelse is not None:
                orelse = self.run_block(_block_statements(node.orelse.body), body.normal)
                result = _merge(FlowResult(frozenset(), body.returned, body.broke, body.continued), orelse)
            if node.finalbody is not None:
                final = self.run_block(_block_statements(node.finalbody.body), result.normal)
                result = FlowResult(final.normal, result.returned | final.returned, result.broke | final.broke,
                                    result.continued | final.continued)
            return result
        if isinstance(node, cst.Match):
            states = self._events(node.subject, states)
            results = [self.run_block(_block_statements(case.body), states) for case in node.cases]
            merged = FlowResult(states)  # no case matched
            for result in results:
                merged = _merge(merged, result)
            return merged
        # FunctionDef, ClassDef: nothing runs here (nested functions run where called).
        return FlowResult(states)

    def _small_statements(self, statements, states: frozenset) -> FlowResult:
        returned: frozenset = frozenset()
        for small in statements:
            if not states:
                break
            if isinstance(small, cst.Assign):
                states = self._events(small.value, states)
                for target in small.targets:
                    states = self._events_in_target(target.target, states)
                    states = self._assign(target.target, small, states)
            elif isinstance(small, cst.AnnAssign):
                states = self._events(small.value, states)
                states = self._assign(small.target, small, states)
            elif isinstance(small, cst.AugAssign):
                states = self._events(small.value, states)
                states = self._events_in_target(small.target, states)
                states = self._assign(small.target, small, states)
            elif isinstance(small, cst.Return):
                states = self._events(small.value, states)
                return FlowResult(frozenset(), returned | states)
            elif isinstance(small, cst.Raise):
                states = self._events(small.exc, states)
                return FlowResult(frozenset(), returned | states)
            elif isinstance(small, cst.Break):
                return FlowResult(frozenset(), returned, states)
            elif isinstance(small, cst.Continue):
                return FlowResult(frozenset(), returned, frozenset(), states)
            else:
                states = self._events(small, states)
        return FlowResult(states, returned)

    def _events_in_target(self, target: cst.BaseExpression, states: frozenset) -> frozenset:
        if isinstance(target, (cst.Name, cst.Attribute)) and dotted_name(target) is not None:
            return states
        return self._events(target, states)

    def _if(self, node: cst.If, states: frozenset) -> FlowResult:
        states = self._events(node.test, states)
        on_branch = getattr(self.analysis, "on_branch", None)
        taken_states = states
        other_states = states
        if on_branch is not None:
            taken_states = frozenset(on_branch(s, node.test, True) for s in states)
            other_states = frozenset(on_branch(s, node.test, False) for s in states)
        taken = self.run_block(_block_statements(node.body), taken_states)
        if node.orelse is None:
            other = FlowResult(other_states)
        elif isinstance(node.orelse, cst.If):
            other = self._if(node.orelse, other_states)
        else:
            other = self.run_block(_block_statements(node.orelse.body), other_states)
        return _merge(taken, other)

    def _loop(self, node: cst.For | cst.While, states: frozenset) -> FlowResult:
        header = node.iter if isinstance(node, cst.For) else node.test
        states = self._events(header, states)
        # A loop that surely runs at least once has no zero-iteration path.
        seen = set() if _runs_at_least_once(node) else set(states)
        current = states
        broke: set = set()
        returned: set = set()
        for _ in range(_MAX_LOOP_ROUNDS):
            entry = current
            if isinstance(node, cst.For):
                entry = self._assign(node.target, node, entry)
            result = self.run_block(_block_statements(node.body), entry)
            broke |= result.broke
            returned |= result.returned
            ends = result.normal | result.continued
            if isinstance(node, cst.While):
                ends = self._events(node.test, ends)
            new = ends - seen
            if not new:
                break
            seen |= new
            current = self._bound(frozenset(new))
        normal = frozenset(seen)
        if node.orelse is not None:
            orelse = self.run_block(_block_statements(node.orelse.body), normal)
            normal = orelse.normal
            returned |= orelse.returned
        return FlowResult(normal | frozenset(broke), frozenset(returned))


_NONEMPTY_ITERATORS = frozenset({"parameters", "named_parameters", "modules", "named_modules", "children", "named_children"})


def _runs_at_least_once(node: cst.For | cst.While) -> bool:
    if isinstance(node, cst.While):
        return isinstance(node.test, cst.Name) and node.test.value == "True"
    iterable = node.iter
    if isinstance(iterable, cst.Attribute) and iterable.attr.value == "param_groups":
        return True
    if not isinstance(iterable, cst.Call):
        return False
    func = iterable.func
    if isinstance(func, cst.Attribute) and func.attr.value in _NONEMPTY_ITERATORS:
        return True
    if isinstance(func, cst.Name) and func.value == "range":
        bounds = [a.value for a in iterable.args]
        if all(isinstance(b, cst.Integer) for b in bounds) and bounds:
            values = [int(b.value, 0) for b in bounds]  # type: ignore[attr-defined]
            start, stop = (0, values[0]) if len(values) == 1 else (values[0], values[1])
            return stop > start
    return False


def _merge(a: FlowResult, b: FlowResult) -> FlowResult:
    return FlowResult(a.normal | b.normal, a.returned | b.returned, a.broke | b.broke, a.continued | b.continued)


def _block_statements(block) -> tuple:
    if block is None:
        return ()
    if isinstance(block, cst.IndentedBlock):
        return tuple(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return (_SuiteLine(block),)
    if isinstance(block, (list, tuple)):
        return tuple(block)
    return ()


class _SuiteLine:
    """Adapter so a one-line suite (``if x: a(); b()``) walks like a statement line."""

    __slots__ = ("body",)

    def __init__(self, suite: cst.SimpleStatementSuite):
        self.body = suite.body


def block_statements(block) -> tuple:
    """Statements of an IndentedBlock or one-line suite."""
    return _block_statements(block)


def _target_paths(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, (cst.Name, cst.Attribute)):
        path = dotted_name(target)
        return [path] if path is not None else []
    if isinstance(target, (cst.Tuple, cst.List)):
        paths: list[str] = []
        for element in target.elements:
            paths.extend(_target_paths(element.value))
        return paths
    if isinstance(target, cst.StarredElement):
        return _target_paths(target.value)
    return []
