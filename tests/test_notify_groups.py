"""Notifications per culprit (issue 14): one per interceptor and round, in the kind's own words."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from test_daemon import recording, verdict

from certguard.i18n import Translator
from certguard.judge.models import InterceptorKind, Status
from certguard.watch import notify


def test_one_notification_per_culprit_in_the_kinds_words() -> None:
    en = Translator("en")
    now = datetime.now(UTC)
    state = [verdict(h, Status.INTERCEPTED, now, interceptor="Qaznet Trust Network") for h in ("a.kz", "b.kz", "c.kz")]
    av = verdict("d.org", Status.INTERCEPTED, now, interceptor="Kaspersky HTTPS scanning")
    assert av.interceptor is not None
    av = dataclasses.replace(av, interceptor=dataclasses.replace(av.interceptor, entry_id="av-kaspersky",
                                                                 kind=InterceptorKind.ANTIVIRUS))
    sent: list[str] = []
    clock = [0.0]
    n = notify.Notifier(recording(sent, with_body=True), clock=lambda: clock[0])
    assert n.consider_round({}, [*state, av], "home", quiet=False, rules=(), tr=en) == 2
    assert len(sent) == 2, "three sites behind one culprit are one notification (control: two culprits, two)"
    qaznet, kaspersky = sent
    assert qaznet.startswith(en("notify.group_title", headline=en("ui.overall.intercepted"),
                                name="Qaznet Trust Network"))
    assert "a.kz, b.kz, c.kz" in qaznet and en("ui.kind_lead.state") in qaznet
    assert kaspersky.startswith(en("notify.group_title", headline=en("ui.kind_title.antivirus"),
                                   name="Kaspersky HTTPS scanning"))
    assert en("ui.kind_lead.antivirus") in kaspersky and en("ui.kind_lead.state") not in kaspersky
    # no repeat while nothing got worse, and the cooldown holds per culprit
    previous = {(v.host, v.port): v.status for v in [*state, av]}
    assert n.consider_round(previous, [*state, av], "home", quiet=False, rules=(), tr=en) == 0
    clock[0] = 10
    assert n.consider_round({}, [*state, av], "home", quiet=False, rules=(), tr=en) == 0, "cooldown"
    clock[0] = 4000
    assert n.consider_round({}, state, "home", quiet=True, rules=(), tr=en) == 0, "quiet mode"
    rule = notify.AllowRule("qaznet*", "home")
    assert n.consider_round({}, [*state, av], "home", quiet=False, rules=(rule,), tr=en) == 1, "allowed: only AV"
    assert "Kaspersky" in sent[-1]
