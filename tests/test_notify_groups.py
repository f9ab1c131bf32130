"""Notifications per culprit (issue 14): one per interceptor and round, in the kind's own words."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pki
from test_daemon import recording, verdict

from certguard.i18n import Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.models import InterceptorKind, MatchStrength, Status
from certguard.watch import notify
from certguard.watch.pipeline import Pipeline


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


def test_a_name_alone_never_mutes_an_allowed_interceptor(ctx_factory: Callable[..., TrustContext]) -> None:
    """The rule for the office's Zscaler must not mute an attacker's root that is merely called "Zscaler Root CA":
    a chain recognised by name only is muted when it builds to a root this device trusts (the proxy's, installed by
    the organisation), never on the name the server sent."""
    en = Translator("en")
    fake = pki.root("Zscaler Root CA", "Zscaler Inc.")
    leaf = fake.leaf("bank.test")
    rule = notify.AllowRule("Zscaler*")
    rogue = Pipeline(ctx_factory()).judge_chain("bank.test", 443, [pki.der(leaf.cert)], source="probe").verdicts[0]
    assert rogue.interceptor is not None and rogue.interceptor.entry_id == "corp-zscaler"
    assert rogue.interceptor.match is MatchStrength.NAME and rogue.device_anchor is None
    assert not rule.matches(rogue, "office")
    sent: list[str] = []
    assert notify.Notifier(recording(sent)).consider_round({}, [rogue], "office", quiet=False, rules=(rule,),
                                                           tr=en) == 1, "the attacker's chain is announced"
    # control: the organisation's own proxy root, installed on this device, is muted by the same rule
    office = Pipeline(ctx_factory(device=[fake.cert])).judge_chain("bank.test", 443, [pki.der(leaf.cert)],
                                                                   source="probe").verdicts[0]
    assert office.device_anchor is not None and rule.matches(office, "office")
    assert notify.Notifier(recording(sent)).consider_round({}, [office], "office", quiet=False, rules=(rule,),
                                                           tr=en) == 0
