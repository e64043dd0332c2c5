"""Storage: the protocols backends implement, the backends, and the URL registry."""
