"""certguard's web front end (static files served by the local API at ``/``)."""
