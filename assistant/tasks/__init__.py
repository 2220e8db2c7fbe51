"""Tasks the local or cloud model does on a piece of code (explain, fix), declared once and run by
one runner (runner.py) that the editor features, the command line and the evaluation all call."""
