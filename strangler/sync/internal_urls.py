from django.urls import path

from . import internal_views

urlpatterns = [
    path("internal/sync/status", internal_views.status),
    path("internal/sync/events/<uuid:event_id>", internal_views.event),
    path("internal/sync/aggregates/<slug:name>/rows", internal_views.rows),
    path("internal/sync/aggregates/<slug:name>/changes", internal_views.changes),
    path("internal/sync/aggregates/<slug:name>/repair", internal_views.repair),
    path("internal/sync/aggregates/<slug:name>/checksums", internal_views.aggregate_checksums),
    path("internal/sync/aggregates/<slug:name>/hashes", internal_views.aggregate_hashes),
    path("internal/sync/domains/<slug:domain>/sequences", internal_views.sequences),
    path("internal/sync/domains/<slug:domain>/ownership", internal_views.ownership),
    path("internal/sync/domains/<slug:domain>/fence", internal_views.fence),
    path("internal/sync/behind", internal_views.behind),
]
