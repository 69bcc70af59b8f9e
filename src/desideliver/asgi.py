"""ASGI entry point, for servers that speak ASGI; the image serves WSGI through gunicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desideliver.settings.local")

application = get_asgi_application()
