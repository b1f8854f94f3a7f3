"""Spanish defaults of the native emails (same variables as the English ones in catalogue.py)."""

GREETING = "Hola, {{ first_name }}:"
NEXT_ORDER = "Tu próximo pedido está previsto para el {{ next_order_date }}."
MANAGE = "Gestionar mi suscripción"
REWARDS = "Ver mis recompensas"
UNSUBSCRIBE_QUESTION = "¿Ya no quieres recibir estos correos?"
UNSUBSCRIBE = "Darse de baja"
# unit: (once, every N)
FREQUENCY = {
    "day": ("cada día", "cada {n} días"),
    "week": ("cada semana", "cada {n} semanas"),
    "month": ("cada mes", "cada {n} meses"),
    "year": ("cada año", "cada {n} años"),
}

NOTICES = {
    "subscription.created": {
        "subject": "Te damos la bienvenida a tu suscripción de {{ shop_name }}",
        "paragraphs": (
            "¡Gracias por suscribirte! Tu suscripción {{ plan }} ya está activa: {{ frequency }}.",
            NEXT_ORDER,
        ),
    },
    "subscription.upcoming_order": {
        "subject": "Tu próximo pedido de {{ shop_name }} llega el {{ next_order_date }}",
        "paragraphs": (
            "Tu próximo pedido está previsto para el {{ next_order_date }}"
            "{% if days_until_order %}, dentro de {{ days_until_order }} "
            "día{{ days_until_order|pluralize }}{% endif %}.",
        ),
        "after_items": (
            "¿Quieres saltártelo, cambiar lo que incluye o moverlo de fecha? Todavía estás a tiempo.",
        ),
        "button": "Gestionar mi pedido",
    },
    "subscription.skipped": {
        "subject": "Hemos saltado tu pedido del {{ skipped_date }}",
        "paragraphs": (
            "Tal como nos pediste, hemos saltado tu pedido del {{ skipped_date }}.",
            NEXT_ORDER,
        ),
    },
    "subscription.unskipped": {
        "subject": "Tu pedido del {{ unskipped_date }} vuelve a estar en marcha",
        "paragraphs": (
            "Tu pedido del {{ unskipped_date }} ya no se saltará.",
            NEXT_ORDER,
        ),
    },
    "subscription.paused": {
        "subject": "Tu suscripción de {{ shop_name }} está en pausa",
        "paragraphs": (
            "Tu suscripción {{ plan }} está en pausa. "
            "{% if auto_resume_date %}Se reanudará automáticamente el {{ auto_resume_date }}."
            "{% else %}No se enviará ningún pedido hasta que la reanudes.{% endif %}",
        ),
    },
    "subscription.activated": {
        "subject": "Tu suscripción de {{ shop_name }} vuelve a estar activa",
        "paragraphs": (
            "¡Qué bien tenerte de vuelta! Tu suscripción {{ plan }} vuelve a estar activa.",
            NEXT_ORDER,
        ),
    },
    "subscription.auto_resume_upcoming": {
        "subject": "Tu suscripción de {{ shop_name }} se reanuda el {{ auto_resume_date }}",
        "paragraphs": (
            "Tu suscripción {{ plan }}, ahora en pausa, se reanudará automáticamente el "
            "{{ auto_resume_date }} y a partir de entonces volverás a recibir pedidos.",
            "Si prefieres mantenerla en pausa, puedes cambiarlo desde tu cuenta.",
        ),
    },
    "subscription.canceled": {
        "subject": "Tu suscripción de {{ shop_name }} está cancelada",
        "paragraphs": (
            "Tu suscripción {{ plan }} está cancelada; no se realizarán más pedidos.",
            "Sentimos que te vayas. Puedes volver a suscribirte cuando quieras desde tu cuenta.",
        ),
        "button": "Mi cuenta",
    },
    "subscription.payment_method_updated": {
        "subject": "Tu método de pago se ha actualizado",
        "paragraphs": (
            "A partir de ahora, tu suscripción se cobrará en tu {{ payment_method.brand|default:'tarjeta' }}"
            "{% if payment_method.last4 %} terminada en {{ payment_method.last4 }}{% endif %}.",
            "Si no has hecho tú este cambio, ponte en contacto con nosotros.",
        ),
    },
    "subscription.transaction_failed": {
        "subject": "No hemos podido cobrar tu pago de {{ shop_name }}",
        "paragraphs": (
            "No hemos podido cargar en tu tarjeta el pedido de tu suscripción"
            "{% if amount %} por {{ amount }} {{ currency }}{% endif %}."
            "{% if failure_reason %} Motivo indicado por tu banco: {{ failure_reason }}{% endif %}",
            "{% if retry_date %}Lo volveremos a intentar el {{ retry_date }}. {% endif %}"
            "Actualiza tu método de pago para que podamos enviar tu pedido.",
        ),
        "button": "Actualizar mi método de pago",
    },
    "subscription.transaction_succeeded": {
        "subject": "Recibo de tu pedido de {{ shop_name }}",
        "paragraphs": (
            "¡Gracias! Hemos cobrado {{ amount }} {{ currency }} por el pedido de tu suscripción"
            "{% if order_date %} del {{ order_date }}{% endif %}.",
        ),
        "after_items": (NEXT_ORDER,),
    },
    "subscription.send_now": {
        "subject": "Tu pedido de {{ shop_name }} sale antes de tiempo",
        "paragraphs": ("Tal como nos pediste, tu próximo pedido sale ahora mismo, sin esperar a su fecha.",),
    },
    "subscription.gifted": {
        "subject": "Tu pedido del {{ gift.billing_date }} es un regalo",
        "paragraphs": (
            "Tu pedido del {{ gift.billing_date }} será un regalo para {{ gift.recipient_first_name }} "
            "{{ gift.recipient_last_name }}. Se lo haremos saber.",
            NEXT_ORDER,
        ),
    },
    "subscription.gifted:recipient": {
        "subject": "{{ customer.first_name }} te ha enviado un regalo de {{ shop_name }}",
        "greeting": "Hola, {{ gift.recipient_first_name }}:",
        "paragraphs": (
            "{{ customer.first_name }} {{ customer.last_name }} te regala un pedido de "
            "{{ shop_name }}, que saldrá después del {{ gift.billing_date }}.",
            "{% if gift.message %}Su mensaje: «{{ gift.message }}»{% endif %}",
        ),
    },
    "subscription.next_order_date_changed": {
        "subject": "Tu próximo pedido de {{ shop_name }} pasa al {{ next_order_date }}",
        "paragraphs": (
            "Tu próximo pedido se ha movido al {{ next_order_date }}"
            "{% if previous_next_order_date %} (antes era el {{ previous_next_order_date }}){% endif %}.",
        ),
    },
    "subscription.product_unavailable": {
        "subject": "Un artículo de tu suscripción de {{ shop_name }} no está disponible",
        "paragraphs": (
            "{% for item in unavailable_items %}{{ item.product }}{% if item.variant %} ({{ item.variant }}){% endif %}"
            "{% if not forloop.last %}, {% endif %}{% endfor %} ya no está disponible, así que no irá en "
            "tu próximo pedido.",
            "Puedes cambiarlo por otro artículo desde tu cuenta.",
        ),
    },
    "loyalty.points_earned": {
        "subject": "Has ganado {{ points }} puntos en {{ shop_name }}",
        "paragraphs": (
            "Has ganado {{ points }} puntos{% if reason %} ({{ reason }}){% endif %}. "
            "Ahora tienes {{ balance }} puntos.",
        ),
        "button": REWARDS,
    },
    "loyalty.points_redeemed": {
        "subject": "Tu recompensa de {{ shop_name }} ya está lista",
        "paragraphs": (
            "Has canjeado {{ points }} puntos por "
            "{% if reward.name %}{{ reward.name }}{% else %}una recompensa{% endif %}."
            "{% if discount_code %} Tu código es {{ discount_code }}.{% endif %}",
            "Te quedan {{ balance }} puntos.",
        ),
        "button": REWARDS,
    },
    "loyalty.referral_succeeded": {
        "subject": "Tu recomendación te ha dado {{ points }} puntos",
        "paragraphs": (
            "Alguien ha usado tu código de recomendación: ¡gracias por hablar de nosotros!",
            "Has ganado {{ points }} puntos; ahora tienes {{ balance }} puntos.",
        ),
        "button": REWARDS,
    },
}
