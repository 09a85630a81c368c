"""``claw doctor`` checks for WhatsApp: credentials (an authenticated read), the from-number, the webhook URL."""

from __future__ import annotations

from typing import Any

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from claw.channels.whatsapp.config import STATUS_PATH, WEBHOOK_PATH, WhatsAppConfig
from claw.channels.whatsapp.twilio import HttpxTwilioClient
from claw.checks import Check

SANDBOX_NUMBER = "+14155238886"


async def check_whatsapp(s: WhatsAppConfig) -> list[Check]:
    """One check per line: credentials (an authenticated read), the number, the webhook URL, the owner."""
    out: list[Check] = []

    def line(ok: bool | None, what: str, detail: str = "") -> None:
        out.append(Check(ok, what, detail))

    if not s.sid or not s.token:
        line(False, "whatsapp credentials", "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio console > Account info)")
    else:
        http = HttpxTwilioClient(s.api_base, s.send_timeout)
        client = Client(s.sid, s.token, http_client=http)
        try:
            account = await client.api.v2010.accounts(s.sid).fetch_async()
            line(account.status == "active", "whatsapp credentials", f"account {account.friendly_name!r} is {account.status}")
            await _from_number(client, s, line)
        except TwilioRestException as exc:
            hint = "wrong TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN" if exc.status in (401, 403, 404) else exc.msg
            line(False, "whatsapp credentials", f"Twilio answered {exc.status}: {hint}")
        except (TwilioException, httpx.HTTPError) as exc:
            line(False, "whatsapp credentials", f"cannot reach {s.api_base}: {type(exc).__name__}")
        finally:
            await http.close()
    if s.public_url:
        line(True, "whatsapp webhook", f"paste {s.public_url}{WEBHOOK_PATH} (HTTP POST) into the Twilio console as "
                                       "'When a message comes in' for your WhatsApp sender or sandbox"
             + (f"; status reports go to {s.public_url}{STATUS_PATH}" if s.status_callback else ""))
    else:
        line(False, "whatsapp webhook", "set [whatsapp] public_url to the https address Twilio reaches this box at "
                                        "(Tailscale Funnel, Cloudflare Tunnel or ngrok; see the README); signatures are "
                                        "checked against it")
    if s.allowed:
        line(True, "whatsapp owner", f"{s.allowed[0]}" + (f" (+{len(s.allowed) - 1} more allowed)" if len(s.allowed) > 1 else ""))
    else:
        line(None, "whatsapp owner", "[whatsapp] allowed is empty: nobody is the owner; add your number first")
    return out


async def _from_number(client: Any, s: WhatsAppConfig, line: Any) -> None:
    if not s.from_number:
        line(False, "whatsapp from_number", f"set [whatsapp] from_number (the sandbox is {SANDBOX_NUMBER})")
        return
    if s.from_number == SANDBOX_NUMBER:
        line(None, "whatsapp from_number", f"{SANDBOX_NUMBER} is Twilio's sandbox: each phone must send the sandbox's "
                                           "'join <word>' message first")
        return
    numbers = await client.incoming_phone_numbers.list_async(phone_number=s.from_number, limit=1)
    if numbers:
        line(True, "whatsapp from_number", f"{s.from_number} belongs to this account")
    else:
        line(None, "whatsapp from_number", f"{s.from_number} is not a phone number of this account; fine if it is a "
                                           "WhatsApp sender registered in the console, otherwise check the number")
