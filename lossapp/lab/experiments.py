"""Imports every experiment module, in the order the Lab lists them (one line per experiment)."""
