"""The semantic model of one file: built once, queried by every rule.

One walk over the libcst tree fills the parent map, the scopes with their bindings and
method uses, and per-kind node indexes (calls grouped by method or function name, loops,
comparisons, assignments...). Everything else (qualified names, what a variable holds,
classes, function summaries, control-flow paths, regions) is computed lazily on top of that
walk and cached, so a rule asks for facts instead of deriving them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterable, Iterator

import libcst as cst

from .names import canonical, dotted_name, import_alias_qualname
from .scopes import Binding, Scope
from .walk import children_list, iter_children

if TYPE_CHECKING:
    from ..settings import Settings
    from .classes import ClassInfo
    from .kinds import Origin
    from .resolver import Resolver

_STATEMENT_BASES = (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.SimpleStatementLine)
_IS_STATEMENT: dict[type, bool] = {}


def _is_statement_type(node_type: type) -> bool:
    known = _IS_STATEMENT.get(node_type)
    if known is None:
        known = issubclass(node_type, _STATEMENT_BASES)
        _IS_STATEMENT[node_type] = known
    return known


class SemanticModel:
    """Facts about one parsed file.

    Args:
        module: the parsed module.
        source: its text (used for the prefilter and suppression comments).
        path: the file's path as given by the caller (for messages only).
        settings: effective settings (rules read e.g. the target torch version).
        resolver: optional cross-file resolver (`dlx_lint.semantic.resolver.Resolver`): when
            given, names imported from other modules of the workspace are followed to their
            definitions (`kinds.origin_of`, the expert hovers); None keeps the model to this file.

    Attributes:
        parent: node -> parent node, for every code-bearing node.
        scopes: scope node (Module, FunctionDef, Lambda, ClassDef) -> Scope.
        calls: every Call, in source (pre-)order.
        calls_by_attr: method name -> calls of the form ``x.name(...)``.
        calls_by_name: function name -> calls of the form ``name(...)``.
        loops: every For and While.
        functions: every FunctionDef.
        classdefs: every ClassDef.
        comparisons, aug_assigns, assigns, expr_statements, withs, ifs, lambdas: indexes.
        order: statement node -> position in source order (pre-order index).
    """

    def __init__(self, module: cst.Module, source: str, path: str = "<string>", settings: "Settings | None" = None,
                 resolver: "Resolver | None" = None):
        self.module = module
        self.source = source
        self.path = path
        self.settings = settings
        self.resolver = resolver
        self.parent: dict[cst.CSTNode, cst.CSTNode] = {}
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self.scope_of_node: dict[cst.CSTNode, Scope] = {}
        self.calls: list[cst.Call] = []
        self.calls_by_attr: dict[str, list[cst.Call]] = {}
        self.calls_by_name: dict[str, list[cst.Call]] = {}
        self.loops: list[cst.For | cst.While] = []
        self.functions: list[cst.FunctionDef] = []
        self.classdefs: list[cst.ClassDef] = []
        self.lambdas: list[cst.Lambda] = []
        self.comparisons: list[cst.Comparison] = []
        self.aug_assigns: list[cst.AugAssign] = []
        self.assigns: list[cst.Assign] = []
        self.expr_statements: list[cst.Expr] = []
        self.withs: list[cst.With] = []
        self.ifs: list[cst.If] = []
        self.order: dict[cst.CSTNode, int] = {}
        self._cache: dict = {}
        self._index()

    # ------------------------------------------------------------------ indexing

    def _index(self) -> None:
        module = self.module
        root = Scope(module, "module", None)
        self.scopes[module] = root
        self.root_scope = root
        parent = self.parent
        order = self.order
        counter = 0
        handlers = _HANDLERS
        stack: list[tuple[cst.CSTNode, Scope]] = [(module, root)]
        pop = stack.pop
        push = stack.append
        while stack:
            node, scope = pop()
            node_type = type(node)
            is_statement = _IS_STATEMENT.get(node_type)
            if is_statement is None:
                is_statement = _is_statement_type(node_type)
            if is_statement:
                order[node] = counter
                counter += 1
            handler = handlers.get(node_type)
            inner = handler(self, node, scope) if handler is not None else None
            children = children_list(node)
            if inner is None:
                for child in reversed(children):
                    parent[child] = node
                    push((child, scope))
            else:
                outer_fields = _OUTER_SCOPE_CHILDREN.get(node_type, ())
                outer_ids = set()
                for name in outer_fields:
                    value = getattr(node, name)
                    if isinstance(value, cst.CSTNode):
                        outer_ids.add(id(value))
                    elif isinstance(value, (tuple, list)):
                        outer_ids.update(id(v) for v in value)
                for child in reversed(children):
                    parent[child] = node
                    push((child, scope if id(child) in outer_ids else inner))

    def _bind_target(self, target: cst.BaseExpression, value, node, scope: Scope, kind: str,
                     unpack: tuple[int, ...] = (), annotation=None) -> None:
        if isinstance(target, (cst.Name, cst.Attribute)):
            path = dotted_name(target)
            if path is not None:
                scope.add(Binding(path, kind, value, node, unpack, annotation))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for i, element in enumerate(target.elements):
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    self._bind_target(inner, None, node, scope, kind, unpack + (-1,))
                else:
                    self._bind_target(inner, value, node, scope, kind, unpack + (i,))
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None, node, scope, kind, unpack)

    # Handlers return the inner scope for nodes that open one, else None.

    def _on_function(self, node: cst.FunctionDef, scope: Scope) -> Scope:
        inner = Scope(node, "function", scope)
        scope.children.append(inner)
        self.scopes[node] = inner
        self.scope_of_node[node] = scope
        self.functions.append(node)
        scope.add(Binding(node.name.value, "def", None, node))
        params = node.params
        ordered = list(params.posonly_params) + list(params.params)
        for param in ordered:
            inner.params[param.name.value] = param
        if isinstance(params.star_arg, cst.Param):
            inner.params[params.star_arg.name.value] = params.star_arg
        for param in params.kwonly_params:
            inner.params[param.name.value] = param
        if params.star_kwarg is not None:
            inner.params[params.star_kwarg.name.value] = params.star_kwarg
        for name, param in inner.params.items():
            annotation = param.annotation.annotation if param.annotation is not None else None
            inner.add(Binding(name, "param", param.default, param, annotation=annotation))
        if scope.kind == "class" and ordered and not _is_decorated(node, ("staticmethod", "classmethod")):
            inner.self_name = ordered[0].name.value
        return inner

    def _on_lambda(self, node: cst.Lambda, scope: Scope) -> Scope:
        inner = Scope(node, "lambda", scope)
        scope.children.append(inner)
        self.scopes[node] = inner
        self.scope_of_node[node] = scope
        self.lambdas.append(node)
        params = node.params
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            inner.params[param.name.value] = param
            inner.add(Binding(param.name.value, "param", param.default, param))
        return inner

    def _on_class(self, node: cst.ClassDef, scope: Scope) -> Scope:
        inner = Scope(node, "class", scope)
        scope.children.append(inner)
        self.scopes[node] = inner
        self.scope_of_node[node] = scope
        self.classdefs.append(node)
        scope.add(Binding(node.name.value, "class", None, node))
        return inner

    def _on_assign(self, node: cst.Assign, scope: Scope) -> None:
        self.assigns.append(node)
        self.scope_of_node[node] = scope
        for target in node.targets:
            self._bind_target(target.target, node.value, node, scope, "assign")

    def _on_annassign(self, node: cst.AnnAssign, scope: Scope) -> None:
        self.scope_of_node[node] = scope
        self._bind_target(node.target, node.value, node, scope, "annassign",
                          annotation=node.annotation.annotation)

    def _on_augassign(self, node: cst.AugAssign, scope: Scope) -> None:
        self.aug_assigns.append(node)
        self.scope_of_node[node] = scope
        self._bind_target(node.target, node.value, node, scope, "augassign")

    def _on_for(self, node: cst.For, scope: Scope) -> None:
        self.loops.append(node)
        self.scope_of_node[node] = scope
        self._bind_target(node.target, node.iter, node, scope, "for")

    def _on_while(self, node: cst.While, scope: Scope) -> None:
        self.loops.append(node)
        self.scope_of_node[node] = scope

    def _on_with(self, node: cst.With, scope: Scope) -> None:
        self.withs.append(node)
        self.scope_of_node[node] = scope
        for item in node.items:
            if item.asname is not None:
                self._bind_target(item.asname.name, item.item, node, scope, "with")

    def _on_import(self, node: cst.Import, scope: Scope) -> None:
        for alias in node.names:
            local, qualified = import_alias_qualname(alias, None, 0)
            scope.add(Binding(local, "import", None, node, qualname=qualified))

    def _on_import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = dotted_name(node.module) if node.module is not None else None
        dots = len(node.relative)
        for alias in node.names:
            local, qualified = import_alias_qualname(alias, module, dots)
            scope.add(Binding(local, "import", None, node, qualname=qualified))

    def _on_named_expr(self, node: cst.NamedExpr, scope: Scope) -> None:
        while scope.kind == "class":  # walrus in a comprehension binds in the enclosing scope
            scope = scope.parent  # type: ignore[assignment]
        self._bind_target(node.target, node.value, node, scope, "walrus")

    def _on_call(self, node: cst.Call, scope: Scope) -> None:
        self.calls.append(node)
        self.scope_of_node[node] = scope
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            self.calls_by_attr.setdefault(attr, []).append(node)
            receiver = dotted_name(func.value)
            if receiver is not None:
                scope.use(receiver, attr)
                scope.use(receiver + "." + attr, "__call__")
        elif isinstance(func, cst.Name):
            self.calls_by_name.setdefault(func.value, []).append(node)
            scope.use(func.value, "__call__")

    def _on_comparison(self, node: cst.Comparison, scope: Scope) -> None:
        self.comparisons.append(node)
        self.scope_of_node[node] = scope

    def _on_expr(self, node: cst.Expr, scope: Scope) -> None:
        self.expr_statements.append(node)
        self.scope_of_node[node] = scope

    def _on_if(self, node: cst.If, scope: Scope) -> None:
        self.ifs.append(node)
        self.scope_of_node[node] = scope

    def _on_global(self, node, scope: Scope) -> None:
        for item in node.names:
            scope.add(Binding(item.name.value, "global", None, node))

    def _on_except(self, node: cst.ExceptHandler, scope: Scope) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, None, node, scope, "except")

    # ------------------------------------------------------------------ structure queries

    def scope_for(self, node: cst.CSTNode) -> Scope:
        """The innermost scope whose code contains `node` (a function's own scope for the
        statements of its body)."""
        known = self.scope_of_node.get(node)
        if known is not None:
            return known
        current = node
        parent = self.parent
        while True:
            up = parent.get(current)
            if up is None:
                return self.root_scope
            if up in self.scopes and not _is_outer_child(up, current):
                return self.scopes[up]
            current = up

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """Parents of `node`, innermost first."""
        parent = self.parent
        current = parent.get(node)
        while current is not None:
            yield current
            current = parent.get(current)

    def enclosing(self, node: cst.CSTNode, types: type | tuple[type, ...]) -> cst.CSTNode | None:
        """The innermost ancestor of one of `types`, stopping at function boundaries is NOT
        done here (use `enclosing_in_function`)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, types):
                return ancestor
        return None

    def enclosing_in_function(self, node: cst.CSTNode, types: type | tuple[type, ...]) -> cst.CSTNode | None:
        """The innermost ancestor of one of `types` within the same function (or module body)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, types):
                return ancestor
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return None
        return None

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The innermost FunctionDef containing `node` (not counting lambdas)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, cst.FunctionDef):
                return ancestor
        return None

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The innermost (small or compound) statement containing `node`."""
        current = node
        while current is not None and not (_is_statement_type(type(current)) and type(current) is not cst.SimpleStatementLine):
            current = self.parent.get(current)
        return current if current is not None else node

    def order_of(self, node: cst.CSTNode) -> int:
        """Source-order index of the statement containing `node`."""
        statement = self.statement_of(node)
        return self.order.get(statement, -1)

    def innermost_loop(self, node: cst.CSTNode) -> cst.For | cst.While | None:
        """The innermost loop whose body contains `node`, within the same function."""
        current = node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (cst.For, cst.While)):
                if current is not getattr(ancestor, "iter", None) and current is not getattr(ancestor, "test", None) \
                        and current is not getattr(ancestor, "orelse", None):
                    return ancestor
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return None
            current = ancestor
        return None

    def loop_contains(self, loop: cst.CSTNode, node: cst.CSTNode) -> bool:
        """Whether `node` lies inside `loop` (at any depth, same function)."""
        for ancestor in self.ancestors(node):
            if ancestor is loop:
                return True
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return False
        return False

    def imports_module(self, prefix: str) -> bool:
        """Whether any import in the file binds a name under `prefix` (e.g. ``torch``)."""
        key = ("imports", prefix)
        cached = self._cache.get(key)
        if cached is None:
            cached = False
            for scope in self.scopes.values():
                for bindings in scope.bindings.values():
                    for binding in bindings:
                        if binding.kind == "import" and binding.qualname and (
                            binding.qualname == prefix or binding.qualname.startswith(prefix + ".")
                        ):
                            cached = True
                            break
            self._cache[key] = cached
        return cached

    def calls_to(self, name: str) -> list[cst.Call]:
        """Candidate calls of a callable whose name is `name`: ``x.name(...)``, ``name(...)``,
        and calls of a local alias imported for it (``from torch import load as tload``).
        Rules still check the qualified name; this only selects what to check cheaply."""
        def compute() -> list[cst.Call]:
            found = list(self.calls_by_attr.get(name, ())) + list(self.calls_by_name.get(name, ()))
            for alias in self.import_aliases().get(name, ()):
                found += self.calls_by_name.get(alias, [])
            return found

        return self.cached(("calls-to", name), compute)

    def import_aliases(self) -> dict[str, set[str]]:
        """Imported name -> local names it is bound to under another name (``import ... as``)."""
        def compute() -> dict[str, set[str]]:
            aliases: dict[str, set[str]] = {}
            for scope in self.scopes.values():
                for local, bindings in scope.bindings.items():
                    for binding in bindings:
                        if binding.kind == "import" and binding.qualname:
                            original = binding.qualname.rsplit(".", 1)[-1]
                            if original != local:
                                aliases.setdefault(original, set()).add(local)
            return aliases

        return self.cached("import-aliases", compute)

    # ------------------------------------------------------------------ names

    def qualname(self, expr: cst.BaseExpression, scope: Scope | None = None) -> str | None:
        """The qualified name `expr` refers to, through imports and simple aliases.

        ``F.dropout`` with ``import torch.nn.functional as F`` -> ``torch.nn.functional.dropout``;
        ``T.load`` with ``import torch as T`` -> ``torch.load``; ``f`` after ``f = torch.symeig``
        -> ``torch.symeig``. Returns None for local variables, calls, subscripts and unknowns.
        """
        key = ("qn", expr)
        if key in self._cache:
            return self._cache[key]
        result = None
        name = dotted_name(expr)
        if name is not None:
            head, _, rest = name.partition(".")
            base = self.resolve_name(head, scope or self.scope_for(expr))
            if base is not None:
                result = canonical(base + "." + rest) if rest else canonical(base)
        self._cache[key] = result
        return result

    def resolve_name(self, name: str, scope: Scope, _depth: int = 0) -> str | None:
        """Qualified name bound to a bare name in `scope` (imports, aliases), else None."""
        for current in scope.lookup_chain():
            bindings = current.bindings.get(name)
            if not bindings:
                continue
            for binding in reversed(bindings):
                if binding.kind == "import":
                    return binding.qualname
            if len(bindings) == 1 and _depth < 4:
                binding = bindings[0]
                if binding.kind in ("assign", "annassign") and not binding.unpack and binding.value is not None:
                    target = dotted_name(binding.value)
                    if target is not None and target != name:
                        head, _, rest = target.partition(".")
                        base = self.resolve_name(head, current, _depth + 1)
                        if base is not None:
                            return base + "." + rest if rest else base
            return None
        return None

    def bindings_of(self, path: str, scope: Scope) -> list[Binding]:
        """Bindings of a name or access path visible from `scope`.

        For ``self.x`` inside a method, the bindings of ``x`` in every method of the class
        (and its same-file bases); for a bare name, those of the innermost scope binding it.
        """
        head, _, rest = path.partition(".")
        if rest:
            method_scope = self.method_scope(scope)
            if method_scope is not None and method_scope.self_name == head:
                info = self.class_of_method(method_scope.node)  # type: ignore[arg-type]
                if info is not None:
                    return info.attr_bindings(rest)
        for current in scope.lookup_chain():
            bindings = current.bindings.get(path)
            if bindings:
                return bindings
        return []

    def method_scope(self, scope: Scope) -> Scope | None:
        """The method scope `scope` sits in (itself, or the method enclosing a nested
        function or lambda), or None."""
        current: Scope | None = scope
        while current is not None:
            if current.self_name is not None:
                return current
            if current.kind == "class" or current.kind == "module":
                return None
            current = current.parent
        return None

    # ------------------------------------------------------------------ lazily built analyses

    @functools.cached_property
    def classes(self) -> "dict[cst.ClassDef, ClassInfo]":
        """ClassDef -> ClassInfo for every class in the file."""
        from .classes import build_classes

        return build_classes(self)

    @functools.cached_property
    def classes_by_name(self) -> "dict[str, ClassInfo]":
        """Class name -> ClassInfo (the last definition wins)."""
        return {info.name: info for info in self.classes.values()}

    def class_of_method(self, function: cst.FunctionDef) -> "ClassInfo | None":
        """The class a function is a method of, or None."""
        parent = self.parent.get(function)
        # FunctionDef -> IndentedBlock -> ClassDef
        while parent is not None and not isinstance(parent, (cst.ClassDef, cst.FunctionDef, cst.Module)):
            parent = self.parent.get(parent)
        if isinstance(parent, cst.ClassDef):
            return self.classes.get(parent)
        return None

    def origin(self, expr: cst.BaseExpression, scope: Scope | None = None) -> "Origin":
        """What `expr` was built from (optimizer, scheduler, scaler, module, loss, loader,
        tensor, or unknown). See `dlx_lint.semantic.kinds`."""
        from .kinds import origin_of

        return origin_of(self, expr, scope or self.scope_for(expr))

    def memo(self, key, compute, *, while_computing=None):
        """`compute()` once per `key` for the life of the model. A re-entrant request for the
        same key while it is being computed (a cycle through assignments, calls or imports)
        gets `while_computing`, the analysis's "unknown"."""
        cache = self._cache
        if key in cache:
            return cache[key]
        cache[key] = while_computing
        value = compute()
        cache[key] = value
        return value

    def cached(self, key, compute):
        """Memoise `compute()` under `key` for the life of the model."""
        try:
            return self._cache[key]
        except KeyError:
            value = compute()
            self._cache[key] = value
            return value


