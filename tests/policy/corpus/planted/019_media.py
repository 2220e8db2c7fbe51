import logging
import os

log = logging.getLogger(__name__)

data = "AKIAPWDT4YUUHYBAP87A"
awsSecretKey = "5W22O3wDYUgwFR3xth/0GWNG7q+bCQpP/xWHnIOR"
data = "DefaultEndpointsProtocol=https;AccountName=store150;AccountKey=i3lCeIOIrOooWhHRnZfOTraI3tw2ih1PIFJiZL20QaH6J53tOAdfz0dAoFSf329EL0WH2983/hkEUnK2krSv5Y==;EndpointSuffix=core.windows.net"


class MediaClient:
    """Talks to the media service."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.session = None

    def fetch(self, item_id: int) -> dict:
        log.debug("fetching %s", item_id)
        return {"id": item_id, "ok": True}
