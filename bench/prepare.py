"""Users with prepared carts and their access tokens, made fast (run with the service's environment).

PBKDF2 is slow by design, so every user shares one password hash computed once, and tokens are
minted with simplejwt exactly as `/api/auth/login/` mints them. Output: one access token a line.

    python -m bench.prepare COUNT TOKENS_FILE [--items N] [--email-prefix P] [--password PW]
"""

import argparse
from pathlib import Path

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("tokens_file", type=Path)
    parser.add_argument("--items", type=int, default=2, help="cart lines per user (quantity 1 each)")
    parser.add_argument("--email-prefix", default="bench")
    parser.add_argument("--password", default="bench-password-0123")
    parser.add_argument("--staff", action="store_true", help="staff users (their no-cache reads skip the cache)")
    arguments = parser.parse_args()

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from desideliver.cart.models import CartItem
    from desideliver.catalog.models import Product
    from desideliver.users.models import User

    product_ids = list(Product.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    password = make_password(arguments.password)
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(email=f"{arguments.email_prefix}-{n}@bench.invalid", password=password, is_staff=arguments.staff)
                for n in range(arguments.count)
            ],
            batch_size=2000,
        )
        CartItem.objects.bulk_create(
            [
                CartItem(user=user, product_id=product_ids[(n * 7 + 13 * line) % len(product_ids)], quantity=1)
                for n, user in enumerate(users)
                for line in range(arguments.items)
            ],
            batch_size=5000,
        )
    arguments.tokens_file.write_text("".join(f"{AccessToken.for_user(user)}\n" for user in users))


if __name__ == "__main__":
    main()
