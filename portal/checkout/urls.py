"""Hosted subscribe page and checkout, mounted at /subscribe/. Stable: `make run` prints a link.

    GET/POST /subscribe/<shop domain>/<product id>/   the product: option, plan (frequency, savings),
                                                      quantity; POST adds the line to the cart
    GET/POST /subscribe/<shop domain>/checkout/       cart, details, code, payment, summary; POST places
                                                      the order (once per checkout token)
    POST     /subscribe/<shop domain>/cart/remove/    remove cart line number `line`
    POST     /subscribe/<shop domain>/card-setup/     with Stripe configured: JSON {client_secret} of a
                                                      SetupIntent for Stripe Elements
    GET      /subscribe/<shop domain>/done/<token>/   confirmation (the customer the checkout signed in)

Another shop's product, or an unknown shop, is a 404.
"""

from django.urls import path

from portal.checkout import views

app_name = "checkout"

urlpatterns = [
    path("<str:shop>/checkout/", views.checkout_page, name="checkout"),
    path("<str:shop>/cart/remove/", views.cart_remove, name="cart_remove"),
    path("<str:shop>/card-setup/", views.card_setup, name="card_setup"),
    path("<str:shop>/done/<uuid:token>/", views.done, name="done"),
    path("<str:shop>/<int:product>/", views.product_page, name="product"),
]
