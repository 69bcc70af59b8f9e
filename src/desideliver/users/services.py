from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction

from desideliver.core.errors import ApplicationError
from desideliver.users.models import User


def register_user(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create a user; the password must pass Django's validators (raises ValidationError)."""
    email = User.objects.normalize_email(email)
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    validate_password(password, user=candidate)
    if User.objects.filter(email=email).exists():
        raise ApplicationError("A user with this email already exists.", code="email_taken")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name)
    except IntegrityError:  # the same email registered concurrently
        raise ApplicationError("A user with this email already exists.", code="email_taken") from None
