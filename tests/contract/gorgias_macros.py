"""What Gorgias does with a URL holding `{{...}}` macros (the HTTP integration URL, the widget
buttons): each macro is replaced by the value at that path of the ticket, its customer and the
data each HTTP integration returned for that customer (`ticket.customer.integrations.<id>`)."""

import re

MACRO = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")
STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def lookup(context: dict, path: str):
    value = context
    for name, index in STEP.findall(path):
        value = value[int(index)] if index else value[name]
    return value


def render(template: str, context: dict) -> str:
    return MACRO.sub(lambda m: str(lookup(context, m.group(1))), template)


def ticket_context(*, ticket_id: int, email: str, integrations: dict | None = None) -> dict:
    return {
        "ticket": {
            "id": ticket_id,
            "customer": {
                "email": email,
                "integrations": {str(k): v for k, v in (integrations or {}).items()},
            },
        }
    }
