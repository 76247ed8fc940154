from django.urls import path

from . import views

urlpatterns = [
    path("api/auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("api/auth/token", views.TokenView.as_view(), name="auth-token"),
    path("api/auth/token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("api/auth/me", views.MeView.as_view(), name="auth-me"),
    path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks"),
]
