from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from strangler.service import keys
from strangler.service.client_address import client_address
from strangler.service.throttle import TooManyFailures
from strangler.sync.ownership import owned_write

from . import services
from .serializers import (
    JWKSSerializer,
    RefreshRequestSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    TokenRequestSerializer,
    UserSerializer,
)

DUPLICATE_EMAIL = "A user with this email already exists."


def _token_response(pair: services.TokenPair) -> Response:
    return Response(
        TokenPairSerializer(
            {"access": pair.access, "refresh": pair.refresh, "expires_in": pair.expires_in}
        ).data
    )


class RegisterView(APIView):
    authentication_classes = []

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    @owned_write(services.DOMAIN)
    def post(self, request):
        params = RegisterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            user = services.register_user(**params.validated_data)
        except services.EmailTaken as exc:
            raise exceptions.ValidationError({"email": [DUPLICATE_EMAIL]}) from exc
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenPairSerializer})
    @owned_write(services.DOMAIN)
    def post(self, request):
        params = TokenRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            pair = services.obtain_token_pair(
                **params.validated_data, client=client_address(request)
            )
        except services.InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed("Invalid email or password.") from exc
        except TooManyFailures as exc:
            raise exceptions.Throttled(
                wait=exc.retry_after_seconds,
                detail=services.LOGIN_LOCKED,
            ) from exc
        return _token_response(pair)

    def get_authenticate_header(self, request) -> str:
        return "Bearer"


class TokenRefreshView(APIView):
    authentication_classes = []

    @extend_schema(request=RefreshRequestSerializer, responses={200: TokenPairSerializer})
    @owned_write(services.DOMAIN)
    def post(self, request):
        params = RefreshRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            pair = services.rotate_refresh_token(refresh_token=params.validated_data["refresh"])
        except services.InvalidRefreshToken as exc:
            raise exceptions.AuthenticationFailed(
                "Refresh token is invalid, expired or already used."
            ) from exc
        return _token_response(pair)

    def get_authenticate_header(self, request) -> str:
        return "Bearer"


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class JWKSView(APIView):
    authentication_classes = []

    @extend_schema(operation_id="jwks_retrieve", responses={200: JWKSSerializer})
    def get(self, request):
        return Response(keys.jwks())
