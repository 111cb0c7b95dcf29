"""The ``connectfed`` command: ``serve`` runs the server. Commands call app factories or the
client, never SQL."""
