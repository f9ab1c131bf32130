"""One pipeline for every front end: probe → judge → observers.

``certguard check``, ``audit --check``, the daemon and the browser companion's native host all run rounds
through ``Pipeline``, so they probe with the same options (timeout, proxy, workers), judge with the same trust
context and history facts, and hand the same verdicts to their observers (history, notifications, live events,
the Prometheus file, a report writer).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from certguard.judge.analyze import HistoryFacts, TrustContext, analyze_batch, analyze_chain, internal_error
from certguard.judge.models import ProbeAttempt, Target, Verdict
from certguard.probe import tls as probe

log = logging.getLogger(__name__)


def probe_options(timeout: float, proxy: str | None = None) -> probe.ProbeOptions:
    """The probe options every front end uses: ``--proxy`` or else ``$HTTPS_PROXY`` (curl's rule).

    Raises:
        ConfigError: the proxy is not an http:// URL.
    """
    url = proxy or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    return probe.ProbeOptions(timeout=timeout, proxy=probe.Proxy.from_url(url) if url else None)


@dataclass(frozen=True)
class RoundResult:
    checked_at: datetime
    network: str
    verdicts: tuple[Verdict, ...]


class Observer(Protocol):
    """Receives every finished round. An observer that fails is logged and reported by its owner; it never stops
    the others from seeing the round."""

    def on_round(self, rnd: RoundResult) -> None: ...


class HistoryFactsSource(Protocol):
    def facts_for(self, targets: Sequence[tuple[str, int]], network: str) -> dict[tuple[str, int], HistoryFacts]: ...


@dataclass
class Pipeline:
    ctx: TrustContext
    options: probe.ProbeOptions = field(default_factory=probe.ProbeOptions)
    workers: int = 16
    history: HistoryFactsSource | None = None
    observers: list[Observer] = field(default_factory=list)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def run(self, targets: Sequence[Target], network: str = "unknown",
            on_done: Callable[[ProbeAttempt], None] | None = None) -> RoundResult:
        """Probe ``targets``, judge them, tell the observers. Failures of the network are verdicts, never raised."""
        attempts = probe.fetch_all(targets, self.options, workers=self.workers, on_done=on_done)
        return self.judge_round(attempts, network)

    def judge_round(self, attempts: Sequence[ProbeAttempt], network: str = "unknown") -> RoundResult:
        now = self.clock()
        facts = self.history.facts_for([(a.target.host, a.target.port) for a in attempts], network) \
            if self.history is not None else {}
        rnd = RoundResult(now, network, tuple(analyze_batch(attempts, self.ctx, now, facts)))
        self.publish(rnd)
        return rnd

    def judge_chain(self, host: str, port: int, chain: Sequence[bytes], *, source: str,
                    network: str = "unknown") -> RoundResult:
        """A chain someone else captured (a saved file, the browser): judged and observed like a probe's."""
        now = self.clock()
        facts = self.history.facts_for([(host, port)], network).get((host, port)) if self.history else None
        try:
            verdict = analyze_chain(host, port, chain, self.ctx, now, history=facts, source=source)
        except Exception as exc:  # a bug in the judge: an error verdict, never a traceback or a quieter status
            log.exception("internal error while judging %s:%d", host, port)
            verdict = internal_error(host, port, now, exc)
        rnd = RoundResult(now, network, (verdict,))
        self.publish(rnd)
        return rnd

    def publish(self, rnd: RoundResult) -> None:
        for observer in self.observers:
            try:
                observer.on_round(rnd)
            except Exception:  # one broken observer (a full disk) must not keep the others from the round
                log.exception("observer %s failed", type(observer).__name__)
