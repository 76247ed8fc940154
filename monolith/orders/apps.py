from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from strangler.sync import compensations

        from . import stock

        # A checkout that reserved stock remotely and then failed (or died) gives it back.
        compensations.register(stock.RELEASE, stock.release)
