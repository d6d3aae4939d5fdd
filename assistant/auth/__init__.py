"""Sign-in beyond Django's own: OpenID Connect through django-allauth (adapters.py), local
sign-up (views.py), and ending a deactivated user's sessions (services.py)."""
