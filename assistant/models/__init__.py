"""Model backends behind one interface, chosen by settings."""
