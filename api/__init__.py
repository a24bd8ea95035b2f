"""The HTTP API of inspector (FastAPI): ``api.app.create_app``. Routes are documented in api/README.md."""
