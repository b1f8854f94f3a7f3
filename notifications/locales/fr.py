"""French defaults of the native emails (same variables as the English ones in catalogue.py)."""

GREETING = "Bonjour {{ first_name }},"
NEXT_ORDER = "Votre prochaine commande est prévue le {{ next_order_date }}."
MANAGE = "Gérer mon abonnement"
REWARDS = "Voir mes récompenses"
UNSUBSCRIBE_QUESTION = "Vous ne souhaitez plus recevoir ces e-mails ?"
UNSUBSCRIBE = "Se désinscrire"
# unit: (once, every N)
FREQUENCY = {
    "day": ("tous les jours", "tous les {n} jours"),
    "week": ("toutes les semaines", "toutes les {n} semaines"),
    "month": ("tous les mois", "tous les {n} mois"),
    "year": ("tous les ans", "tous les {n} ans"),
}

NOTICES = {
    "subscription.created": {
        "subject": "Bienvenue dans votre abonnement {{ shop_name }}",
        "paragraphs": (
            "Merci pour votre abonnement ! Votre formule {{ plan }} est active : {{ frequency }}.",
            NEXT_ORDER,
        ),
    },
    "subscription.upcoming_order": {
        "subject": "Votre prochaine commande {{ shop_name }} arrive le {{ next_order_date }}",
        "paragraphs": (
            "Votre prochaine commande est prévue le {{ next_order_date }}"
            "{% if days_until_order %}, dans {{ days_until_order }} jour{{ days_until_order|pluralize }}{% endif %}.",
        ),
        "after_items": (
            "Envie de la sauter, d'en modifier le contenu ou de changer la date ? Il est encore temps.",
        ),
        "button": "Gérer ma commande",
    },
    "subscription.skipped": {
        "subject": "Votre commande du {{ skipped_date }} ne sera pas envoyée",
        "paragraphs": (
            "Comme vous l'avez demandé, nous avons sauté votre commande du {{ skipped_date }}.",
            NEXT_ORDER,
        ),
    },
    "subscription.unskipped": {
        "subject": "Votre commande du {{ unskipped_date }} est rétablie",
        "paragraphs": (
            "Votre commande du {{ unskipped_date }} est de nouveau prévue.",
            NEXT_ORDER,
        ),
    },
    "subscription.paused": {
        "subject": "Votre abonnement {{ shop_name }} est en pause",
        "paragraphs": (
            "Votre abonnement {{ plan }} est en pause. "
            "{% if auto_resume_date %}Il reprendra automatiquement le {{ auto_resume_date }}."
            "{% else %}Aucune commande ne partira tant que vous ne l'aurez pas réactivé.{% endif %}",
        ),
    },
    "subscription.activated": {
        "subject": "Votre abonnement {{ shop_name }} est de nouveau actif",
        "paragraphs": (
            "Ravis de vous revoir ! Votre abonnement {{ plan }} est de nouveau actif.",
            NEXT_ORDER,
        ),
    },
    "subscription.auto_resume_upcoming": {
        "subject": "Votre abonnement {{ shop_name }} reprend le {{ auto_resume_date }}",
        "paragraphs": (
            "Votre abonnement {{ plan }}, actuellement en pause, reprendra automatiquement le "
            "{{ auto_resume_date }} et vos commandes recommenceront à partir de cette date.",
            "Si vous préférez le laisser en pause, vous pouvez le modifier depuis votre compte.",
        ),
    },
    "subscription.canceled": {
        "subject": "Votre abonnement {{ shop_name }} est résilié",
        "paragraphs": (
            "Votre abonnement {{ plan }} est résilié ; aucune nouvelle commande ne sera passée.",
            "Nous sommes désolés de vous voir partir. Vous pouvez vous réabonner à tout moment "
            "depuis votre compte.",
        ),
        "button": "Mon compte",
    },
    "subscription.payment_method_updated": {
        "subject": "Votre moyen de paiement a été mis à jour",
        "paragraphs": (
            "Votre abonnement sera désormais débité sur votre {{ payment_method.brand|default:'carte' }}"
            "{% if payment_method.last4 %} se terminant par {{ payment_method.last4 }}{% endif %}.",
            "Si vous n'êtes pas à l'origine de ce changement, contactez-nous.",
        ),
    },
    "subscription.transaction_failed": {
        "subject": "Votre paiement {{ shop_name }} n'a pas abouti",
        "paragraphs": (
            "Nous n'avons pas pu débiter votre carte pour votre commande d'abonnement"
            "{% if amount %} de {{ amount }} {{ currency }}{% endif %}."
            "{% if failure_reason %} Motif indiqué par votre banque : {{ failure_reason }}{% endif %}",
            "{% if retry_date %}Nous réessaierons le {{ retry_date }}. {% endif %}"
            "Merci de mettre à jour votre moyen de paiement pour que votre commande puisse partir.",
        ),
        "button": "Mettre à jour mon moyen de paiement",
    },
    "subscription.transaction_succeeded": {
        "subject": "Reçu de votre commande {{ shop_name }}",
        "paragraphs": (
            "Merci ! Nous avons débité {{ amount }} {{ currency }} pour votre commande d'abonnement"
            "{% if order_date %} du {{ order_date }}{% endif %}.",
        ),
        "after_items": (NEXT_ORDER,),
    },
    "subscription.send_now": {
        "subject": "Votre commande {{ shop_name }} part en avance",
        "paragraphs": (
            "Comme vous l'avez demandé, votre prochaine commande part dès maintenant, sans attendre "
            "sa date prévue.",
        ),
    },
    "subscription.gifted": {
        "subject": "Votre commande du {{ gift.billing_date }} est un cadeau",
        "paragraphs": (
            "Votre commande du {{ gift.billing_date }} sera offerte à {{ gift.recipient_first_name }} "
            "{{ gift.recipient_last_name }}. Nous le lui ferons savoir.",
            NEXT_ORDER,
        ),
    },
    "subscription.gifted:recipient": {
        "subject": "{{ customer.first_name }} vous offre un cadeau de {{ shop_name }}",
        "greeting": "Bonjour {{ gift.recipient_first_name }},",
        "paragraphs": (
            "{{ customer.first_name }} {{ customer.last_name }} vous offre une commande de "
            "{{ shop_name }}, qui partira après le {{ gift.billing_date }}.",
            "{% if gift.message %}Son message : « {{ gift.message }} »{% endif %}",
        ),
    },
    "subscription.next_order_date_changed": {
        "subject": "Votre prochaine commande {{ shop_name }} est désormais prévue le {{ next_order_date }}",
        "paragraphs": (
            "Votre prochaine commande a été déplacée au {{ next_order_date }}"
            "{% if previous_next_order_date %} (au lieu du {{ previous_next_order_date }}){% endif %}.",
        ),
    },
    "subscription.product_unavailable": {
        "subject": "Un article de votre abonnement {{ shop_name }} n'est plus disponible",
        "paragraphs": (
            "{% for item in unavailable_items %}{{ item.product }}{% if item.variant %} ({{ item.variant }}){% endif %}"
            "{% if not forloop.last %}, {% endif %}{% endfor %} n'est plus disponible et ne fera donc pas "
            "partie de votre prochaine commande.",
            "Vous pouvez le remplacer par un autre article depuis votre compte.",
        ),
    },
    "loyalty.points_earned": {
        "subject": "Vous avez gagné {{ points }} points chez {{ shop_name }}",
        "paragraphs": (
            "Vous avez gagné {{ points }} points{% if reason %} ({{ reason }}){% endif %}. "
            "Votre solde est maintenant de {{ balance }} points.",
        ),
        "button": REWARDS,
    },
    "loyalty.points_redeemed": {
        "subject": "Votre récompense {{ shop_name }} vous attend",
        "paragraphs": (
            "Vous avez échangé {{ points }} points contre "
            "{% if reward.name %}{{ reward.name }}{% else %}une récompense{% endif %}."
            "{% if discount_code %} Votre code : {{ discount_code }}.{% endif %}",
            "Il vous reste {{ balance }} points.",
        ),
        "button": REWARDS,
    },
    "loyalty.referral_succeeded": {
        "subject": "Votre parrainage vous rapporte {{ points }} points",
        "paragraphs": (
            "Quelqu'un a utilisé votre code de parrainage : merci d'avoir parlé de nous !",
            "Vous avez gagné {{ points }} points ; votre solde est maintenant de {{ balance }} points.",
        ),
        "button": REWARDS,
    },
}
