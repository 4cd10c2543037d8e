"""Live sync over HTTP: signed platform events and Stripe webhooks (routes, signatures, payload mapping)."""

from handlers.webhooks.routes import MAX_BODY, read_body, routes

__all__ = ["MAX_BODY", "read_body", "routes"]
