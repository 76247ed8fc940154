"""The proxy: render the plan into nginx and run nginx from a private prefix."""

from strangler.proxy.errors import ProxyError
from strangler.proxy.options import RenderOptions
from strangler.proxy.render import Rendered, render, render_parts

__all__ = ["ProxyError", "RenderOptions", "Rendered", "render", "render_parts"]
