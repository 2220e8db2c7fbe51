"""`python -m lsp_server`: the language server over stdio (see `kura serve --help`)."""

import sys

from lsp_server.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
