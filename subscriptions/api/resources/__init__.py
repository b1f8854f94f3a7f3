"""The resource API (`/vendor/v1/`): plain REST over customers, subscriptions, orders, catalogue,
discount codes and the activity log. Views are thin: parse, call one service or selector, render."""
