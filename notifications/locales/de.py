"""German defaults of the native emails (same variables as the English ones in catalogue.py)."""

GREETING = "Hallo {{ first_name }},"
NEXT_ORDER = "Ihre nächste Bestellung ist für den {{ next_order_date }} geplant."
MANAGE = "Abo verwalten"
REWARDS = "Zu meinen Prämien"
UNSUBSCRIBE_QUESTION = "Sie möchten diese E-Mails nicht mehr erhalten?"
UNSUBSCRIBE = "Abmelden"
# unit: (once, every N)
FREQUENCY = {
    "day": ("jeden Tag", "alle {n} Tage"),
    "week": ("jede Woche", "alle {n} Wochen"),
    "month": ("jeden Monat", "alle {n} Monate"),
    "year": ("jedes Jahr", "alle {n} Jahre"),
}

NOTICES = {
    "subscription.created": {
        "subject": "Willkommen bei Ihrem Abo von {{ shop_name }}",
        "paragraphs": (
            "Danke für Ihr Abo! Ihr Abo {{ plan }} ist aktiv: {{ frequency }}.",
            NEXT_ORDER,
        ),
    },
    "subscription.upcoming_order": {
        "subject": "Ihre nächste Bestellung bei {{ shop_name }} kommt am {{ next_order_date }}",
        "paragraphs": (
            "Ihre nächste Bestellung ist für den {{ next_order_date }} geplant"
            "{% if days_until_order %}, also in {{ days_until_order }} "
            "Tag{{ days_until_order|pluralize:'en' }}{% endif %}.",
        ),
        "after_items": (
            "Möchten Sie sie überspringen, den Inhalt ändern oder das Datum verschieben? "
            "Dafür ist noch Zeit.",
        ),
        "button": "Bestellung verwalten",
    },
    "subscription.skipped": {
        "subject": "Ihre Bestellung vom {{ skipped_date }} wird übersprungen",
        "paragraphs": (
            "Wie gewünscht haben wir Ihre Bestellung vom {{ skipped_date }} übersprungen.",
            NEXT_ORDER,
        ),
    },
    "subscription.unskipped": {
        "subject": "Ihre Bestellung vom {{ unskipped_date }} kommt doch",
        "paragraphs": (
            "Ihre Bestellung vom {{ unskipped_date }} wird nicht mehr übersprungen.",
            NEXT_ORDER,
        ),
    },
    "subscription.paused": {
        "subject": "Ihr Abo bei {{ shop_name }} ist pausiert",
        "paragraphs": (
            "Ihr Abo {{ plan }} ist pausiert. "
            "{% if auto_resume_date %}Es läuft am {{ auto_resume_date }} automatisch weiter."
            "{% else %}Bis Sie es fortsetzen, werden keine Bestellungen verschickt.{% endif %}",
        ),
    },
    "subscription.activated": {
        "subject": "Ihr Abo bei {{ shop_name }} ist wieder aktiv",
        "paragraphs": (
            "Schön, dass Sie wieder da sind! Ihr Abo {{ plan }} ist wieder aktiv.",
            NEXT_ORDER,
        ),
    },
    "subscription.auto_resume_upcoming": {
        "subject": "Ihr Abo bei {{ shop_name }} läuft am {{ auto_resume_date }} weiter",
        "paragraphs": (
            "Ihr pausiertes Abo {{ plan }} läuft am {{ auto_resume_date }} automatisch weiter; "
            "ab dann werden wieder Bestellungen verschickt.",
            "Wenn es lieber pausiert bleiben soll, können Sie das in Ihrem Kundenkonto ändern.",
        ),
    },
    "subscription.canceled": {
        "subject": "Ihr Abo bei {{ shop_name }} ist gekündigt",
        "paragraphs": (
            "Ihr Abo {{ plan }} ist gekündigt; es werden keine weiteren Bestellungen ausgelöst.",
            "Schade, dass Sie gehen. Sie können jederzeit über Ihr Kundenkonto neu starten.",
        ),
        "button": "Mein Kundenkonto",
    },
    "subscription.payment_method_updated": {
        "subject": "Ihre Zahlungsmethode wurde aktualisiert",
        "paragraphs": (
            "Ihr Abo wird ab jetzt über Ihre {{ payment_method.brand|default:'Karte' }}"
            "{% if payment_method.last4 %} mit der Endung {{ payment_method.last4 }}{% endif %} abgerechnet.",
            "Falls Sie diese Änderung nicht vorgenommen haben, melden Sie sich bitte bei uns.",
        ),
    },
    "subscription.transaction_failed": {
        "subject": "Ihre Zahlung bei {{ shop_name }} ist fehlgeschlagen",
        "paragraphs": (
            "Wir konnten Ihre Karte für Ihre Abo-Bestellung"
            "{% if amount %} über {{ amount }} {{ currency }}{% endif %} nicht belasten."
            "{% if failure_reason %} Ihre Bank meldet: {{ failure_reason }}{% endif %}",
            "{% if retry_date %}Wir versuchen es am {{ retry_date }} erneut. {% endif %}"
            "Bitte aktualisieren Sie Ihre Zahlungsmethode, damit Ihre Bestellung verschickt werden kann.",
        ),
        "button": "Zahlungsmethode aktualisieren",
    },
    "subscription.transaction_succeeded": {
        "subject": "Beleg für Ihre Bestellung bei {{ shop_name }}",
        "paragraphs": (
            "Vielen Dank! Wir haben {{ amount }} {{ currency }} für Ihre Abo-Bestellung"
            "{% if order_date %} vom {{ order_date }}{% endif %} abgebucht.",
        ),
        "after_items": (NEXT_ORDER,),
    },
    "subscription.send_now": {
        "subject": "Ihre Bestellung bei {{ shop_name }} geht früher raus",
        "paragraphs": (
            "Wie gewünscht wird Ihre nächste Bestellung jetzt verschickt, ohne auf ihren Termin zu warten.",
        ),
    },
    "subscription.gifted": {
        "subject": "Ihre Bestellung vom {{ gift.billing_date }} ist ein Geschenk",
        "paragraphs": (
            "Ihre Bestellung vom {{ gift.billing_date }} geht als Geschenk an {{ gift.recipient_first_name }} "
            "{{ gift.recipient_last_name }}. Wir geben Bescheid.",
            NEXT_ORDER,
        ),
    },
    "subscription.gifted:recipient": {
        "subject": "{{ customer.first_name }} hat Ihnen ein Geschenk von {{ shop_name }} geschickt",
        "greeting": "Hallo {{ gift.recipient_first_name }},",
        "paragraphs": (
            "{{ customer.first_name }} {{ customer.last_name }} schenkt Ihnen eine Bestellung von "
            "{{ shop_name }}; sie wird nach dem {{ gift.billing_date }} verschickt.",
            "{% if gift.message %}Die Nachricht dazu: „{{ gift.message }}“{% endif %}",
        ),
    },
    "subscription.next_order_date_changed": {
        "subject": "Ihre nächste Bestellung bei {{ shop_name }} kommt jetzt am {{ next_order_date }}",
        "paragraphs": (
            "Ihre nächste Bestellung wurde auf den {{ next_order_date }} verschoben"
            "{% if previous_next_order_date %} (vorher: {{ previous_next_order_date }}){% endif %}.",
        ),
    },
    "subscription.product_unavailable": {
        "subject": "Ein Artikel Ihres Abos bei {{ shop_name }} ist nicht verfügbar",
        "paragraphs": (
            "{% for item in unavailable_items %}{{ item.product }}{% if item.variant %} ({{ item.variant }}){% endif %}"
            "{% if not forloop.last %}, {% endif %}{% endfor %} ist nicht mehr erhältlich und daher nicht in "
            "Ihrer nächsten Bestellung enthalten.",
            "In Ihrem Kundenkonto können Sie den Artikel gegen einen anderen tauschen.",
        ),
    },
    "loyalty.points_earned": {
        "subject": "Sie haben {{ points }} Punkte bei {{ shop_name }} gesammelt",
        "paragraphs": (
            "Sie haben {{ points }} Punkte gesammelt{% if reason %} ({{ reason }}){% endif %}. "
            "Ihr Punktestand beträgt jetzt {{ balance }} Punkte.",
        ),
        "button": REWARDS,
    },
    "loyalty.points_redeemed": {
        "subject": "Ihre Prämie von {{ shop_name }} ist bereit",
        "paragraphs": (
            "Sie haben {{ points }} Punkte gegen "
            "{% if reward.name %}{{ reward.name }}{% else %}eine Prämie{% endif %} eingelöst."
            "{% if discount_code %} Ihr Code lautet {{ discount_code }}.{% endif %}",
            "Sie haben noch {{ balance }} Punkte.",
        ),
        "button": REWARDS,
    },
    "loyalty.referral_succeeded": {
        "subject": "Ihre Empfehlung bringt Ihnen {{ points }} Punkte",
        "paragraphs": (
            "Jemand hat Ihren Empfehlungscode benutzt: Danke, dass Sie uns weiterempfehlen!",
            "Sie haben {{ points }} Punkte gesammelt; Ihr Punktestand beträgt jetzt {{ balance }} Punkte.",
        ),
        "button": REWARDS,
    },
}
