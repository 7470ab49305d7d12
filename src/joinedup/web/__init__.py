"""joinedup's web app (FastAPI): the survey's respondent pages and the admin pages behind login.

Start it with ``joinedup survey serve``; build it in Python with :func:`joinedup.web.app.create_app`.
"""
