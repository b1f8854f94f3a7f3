"""Phone numbers as SMS partners know them: E.164-ish, "+" and digits only."""

import re

_NOT_DIGIT = re.compile(r"\D")


def phone_e164(value: str | None, *, default_country_code: str = "1") -> str:
    """ "(555) 010-4477" -> "+15550104477"; "+44 20 7946 0958" -> "+442079460958"; "" when there
    are too few digits to be a phone number. Ten digits without a country code are taken as North
    American (the SMS partners' home market); "00" is the international prefix."""
    raw = (value or "").strip()
    digits = _NOT_DIGIT.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    elif not raw.startswith("+") and len(digits) == 10:
        digits = default_country_code + digits
    if len(digits) < 8 or len(digits) > 15:
        return ""
    return "+" + digits
