"""Customer portal URLs, mounted at /account/. Stable: browser tests and emails rely on them.

Sign-in (no password; the Django auth user is not used for customers):
    GET/POST /account/login?shop=<domain>     email form; without ?shop= the PORTAL_DEFAULT_SHOP_DOMAIN
                                              shop (demo-shop.example), or the only shop there is
    GET      /account/login/<token>/           single-use magic link from the email (15 minutes)
    GET      /account/link/<signed>/           signed deep link from notifications (account_page_link):
                                              signs in and opens that subscription (7 days)
    POST     /account/logout                   sign out
    POST     /account/view-as/<customer_id>/   staff of the customer's shop open the portal as them
                                              ("View as customer" on the console's customer page)

Pages (signed-in customer only; another customer's subscription id is a 404):
    GET  /account/                             overview of the customer's subscriptions
    GET  /account/orders/                      order history
    GET  /account/loyalty/                     points and rewards: balance, history, rewards, referral link
    POST /account/loyalty/redeem/              redeem a reward (reward, subscription)
    POST /account/loyalty/referral-code/       make the customer's referral code
    GET  /account/subscriptions/<id>/          one subscription with every action form
    POST /account/subscriptions/<id>/cancel/   cancel (reason; shows a retention offer first unless confirm=True)
    POST /account/subscriptions/<id>/<action>/ one action; <action> is one of
         skip, unskip, change-date (date), delay, send-now, gift (recipient_*, line1, city, country, ...),
         pause (months 1-3 or resume_on), resume, swap (line, variant), quantity (line, quantity),
         add-line (variant, quantity), remove-line (line), frequency (plan),
         address (line1, city, country, ...), payment-method (number, exp_month, exp_year),
         discount (code), stripe-payment-method (payment_method: a pm_... id confirmed by Stripe.js)
    POST /account/subscriptions/<id>/card-setup/  with Stripe configured (STRIPE_SECRET_KEY and
                                              STRIPE_PUBLISHABLE_KEY): JSON {client_secret} of a new
                                              SetupIntent (usage off_session) for Stripe Elements
"""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login", views.login, name="login"),
    path("login/<str:token>/", views.magic_link, name="magic_link"),
    path("link/<str:token>/", views.deep_link, name="deep_link"),
    path("logout", views.logout, name="logout"),
    path("view-as/<int:customer_id>/", views.view_as, name="view_as"),
    path("orders/", views.orders, name="orders"),
    path("loyalty/", views.loyalty, name="loyalty"),
    path("loyalty/redeem/", views.loyalty_redeem, name="loyalty_redeem"),
    path("loyalty/referral-code/", views.loyalty_referral_code, name="loyalty_referral_code"),
    path("subscriptions/<int:pk>/", views.subscription_page, name="subscription"),
    path("subscriptions/<int:pk>/cancel/", views.subscription_cancel, name="cancel"),
    path("subscriptions/<int:pk>/card-setup/", views.stripe_card_setup, name="card_setup"),
    path("subscriptions/<int:pk>/<slug:action>/", views.subscription_action, name="action"),
]
