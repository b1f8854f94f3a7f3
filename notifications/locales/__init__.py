"""The languages the shipped email defaults are written in. English lives in catalogue.py; each
other language is one module here with the same notices and the same template variables, plus the
fixed words of the layout (greeting, buttons, unsubscribe line, how often an order comes)."""

from dataclasses import dataclass

from notifications.locales import de, es, fr

ENGLISH = "en"
TRANSLATIONS = {"fr": fr, "de": de, "es": es}
LANGUAGES = (ENGLISH, *TRANSLATIONS)

_ENGLISH_FREQUENCY = {
    unit: (f"every {unit}", f"every {{n}} {unit}s") for unit in ("day", "week", "month", "year")
}


@dataclass(frozen=True)
class Layout:
    """The fixed words around a template's content, in one language."""

    unsubscribe_question: str
    unsubscribe: str
    frequency: dict[str, tuple[str, str]]

    def every(self, unit: str, count: int) -> str:
        once, many = (
            self.frequency.get(unit)
            or _ENGLISH_FREQUENCY.get(unit)
            or (
                f"every {unit}",
                f"every {{n}} {unit}s",
            )
        )
        return once if count == 1 else many.format(n=count)


_LAYOUTS = {
    ENGLISH: Layout("Don't want these emails?", "Unsubscribe", _ENGLISH_FREQUENCY),
    **{
        code: Layout(module.UNSUBSCRIBE_QUESTION, module.UNSUBSCRIBE, module.FREQUENCY)
        for code, module in TRANSLATIONS.items()
    },
}


def layout(language: str | None) -> Layout:
    """The layout's words in `language`; English for a language we have no words for."""
    return _LAYOUTS.get(language or ENGLISH, _LAYOUTS[ENGLISH])
