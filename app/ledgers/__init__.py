"""The ledger declarations: import this package to get every ledger registered."""

from .base import Field, Ledger, Lookup, register, registry
from . import internal_audit, master, records, safety  # noqa: F401  (registers the declarations)


def ledger(key: str) -> Ledger:
    try:
        return registry()[key]
    except KeyError:
        names = "、".join(sorted(registry()))
        raise KeyError(f"没有名为 {key} 的台账；可用：{names}") from None


def ledger_for_model(model: type) -> Ledger | None:
    for candidate in registry().values():
        if candidate.model is model:
            return candidate
    return None


__all__ = ["Field", "Ledger", "Lookup", "ledger", "ledger_for_model", "register", "registry"]