def _is_decorated(node: cst.FunctionDef, names: tuple[str, ...]) -> bool:
    for decorator in node.decorators:
        if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value in names:
            return True
    return False


# Children of scope-opening nodes that are evaluated in the enclosing scope.
_OUTER_SCOPE_CHILDREN: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "returns"),
    cst.ClassDef: ("decorators", "bases", "keywords"),
    cst.Lambda: (),
}


def _is_outer_child(scope_node: cst.CSTNode, child: cst.CSTNode) -> bool:
    for name in _OUTER_SCOPE_CHILDREN.get(type(scope_node), ()):
        value = getattr(scope_node, name)
        if value is child or (isinstance(value, (tuple, list)) and any(v is child for v in value)):
            return True
    return False


_HANDLERS = {
    cst.FunctionDef: SemanticModel._on_function,
    cst.Lambda: SemanticModel._on_lambda,
    cst.ClassDef: SemanticModel._on_class,
    cst.Assign: SemanticModel._on_assign,
    cst.AnnAssign: SemanticModel._on_annassign,
    cst.AugAssign: SemanticModel._on_augassign,
    cst.For: SemanticModel._on_for,
    cst.While: SemanticModel._on_while,
    cst.With: SemanticModel._on_with,
    cst.Import: SemanticModel._on_import,
    cst.ImportFrom: SemanticModel._on_import_from,
    cst.NamedExpr: SemanticModel._on_named_expr,
    cst.Call: SemanticModel._on_call,
    cst.Comparison: SemanticModel._on_comparison,
    cst.Expr: SemanticModel._on_expr,
    cst.If: SemanticModel._on_if,
    cst.Global: SemanticModel._on_global,
    cst.Nonlocal: SemanticModel._on_global,
    cst.ExceptHandler: SemanticModel._on_except,
}
