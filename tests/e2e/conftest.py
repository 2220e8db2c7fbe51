"""End-to-end fixtures: a real git repository and the real server over stdio, driven by pytest-lsp
with the capability profiles of real editors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "lsp_server", "--log-level", "info"]

SAMPLE_FILES = {
    "shop/models.py": '''\
        """Domain models of the shop."""

        from dataclasses import dataclass


        @dataclass
        class Product:
            """A thing we sell."""

            sku: str
            price_cents: int

            def price_with_tax(self, rate: float) -> int:
                """Price including tax, rounded to whole cents."""
                return round(self.price_cents * (1 + rate))
        ''',
    "shop/cart.py": '''\
        """The shopping cart."""

        from shop.models import Product

        TAX_RATE = 0.1


        class Cart:
            """Products a customer is about to buy."""

            def __init__(self) -> None:
                self.items: list[Product] = []

            def add(self, product: Product) -> None:
                self.items.append(product)

            def total_cents(self) -> int:
                """Sum of the items' prices with tax."""
                return sum(p.price_with_tax(TAX_RATE) for p in self.items)
        ''',
    "shop/checkout.py": '''\
        from shop.cart import Cart
        from shop.models import Product


        def checkout(cart: Cart) -> str:
            total = cart.total_cents()
            return f"total: {total / 100:.2f}"


        def demo() -> str:
            cart = Cart()
            cart.add(Product("apple", 120))
            return checkout(cart)
        ''',
}


def make_repo(root: Path, files: dict[str, str] = SAMPLE_FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env=None),
    params=["visual-studio-code", "neovim"],
)
async def client(lsp_client: LanguageClient, request):
    """A client with the capabilities of a real editor; tests call `start(...)` to initialize."""
    lsp_client.editor = request.param  # type: ignore[attr-defined]
    yield
    try:
        await lsp_client.shutdown_session()
    except Exception:
        pass


async def start(client: LanguageClient, root: Path | None, options: dict | None = None, locale: str = "en") -> types.InitializeResult:
    params = types.InitializeParams(
        capabilities=client_capabilities(getattr(client, "editor", "visual-studio-code")),
        root_uri=root.as_uri() if root else None,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None,
        initialization_options=options or {},
        locale=locale,
    )
    return await client.initialize_session(params)


def to_plain(value):
    """pygls hands custom-request results to the client as nested namedtuples; tests want dicts."""
    if hasattr(value, "_asdict"):
        return {k: to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


async def status(client: LanguageClient) -> dict:
    return to_plain(await client.protocol.send_request_async("kura/status", {}))


async def wait_for_index(client: LanguageClient, timeout: float = 60) -> dict:
    """Poll `kura/status` until the index is ready (or failed)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await status(client)
        if current["index"]["state"] in ("ready", "error", "unavailable"):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"index not ready after {timeout}s: {current}")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-weight llama GGUF with Qwen2.5-Coder FIM tokens: loads in milliseconds, talks nonsense."""
    from tests.fixtures.tiny_gguf import make_tiny_gguf

    return make_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny-qwen.gguf", family="qwen")


def open_document(client: LanguageClient, path: Path, text: str | None = None, language_id: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id, version=1, text=path.read_text() if text is None else text)))
    return uri


async def inline(client: LanguageClient, uri: str, line: int, character: int,
                 trigger: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Automatic):
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=trigger)))


async def wait_for_model(client: LanguageClient, timeout: float = 120) -> dict:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await status(client)
        if current["model"]["state"] in ("loaded", "error") and current["index"]["state"] != "indexing":
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"model not loaded after {timeout}s: {current}")
        await asyncio.sleep(0.1)
