"""DesiDeliver: a REST API for products, carts and orders."""
