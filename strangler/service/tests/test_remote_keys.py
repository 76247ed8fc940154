import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from strangler.service.keys import RemoteKeySet, key_id


@pytest.fixture
def jwks_server():
    """A real HTTP server on loopback publishing whatever keys the test puts in `published`."""
    published: list[rsa.RSAPrivateKey] = []
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = json.dumps(
                {
                    "keys": [
                        {
                            **RSAAlgorithm.to_jwk(k.public_key(), as_dict=True),
                            "kid": key_id(k.public_key()),
                        }
                        for k in published
                    ]
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", published, hits
    finally:
        server.shutdown()
        server.server_close()


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_keys_are_fetched_once_and_served_from_cache(jwks_server):
    url, published, hits = jwks_server
    key = _new_key()
    published.append(key)
    key_set = RemoteKeySet(url)
    for _ in range(5):
        assert key_set.get(key_id(key.public_key())) is not None
    assert len(hits) == 1


def test_an_unknown_kid_refetches_so_a_rotated_in_key_is_picked_up(jwks_server):
    url, published, hits = jwks_server
    old = _new_key()
    published.append(old)
    key_set = RemoteKeySet(url, min_refresh_seconds=0)
    assert key_set.get(key_id(old.public_key())) is not None
    new = _new_key()
    published.append(new)
    assert key_set.get(key_id(new.public_key())) is not None
    assert len(hits) == 2


def test_unknown_kids_cannot_make_it_hammer_the_jwks_endpoint(jwks_server):
    url, published, hits = jwks_server
    published.append(_new_key())
    key_set = RemoteKeySet(url, min_refresh_seconds=60)
    for n in range(20):
        assert key_set.get(f"forged-{n}") is None
    assert len(hits) == 1
