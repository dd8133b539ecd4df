"""Executors run checker-training tasks: in-process, on a local pool, or on Ray."""

from __future__ import annotations

from .base import Executor
from .local import LocalExecutor

__all__ = ["Executor", "LocalExecutor"]
