"""The Forge Remote front door's protocol pieces, without a web framework.

`fit` verifies Forge Invocation Tokens, `system_token` keeps the short-lived app system tokens
Forge hands the remote, `events` turns Forge product events into the Connect webhook shape the rest
of Tierwise reads. `app.web.forge` is the thin Flask layer over them.
"""
