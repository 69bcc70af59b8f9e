"""WSGI entry point; `desideliver serve` runs it under gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desideliver.settings.local")

application = get_wsgi_application()
