"""Dashboard URLs."""

urlpatterns: list = []
