from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from shop.seeding import DEMO_CUSTOMER, seed_shop


class Command(BaseCommand):
    help = (
        "Creates deterministic demo data (idempotent, adds only what is missing): categories, "
        "products, the staff user, and in development the demo customer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50, help="number of demo products")

    def handle(self, *args, products: int, **options):
        if products < 0:
            raise CommandError("--products must be zero or more")
        if not settings.SHOP_ADMIN_EMAIL or not settings.SHOP_ADMIN_PASSWORD:
            raise CommandError("Set SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD")
        demo_users = not settings.PRODUCTION
        with tqdm(total=products, unit="product", disable=products < 5000) as bar:
            report = seed_shop(
                products=products,
                admin_email=settings.SHOP_ADMIN_EMAIL,
                admin_password=settings.SHOP_ADMIN_PASSWORD,
                demo_users=demo_users,
                progress=lambda done: bar.update(done - bar.n),
            )
        staff = "created" if report.admin_created else "exists, left unchanged"
        customer = f"customer {report.demo_customer}" if report.demo_customer else "no demo users"
        self.stdout.write(
            f"Seeded {report.categories} categories, {report.products_created} new products "
            f"({report.products_total} in all), staff {settings.SHOP_ADMIN_EMAIL} ({staff}), "
            f"{customer}"
        )
        if not demo_users and User.objects.filter(email__iexact=DEMO_CUSTOMER[0]).exists():
            self.stderr.write(
                f"Warning: the demo customer {DEMO_CUSTOMER[0]} exists in this production "
                "database (an earlier seeding made it) and its password is public: deactivate "
                "or delete it."
            )
