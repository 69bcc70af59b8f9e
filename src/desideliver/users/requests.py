from rest_framework.request import Request

from desideliver.users.models import User


class AuthenticatedRequest(Request):
    """A DRF request behind IsAuthenticated: `user` is a real user (for type checking only)."""

    user: User
