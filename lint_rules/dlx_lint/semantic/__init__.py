"""The semantic model: facts about one file that rules query instead of deriving."""

from .model import SemanticModel

__all__ = ["SemanticModel"]
