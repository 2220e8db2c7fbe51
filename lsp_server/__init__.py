"""kura's language server (pygls) and the `kura` command line."""
