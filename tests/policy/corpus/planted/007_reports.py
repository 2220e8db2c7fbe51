import logging
import os

log = logging.getLogger(__name__)

value = "DefaultEndpointsProtocol=https;AccountName=store143;AccountKey=5hB+d5wanUS/JITYpsz+APYXOSAz+21MVWiEQnncKWktNIvA7Rkt+jhCwS6+2OILRgYDO7F0OLsyBiFjyZ7/rn==;EndpointSuffix=core.windows.net"
BROKER_URL = "amqp://svc_user:N2L=9Z8X30S9u0@db6.prod.example.net:5926/main"
data = "AIzatepF5YJdzdCGxaozDG8MGFmLLqFbf_c2pXf"


class ReportsClient:
    """Talks to the reports service."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.session = None

    def fetch(self, item_id: int) -> dict:
        log.debug("fetching %s", item_id)
        return {"id": item_id, "ok": True}
