"""Run inside `dbus-run-session`: optionally own org.freedesktop.Notifications with a stub that records Notify
calls, then ask certguard's notifier to deliver one. Prints a JSON line: the sender chosen and what the stub got."""

from __future__ import annotations

import json
import sys
import threading

# jeepney ships neither inline types nor a py.typed marker, and there is no types-jeepney package
from jeepney import HeaderFields, MessageType, new_method_return  # type: ignore[import-untyped]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

from certguard.watch import notify

received: list[list[object]] = []
ready = threading.Event()


def serve() -> None:
    conn = open_dbus_connection(bus="SESSION")
    # DO_NOT_QUEUE (4): fail rather than wait if someone (a real daemon) already owns the name
    reply = conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications", 4))
    if reply.body[0] != 1:  # 1 = primary owner
        print(json.dumps({"error": f"could not own the name ({reply.body[0]})"}))
        sys.exit(1)
    ready.set()
    while True:
        msg = conn.receive(timeout=10)
        if msg.header.message_type is MessageType.method_call:
            member = msg.header.fields.get(HeaderFields.member)
            if member == "Notify":
                received.append(list(msg.body[:5]))
                conn.send(new_method_return(msg, "u", (len(received),)))
            elif member == "GetCapabilities":
                conn.send(new_method_return(msg, "as", (["body"],)))


if __name__ == "__main__":
    if sys.argv[1:] == ["--with-stub"]:
        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
    name, sender = notify.default_sender()
    delivered = sender("certguard: vk.com intercepted", "Do not log in on this network.")
    print(json.dumps({"sender": name, "delivered": delivered, "received": received}))
