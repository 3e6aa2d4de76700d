"""Python builtins (``range``, ``len``, ``zip``, ``super``, ``setattr``...), tensor
factories with static shapes (for ``nn.Parameter(torch.zeros(1, 1, d))``) and ``math``
functions, as the construction interpreter evaluates them."""

from __future__ import annotations

import math
from typing import Any

from .support import (
    BudgetExceeded,
    Frame,
    _MAX_SEQUENCE,
    _iterate,
    _unknown_from,
)
from .values import (
    ClassRef,
    Instance,
    SuperRef,
    TensorVal,
    Unknown,
    is_static,
)



class BuiltinsMixin:
    """Builtin calls of `dlx_lint.expert.interpret.Evaluator`."""

    def call_builtin(self, frame: Frame, name: str, positional: list[Any], keywords: dict[str, Any]) -> Any:
        if name == "super":
            if frame.owner is not None and frame.instance is not None:
                return SuperRef(frame.owner, frame.instance)
            if positional and len(positional) == 2 and isinstance(positional[0], ClassRef) and isinstance(positional[1], Instance):
                return SuperRef(positional[0].info, positional[1])
            return Unknown("`super()` outside a method")
        if name == "setattr" and len(positional) == 3 and isinstance(positional[0], Instance):
            key = positional[1] if isinstance(positional[1], str) else f"?{len(positional[0].resolved().children)}"
            positional[0].register(key, positional[2])
            return None
        if name == "getattr" and len(positional) >= 2 and isinstance(positional[1], str):
            value = self.attribute(frame, positional[0], positional[1])
            if isinstance(value, Unknown) and len(positional) == 3:
                return positional[2]
            return value
        if name == "print":
            return None
        if name == "isinstance" or name == "hasattr":
            return Unknown(f"`{name}(...)`")
        if name == "range":
            if not positional or not all(isinstance(v, int) and not isinstance(v, bool) for v in positional) or len(positional) > 3:
                return _unknown_from(next((v for v in positional if isinstance(v, Unknown)), None), "the bounds of `range(...)`")
            try:
                result = range(*positional)
            except ValueError:
                return Unknown("`range(...)`")
            if len(result) > _MAX_SEQUENCE:
                raise BudgetExceeded("a range too long to follow")
            return result
        if name in ("list", "tuple"):
            if not positional:
                return [] if name == "list" else ()
            items = _iterate(positional[0])
            if items is None:
                return _unknown_from(positional[0], f"`{name}(...)`")
            return list(items) if name == "list" else tuple(items)
        if name == "dict":
            result: dict[Any, Any] = {}
            if positional:
                source = positional[0]
                if isinstance(source, dict):
                    result.update(source)
                else:
                    items = _iterate(source)
                    if items is None:
                        return _unknown_from(source, "`dict(...)`")
                    for pair in items:
                        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not is_static(pair[0]):
                            return Unknown("`dict(...)`")
                        result[pair[0]] = pair[1]
            result.update(keywords)
            return result
        if name in ("zip", "enumerate", "reversed", "sorted", "map"):
            lists = [_iterate(v) for v in positional]
            if any(items is None for items in lists):
                return _unknown_from(next((v for v in positional if _iterate(v) is None), None), f"`{name}(...)`")
            if name == "zip":
                return [tuple(t) for t in zip(*lists)]  # type: ignore[arg-type]
            if name == "enumerate":
                start = positional[1] if len(positional) > 1 and isinstance(positional[1], int) else keywords.get("start", 0)
                return [(i + start, v) for i, v in enumerate(lists[0])] if lists else Unknown("`enumerate()`")  # type: ignore[operator]
            if name == "reversed":
                return list(reversed(lists[0])) if lists else Unknown("`reversed()`")  # type: ignore[arg-type]
            if name == "sorted":
                try:
                    return sorted(lists[0]) if lists and all(is_static(v) for v in lists[0]) else Unknown("`sorted(...)`")  # type: ignore[union-attr]
                except TypeError:
                    return Unknown("`sorted(...)`")
            return Unknown("`map(...)`")
        if name == "len":
            items = _iterate(positional[0]) if positional else None
            if items is None and positional and isinstance(positional[0], Instance):
                return len(positional[0].resolved().children)
            return len(items) if items is not None else _unknown_from(positional[0] if positional else None, "`len(...)`")
        numbers = positional
        if any(isinstance(v, Unknown) for v in numbers):
            return next(v for v in numbers if isinstance(v, Unknown))
        try:
            if name == "int" and len(numbers) == 1 and isinstance(numbers[0], (int, float, str)):
                return int(numbers[0])
            if name == "float" and len(numbers) == 1 and isinstance(numbers[0], (int, float, str)):
                return float(numbers[0])
            if name == "bool" and len(numbers) == 1 and is_static(numbers[0]):
                return bool(numbers[0])
            if name == "str" and len(numbers) == 1 and is_static(numbers[0]):
                return str(numbers[0])
            if name in ("max", "min", "sum", "any", "all"):
                items = numbers if len(numbers) > 1 else (_iterate(numbers[0]) if numbers else None)
                if items is None or not all(is_static(v) for v in items):
                    return Unknown(f"`{name}(...)`")
                return {"max": max, "min": min, "sum": sum, "any": any, "all": all}[name](items)
            if name == "abs" and len(numbers) == 1 and isinstance(numbers[0], (int, float)):
                return abs(numbers[0])
            if name == "round" and numbers and isinstance(numbers[0], (int, float)):
                return round(*numbers)
            if name == "divmod" and len(numbers) == 2:
                return divmod(*numbers)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            pass
        return Unknown(f"`{name}(...)`")




