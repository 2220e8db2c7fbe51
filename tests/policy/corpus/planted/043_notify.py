import logging
import os

log = logging.getLogger(__name__)

value = "xoxb-84498305713-10162819877-BUjMwP5WPeDV70HBD2RTsKJG"
cfg = "https://hooks.slack.com/services/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"
upstream = "sk_live_xpUOGKpFjhqCXiHrjSI78utV"


class NotifyClient:
    """Talks to the notify service."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.session = None

    def fetch(self, item_id: int) -> dict:
        log.debug("fetching %s", item_id)
        return {"id": item_id, "ok": True}
