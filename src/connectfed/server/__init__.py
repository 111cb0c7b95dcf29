"""The HTTP server underneath the ASGI app: uvicorn's connection protocol with bounded request
heads (:mod:`.protocol`) and log configuration that keeps secrets out of every log line
(:mod:`.logs`). Only ``cli/serve.py`` uses it; the app and the domain never import it.
"""
