from django.apps import AppConfig

DOMAIN = "catalog"


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from strangler.sync import registry

        from .models import Category, Product, StockReservation

        # The catalog's data, copied to (and, once the catalog service owns it, from) that
        # service. Stock moves with its reservations: both sides agree on what is held.
        registry.register(
            registry.Aggregate(
                name="category", domain=DOMAIN, model=Category, fields=("slug", "name")
            )
        )
        registry.register(
            registry.Aggregate(
                name="product",
                domain=DOMAIN,
                model=Product,
                fields=(
                    "sku",
                    "name",
                    "description",
                    "price",
                    "category",
                    "stock",
                    "created_at",
                    "updated_at",
                ),
                partition_by="category",
            )
        )
        registry.register(
            registry.Aggregate(
                name="stock_reservation",
                domain=DOMAIN,
                model=StockReservation,
                fields=("key", "lines", "priced", "state", "created_at", "released_at"),
            )
        )
