from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from strangler.sync import compensations

        from . import services

        # A payment whose process stopped after the charge is concluded by the sweeper.
        compensations.register(services.CONCLUDE, services.conclude_payment)
