"""ASGI entry point, for servers that speak ASGI; the image serves WSGI through gunicorn."""

from django.core.asgi import get_asgi_application

# DJANGO_SETTINGS_MODULE must be set (no default: see cli.load_settings).
application = get_asgi_application()
