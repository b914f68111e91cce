"""HTTP routes, one module per area: health, settings, text tasks, documents, document jobs."""

from tradia.api.routes import documents, health, jobs, settings, tasks

# In the order they appear in /openapi.json.
ROUTERS = (health.router, settings.router, tasks.router, documents.router, jobs.router)
