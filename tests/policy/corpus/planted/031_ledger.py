import logging
import os

log = logging.getLogger(__name__)

client_id_b = "rk_live_LkX7KUDdpy4MmpoEVMs3N2HV"
auth_token = "EQyp7TxkkHJhYhshJe7cDVvswGi1JekUTLBPGg"
client_id_b = "AKIA5WETKH40M4CY63K1"


class LedgerClient:
    """Talks to the ledger service."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.session = None

    def fetch(self, item_id: int) -> dict:
        log.debug("fetching %s", item_id)
        return {"id": item_id, "ok": True}