def tensor_value(qualname: str, positional: list[Any], keywords: dict[str, Any]) -> TensorVal:
    def shape_of(values: list[Any]) -> tuple[int, ...] | None:
        if len(values) == 1 and isinstance(values[0], (tuple, list)):
            values = list(values[0])
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            return tuple(values)
        return None

    if qualname in ("torch.zeros", "torch.ones", "torch.empty", "torch.rand", "torch.randn", "torch.Tensor", "torch.FloatTensor"):
        size = keywords.get("size")
        return TensorVal(shape_of([size] if size is not None else positional))
    if qualname == "torch.randint":
        size = keywords.get("size", positional[-1] if positional else None)
        return TensorVal(shape_of([size]) if isinstance(size, (tuple, list)) else None)
    if qualname == "torch.full":
        size = keywords.get("size", positional[0] if positional else None)
        return TensorVal(shape_of([size]) if isinstance(size, (tuple, list)) else None)
    if qualname == "torch.eye":
        rows = positional[0] if positional else keywords.get("n")
        cols = positional[1] if len(positional) > 1 else keywords.get("m", rows)
        return TensorVal((rows, cols) if isinstance(rows, int) and isinstance(cols, int) else None)
    if qualname == "torch.arange":
        if positional and all(isinstance(v, int) for v in positional) and len(positional) <= 3:
            return TensorVal((len(range(*positional)),))
        return TensorVal(None)
    if qualname == "torch.linspace":
        steps = positional[2] if len(positional) > 2 else keywords.get("steps")
        return TensorVal((steps,) if isinstance(steps, int) else None)
    if qualname == "torch.tensor":
        data = positional[0] if positional else keywords.get("data")
        shape: list[int] = []
        current = data
        while isinstance(current, (list, tuple)):
            shape.append(len(current))
            if not current:
                break
            current = current[0]
        if isinstance(current, (int, float, bool)) or (isinstance(current, (list, tuple)) and not current):
            return TensorVal(tuple(shape))
        return TensorVal(None)
    return TensorVal(None)


def math_call(qualname: str, positional: list[Any]) -> Any:
    name = qualname[len("math."):]
    if not positional or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in positional if not isinstance(v, (list, tuple))):
        return _unknown_from(next((v for v in positional if isinstance(v, Unknown)), None), f"`{qualname}(...)`")
    try:
        if name == "prod":
            items = positional[0]
            return math.prod(items) if isinstance(items, (list, tuple)) and all(isinstance(v, (int, float)) for v in items) else Unknown("`math.prod(...)`")
        function = {"ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "log2": math.log2, "log": math.log,
                    "gcd": math.gcd, "isqrt": math.isqrt, "exp": math.exp}.get(name)
        if function is not None:
            return function(*positional)
    except (TypeError, ValueError, OverflowError):
        pass
    return Unknown(f"`{qualname}(...)`")


