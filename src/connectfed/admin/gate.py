"""The admin API's side of the dispatchers' fault seam (:mod:`connectfed.wire.faults`).

:meth:`Gate.before` asks the :class:`~connectfed.admin.faults.FaultService` what a call gets.
An error is raised at once, in the protocol's spelling. Latency and drops must happen on the
event loop, around the response, so the gate keeps them by request id for the edge
(:mod:`connectfed.admin.edge`) to :meth:`take`; a dropped call also gets an error raised, so
its handler never runs (the client retries a request that changed nothing).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from connectfed.admin.faults import ErrorKind, FaultService
from connectfed.wire.faults import InjectedError, injected_error
from connectfed.wire.json10 import HANDLERS as CTI_HANDLERS
from connectfed.wire.registry import REGISTRY

_KINDS = {
    ErrorKind.THROTTLING: InjectedError.THROTTLING,
    ErrorKind.INTERNAL: InjectedError.INTERNAL,
}


def known_operation(service: str, operation: str) -> bool:
    """True when this server answers ``operation`` of ``service`` (as the dispatchers route)."""
    if service == "cti":
        return operation in CTI_HANDLERS
    return REGISTRY.get(service, operation) is not None


@dataclass(frozen=True, slots=True)
class Interruption:
    delay_seconds: float
    drop: bool


class Gate:
    def __init__(self, faults: FaultService) -> None:
        self._faults = faults
        self._pending: dict[str, Interruption] = {}
        self._lock = threading.Lock()

    def before(self, service: str, operation: str, request_id: str) -> None:
        effect = self._faults.effect(service, operation)
        if effect is None:
            return
        if effect.delay_seconds or effect.drop:
            with self._lock:
                self._pending[request_id] = Interruption(effect.delay_seconds, effect.drop)
        note = f" (fault {effect.fault_id} injected by connectfed)"
        if effect.error is not None:
            raise injected_error(service, _KINDS[effect.error], note)
        if effect.drop:
            raise injected_error(service, InjectedError.INTERNAL, note)

    def take(self, request_id: str) -> Interruption | None:
        """What to do to this request's response (and forget it)."""
        if not self._pending:
            return None
        with self._lock:
            return self._pending.pop(request_id, None)
