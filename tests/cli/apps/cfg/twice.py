import stauth_server as sa


@sa.route("/api/items/{item_id}")
def first(request):
    return {}


@sa.route("/api/items/{other}")
def second(request):
    return {}
