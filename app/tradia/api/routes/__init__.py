"""HTTP routes, one module per area: health, settings, text tasks, documents."""

from tradia.api.routes import documents, health, settings, tasks

# In the order they appear in /openapi.json.
ROUTERS = (health.router, settings.router, tasks.router, documents.router)
