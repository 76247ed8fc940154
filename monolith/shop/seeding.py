"""Deterministic demo data: the same call gives the same shop, however often it runs.

Seeding runs at every start of a deployment (compose's migrate one-shot), so it only ever adds
what is missing: an existing user, the staff user included, is never changed (an operator's new
password, revoked rights or deactivation stay). The demo customer, whose password is public, is
created only where `demo_users` is asked for (development), never in production.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from catalog.models import Category, Product

CATEGORIES = [
    ("books", "Books"),
    ("electronics", "Electronics"),
    ("garden", "Garden"),
    ("home", "Home & Kitchen"),
    ("sports", "Sports"),
    ("toys", "Toys"),
]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Handy", "Modern", "Rugged", "Smart"]
NOUNS = ["Lamp", "Kettle", "Backpack", "Speaker", "Notebook", "Puzzle", "Racket", "Planter"]
DEMO_CUSTOMER = ("customer@shop.local", "customer-pass-1234", "Demo Customer")
BATCH = 1000


@dataclass(frozen=True)
class SeedReport:
    categories: int
    products_created: int
    products_total: int
    admin_created: bool
    demo_customer: str | None  # its e-mail, when demo users were seeded


def demo_product(index: int, categories: list[Category]) -> Product:
    adjective = ADJECTIVES[index % len(ADJECTIVES)]
    noun = NOUNS[(index // len(ADJECTIVES)) % len(NOUNS)]
    cents = 499 + (index * 7919) % 49_500
    return Product(
        sku=f"DEMO-{index:06d}",
        name=f"{adjective} {noun} {index}",
        description=f"A {adjective.lower()} {noun.lower()}, demo item number {index}.",
        price=Decimal(cents) / 100,
        category=categories[index % len(categories)],
        stock=20 + index % 80,
    )


def ensure_user(*, email: str, password: str, name: str, is_staff: bool) -> bool:
    """Creates the user when no user has this e-mail; an existing one is left as it is.
    True when it was created."""
    if User.objects.filter(email__iexact=email).exists():
        return False
    user = User(email=email, name=name, is_staff=is_staff, is_superuser=is_staff, is_active=True)
    user.set_password(password)
    user.save()
    return True


@transaction.atomic
def seed_shop(
    *,
    products: int,
    admin_email: str,
    admin_password: str,
    demo_users: bool = False,
    progress=None,
) -> SeedReport:
    categories = []
    for slug, name in CATEGORIES:
        category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": name})
        categories.append(category)
    existing = set(Product.objects.filter(sku__startswith="DEMO-").values_list("sku", flat=True))
    created = 0
    for start in range(1, products + 1, BATCH):
        batch = [
            demo_product(index, categories)
            for index in range(start, min(start + BATCH, products + 1))
            if f"DEMO-{index:06d}" not in existing
        ]
        # One save each: a synced model records every row for the copies (no bulk writes).
        for product in batch:
            product.save()
        created += len(batch)
        if progress:
            progress(min(start + BATCH - 1, products))
    admin_created = ensure_user(
        email=admin_email, password=admin_password, name="Shop Admin", is_staff=True
    )
    if demo_users:
        email, password, name = DEMO_CUSTOMER
        ensure_user(email=email, password=password, name=name, is_staff=False)
    return SeedReport(
        categories=len(categories),
        products_created=created,
        products_total=Product.objects.count(),
        admin_created=admin_created,
        demo_customer=DEMO_CUSTOMER[0] if demo_users else None,
    )
