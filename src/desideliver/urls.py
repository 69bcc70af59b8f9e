from pathlib import Path

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from desideliver.cart.views import AddToCartView, CartView, RemoveCartItemView, UpdateCartItemView
from desideliver.catalog.views import ProductDetailView, ProductListView
from desideliver.core import views as core
from desideliver.core.admin_login import throttled_admin_login
from desideliver.core.docs import RedocDocsView, SwaggerDocsView
from desideliver.orders.views import CreateOrderView, OrderDetailView, OrderExportView, OrderListView
from desideliver.users.views import LoginView, LogoutView, RefreshView, RegisterView

api: list[URLPattern | URLResolver] = [
    path("auth/register/", RegisterView.as_view(), name="register"),
    path("auth/login/", LoginView.as_view(), name="login"),
    path("auth/token/refresh/", RefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("products/", ProductListView.as_view(), name="product-list"),
    path("products/<int:pk>/", ProductDetailView.as_view(), name="product-detail"),
    path("cart/", CartView.as_view(), name="cart"),
    path("cart/add/", AddToCartView.as_view(), name="cart-add"),
    path("cart/update/<int:item_id>/", UpdateCartItemView.as_view(), name="cart-update"),
    path("cart/remove/<int:item_id>/", RemoveCartItemView.as_view(), name="cart-remove"),
    path("orders/", OrderListView.as_view(), name="order-list"),
    path("orders/create/", CreateOrderView.as_view(), name="order-create"),
    path("orders/export.csv", OrderExportView.as_view(), name="order-export"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("tickets/", include("desideliver.tickets.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("", core.landing, name="landing"),
    path("favicon.ico", core.favicon, name="favicon"),
    path("health/", core.liveness, name="health"),
    path("health/ready/", core.ready, name="ready"),
    path("api/", include(api)),
    path(f"{settings.ADMIN_URL}login/", throttled_admin_login, name="admin-login"),  # before the admin's own
    path(settings.ADMIN_URL, admin.site.urls),
]
# make dev (DEBUG, no proxy): public product images only, as the proxy serves them. Empty otherwise.
urlpatterns += static(f"{settings.MEDIA_URL}products/", document_root=Path(settings.MEDIA_ROOT) / "products")

handler400 = "desideliver.core.views.bad_request"
handler403 = "desideliver.core.views.permission_denied"
handler404 = "desideliver.core.views.not_found"
handler500 = "desideliver.core.views.server_error"
