from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from shop.seeding import DEMO_CUSTOMER, seed_shop


class Command(BaseCommand):
    help = "Creates deterministic demo data (idempotent): categories, products, staff, customer."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50, help="number of demo products")

    def handle(self, *args, products: int, **options):
        if products < 0:
            raise CommandError("--products must be zero or more")
        if not settings.SHOP_ADMIN_EMAIL or not settings.SHOP_ADMIN_PASSWORD:
            raise CommandError("Set SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD")
        with tqdm(total=products, unit="product", disable=products < 5000) as bar:
            report = seed_shop(
                products=products,
                admin_email=settings.SHOP_ADMIN_EMAIL,
                admin_password=settings.SHOP_ADMIN_PASSWORD,
                progress=lambda done: bar.update(done - bar.n),
            )
        self.stdout.write(
            f"Seeded {report.categories} categories, {report.products_created} new products "
            f"({report.products_total} in all), staff {settings.SHOP_ADMIN_EMAIL}, "
            f"customer {DEMO_CUSTOMER[0]}"
        )
