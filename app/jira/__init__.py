"""The one door to Jira (and the Forge platform): `client_for(tenant, settings)` and `app.jira.errors`."""
